#!/usr/bin/env bash
# Installs the Debian packages sockfix needs that are missing (apt-get, as root).
#   scripts/deps.sh [GROUP|PACKAGE]...
# GROUPs: build (compile and link the library, the command and the tests),
# test (what the suites run: the packager, shells, tracers, deploy checks),
# attach (sockfix attach's kernel programs and their tests), compat (the real
# programs of the compatibility suite), cross (scripts/cross.sh: the arm64
# toolchain, arm64 libinih and qemu-user). Any other word is a package that is
# needed as well. Without a GROUP: build, and test attach compat as wanted.
# Without root nothing is installed: a missing package that is needed (of
# build, of a GROUP named, or named itself) is an error; a wanted one is
# named, and the tests that need it skip.
set -euo pipefail

declare -A group=(
    [build]="build-essential cmake pkg-config libinih-dev libcriterion-dev"
    [test]="python3 python3-yaml busybox iproute2 strace musl-tools lintian systemd"
    # clang's BPF target, bpftool's skeletons, libbpf; the tests' Go peer
    [attach]="clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool golang-go"
    [compat]="socat nginx-light redis-server memcached lighttpd curl perl golang-go"
    # arm64: the cross compiler, arm64 libinih beside the host one (multiarch),
    # and qemu-user-static, registered for arm64 programs by scripts/cross.sh
    [cross]="file gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static libinih-dev:arm64"
)

required=() optional=() named=() cross=no
for word in "$@"; do
    if [ -n "${group[$word]+set}" ]; then named+=("$word"); else required+=("$word"); fi
done
# shellcheck disable=SC2206 # the lists are words
if [ ${#named[@]} -eq 0 ]; then
    required+=(${group[build]})
    optional+=(${group[test]} ${group[attach]} ${group[compat]})
fi
for g in "${named[@]}"; do
    [ "$g" = cross ] && cross=yes
    required+=(${group[$g]})
done

native=$(dpkg --print-architecture)
is_installed() { # PACKAGE[:ARCH]; without an architecture, the host's (or all)
    local want="$native|all"
    case "$1" in *:*) want=${1##*:} ;; esac
    dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
        grep -Eqx "install ok installed ($want)"
}
missing_of() { # PACKAGE...: those not installed, once each
    local p seen=" "
    for p in "$@"; do
        case "$seen" in *" $p "*) continue ;; esac
        seen+="$p "
        is_installed "$p" || echo "$p"
    done
}
mapfile -t missing_required < <(missing_of "${required[@]}")
mapfile -t missing_optional < <(missing_of "${optional[@]}")
missing=("${missing_required[@]}" "${missing_optional[@]}")
[ ${#missing[@]} -gt 0 ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
    if [ ${#missing_optional[@]} -gt 0 ]; then
        echo "deps.sh: not installed, the tests that need them skip: ${missing_optional[*]}" \
            "(run as root to install them)" >&2
    fi
    if [ ${#missing_required[@]} -gt 0 ]; then
        echo "deps.sh: missing packages: ${missing_required[*]} (run as root to install them)" >&2
        exit 1
    fi
    exit 0
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ "$cross" = yes ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
fi
# Servers the compatibility suite runs (nginx, redis, ...) must not start as
# system services when installed: tests start their own on loopback.
made_policy=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=yes
fi
apt-get update -qq
status=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
[ "$made_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
exit "$status"
