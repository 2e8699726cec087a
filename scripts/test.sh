#!/usr/bin/env bash
# Build sockfix with warnings as errors and run every test through ctest.
# Installs what a fresh Debian 12 machine lacks (apt-get, when run as root).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${SOCKFIX_BUILD_DIR:-$here/build}

packages=(build-essential cmake pkg-config libinih-dev libcriterion-dev)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "test.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKFIX_WERROR=ON
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
