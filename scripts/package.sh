#!/usr/bin/env bash
# Builds the Debian package: scripts/package.sh [OUTDIR]
# A separate build configured for /usr, so the policy is /etc/sockfix/sockfix.ini
# (a conffile) and the library lands in /usr/lib/sockfix.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build-deb}
"$here/scripts/deps.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cmake -S "$here" -B "$out/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DSOCKFIX_SYSCONFDIR=/etc \
    -DSOCKFIX_TESTS=OFF -DSOCKFIX_WERROR=ON >/dev/null
cmake --build "$out/build" -j "$(nproc)"
(cd "$out/build" && cpack -G DEB -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"
ls "$out"/sockfix_*.deb
