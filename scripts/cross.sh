#!/usr/bin/env bash
# scripts/cross.sh aarch64 [CTEST-ARGS...]
# Builds the library, the sockfix command and the tests for arm64 with
# Debian's cross toolchain into build-aarch64/ (warnings as errors), then runs
# the unit tests and the library's integration tests there under
# qemu-aarch64. binfmt_misc hands every arm64 program to qemu (registered
# here, as root, when it is not), so the tests' helpers run under qemu too,
# with libsockfix.so preloaded by the arm64 loader; qemu passes the socket
# calls to the host kernel, so the tests read the options back as on x86-64.
set -euo pipefail

arch=${1:-}
if [ "$arch" != aarch64 ]; then
    echo "usage: scripts/cross.sh aarch64 [ctest arguments]" >&2
    exit 2
fi
shift
here=$(cd "$(dirname "$0")/.." && pwd)
build=${SOCKFIX_CROSS_BUILD_DIR:-$here/build-aarch64}
"$here/scripts/deps.sh" build cross

binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/qemu-aarch64" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "cross.sh: arm64 programs are not handed to qemu (binfmt_misc); run as root once" >&2
        exit 1
    fi
    mountpoint -q "$binfmt" || mount -t binfmt_misc binfmt_misc "$binfmt"
    cat /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register"
fi

# Criterion for arm64 cannot be installed beside the host's on Debian 12 (its
# libnanomsg5 differs in version between the two architectures), so its arm64
# packages are unpacked into the build tree, for the tests alone.
criterion=$build/criterion-arm64
crit_lib=$criterion/usr/lib/aarch64-linux-gnu
if [ ! -e "$crit_lib/libcriterion.so" ]; then
    rm -rf "$build/debs" "$criterion"
    mkdir -p "$build/debs" "$criterion"
    # libcriterion3's run-time closure, but for the C library the host's
    # arm64 loader comes with; and the development package for its .so link.
    mapfile -t debs < <(apt-cache depends --recurse --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances libcriterion3:arm64 |
        grep -E '^[a-z0-9].*:arm64$' | sort -u | grep -Ev '^(libc6|libgcc-s1|gcc-12-base|libcrypt1):')
    (cd "$build/debs" && apt-get download -qq libcriterion-dev:arm64 "${debs[@]}")
    for deb in "$build"/debs/*.deb; do dpkg-deb -x "$deb" "$criterion"; done
fi

cmake -S "$here" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$here/cmake/aarch64-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKFIX_WERROR=ON -DSOCKFIX_ATTACH=OFF \
    -DSOCKFIX_MUSL=OFF -DCRITERION_LIB="$crit_lib/libcriterion.so" \
    -DCRITERION_INCLUDE_DIR="$criterion/usr/include" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$crit_lib:$criterion/lib/aarch64-linux-gnu" >/dev/null
cmake --build "$build" -j "$(nproc)"

# What was built is arm64, and the library runs: an arm64 program, under qemu.
for f in "$build/libsockfix.so" "$build/sockfix" "$build/tests/sockprobe"; do
    file -b "$f" | grep -q 'ARM aarch64' || { echo "cross.sh: $f is not arm64" >&2; exit 1; }
done
"$build/sockfix" --version

# The CLI's suites (they run the host's x86-64 programs under an arm64
# library), packaging, the compatibility suite (x86-64 servers) and attach
# (not built for arm64) run on x86-64 only. What qemu-user does not emulate
# is skipped with the reason (tests/integration/run.h, UNDER_QEMU).
suites='^(unit_.*|fuzz_corpus|integration_(shim|options|library|reliability|precedence|logging|security))$'
# The arm64 loader finds Criterion's libraries there; the tests' helpers get
# an environment of their own and never see this.
(cd "$build" && LD_LIBRARY_PATH="$crit_lib:$criterion/lib/aarch64-linux-gnu" \
    ctest --output-on-failure -j "$(nproc)" -R "$suites" "$@")
