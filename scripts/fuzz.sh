#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) and runs each over its seed
# corpus for a while. The targets cover the pure parsers only (SPF records and macros, DKIM tag
# lists / signatures / key records, DMARC records and From fields), so they are compiled straight
# from those sources, without the rest of the build.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30; CI uses it as a smoke test)
# Findings are written to BUILD/fuzz/findings/<target>/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
out="${FUZZ_BUILD:-build-fuzz}"
mkdir -p "$out"
CXX="${CXX_FUZZ:-clang++}"
flags=(-std=c++20 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Isrc)
pure=(src/mailauth/spf_record.cpp src/mailauth/dkim_tags.cpp src/mailauth/dkim_canon.cpp
      src/mailauth/dmarc_record.cpp src/mailauth/from_parse.cpp src/mailauth/results.cpp src/message/*.cpp)
# The parsers once, instrumented for coverage; each target links them with libFuzzer's main.
mkdir -p "$out/obj"
objects=()
for src in "${pure[@]}"; do
  obj="$out/obj/$(echo "$src" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
    "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objects+=("$obj")
done
status=0
for target in spf_record dkim_tags dmarc_record; do
  bin="$out/${target}_fuzz"
  echo "== building $target"
  "$CXX" "${flags[@]}" -fsanitize=fuzzer "fuzz/${target}_fuzz.cpp" "${objects[@]}" -lfmt -o "$bin"
  findings="$out/findings/$target"
  work="$out/corpus/$target"
  mkdir -p "$findings" "$work"
  echo "== running $target for ${seconds}s"
  if ! "$bin" "$work" "fuzz/corpus/$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 >"$out/$target.log" 2>&1; then
    echo "error: $target found a crash; see $out/$target.log and $findings/" >&2
    tail -40 "$out/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$out/$target.log" | tail -2
  fi
done
exit $status
