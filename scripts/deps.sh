#!/usr/bin/env bash
# Installs the Debian packages sockfix needs to build and test that are missing
# (apt-get, as root). Sourced or run by test.sh, demo.sh and package.sh.
set -euo pipefail

sockfix_packages=(build-essential cmake pkg-config libinih-dev libcriterion-dev
    python3 busybox iproute2 strace musl-tools lintian
    # sockfix attach: BPF programs (clang's bpf target), skeletons (bpftool), libbpf
    clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool
    # deploy/ checks: systemd-analyze verify, the manifests parsed
    systemd python3-yaml
    # the compatibility suite's real programs (tests/compat/)
    socat nginx-light redis-server memcached lighttpd curl perl golang-go "$@")

missing=()
for p in "${sockfix_packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
    fi
    echo "deps.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Servers the compatibility suite runs (nginx, redis, ...) must not start
    # as system services when installed: tests start their own on loopback.
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
    [ "$status" -eq 0 ] || exit "$status"
fi
