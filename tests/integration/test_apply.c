/* sockfix apply PID: the policy on a running process's existing sockets,
 * through pidfd_getfd duplicates, on a dynamic helper and on one built
 * static (which LD_PRELOAD can never reach). The helper reports its own
 * getsockopt on request ("report"), and accepts a new connection ("new"). */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PLAIN_ENV ((const char *const[]){"PATH=/usr/bin:/bin", NULL})
#define EXPECT(r, key, v) cr_expect_eq(result_num(r, key), (v), "%s", key)

TestSuite(apply, .timeout = 60);

/* The held helper sets keepalive 123/17/4 and user_timeout on its client
 * itself, and nodelay on the accepted socket. */
static const char POLICY[] = "[servers]\nmatch.role = server\nreuseaddr = yes\nbacklog = 300\n"
                             "keepidle = 51\nkeepintvl = 6\nkeepcnt = 4\n"
                             "[clients]\nmatch.role = client\nkeepidle = 52\nnodelay = yes\n";

static void apply(const char *policy, struct held *h, const char *extra, struct run_result *r)
{
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)h->pid);
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", pid, "-c", policy, extra), PLAIN_ENV, NULL,
                r);
}

/* The held helper from path, its listener on a configured (non-ephemeral)
 * port as a service's would be. */
static void start_service(const char *path, struct held *h)
{
    char port[16];
    snprintf(port, sizeof port, "%u", free_low_port(AF_INET));
    start_held_argv(path, ARGS(path, "hold", "4", "--port", port), PLAIN_ENV, h);
}

static void expect_applied(const char *program)
{
    char policy[64];
    write_policy(POLICY, policy);
    struct held h;
    start_service(program, &h);
    struct run_result r, now;
    apply(policy, &h, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    held_ask(&h, "report", &now);
    /* existing sockets, as the process itself sees them */
    EXPECT(&now, "now.listener.keepalive", 1);
    EXPECT(&now, "now.listener.keepidle", 51);
    EXPECT(&now, "now.listener.keepintvl", 6);
    EXPECT(&now, "now.accepted.keepalive", 1);
    EXPECT(&now, "now.accepted.keepidle", 51);
    EXPECT(&now, "now.accepted.keepcnt", 4);
    EXPECT(&now, "now.client.nodelay", 1);
    EXPECT(&now, "now.client.keepidle", 123);  /* the program's own: precedence = program */
    EXPECT(&now, "now.listener.reuseaddr", 0); /* not applicable after bind */
    /* a connection accepted afterwards inherits from the listener */
    held_ask(&h, "new", &now);
    EXPECT(&now, "new.accepted.keepidle", 51);
    EXPECT(&now, "new.accepted.keepintvl", 6);
    char line[256];
    snprintf(line, sizeof line, "PID %d (%.15s), policy %s\n", (int)h.pid,
             strrchr(program, '/') + 1, policy);
    cr_expect(strstr(r.out, line) == r.out, "%s", r.out);
    cr_expect(strstr(r.out,
                     ": reuseaddr no, policy yes: not applicable to an existing socket (only "
                     "before bind), keepalive no -> yes, keepidle 7200s -> 51s, keepintvl "
                     "75s -> 6s, keepcnt 9 -> 4, backlog 7, policy 300: not applicable to "
                     "an existing socket (fixed when listen was called) (rules servers)\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "keepidle 123s kept (set by the program, as it differs from a fresh "
                            "socket; policy 52s), nodelay no -> yes (rules clients)\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "\n4 sockets: 9 options changed, 1 kept as the program set them, 2 not "
                            "applicable, 0 failed\n"),
              "%s", r.out);
    stop_held(&h);
    unlink(policy);
}

Test(apply, a_dynamic_program_that_runs_without_the_shim)
{
    expect_applied(SOCKPROBE);
}

Test(apply, a_statically_linked_program)
{
    expect_applied(SOCKPROBE_STATIC);
}

Test(apply, precedence_policy_overrides_what_the_program_set)
{
    char policy[64], text[512];
    snprintf(text, sizeof text, "[sockfix]\nprecedence = policy\n%s", POLICY);
    write_policy(text, policy);
    struct held h;
    start_held_program(SOCKPROBE, "4", &h);
    struct run_result r, now;
    apply(policy, &h, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.client.keepidle", 52);
    EXPECT(&now, "now.client.keepintvl", 17); /* not in the client rule */
    stop_held(&h);
    unlink(policy);
}

Test(apply, dry_run_changes_nothing)
{
    char policy[64];
    write_policy(POLICY, policy);
    struct held h;
    start_held_program(SOCKPROBE, "4", &h);
    struct run_result r, now;
    apply(policy, &h, "--dry-run", &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, " (dry run: nothing is changed)\n"), "%s", r.out);
    cr_expect(strstr(r.out, "keepidle 7200s -> 51s"), "%s", r.out);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepalive", 0);
    EXPECT(&now, "now.listener.keepidle", 7200);
    EXPECT(&now, "now.accepted.keepidle", 7200);
    EXPECT(&now, "now.client.nodelay", 0);
    /* and the real run after it says the same changes */
    apply(policy, &h, NULL, &r);
    cr_expect(strstr(r.out, "keepidle 7200s -> 51s"), "%s", r.out);
    apply(policy, &h, NULL, &r);
    cr_expect_null(strstr(r.out, "7200s -> "), "a second run has nothing left to change:\n%s",
                   r.out);
    cr_expect_null(strstr(r.out, "nodelay no -> yes"), "%s", r.out);
    cr_expect(strstr(r.out, ": already as the policy says (rules servers)\n"), "%s", r.out);
    stop_held(&h);
    unlink(policy);
}

Test(apply, json_for_scripts)
{
    char policy[64], cmd[512];
    write_policy(POLICY, policy);
    struct held h;
    start_service(SOCKPROBE, &h);
    snprintf(cmd, sizeof cmd,
             "%s apply %d -c %s --json | python3 -c 'import json, sys\n"
             "d = json.load(sys.stdin)\n"
             "print(\"dry_run=%%d\" %% d[\"dry_run\"])\n"
             "for s in d[\"sockets\"]:\n"
             "    for o in s[\"options\"]:\n"
             "        print(\"%%s.%%s=%%s:%%s:%%s\" %% (s[\"role\"], o[\"option\"], o[\"result\"], "
             "o[\"from\"], o[\"to\"]))'",
             SOCKFIX_CLI, (int)h.pid, policy);
    struct run_result r = {.pid = h.pid};
    read_command(cmd, r.out, sizeof r.out);
    cr_expect_str_eq(result_get(&r, "dry_run"), "0");
    cr_expect_str_eq(result_get(&r, "listener.keepidle"), "changed:7200:51");
    cr_expect_str_eq(result_get(&r, "listener.reuseaddr"), "not_applicable:0:1");
    cr_expect_str_eq(result_get(&r, "listener.backlog"), "not_applicable:7:300");
    cr_expect_str_eq(result_get(&r, "server.keepcnt"), "changed:9:4");
    cr_expect_str_eq(result_get(&r, "client.keepidle"), "kept:123:52");
    cr_expect_str_eq(result_get(&r, "client.nodelay"), "changed:0:1");
    stop_held(&h);
    unlink(policy);
}

Test(apply, leaves_no_descriptor_open_and_never_signals_the_target)
{
    if (access("/usr/bin/strace", X_OK) != 0)
        cr_skip_test("strace is not installed (scripts/deps.sh installs it)");
    char policy[64], trace[64], pid[16];
    write_policy(POLICY, policy);
    snprintf(trace, sizeof trace, "/tmp/sockfix-apply-trace-%d", (int)getpid());
    struct held h;
    start_held_program(SOCKPROBE, "4", &h);
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    struct run_result r;
    run_program("/usr/bin/strace",
                ARGS("strace", "-f", "-qq", "-o", trace, "-e",
                     "trace=pidfd_getfd,close,kill,tgkill,tkill,ptrace,pidfd_send_signal",
                     SOCKFIX_CLI, "apply", pid, "-c", policy),
                PLAIN_ENV, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    FILE *f = fopen(trace, "re");
    cr_assert(f);
    char line[512];
    int taken[64], ntaken = 0, closed_ok = 0;
    while (fgets(line, sizeof line, f)) {
        const char *call = line + strcspn(line, " ");
        call += strspn(call, " ");
        cr_expect(strncmp(call, "kill", 4) && strncmp(call, "tgkill", 6) &&
                      strncmp(call, "tkill", 5) && strncmp(call, "ptrace", 6) &&
                      strncmp(call, "pidfd_send_signal", 17),
                  "%s", line);
        const char *eq = strrchr(call, '=');
        if (strncmp(call, "pidfd_getfd(", 12) == 0 && eq && atoi(eq + 1) >= 0 && ntaken < 64)
            taken[ntaken++] = atoi(eq + 1);
        if (strncmp(call, "close(", 6) == 0) {
            int fd = atoi(call + 6);
            for (int i = 0; i < ntaken; i++) {
                if (taken[i] == fd) {
                    taken[i] = -1;
                    closed_ok++;
                }
            }
        }
    }
    fclose(f);
    cr_expect_geq(ntaken, 4, "the helper's four sockets were taken");
    cr_expect_eq(closed_ok, ntaken, "every duplicate was closed");
    /* the target goes on answering */
    struct run_result now;
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepidle", 51);
    stop_held(&h);
    unlink(trace);
    unlink(policy);
}

Test(apply, errors_no_process_and_not_permitted)
{
    /* a PID that existed and is gone */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    char pid[16], want[512];
    snprintf(pid, sizeof pid, "%d", (int)gone);
    struct run_result r;
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", pid), PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 1);
    snprintf(want, sizeof want, "sockfix apply: no process with PID %d\n", (int)gone);
    cr_expect_str_eq(r.err, want);

    if (geteuid() != 0)
        cr_skip_test("the not-permitted case needs root, to run sockfix as another user");
    char policy[64];
    write_policy(POLICY, policy);
    chmod(policy, 0644);
    struct held h;
    start_held_program(SOCKPROBE, "4", &h);
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    run_program("/usr/bin/setpriv",
                ARGS("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SOCKFIX_CLI,
                     "apply", pid, "-c", policy),
                PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    snprintf(want, sizeof want,
             "sockfix apply: not permitted to reach the sockets of PID %d: this needs ptrace "
             "access to it (PTRACE_MODE_ATTACH_REALCREDS): root or CAP_SYS_PTRACE, or the same "
             "user where kernel.yama.ptrace_scope allows it\n",
             (int)h.pid);
    cr_expect_str_eq(r.err, want);
    cr_expect_str_empty(r.out);
    struct run_result now;
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepidle", 7200); /* untouched */
    stop_held(&h);
    unlink(policy);
}

Test(apply, a_broken_policy_changes_nothing)
{
    char policy[64], pid[16];
    write_policy("[r]\nkeepidle = soon\n", policy);
    struct held h;
    start_held_program(SOCKPROBE, "4", &h);
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    struct run_result r, now;
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", pid, "-c", policy), PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 78);
    cr_expect(strstr(r.err, "sockfix apply: the policy has errors; nothing was changed\n"), "%s",
              r.err);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepidle", 7200);
    stop_held(&h);
    unlink(policy);
}

/* A buffer above net.core.rmem_max is kept at rmem_max by the kernel: a
 * socket holding that holds the policy's value as far as it can, and apply
 * must not report a change that can never stick (the sysctl is the row's
 * capped_by, read in the socket's namespace). */
Test(apply, a_value_above_the_sysctl_that_caps_it_is_no_change)
{
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "re");
    long rmem_max = 0;
    cr_assert(f && fscanf(f, "%ld", &rmem_max) == 1);
    fclose(f);
    if (2 * rmem_max > 536870912)
        cr_skip_test("net.core.rmem_max is above half the largest rcvbuf a policy may ask for");
    char text[128], policy[64];
    snprintf(text, sizeof text, "[s]\nmatch.role = server\nrcvbuf = %ld\n", 2 * rmem_max);
    write_policy(text, policy);
    struct held h;
    start_held(true, policy, "4", &h);
    struct run_result r;
    apply(policy, &h, "--dry-run", &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "4 sockets: 0 options to change,"), "%s", r.out);
    cr_expect(strstr(r.out, "tcp listener 127.0.0.1:"), "%s", r.out);
    cr_expect_null(strstr(r.out, "rcvbuf"), "%s", r.out);
    stop_held(&h);
    unlink(policy);
}
