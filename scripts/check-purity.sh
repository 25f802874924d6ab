#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The sans-I/O layers stay pure: src/proto and src/message include no Asio, OpenSSL or
# <filesystem>, and never read the clock (design.md, "Layers and folders").
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
if grep -rnE '#include *[<"](asio|boost/asio|openssl/|filesystem)' src/proto src/message; then
  echo "error: src/proto or src/message includes Asio, OpenSSL or <filesystem>" >&2
  status=1
fi
if grep -rnE '(system_clock|steady_clock|high_resolution_clock)::now|time\((nullptr|NULL|0)\)|gettimeofday|clock_gettime' src/proto src/message; then
  echo "error: src/proto or src/message reads the clock" >&2
  status=1
fi
[ $status = 0 ] && echo "purity check passed: src/proto and src/message are sans-I/O"
exit $status
