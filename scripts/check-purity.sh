#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The sans-I/O layers stay pure: src/proto, src/message and the mailauth parsers (results,
# verdict, *_record, *_tags, *_canon, *_parse files) include no Asio, OpenSSL or <filesystem>, and
# never read the clock (design.md, "Layers and folders"; conventions.md, "Dependency rule").
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
pure=(src/proto src/message src/mailauth/results.* src/mailauth/verdict.* src/mailauth/*_record.*
      src/mailauth/*_tags.* src/mailauth/*_canon.* src/mailauth/*_parse.*)
status=0
if grep -rnE '#include *[<"](asio|boost/asio|openssl/|filesystem)' "${pure[@]}"; then
  echo "error: a pure file includes Asio, OpenSSL or <filesystem>" >&2
  status=1
fi
if grep -rnE '(system_clock|steady_clock|high_resolution_clock)::now|time\((nullptr|NULL|0)\)|gettimeofday|clock_gettime' "${pure[@]}"; then
  echo "error: a pure file reads the clock" >&2
  status=1
fi
[ $status = 0 ] && echo "purity check passed: ${pure[*]} are sans-I/O"
exit $status
