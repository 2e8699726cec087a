#!/usr/bin/env bash
# Build sockfix with warnings as errors and run every test through ctest:
#   1. the ordinary build (build/): every test;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/):
#      the unit tests, the fuzz corpus and the shim's integration tests with
#      the instrumented library preloaded behind libasan;
#   3. a ThreadSanitizer build (build-tsan/): the threaded tests.
# scripts/test.sh --fast runs the first only; other arguments go to ctest.
# Installs what a fresh Debian 12 machine lacks (apt-get, when run as root);
# a developer without root needs only deps.sh's build group: the tests that
# need what is missing, root or CAP_NET_ADMIN skip and say why.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${SOCKFIX_BUILD_DIR:-$here/build}
fast=no
if [ "${1:-}" = "--fast" ]; then
    fast=yes
    shift
fi

"$here/scripts/deps.sh"
configure_and_build() { # DIR CMAKE-ARGS... [-- TARGETS...]
    local dir=$1 args=() targets=()
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift && targets=("$@")
    cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKFIX_WERROR=ON \
        "${args[@]}" >/dev/null
    cmake --build "$dir" -j "$(nproc)" ${targets[@]+--target "${targets[@]}"}
}

configure_and_build "$build"
(cd "$build" && ctest --output-on-failure -j "$(nproc)" "$@")
[ "$fast" = yes ] && exit 0

# The CLI, packaging and compatibility tests exec the shim from programs that
# are not instrumented (cmake, dpkg, shells, servers); they run in the
# ordinary build only.
echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
configure_and_build "$build-asan" -DSOCKFIX_SANITIZE=address,undefined
(cd "$build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$(nproc)" -E 'integration_(cli|install|apply|live|parity)|compat' "$@")

echo "== ThreadSanitizer"
configure_and_build "$build-tsan" -DSOCKFIX_SANITIZE=thread -- sockfix torture \
    integration_reliability
(cd "$build-tsan" && TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
    ctest --output-on-failure -R tsan_threads "$@")
