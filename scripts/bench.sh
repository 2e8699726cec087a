#!/usr/bin/env bash
# sockfix benchmarks, every variant side by side in one run.
#
#   scripts/bench.sh            full run: writes docs/BENCHMARKS.md and docs/benchmarks.png
#   scripts/bench.sh --quick    a small run that keeps the suite working (CI); writes to
#                               build/bench-quick/ and never to docs/
#
# Variants: bare (no preload), empty (a preloaded object with nothing in it: the
# loader's own cost), sockfix (built-in default policy), sockfix-server (keepalive
# for servers only), libkeepalive (Debian libkeepalive0, 60s/10s/7 like sockfix).
# Rounds alternate the variants so machine noise hits them alike; figures are
# medians over rounds, ratios are ratios of medians. Loopback only; every loop
# is bounded by count.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
quick=no
[ "${1:-}" = "--quick" ] && quick=yes
build=${SOCKFIX_BUILD_DIR:-$here/build}

"$here/scripts/deps.sh" strace gnuplot-nox libkeepalive0
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target sockfix sockfix_cli empty bench_startup \
    bench_hookpath bench_churn bench_rss bench_policyscale bench_listeners >/dev/null

if [ "$quick" = yes ]; then
    out=$build/bench-quick
    SPAWN_ROUNDS=40 SPAWNS=1 HOOK_ROUNDS=2 HOOK_ITER=2000 CHURN_ROUNDS=4 CHURN_N=500
    SYS_N1=100 SYS_N2=300 RULES="1 100 1000" RSS_RUNS=3 LISTENERS="100 500" WALK_ROUNDS=2
else
    out=$here/docs
    SPAWN_ROUNDS=3000 SPAWNS=1 HOOK_ROUNDS=15 HOOK_ITER=50000 CHURN_ROUNDS=100 CHURN_N=2000
    SYS_N1=1000 SYS_N2=3000 RULES="1 100 10000" RSS_RUNS=15 LISTENERS="1000 5000" WALK_ROUNDS=7
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lib=$build/libsockfix.so
empty=$build/bench/libempty.so
# No early-exiting reader in a pipe: with pipefail its SIGPIPE would end the script.
keepalive_lib=$(dpkg -L libkeepalive0 | grep '/libkeepalive\.so$')
b=$build/bench

printf '[servers]\nmatch.role = server\nreuseaddr = yes\nkeepidle = 60s\nkeepintvl = 10s\nkeepcnt = 6\n' \
    >"$work/server.ini"
printf '[clients]\nmatch.role = client\nkeepidle = 60s\nkeepintvl = 10s\nkeepcnt = 6\n' >"$work/client.ini"
if [ -e /etc/sockfix/sockfix.ini ]; then
    echo "bench.sh: note: /etc/sockfix/sockfix.ini exists and is the 'default' policy here" >&2
fi

# env(1) arguments of each variant
declare -A ENVS=(
    [bare]=""
    [empty]="LD_PRELOAD=$empty"
    [sockfix]="LD_PRELOAD=$lib"
    [sockfix-server]="LD_PRELOAD=$lib SOCKFIX_CONFIG=$work/server.ini"
    [sockfix-client]="LD_PRELOAD=$lib SOCKFIX_CONFIG=$work/client.ini"
    [libkeepalive]="LD_PRELOAD=$keepalive_lib KEEPIDLE=60 KEEPINTVL=10 KEEPCNT=6"
)
run_in() { # VARIANT CMD...: CMD in the variant's environment (nothing else inherited)
    local v=$1
    shift
    # shellcheck disable=SC2086
    env -i PATH=/usr/bin:/bin ${ENVS[$v]} "$@"
}
# The words after ROUND, rotated by it: the variant that runs first (after
# the machine did something else) changes from round to round.
rotated() { local r=$1; shift; local n=$#; local a=("$@") i; for ((i = 0; i < n; i++)); do echo "${a[(r + i) % n]}"; done; }
median() { sort -g | awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
# The median of the ratios of two variants within each round (line i of each
# file is round i): this VM's speed drifts by 10 % and more between runs, a
# round's runs share the moment.
paired() { paste "$1" "$2" | awk '{printf "%.4f\n", $1 / $2}' | median | awk '{printf "%.3f", $1}'; }
record() { echo "$1 $2" >>"$work/results"; } # KEY VALUE
get() { awk -v k="$1" '$1 == k {print $2}' "$work/results"; }
: >"$work/results"

# One spawn of each variant a round, in turn (who goes first rotates): a
# slow moment of this shared machine then falls on every variant alike,
# where runs of 20 spawns a variant let it fall on one (ratios moved by
# +-3 % from run to run; with single spawns by +-0.2 %).
echo "bench.sh: 1/7 start-up tax ($SPAWN_ROUNDS rounds x $SPAWNS spawn of /bin/true a variant)"
"$b/bench_startup" "$SPAWN_ROUNDS" "$SPAWNS" /bin/true bare=- "empty=$empty" "sockfix=$lib" \
    "sockfix-server=$lib,SOCKFIX_CONFIG=$work/server.ini" \
    "libkeepalive=$keepalive_lib,KEEPIDLE=60,KEEPINTVL=10,KEEPCNT=6" >"$work/startup"
while read -r name med _min; do record "startup.$name" "$med"; done <"$work/startup"

echo "bench.sh: 2/7 hook path ($HOOK_ROUNDS rounds)"
for ((r = 0; r < HOOK_ROUNDS; r++)); do
    for v in bare sockfix; do
        run_in "$v" "$b/bench_hookpath" "$HOOK_ITER" | while read -r k val; do
            echo "$val" >>"$work/hook.$v.$k"
        done
    done
done
for v in bare sockfix; do
    for k in socket_close bind_listen connect; do record "hook.$v.$k" "$(median <"$work/hook.$v.$k")"; done
done

# Short runs, many rounds: a ratio within a round cancels the drift of this
# VM's speed (whole runs of 10000 connections moved ratios by +-5 %).
echo "bench.sh: 3/7 connection churn ($CHURN_ROUNDS rounds x $CHURN_N connections)"
for ((r = 0; r < CHURN_ROUNDS; r++)); do
    for t in 1 2; do
        for v in $(rotated "$r" bare sockfix sockfix-server libkeepalive); do
            run_in "$v" "$b/bench_churn" "$t" "$CHURN_N" | awk '{print $2}' >>"$work/churn.$v.$t"
        done
    done
done
for t in 1 2; do
    for v in bare sockfix sockfix-server libkeepalive; do
        record "churn.$v.$t" "$(median <"$work/churn.$v.$t" | awk '{printf "%.0f", $1}')"
        record "pchurn.$v.$t" "$(paired "$work/churn.$v.$t" "$work/churn.bare.$t")"
    done
    record "pchurn.sockfix-libkeepalive.$t" "$(paired "$work/churn.sockfix.$t" "$work/churn.libkeepalive.$t")"
done

echo "bench.sh: 4/7 system calls per connection (strace -c -f, $SYS_N1 and $SYS_N2 connections)"
syscalls() { # VARIANT N -> total system calls of a churn run
    run_in "$1" strace -f -c -o "$work/strace.out" "$b/bench_churn" 1 "$2" >/dev/null
    awk '$NF == "total" {print $4 + 0}' "$work/strace.out"
}
for v in bare sockfix-server sockfix-client sockfix; do
    c1=$(syscalls "$v" "$SYS_N1")
    c2=$(syscalls "$v" "$SYS_N2")
    record "sys.$v" "$(awk -v a="$c1" -v b="$c2" -v n1="$SYS_N1" -v n2="$SYS_N2" 'BEGIN {printf "%.2f", (b - a) / (n2 - n1)}')"
done

echo "bench.sh: 5/7 policy scale and memory"
for n in $RULES; do
    "$b/bench_policyscale" "$n" 1000000 >"$work/scale"
    record "scale.$n.load_ms" "$(awk '$1 == "load_ms" {print $2}' "$work/scale")"
    record "scale.$n.match_ns" "$(awk '$1 == "match_ns" {print $2}' "$work/scale")"
    record "scale.$n.bytes" "$(awk '$1 == "policy_bytes" {print $2}' "$work/scale")"
done
for ((r = 0; r < RSS_RUNS; r++)); do
    for v in bare empty sockfix; do run_in "$v" "$b/bench_rss" >>"$work/rss.$v"; done
done
for v in bare empty sockfix; do
    for k in rss anon file; do
        record "$k.$v" "$(awk -v k="${k}_kib" '$1 == k {print $2}' "$work/rss.$v" | median)"
    done
done

echo "bench.sh: 6/7 inspect and apply on a process with many sockets ($LISTENERS listeners)"
for n in $LISTENERS; do
    mkfifo "$work/hold.$n" "$work/ready.$n"
    "$b/bench_listeners" "$n" <"$work/hold.$n" >"$work/ready.$n" &
    holder=$!
    exec 9>"$work/hold.$n" 8<"$work/ready.$n" # stdin held open; its "ready" line read below
    read -t 120 -r line <&8 && [ "$line" = ready ] ||
        { echo "bench.sh: bench_listeners $n did not start" >&2; exit 1; }
    for cmd in inspect apply; do
        extra=()
        [ "$cmd" = apply ] && extra=(--dry-run -c "$work/server.ini")
        for ((r = 0; r < WALK_ROUNDS; r++)); do
            t0=$EPOCHREALTIME
            "$build/sockfix" "$cmd" "$holder" "${extra[@]}" >/dev/null
            t1=$EPOCHREALTIME
            awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", (b - a) * 1000}' >>"$work/walk.$cmd.$n"
        done
        record "walk.$cmd.$n" "$(median <"$work/walk.$cmd.$n")"
    done
    exec 9>&- 8<&-
    wait "$holder"
done

echo "bench.sh: 7/7 connection churn under sockfix attach ($CHURN_ROUNDS rounds x $CHURN_N connections)"
# Two sibling cgroups, the server policy attached to one: runs alternate
# between them. Then one more attached run with the kernel's BPF statistics
# on (they cost a clock read per program run: not during the timed runs).
attach_state="not run: needs root and a kernel that loads sockfix's programs"
cg_root=$(awk '{for (i = 7; i < NF; i++) if ($i == "-") {if ($(i + 1) == "cgroup2") {print $5; exit} break}}' /proc/self/mountinfo)
if [ "$(id -u)" -eq 0 ] && [ -n "$cg_root" ]; then
    cg_on=$cg_root/sockfix-bench-$$-attached
    cg_off=$cg_root/sockfix-bench-$$-detached
    old_stats=$(sysctl -n kernel.bpf_stats_enabled)
    cleanup_attach() {
        "$build/sockfix" detach "$cg_on" >/dev/null 2>&1 || true
        rmdir "$cg_on" "$cg_off" 2>/dev/null || true
        sysctl -qw kernel.bpf_stats_enabled="$old_stats"
    }
    trap 'cleanup_attach; rm -rf "$work"' EXIT
    mkdir "$cg_on" "$cg_off"
    if "$build/sockfix" attach -c "$work/server.ini" "$cg_on" >/dev/null 2>"$work/attach.err"; then
        attach_state=run
        in_cgroup() { # CGROUP CMD...
            local cg=$1
            shift
            env -i PATH=/usr/bin:/bin sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
        }
        for ((r = 0; r < CHURN_ROUNDS; r++)); do
            for t in 1 2; do
                for v in $(rotated "$r" detached attached); do
                    cg=$cg_off
                    [ "$v" = attached ] && cg=$cg_on
                    in_cgroup "$cg" "$b/bench_churn" "$t" "$CHURN_N" | awk '{print $2}' >>"$work/achurn.$v.$t"
                done
            done
        done
        for t in 1 2; do
            for v in detached attached; do
                record "achurn.$v.$t" "$(median <"$work/achurn.$v.$t" | awk '{printf "%.0f", $1}')"
            done
            record "pachurn.$t" "$(paired "$work/achurn.attached.$t" "$work/achurn.detached.$t")"
        done
        "$build/sockfix" detach "$cg_on" >/dev/null
        "$build/sockfix" attach -c "$work/server.ini" "$cg_on" >/dev/null 2>&1
        sysctl -qw kernel.bpf_stats_enabled=1
        in_cgroup "$cg_on" "$b/bench_churn" 1 "$CHURN_N" >/dev/null
        "$build/sockfix" status --json >"$work/status.json"
        python3 - "$work/status.json" "$cg_on" >"$work/bpfstats" <<'PY'
import json, sys
for a in json.load(open(sys.argv[1])):
    if a["cgroup"] == sys.argv[2]:
        for p in a["programs"]:
            if p["present"] and p["runs"]:
                print(p["name"], p["runs"], "%.0f" % (p["run_ns"] / p["runs"]))
        print("sockets", a["counters"]["sockets"], "")
PY
        sysctl -qw kernel.bpf_stats_enabled="$old_stats"
    else
        attach_state="not run: sockfix attach failed: $(head -c 300 "$work/attach.err")"
    fi
fi

# ---- report ----
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
glibc=$(ldd --version | awk 'NR == 1 {print $NF}')
version=$("$build/sockfix" --version 2>/dev/null || echo "sockfix")
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == "<=") ? v <= t : v >= t; print ok ? "met" : "**missed**"}'; }

su_sockfix=$(ratio "$(get startup.sockfix)" "$(get startup.empty)")
su_server=$(ratio "$(get startup.sockfix-server)" "$(get startup.empty)")
su_keep=$(ratio "$(get startup.libkeepalive)" "$(get startup.empty)")
su_empty=$(ratio "$(get startup.empty)" "$(get startup.bare)")
big=$(echo "$RULES" | awk '{print $NF}')
# The table the README publishes: each variant side by side, from this run.
summary_table() {
    echo "| measure | bare | empty preload | libkeepalive | sockfix, default policy | sockfix, server policy |"
    echo "| --- | --- | --- | --- | --- | --- |"
    echo "| start-up of /bin/true, µs per spawn (lower is better) | $(get startup.bare) | $(get startup.empty) | $(get startup.libkeepalive) | $(get startup.sockfix) | $(get startup.sockfix-server) |"
    echo "| start-up / empty preload | $su_empty | 1.000 | $su_keep | $su_sockfix | $su_server |"
    for t in 1 2; do
        echo "| loopback connections per second, $t thread$([ "$t" = 1 ] || echo s) (higher is better) | $(get "churn.bare.$t") | | $(get "churn.libkeepalive.$t") | $(get "churn.sockfix.$t") | $(get "churn.sockfix-server.$t") |"
        echo "| connections / bare, $t thread$([ "$t" = 1 ] || echo s) | 1.000 | | $(get "pchurn.libkeepalive.$t") | $(get "pchurn.sockfix.$t") | $(get "pchurn.sockfix-server.$t") |"
    done
    echo "| resident memory, KiB | $(get rss.bare) | $(get rss.empty) | | $(get rss.sockfix) | |"
}
summary_table >"$work/summary"
{
    echo "# sockfix benchmarks"
    echo
    if [ "$quick" = yes ]; then echo "**Quick run** (CI): figures are too small to quote."; echo; fi
    echo "Generated by \`scripts/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $version ($commit),"
    echo "$cpu, $(nproc) cores, $mem, Linux $(uname -r), glibc $glibc."
    echo "Each figure is a median over rounds that alternate the variants (the one that goes first"
    echo "rotates). Start-up ratios are ratios of medians; churn ratios are medians of the ratios"
    echo "within each round (this VM's speed drifts by 10 % and more from one run to the next, and"
    echo "a round's short runs share the moment). This machine is a shared 2-core VM: absolute"
    echo "times are context."
    echo
    echo "## Side by side"
    echo
    cat "$work/summary"
    echo
    echo "## Targets"
    echo
    echo "| target | measured | |"
    echo "| --- | --- | --- |"
    echo "| start-up tax, sockfix / empty <= 1.02 | $su_sockfix | $(verdict "$su_sockfix" "<=" 1.02) |"
    echo "| start-up tax with a policy file, sockfix (server policy) / empty <= 1.02 | $su_server | $(verdict "$su_server" "<=" 1.02) |"
    added=$(awk -v a="$(get sys.bare)" -v b="$(get sys.sockfix-server)" 'BEGIN {printf "%.2f", b - a}')
    echo "| extra system calls per accepted connection (server policy) = 0 | $added | $(verdict "$added" "<=" 0.05) |"
    c1=$(get pchurn.sockfix-server.1)
    c2=$(get pchurn.sockfix-server.2)
    echo "| churn, sockfix (server policy) / bare >= 0.98, 1 thread | $c1 | $(verdict "$c1" ">=" 0.98) |"
    echo "| churn, sockfix (server policy) / bare >= 0.98, 2 threads | $c2 | $(verdict "$c2" ">=" 0.98) |"
    k1=$(get pchurn.sockfix-libkeepalive.1)
    k2=$(get pchurn.sockfix-libkeepalive.2)
    echo "| churn, sockfix (default policy) / libkeepalive >= 1.0, 1 thread | $k1 | $(verdict "$k1" ">=" 1.0) |"
    echo "| churn, sockfix (default policy) / libkeepalive >= 1.0, 2 threads | $k2 | $(verdict "$k2" ">=" 1.0) |"
    if [ "$attach_state" = run ]; then
        for t in 1 2; do
            a=$(get "pachurn.$t")
            echo "| churn, sockfix attach (server policy) / detached >= 0.98, $t thread$([ "$t" = 1 ] || echo s) | $a | $(verdict "$a" ">=" 0.98) |"
        done
    fi
    echo "| match cost with $big rules <= 200 ns | $(get "scale.$big.match_ns") ns | $(verdict "$(get "scale.$big.match_ns")" "<=" 200) |"
    echo "| load of $big rules <= 10 ms | $(get "scale.$big.load_ms") ms | $(verdict "$(get "scale.$big.load_ms")" "<=" 10) |"
    rss=$(awk -v a="$(get rss.empty)" -v b="$(get rss.sockfix)" 'BEGIN {print b - a}')
    anon=$(awk -v a="$(get anon.empty)" -v b="$(get anon.sockfix)" 'BEGIN {print b - a}')
    echo "| RSS added, default policy <= 256 KiB (of which private: $anon KiB) | $rss KiB | $(verdict "$rss" "<=" 256) |"
    echo
    echo "## 1. Start-up tax: posix_spawn + wait of /bin/true (never opens a socket)"
    echo
    echo "Median of $SPAWN_ROUNDS spawns a variant, one spawn of each a round in turn. The empty"
    echo "object is built as GNU ld builds any library (four segments); libsockfix.so has two"
    echo "(cmake/shim-layout.ld), and reads a policy file of up to 1 KiB into its own data page."
    echo
    echo "| variant | median µs per spawn | / bare | / empty |"
    echo "| --- | --- | --- | --- |"
    for v in bare empty sockfix sockfix-server libkeepalive; do
        echo "| $v | $(get "startup.$v") | $(ratio "$(get "startup.$v")" "$(get startup.bare)") | $(ratio "$(get "startup.$v")" "$(get startup.empty)") |"
    done
    echo
    echo "## 2. Hook path, ns per operation"
    echo
    echo "| operation | bare | sockfix | added |"
    echo "| --- | --- | --- | --- |"
    for k in socket_close bind_listen connect; do
        x=$(get "hook.bare.$k")
        y=$(get "hook.sockfix.$k")
        echo "| $k | $x | $y | $(awk -v a="$x" -v b="$y" 'BEGIN {printf "%+.0f", b - a}') |"
    done
    echo
    echo "With the default policy, \`bind_listen\` adds SO_REUSEADDR, a getsockname and the four"
    echo "keepalive options on the listener; \`connect\` adds the four keepalive options on the"
    echo "client socket. That is the work the policy asks for, one system call per option."
    echo
    echo "## 3. Connection churn, connections per second (connect + accept + abortive close)"
    echo
    echo "$CHURN_ROUNDS rounds of $CHURN_N connections a variant; connections per second are medians, the"
    echo "ratios medians of the ratios within each round."
    echo
    echo "| variant | 1 thread | / bare | 2 threads | / bare |"
    echo "| --- | --- | --- | --- | --- |"
    for v in bare sockfix sockfix-server libkeepalive; do
        echo "| $v | $(get "churn.$v.1") | $(get "pchurn.$v.1") | $(get "churn.$v.2") | $(get "pchurn.$v.2") |"
    done
    echo
    echo "## 4. System calls added per connection (slope between $SYS_N1 and $SYS_N2 connections)"
    echo
    echo "| variant | system calls per connection | added to bare |"
    echo "| --- | --- | --- |"
    for v in bare sockfix-server sockfix-client sockfix; do
        echo "| $v | $(get "sys.$v") | $(awk -v a="$(get sys.bare)" -v b="$(get "sys.$v")" 'BEGIN {printf "%+.2f", b - a}') |"
    done
    echo
    echo "The benchmark program is both server and client: the server policy (listener configured"
    echo "at listen) adds nothing per accepted connection; a client policy adds one setsockopt per"
    echo "keepalive option on each client socket."
    echo
    echo "## 5. Policy scale and memory"
    echo
    echo "| rules | policy bytes | load (parse, select, index) ms | match ns per event |"
    echo "| --- | --- | --- | --- |"
    for n in $RULES; do
        echo "| $n | $(get "scale.$n.bytes") | $(get "scale.$n.load_ms") | $(get "scale.$n.match_ns") |"
    done
    echo
    echo "| process (one listening socket) | VmRSS KiB | private (RssAnon) | file pages (RssFile) |"
    echo "| --- | --- | --- | --- |"
    for v in bare empty sockfix; do echo "| $v | $(get "rss.$v") | $(get "anon.$v") | $(get "file.$v") |"; done
    echo
    echo "Medians of $RSS_RUNS runs. File pages are mostly shared library text (libc's and the"
    echo "library's own), mapped in 64 KiB fault-around chunks and shared with every process;"
    echo "they vary by about 100 KiB from run to run. Private memory is what sockfix really adds."
    echo
    echo "## 6. sockfix inspect and apply on a process with many sockets"
    echo
    echo "A process holding N listeners, each with one accepted connection and its client (3N"
    echo "sockets); wall time of one run, median of $WALK_ROUNDS. Each socket is read through one"
    echo "pidfd_getfd duplicate; the listeners of its namespace come from one sock_diag dump."
    echo
    lo=$(echo "$LISTENERS" | awk '{print $1}')
    hi=$(echo "$LISTENERS" | awk '{print $NF}')
    echo "| command | $lo listeners, ms | $hi listeners, ms | ratio | linear would be |"
    echo "| --- | --- | --- | --- | --- |"
    for cmd in inspect apply; do
        label=$cmd
        [ "$cmd" = apply ] && label="apply --dry-run"
        echo "| sockfix $label | $(get "walk.$cmd.$lo") | $(get "walk.$cmd.$hi") | $(ratio "$(get "walk.$cmd.$hi")" "$(get "walk.$cmd.$lo")") | $(awk -v a="$hi" -v b="$lo" 'BEGIN {printf "%.1f", a / b}') |"
    done
    echo
    echo "## 7. Connection churn under sockfix attach"
    echo
    if [ "$attach_state" = run ]; then
        echo "The churn program of section 3 (no preload) in a cgroup with the server policy"
        echo "attached (kernel programs at bind, listen and on each accepted connection), against"
        echo "the same program in a sibling cgroup without; runs alternate, $CHURN_ROUNDS rounds of $CHURN_N"
        echo "connections; the ratio is the median of the ratios within each round."
        echo
        echo "| threads | detached, conn/s | attached, conn/s | attached / detached | target |"
        echo "| --- | --- | --- | --- | --- |"
        for t in 1 2; do
            a=$(get "pachurn.$t")
            echo "| $t | $(get "achurn.detached.$t") | $(get "achurn.attached.$t") | $a | >= 0.98: $(verdict "$a" ">=" 0.98) |"
        done
        echo
        echo "Cost per program run, from the kernel's own statistics (kernel.bpf_stats_enabled=1"
        echo "during one more attached run of $CHURN_N connections, not during the timed ones; the"
        echo "statistics add two clock reads to each run they time):"
        echo
        echo "| program | runs | ns per run |"
        echo "| --- | --- | --- |"
        awk '$1 != "sockets" {print "| " $1 " | " $2 " | " $3 " |"}' "$work/bpfstats"
        echo
        echo "Sockets configured during that run: $(awk '$1 == "sockets" {print $2}' "$work/bpfstats") (the listener"
        echo "and the bound socket; accepted connections inherit from the listener, and client"
        echo "sockets, which no rule of the server policy can take, cost a check and no storage)."
    else
        echo "Not measured in this run ($attach_state)."
    fi
    echo
    echo "![ratios](benchmarks.png)"
} >"$out/BENCHMARKS.md"

# ---- chart ----
{
    echo "\"start-up time / empty\" $(ratio "$(get startup.bare)" "$(get startup.empty)") 1.000 $su_sockfix $su_server $su_keep"
    for t in 1 2; do
        echo "\"churn, $t thr. / bare\" 1.000 ? $(get "pchurn.sockfix.$t") $(get "pchurn.sockfix-server.$t") $(get "pchurn.libkeepalive.$t")"
    done
} >"$work/chart.dat"
gnuplot <<GNUPLOT
set terminal pngcairo size 1000,450 font "sans,10"
set datafile missing "?"
set output "$out/benchmarks.png"
set title "sockfix: start-up time (lower is better) and churn throughput (higher is better), as ratios"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0.8:1.2]
set grid ytics
set key outside right
plot "$work/chart.dat" using 2:xtic(1) title "bare", '' using 3 title "empty", \
     '' using 4 title "sockfix (default)", '' using 5 title "sockfix (server policy)", \
     '' using 6 title "libkeepalive"
GNUPLOT
# A full run also publishes the side-by-side table in the README, between
# its markers (the quick run's figures are too small to quote).
if [ "$quick" = no ]; then
    awk -v table="$work/summary" -v when="$(date -u '+%Y-%m-%d'), $commit, $cpu, $(nproc) cores" '
        /^<!-- bench-table -->$/ {print; print ""; print "Measured " when " by `scripts/bench.sh`:"; print "";
                                  while ((getline line < table) > 0) print line; print ""; skip = 1; next}
        /^<!-- \/bench-table -->$/ {skip = 0}
        !skip' "$here/README.md" >"$work/README.md"
    cat "$work/README.md" >"$here/README.md"
fi
cat "$out/BENCHMARKS.md"
readme_note=""
[ "$quick" = no ] && readme_note=" and the README's table"
echo "bench.sh: wrote $out/BENCHMARKS.md and $out/benchmarks.png$readme_note"
