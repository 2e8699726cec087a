/* sockfix apply and inspect on live processes see each socket as the library
 * does: the same event (address rules, dual stack, program names kept from
 * before a title rewrite), roles from the kernel in the socket's own
 * namespace, what the library set moved by a changed policy, whole process
 * trees, and honest failures. Values are read back from inside the helper
 * ("report") or from outside (pidfd_getfd). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PLAIN_ENV ((const char *const[]){"PATH=/usr/bin:/bin", NULL})
#define EXPECT(r, key, v) cr_expect_eq(result_num(r, key), (v), "%s", key)

TestSuite(live, .timeout = 60);

static void sockfix_on(const char *cmd, pid_t pid, const char *policy, const char *extra,
                       struct run_result *r)
{
    char p[16];
    snprintf(p, sizeof p, "%d", (int)pid);
    if (policy)
        run_program(SOCKFIX_CLI, ARGS("sockfix", cmd, p, "-c", policy, extra), PLAIN_ENV, NULL, r);
    else
        run_program(SOCKFIX_CLI, ARGS("sockfix", cmd, p, extra), PLAIN_ENV, NULL, r);
}

/* What the program set itself stays its own: "kept" is not a change. */
static void expect_nothing_to_change(const struct run_result *r)
{
    cr_expect_eq(r->status, 0, "%s%s", r->out, r->err);
    const char *summary = strstr(r->out, ": 0 options to change, ");
    cr_expect(summary && strstr(summary, " kept as the program set them, 0 not applicable, 0 "
                                         "failed\n"),
              "%s", r->out);
}

/* ---- one event, everywhere ---- */

Test(live, apply_matches_address_rules)
{
    char policy[64];
    write_policy("[db]\nmatch.role = server\nmatch.address = 127.0.0.0/8\nkeepidle = 33\n", policy);
    struct held h;
    start_held(false, NULL, "4", &h);
    struct run_result r, now;
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "keepidle 7200s -> 33s (rules db)\n"), "%s", r.out);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepidle", 33);
    EXPECT(&now, "now.accepted.keepidle", 33);
    stop_held(&h);
    unlink(policy);
}

static const char V6V4[] = "[v6]\nmatch.family = ipv6\nkeepidle = 61\n"
                           "[v4]\nmatch.family = ipv4\nkeepidle = 41\nkeepcnt = 3\n";

Test(live, a_dual_stack_connection_is_matched_as_its_listener)
{
    char policy[64];
    write_policy(V6V4, policy);
    /* under the library: the [::] listener takes the v6 rule, its IPv4
     * connections inherit it; apply agrees */
    struct held h;
    start_held(true, policy, "any6", &h);
    struct run_result r, now;
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepidle", 61);
    EXPECT(&now, "now.accepted.keepidle", 61);
    EXPECT(&now, "now.accepted.keepcnt", 9);
    sockfix_on("apply", h.pid, policy, "--dry-run", &r);
    expect_nothing_to_change(&r);
    cr_expect_null(strstr(r.out, "61s -> 41s"), "%s", r.out);
    stop_held(&h);
    /* without the library, apply decides the same */
    start_held(false, NULL, "any6", &h);
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.accepted.keepidle", 61);
    EXPECT(&now, "now.accepted.keepcnt", 9);
    EXPECT(&now, "now.client.keepcnt", 4); /* the IPv4 client's own (v4 rule: kept) */
    stop_held(&h);
    unlink(policy);
}

/* A perl program executed as "legacy-server" (a link to perl) that rewrites
 * its title ($0) before it makes its sockets. */
static const char PERL_SERVER[] =
    "$0 = 'legacy: worker';"
    "use IO::Socket::INET;"
    "my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, "
    "  Proto => 'tcp') or die;"
    "my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $l->sockport, "
    "  Proto => 'tcp') or die;"
    "my $a = $l->accept or die;"
    "$| = 1; print 'listener.fd=', fileno($l), \"\\naccepted.fd=\", fileno($a), \"\\nready\\n\";"
    "<STDIN>;";

static void expect_title(pid_t pid)
{
    char path[64], cmdline[64] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "re");
    cr_assert(f);
    cr_assert(fread(cmdline, 1, sizeof cmdline - 1, f) > 0);
    fclose(f);
    cr_expect_str_eq(cmdline, "legacy: worker", "the title is rewritten");
}

Test(live, a_rewritten_title_matches_as_the_library_matched)
{
    if (access("/usr/bin/perl", X_OK) != 0)
        cr_skip_test("perl is not installed (scripts/deps.sh installs it)");
    char dir[] = "/tmp/sockfix-title-XXXXXX", link[128], policy[64], cmd[256];
    cr_assert(mkdtemp(dir));
    snprintf(link, sizeof link, "%s/legacy-server", dir);
    cr_assert(symlink("/usr/bin/perl", link) == 0);
    write_policy("[legacy]\nmatch.program = legacy-server\nmatch.role = server\nkeepidle = 44\n",
                 policy);
    /* under the library */
    struct held h;
    start_held_argv(SOCKFIX_CLI,
                    ARGS("sockfix", "run", "-c", policy, "--", link, "-e", PERL_SERVER), PLAIN_ENV,
                    &h);
    expect_title(h.pid);
    long lfd = result_num(&h.result, "listener.fd");
    cr_expect_eq(remote_getsockopt(h.pid, (int)lfd, IPPROTO_TCP, TCP_KEEPIDLE), 44);
    struct run_result r;
    sockfix_on("apply", h.pid, policy, "--dry-run", &r);
    expect_nothing_to_change(&r);
    cr_expect(strstr(r.out, "already as the policy says (rules legacy)\n"), "%s", r.out);
    stop_held(&h);
    /* without it: apply matches the name it was executed as (AT_EXECFN) */
    start_held_argv(link, ARGS(link, "-e", PERL_SERVER), PLAIN_ENV, &h);
    expect_title(h.pid);
    lfd = result_num(&h.result, "listener.fd");
    long afd = result_num(&h.result, "accepted.fd");
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(remote_getsockopt(h.pid, (int)lfd, IPPROTO_TCP, TCP_KEEPIDLE), 44, "%s", r.out);
    cr_expect_eq(remote_getsockopt(h.pid, (int)afd, IPPROTO_TCP, TCP_KEEPIDLE), 44, "%s", r.out);
    stop_held(&h);
    unlink(policy);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

Test(live, the_library_records_roles_even_where_no_rule_applies)
{
    char none[64], policy[64], cmd[512];
    write_policy("[other]\nmatch.program = no-such-program\nkeepidle = 5\n", none);
    write_policy("[cli]\nmatch.role = client\nnodelay = yes\n", policy);
    struct held h;
    start_held(true, none, "4", &h);
    /* the client's ports are both ephemeral: only the record can tell its role */
    snprintf(cmd, sizeof cmd,
             "%s apply %d -c %s --dry-run --json | python3 -c 'import json, sys\n"
             "for s in json.load(sys.stdin)[\"sockets\"]:\n"
             "    print(\"%%s.%%s=%%s\" %% (s[\"fd\"], s[\"role\"], s[\"role_source\"]))'",
             SOCKFIX_CLI, (int)h.pid, policy);
    struct run_result r = {.pid = h.pid};
    read_command(cmd, r.out, sizeof r.out);
    char key[32];
    snprintf(key, sizeof key, "%ld.client", result_num(&h.result, "client.fd"));
    cr_expect_str_eq(result_get(&r, key), "record", "%s", r.out);
    snprintf(key, sizeof key, "%ld.server", result_num(&h.result, "accepted.fd"));
    cr_expect_str_eq(result_get(&r, key), "record", "%s", r.out);
    stop_held(&h);
    unlink(none);
    unlink(policy);
}

/* ---- roles from the kernel ---- */

static const char SRV_CLI[] = "[srv]\nmatch.role = server\nkeepidle = 35\n"
                              "[cli]\nmatch.role = client\nkeepidle = 36\nkeepcnt = 2\n";

Test(live, a_draining_server_keeps_server_rules)
{
    char policy[64], port[16];
    write_policy(SRV_CLI, policy);
    snprintf(port, sizeof port, "%u", free_low_port(AF_INET));
    struct held h;
    start_held_with(false, NULL, ARGS("4", "--port", port, "--drain"), &h);
    struct run_result r, now;
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.accepted.keepidle", 35);
    EXPECT(&now, "now.accepted.keepcnt", 9);
    cr_expect(strstr(r.out, " tcp server* 127.0.0.1:"), "%s", r.out);
    stop_held(&h);
    unlink(policy);
}

/* Connects to a server that is starting: retried while refused, a bounded
 * number of times (the wait is for the server's listen, not for a time). */
static int connect_when_listening(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 1000000; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        close(fd);
        sched_yield();
    }
    cr_assert_fail("nothing listens on port %u", port);
    return -1;
}

/* The descriptors of pid that are sockets. */
static int count_sockets(pid_t pid)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -l /proc/%d/fd | grep -c socket:", (int)pid);
    FILE *p = popen(cmd, "r");
    int n = 0;
    cr_assert(fscanf(p, "%d", &n) == 1);
    pclose(p);
    return n;
}

Test(live, a_one_connection_server_busybox_nc)
{
    if (access("/bin/busybox", X_OK) != 0)
        cr_skip_test("busybox is not installed (scripts/deps.sh installs it)");
    char policy[64], port[16];
    write_policy(SRV_CLI, policy);
    unsigned p = free_low_port(AF_INET);
    snprintf(port, sizeof port, "%u", p);
    int in[2];
    cr_assert(pipe2(in, O_CLOEXEC) == 0);
    pid_t nc = fork();
    if (nc == 0) {
        dup2(in[0], 0);
        execl("/bin/busybox", "nc", "-l", "-p", port, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    int c = connect_when_listening(p);
    /* nc closes its listener once it has the connection */
    for (int i = 0; i < 1000000 && count_sockets(nc) != 1; i++)
        sched_yield();
    cr_assert_eq(count_sockets(nc), 1, "nc kept its listener");
    struct run_result r;
    sockfix_on("apply", nc, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, " tcp server* [::ffff:127.0.0.1]:"), "%s", r.out);
    cr_expect(strstr(r.out, "keepidle 7200s -> 35s (rules srv)\n"), "%s", r.out);
    close(in[1]);
    close(c);
    waitpid(nc, NULL, 0);
    unlink(policy);
}

Test(live, a_process_whose_sockets_are_in_another_namespace)
{
    if (geteuid() != 0)
        cr_skip_test("moving to a new network namespace needs root");
    char policy[64];
    write_policy(SRV_CLI, policy);
    struct held h;
    start_held_with(false, NULL, ARGS("4", "--unshare-net"), &h);
    struct run_result r, now;
    sockfix_on("inspect", h.pid, NULL, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char line[128];
    snprintf(line, sizeof line, "\n%-4ld tcp  server   ", result_num(&h.result, "accepted.fd"));
    cr_expect(strstr(r.out, line), "%s", r.out);
    cr_expect(strstr(r.out, " no      7       -\n"), "the listener's backlog:\n%s", r.out);
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.accepted.keepidle", 35);
    EXPECT(&now, "now.accepted.keepcnt", 9);
    stop_held(&h);
    unlink(policy);
}

Test(live, a_process_in_unshare_n_shows_its_backlog)
{
    if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0 ||
        access("/usr/sbin/ip", X_OK) != 0)
        cr_skip_test("needs root, unshare (util-linux) and ip (iproute2)");
    char script[512];
    snprintf(script, sizeof script, "ip link set lo up && exec %s hold 4", SOCKPROBE);
    struct held h;
    start_held_argv("/usr/bin/unshare", ARGS("unshare", "-n", "--", "sh", "-c", script), PLAIN_ENV,
                    &h);
    struct run_result r;
    sockfix_on("inspect", h.pid, NULL, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char line[128];
    snprintf(line, sizeof line, "\n%-4ld tcp  listener ", result_num(&h.result, "listener.fd"));
    const char *l = strstr(r.out, line);
    cr_assert(l, "%s", r.out);
    cr_expect(strstr(l, " no      7       -\n") < strchr(l + 1, '\n') && strstr(l, " 7       -\n"),
              "%s", r.out);
    stop_held(&h);
}

/* ---- a policy changed under a running service ---- */

Test(live, a_changed_policy_moves_what_the_library_set)
{
    char old[64], new[64], want[256];
    write_policy("[srv]\nmatch.role = server\nkeepidle = 60\nkeepcnt = 5\n"
                 "[cli]\nmatch.role = client\nkeepintvl = 20\n",
                 old);
    write_policy("[srv]\nmatch.role = server\nkeepidle = 30\nkeepcnt = 5\nnodelay = no\n"
                 "[cli]\nmatch.role = client\nkeepintvl = 25\n",
                 new);
    struct held h;
    start_held_argv(SOCKFIX_CLI, ARGS("sockfix", "run", "-c", old, "--", SOCKPROBE, "hold", "4"),
                    PLAIN_ENV, &h);
    struct run_result r, now;
    sockfix_on("apply", h.pid, new, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    snprintf(want, sizeof want,
             "PID %d runs libsockfix with policy %s: the values it set are sockfix's and move to "
             "this policy's\n",
             (int)h.pid, old);
    cr_expect(strstr(r.out, want), "%s", r.out);
    cr_expect(strstr(r.out, " tcp listener 127.0.0.1:"), "%s", r.out);
    cr_expect(strstr(r.out, ": keepidle 60s -> 30s (sockfix's earlier value) (rules srv)\n"), "%s",
              r.out);
    cr_expect(strstr(r.out,
                     ": keepidle 60s -> 30s (sockfix's earlier value), nodelay yes kept (set "
                     "by the program; policy no) (rules srv)\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, ": keepintvl 17s kept (set by the program; policy 25s) (rules cli)\n"),
              "%s", r.out);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.listener.keepidle", 30);
    EXPECT(&now, "now.accepted.keepidle", 30);
    EXPECT(&now, "now.accepted.nodelay", 1);
    EXPECT(&now, "now.client.keepintvl", 17);
    stop_held(&h);
    unlink(old);
    unlink(new);
}

Test(live, what_an_earlier_apply_set_is_sockfix_s)
{
    char dir[] = "/tmp/sockfix-runtime-XXXXXX", env[128], a[64], b[64], pid[16];
    cr_assert(mkdtemp(dir));
    snprintf(env, sizeof env, "XDG_RUNTIME_DIR=%s", dir); /* used when not root */
    write_policy("[srv]\nmatch.role = server\nuser_timeout = 5s\n", a);
    write_policy("[srv]\nmatch.role = server\nuser_timeout = 7s\n", b);
    struct held h;
    start_held_program(SOCKPROBE_STATIC, "4", &h);
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    struct run_result r, now;
    const char *const envp[] = {"PATH=/usr/bin:/bin", env, NULL};
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", pid, "-c", a), envp, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "user_timeout 0s -> 5s (rules srv)\n"), "%s", r.out);
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", pid, "-c", b), envp, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "user_timeout 5s -> 7s (sockfix's earlier value) (rules srv)\n"), "%s",
              r.out);
    held_ask(&h, "report", &now);
    EXPECT(&now, "now.accepted.user_timeout", 7000);
    EXPECT(&now, "now.client.user_timeout", 6000); /* the program's own, a client: no rule */
    stop_held(&h);
    unlink(a);
    unlink(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

/* ---- whole services, honest results ---- */

Test(live, tree_covers_prefork_children)
{
    char policy[64], want[512];
    write_policy("[srv]\nmatch.role = server\nkeepidle = 37\n", policy);
    struct held h;
    start_held_with(false, NULL, ARGS("4", "--prefork", "2"), &h);
    pid_t kids[2] = {(pid_t)result_num(&h.result, "child0.pid"),
                     (pid_t)result_num(&h.result, "child1.pid")};
    struct run_result r;
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    snprintf(want, sizeof want,
             "sockfix apply: note: 2 descendants of PID %d hold TCP sockets of their own (PIDs %d, "
             "%d), not included: sockfix apply --tree %d includes them\n",
             (int)h.pid, (int)kids[0], (int)kids[1], (int)h.pid);
    cr_expect_str_eq(r.err, want);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(remote_getsockopt(kids[i], 100 + i, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
    sockfix_on("inspect", h.pid, NULL, "--tree", &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_empty(r.err);
    const char *first = strstr(r.out, " tcp  listener ");
    cr_expect(first && !strstr(first + 1, " tcp  listener "),
              "one listener row for the socket all three hold:\n%s", r.out);
    snprintf(want, sizeof want, "\n%-8d 100  tcp  server ", (int)kids[0]);
    cr_expect(strstr(r.out, want), "%s", r.out);
    sockfix_on("apply", h.pid, policy, "--tree", &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(remote_getsockopt(kids[i], 100 + i, IPPROTO_TCP, TCP_KEEPIDLE), 37);
    stop_held(&h);
    unlink(policy);
}

Test(live, a_target_that_exits_during_the_walk_is_an_incomplete_result)
{
    static const char *const cmds[] = {"inspect", "apply"};
    for (int c = 0; c < 2; c++) {
        struct held h;
        start_held(false, NULL, "4", &h);
        char pid[16], env_pid[32], preload[256], want[128];
        snprintf(pid, sizeof pid, "%d", (int)h.pid);
        snprintf(env_pid, sizeof env_pid, "WALKSTOP_PID=%d", (int)h.pid);
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", WALKSTOP_LIB);
        struct run_result r;
        run_program(
            SOCKFIX_CLI, ARGS("sockfix", cmds[c], pid),
            (const char *const[]){"PATH=/usr/bin:/bin", preload, env_pid, "WALKSTOP_AFTER=2", NULL},
            NULL, &r);
        cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
        snprintf(want, sizeof want,
                 "sockfix %s: PID %d exited during the walk: the output is incomplete\n", cmds[c],
                 (int)h.pid);
        cr_expect_str_eq(r.err, want);
        close(h.stdin_fd);
        close(h.stdout_fd);
        waitpid(h.pid, NULL, 0);
    }
}

/* Says its thread ID on pipes[1], then waits until pipes[2]'s writer closes. */
static void *thread_body(void *arg)
{
    const int *pipes = arg;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (write(pipes[1], &tid, sizeof tid) != sizeof tid)
        return NULL;
    char byte;
    while (read(pipes[2], &byte, 1) > 0)
        ;
    return NULL;
}

Test(live, a_zombie_and_a_thread_are_named)
{
    pid_t z = fork();
    if (z == 0)
        _exit(0);
    siginfo_t si;
    cr_assert(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) == 0); /* exited, not reaped */
    char pid[16], want[256];
    snprintf(pid, sizeof pid, "%d", (int)z);
    struct run_result r;
    run_program(SOCKFIX_CLI, ARGS("sockfix", "inspect", pid), PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 1);
    snprintf(want, sizeof want,
             "sockfix inspect: PID %d has exited (a zombie its parent has not reaped yet): it "
             "holds no sockets\n",
             (int)z);
    cr_expect_str_eq(r.err, want);
    waitpid(z, NULL, 0);

    /* a thread of this very test, blocked until the gate closes */
    int said[2], gate[2];
    cr_assert(pipe(said) == 0 && pipe(gate) == 0);
    int pipes[4] = {said[0], said[1], gate[0], gate[1]};
    pthread_t t;
    cr_assert(pthread_create(&t, NULL, thread_body, pipes) == 0);
    pid_t tid;
    cr_assert(read(said[0], &tid, sizeof tid) == sizeof tid);
    snprintf(pid, sizeof pid, "%d", (int)tid);
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", pid), PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 2);
    snprintf(want, sizeof want,
             "sockfix apply: %d is a thread of process %d, not a process: run sockfix apply %d\n",
             (int)tid, (int)getpid(), (int)getpid());
    cr_expect_str_eq(r.err, want);
    close(gate[1]);
    pthread_join(t, NULL);
    close(gate[0]);
    close(said[0]);
    close(said[1]);
}

Test(live, a_socket_under_two_descriptors_is_one_socket)
{
    struct held h;
    start_held_with(false, NULL, ARGS("4", "--dup"), &h);
    struct run_result r;
    sockfix_on("inspect", h.pid, NULL, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "\n3,20 tcp  listener "), "%s", r.out);
    cr_expect_null(strstr(r.out, "\n20 "), "%s", r.out);
    char policy[64];
    write_policy("[srv]\nmatch.role = server\nkeepidle = 38\n", policy);
    sockfix_on("apply", h.pid, policy, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "\nfds 3,20 tcp listener 127.0.0.1:"), "%s", r.out);
    cr_expect(strstr(r.out, "\n4 sockets: "), "four sockets, not five:\n%s", r.out);
    stop_held(&h);
    unlink(policy);
}

Test(live, not_applicable_only_when_the_value_differs)
{
    char policy[64];
    write_policy("[srv]\nmatch.role = server\nreuseaddr = yes\nbacklog = 300\nkeepidle = 39\n",
                 policy);
    struct held h;
    start_held(true, policy, "4", &h);
    struct run_result r;
    sockfix_on("apply", h.pid, policy, "--dry-run", &r);
    expect_nothing_to_change(&r);
    cr_expect_null(strstr(r.out, "not applicable to an existing socket"), "%s", r.out);
    stop_held(&h);
    unlink(policy);
}

Test(live, other_compares_an_ipv6_socket_with_a_fresh_ipv6_socket)
{
    char policy[64];
    write_policy("[srv]\nmatch.role = server\nv6only = yes\n", policy);
    struct held h;
    start_held(true, policy, "6", &h);
    struct run_result r;
    sockfix_on("inspect", h.pid, NULL, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char line[64];
    snprintf(line, sizeof line, "\n%-4ld tcp  listener ", result_num(&h.result, "listener.fd"));
    const char *l = strstr(r.out, line);
    cr_assert(l, "%s", r.out);
    const char *eol = strchr(l + 1, '\n');
    cr_expect(eol && memcmp(eol - 11, " v6only=yes", 11) == 0, "%.*s", (int)(eol - l), l);
    stop_held(&h);
    unlink(policy);
}
