#!/usr/bin/env bash
# sockfix in two minutes, on this machine, with real output:
#  1. a naive server (demo/naive-server.c, no socket options) cannot restart
#     while its old connections sit in TIME_WAIT: "Address already in use";
#  2. the same server under `sockfix run` restarts at once;
#  3. `sockfix inspect` shows keepalive on its listener and connections.
# Installs what is missing (as root) and builds first. Loopback only.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${SOCKFIX_BUILD_DIR:-$here/build}
"$here/scripts/deps.sh"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target sockfix sockfix_cli naive-server >/dev/null

server="$build/naive-server"
sockfix="$build/sockfix"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# A port nothing uses: no listener and no TIME_WAIT entry left from an earlier run.
port_is_clean() {
    local hex
    hex=$(printf ':%04X ' "$1")
    ! grep -q "$hex" /proc/net/tcp /proc/net/tcp6
}
pick_port() {
    local p=$1
    while ! port_is_clean "$p"; do p=$((p + 1)); done
    echo "$p"
}

# Waits (bounded) until something listens on 127.0.0.1:$1.
wait_listening() {
    local hex i
    hex=$(printf '0100007F:%04X 00000000:0000 0A' "$1")
    for ((i = 0; i < 200; i++)); do
        grep -q "$hex" /proc/net/tcp && return 0
        sleep 0.05
    done
    echo "demo: nothing listens on port $1" >&2
    return 1
}

# One request; the server answers and closes first, keeping a TIME_WAIT entry.
request() {
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    echo "hi" >&3
    read -r reply <&3
    cat <&3 >/dev/null # until the server's FIN: closing earlier would put TIME_WAIT here
    exec 3<&-
    echo "client got: $reply"
}

# Waits (bounded) until process $1 holds $2 sockets.
wait_sockets() {
    local i n
    for ((i = 0; i < 200; i++)); do
        n=$(find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l)
        [ "$n" -ge "$2" ] && return 0
        sleep 0.05
    done
    echo "demo: process $1 did not accept the connection" >&2
    return 1
}

stop() {
    kill "$1"
    wait "$1" 2>/dev/null || true
}

time_wait_count() {
    ss -Htan state time-wait "( sport = :$1 )" | wc -l
}

# start PORT CMD...: runs CMD in the background until it listens on PORT; sets pid.
start() {
    local port=$1
    shift
    "$@" &
    pid=$!
    pids+=("$pid")
    wait_listening "$port"
}

# One server run that serves a request, then stops, leaving TIME_WAIT behind.
serve_once() {
    local port=$1
    start "$@"
    request "$port"
    stop "$pid"
    echo "TIME_WAIT entries on port $port: $(time_wait_count "$port")"
}

say "1. The naive server, bare: it sets no socket option"
port=$(pick_port 18080)
serve_once "$port" "$server" "$port"
say "Restarting it bare, the way an operator would"
set +e
show "$server" "$port"
status=$?
set -e
echo "exit status $status: the restart failed; it would for about 60 seconds"

say "2. The same server under sockfix (default policy: reuseaddr for servers, keepalive)"
port=$(pick_port $((port + 1)))
show "$sockfix" explain --port "$port"
echo
serve_once "$port" "$sockfix" run --log info -- "$server" "$port"
say "Restarting it under sockfix"
start "$port" "$sockfix" run --log info -- "$server" "$port"
echo "the restart succeeded at once"

say "3. What the kernel says about its sockets, with an idle client connected"
exec 4<>"/dev/tcp/127.0.0.1/$port"
wait_sockets "$pid" 2
show "$sockfix" inspect "$pid"
exec 4<&-
stop "$pid"
echo
echo "Done. Run a service of your own with: $sockfix run -- /path/to/service"
