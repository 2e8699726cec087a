#!/usr/bin/env bash
# Fuzzes the policy loader with libFuzzer (clang, ASan + UBSan) for SECONDS.
#   scripts/fuzz.sh SECONDS [--jobs N]
# Starts from tests/fuzz/corpus and keeps what it learns in build-fuzz/corpus
# (the repository's corpus is never rewritten). A crash leaves its input in
# build-fuzz/crashes/ and the script exits 1: copy the input into
# tests/fuzz/regressions/ with the fix, and every test build replays it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:?usage: scripts/fuzz.sh SECONDS [--jobs N]}
jobs=1
if [ "${2:-}" = "--jobs" ]; then jobs=${3:?--jobs needs a number}; fi
build=${SOCKFIX_FUZZ_DIR:-$here/build-fuzz}

"$here/scripts/deps.sh" clang libclang-rt-14-dev
cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSOCKFIX_WERROR=ON -DSOCKFIX_TESTS=OFF -DSOCKFIX_FUZZ=ON \
    -DSOCKFIX_SANITIZE=address,undefined >/dev/null
cmake --build "$build" --target fuzz_policy -j "$(nproc)" >/dev/null

mkdir -p "$build/corpus" "$build/crashes"
cd "$build"
status=0
./fuzz_policy -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" \
    -dict="$here/tests/fuzz/policy.dict" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/crashes/" -print_final_stats=1 \
    "$build/corpus" "$here/tests/fuzz/corpus" >"$build/fuzz.log" 2>&1 || status=$?
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)" "$build/fuzz.log" || true
# crash-, leak-, timeout- and oom- inputs are failures; slow-unit- inputs are
# reports (a paused or busy machine makes them too) and are only listed.
failures=$(find "$build/crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o \
    -name 'timeout-*' -o -name 'oom-*' \) | sort)
slow=$(find "$build/crashes" -type f -name 'slow-unit-*' | sort)
if [ -n "$slow" ]; then
    echo "fuzz.sh: slow inputs (replay them with build/tests/fuzz_replay to time them):" >&2
    echo "$slow" >&2
fi
if [ "$status" -ne 0 ] || [ -n "$failures" ]; then
    tail -40 "$build/fuzz.log" >&2
    echo "fuzz.sh: the fuzzer found a failing input in $build/crashes/:" >&2
    echo "$failures" >&2
    exit 1
fi
echo "fuzz.sh: ${seconds}s, no failure; corpus $(ls "$build/corpus" | wc -l) inputs"
