#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what the tests need, builds everything and runs every test (unit and end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --tests
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
