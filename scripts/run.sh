#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build dependencies, builds postern and runs `postern serve` with its defaults
# (catch-all on 127.0.0.1:2525, data in ./postern-data). Extra arguments go to `postern serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSTERN_TESTS=OFF
cmake --build build -j2 --target postern
exec ./build/src/app/postern serve "$@"
