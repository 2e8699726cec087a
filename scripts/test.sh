#!/usr/bin/env bash
# Build sockfix with warnings as errors and run every test through ctest.
# Installs what a fresh Debian 12 machine lacks (apt-get, when run as root).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${SOCKFIX_BUILD_DIR:-$here/build}

"$here/scripts/deps.sh"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKFIX_WERROR=ON
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
