/* sockfix attach on real processes: static and Go programs, which LD_PRELOAD
 * cannot reach, run in test cgroups (sockfix-test-PID-NAME under the cgroup
 * v2 root) with the policy attached; every value is read back from outside
 * the process (pidfd_getfd, sockfix inspect, ss). Root only: loading BPF
 * programs and making cgroups needs it. Each test removes what it made
 * (helpers killed through cgroup.kill, attachments detached, cgroups
 * removed), also when it fails. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../integration/run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PLAIN_ENV ARGS("PATH=/usr/sbin:/usr/bin:/sbin:/bin")

static char cg_root[1024];

/* Every cgroup a test made, removed by its fini (children first). */
static char made[8][PATH_MAX];
static int nmade;

static void find_cgroup_root(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    cg_root[0] = '\0';
    while (f && !cg_root[0] && fgets(line, sizeof line, f)) {
        const char *sep = strstr(line, " - cgroup2 ");
        if (sep)
            sscanf(line, "%*s %*s %*s %*s %1023s", cg_root);
    }
    if (f)
        fclose(f);
}

static void need_attach(void)
{
    if (geteuid() != 0)
        cr_skip_test("sockfix attach needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON): run the "
                     "suite as root");
    find_cgroup_root();
    if (!cg_root[0])
        cr_skip_test("no cgroup v2 hierarchy is mounted here");
}

static void sockfix(struct run_result *r, const char *const *args)
{
    const char *argv[16] = {"sockfix"};
    int n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    run_program(SOCKFIX_CLI, argv, PLAIN_ENV, NULL, r);
}

/* A new cgroup named NAME under the root (or under parent). */
static const char *make_cgroup(const char *parent, const char *name)
{
    cr_assert(nmade < 8);
    char *path = made[nmade];
    if (parent)
        snprintf(path, PATH_MAX, "%s/%s", parent, name);
    else
        snprintf(path, PATH_MAX, "%s/sockfix-test-%d-%s", cg_root, (int)getpid(), name);
    cr_assert(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
    nmade++;
    return path;
}

/* Kills what is left in the cgroup and waits, through cgroup.events, for it
 * to be empty (the kernel's word, not a delay). */
static void empty_cgroup(const char *path)
{
    char file[PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/cgroup.kill", path);
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!write(fd, "1", 1);
        close(fd);
    }
    snprintf(file, sizeof file, "%s/cgroup.events", path);
    fd = open(file, O_RDONLY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < 100; i++) {
        char buf[256];
        ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
        if (k <= 0)
            break;
        buf[k] = '\0';
        if (strstr(buf, "populated 0"))
            break;
        struct pollfd p = {.fd = fd, .events = POLLPRI};
        poll(&p, 1, 1000);
    }
    if (fd >= 0)
        close(fd);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static void cleanup(void)
{
    for (int i = nmade - 1; i >= 0; i--) {
        empty_cgroup(made[i]);
        struct run_result r;
        sockfix(&r, ARGS("detach", made[i]));
        rmdir(made[i]);
    }
    nmade = 0;
}

TestSuite(attach, .init = need_attach, .fini = cleanup, .timeout = 120);

/* sockfix attach -c (policy) cgroup; skips when this kernel cannot. */
static void attach_policy(const char *cgroup, const char *policy, struct run_result *r)
{
    char path[64];
    write_policy(policy, path);
    sockfix(r, ARGS("attach", "-c", path, cgroup));
    if (r->status != 0 && strstr(r->err, "this kernel ("))
        cr_skip_test("%s", r->err);
    cr_assert_eq(r->status, 0, "sockfix attach: %d\n%s%s", r->status, r->out, r->err);
}

/* PROG ARGS... joined to the cgroup first (launch execs it: same PID). */
static void start_in(const char *cgroup, const char *prog, const char *const *args, struct held *h)
{
    const char *argv[16] = {LAUNCH, "--cgroup", cgroup, "--", prog};
    int n = 5;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    start_held_argv(LAUNCH, argv, PLAIN_ENV, h);
    cr_assert_null(result_get(&h->result, "error"), "%s: %s", prog, h->result.out);
}

static void need_go(void)
{
    if (!PEER_GO[0])
        cr_skip_test("go was not found when the tests were built (scripts/deps.sh installs "
                     "golang-go)");
}

static char port_text[16];
static const char *port_arg(unsigned port)
{
    snprintf(port_text, sizeof port_text, "%u", port);
    return port_text;
}

static int opt(pid_t pid, int fd, int level, int name)
{
    return remote_getsockopt(pid, fd, level, name);
}

/* The row of fd in `sockfix inspect PID`. */
static void inspect_row(pid_t pid, long fd, char *row, size_t len)
{
    struct run_result r;
    char pid_text[16], prefix[24];
    snprintf(pid_text, sizeof pid_text, "%d", (int)pid);
    sockfix(&r, ARGS("inspect", pid_text));
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    snprintf(prefix, sizeof prefix, "\n%ld ", fd);
    const char *p = strstr(r.out, prefix);
    cr_assert_not_null(p, "no row for fd %ld:\n%s", fd, r.out);
    p += 1;
    const char *end = strchr(p, '\n');
    size_t k = end ? (size_t)(end - p) : strlen(p);
    snprintf(row, len, "%.*s", (int)k, p);
}

/* `ss -tieonH state established FILTER`. */
static void ss_established(const char *filter, struct run_result *r)
{
    run_program("/bin/ss", ARGS("ss", "-tieonH", "state", "established", filter), PLAIN_ENV, NULL,
                r);
    cr_assert_eq(r->status, 0, "ss: %s", r->err);
}

/* The local port of the loopback client connected to port. */
static unsigned client_port_of(unsigned port)
{
    char filter[64];
    snprintf(filter, sizeof filter, "( sport = :%u )", port);
    struct run_result r;
    ss_established(filter, &r);
    const char *local = strstr(r.out, ":");
    const char *peer = local ? strchr(local, ' ') : NULL;
    peer = peer ? strchr(peer + strspn(peer, " "), ':') : NULL;
    cr_assert_not_null(peer, "ss shows no connection on port %u:\n%s", port, r.out);
    return (unsigned)strtoul(peer + 1, NULL, 10);
}

/* The keepalive timer ss shows for the established connection from local
 * port lport to rport, in whole seconds; -1 when it shows none. */
static long ss_keepalive_timer(unsigned lport, unsigned rport)
{
    char filter[96];
    snprintf(filter, sizeof filter, "( sport = :%u and dport = :%u )", lport, rport);
    struct run_result r;
    ss_established(filter, &r);
    const char *t = strstr(r.out, "timer:(keepalive,");
    if (!t)
        return -1;
    /* "1min11sec", "71sec", "917ms" */
    long total = 0, n = 0;
    for (t += strlen("timer:(keepalive,"); *t && *t != ','; t++) {
        if (*t >= '0' && *t <= '9')
            n = n * 10 + (*t - '0');
        else if (strncmp(t, "min", 3) == 0)
            total += n * 60, n = 0, t += 2;
        else if (strncmp(t, "sec", 3) == 0)
            total += n, n = 0, t += 2;
        else if (strncmp(t, "ms", 2) == 0)
            total += n >= 500, n = 0, t += 1;
    }
    return total;
}

/* A server of prog and a client connected to it, both in the cgroup, the
 * connection accepted; the descriptors of the three sockets. */
struct connected {
    struct held server, client;
    int listener, accepted, client_fd;
};

static void start_connected(const char *cg, const char *prog, unsigned port, struct connected *c)
{
    start_in(cg, prog, ARGS("serve", "4", port_arg(port)), &c->server);
    start_in(cg, prog, ARGS("connect", "4", port_arg(port)), &c->client);
    struct run_result acc;
    held_ask(&c->server, "accept", &acc);
    c->listener = (int)result_num(&c->server.result, "listener.fd");
    c->accepted = (int)result_num(&acc, "accepted.fd");
    c->client_fd = (int)result_num(&c->client.result, "client.fd");
}

static void stop_connected(struct connected *c)
{
    stop_held(&c->client);
    stop_held(&c->server);
}

/* A server rule and a client rule for one port (twice in the arguments). */
#define SERVER_AND_CLIENT                                                                          \
    "[servers]\n"                                                                                  \
    "match.port = %u\n"                                                                            \
    "match.role = server\n"                                                                        \
    "keepalive = yes\n"                                                                            \
    "keepidle = 71s\n"                                                                             \
    "keepintvl = 13s\n"                                                                            \
    "keepcnt = 4\n"                                                                                \
    "user_timeout = 90s\n"                                                                         \
    "priority = 3\n"                                                                               \
    "[clients]\n"                                                                                  \
    "match.port = %u\n"                                                                            \
    "match.role = client\n"                                                                        \
    "keepalive = yes\n"                                                                            \
    "keepidle = 33s\n"                                                                             \
    "keepcnt = 5\n"

Test(attach, a_static_server_and_client_get_the_policy)
{
    const char *cg = make_cgroup(NULL, "static");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024];
    snprintf(policy, sizeof policy, SERVER_AND_CLIENT, port, port);
    struct run_result r;
    attach_policy(cg, policy, &r);

    struct connected c;
    start_connected(cg, PEER_STATIC, port, &c);
    int lfd = c.listener;
    int afd = c.accepted;
    int cfd = c.client_fd;

    /* The listener, set at listen; the accepted socket inherits it. */
    cr_expect_eq(opt(c.server.pid, lfd, SOL_SOCKET, SO_KEEPALIVE), 1);
    cr_expect_eq(opt(c.server.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    cr_expect_eq(opt(c.server.pid, afd, SOL_SOCKET, SO_KEEPALIVE), 1);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPINTVL), 13);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPCNT), 4);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_USER_TIMEOUT), 90000);
    /* Not inherited from the listener: set on the accepted socket itself. */
    cr_expect_eq(opt(c.server.pid, afd, SOL_SOCKET, SO_PRIORITY), 3);
    cr_expect_eq(opt(c.client.pid, cfd, SOL_SOCKET, SO_KEEPALIVE), 1);
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_KEEPIDLE), 33);
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_KEEPCNT), 5);
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);

    /* sockfix inspect sees the same from outside. */
    char row[512];
    inspect_row(c.server.pid, afd, row, sizeof row);
    cr_expect(strstr(row, " server ") && strstr(row, " yes       71s      13s       4       90s "),
              "%s", row);
    inspect_row(c.client.pid, cfd, row, sizeof row);
    cr_expect(strstr(row, " yes       33s      75s       5       0s "), "%s", row);

    /* ss: the keepalive timers run at the policy's idle time, not 7200 s. */
    unsigned peer_port = client_port_of(port);
    long server_timer = ss_keepalive_timer(port, peer_port);
    long client_timer = ss_keepalive_timer(peer_port, port);
    cr_expect(server_timer > 0 && server_timer <= 71, "server's timer %lds", server_timer);
    cr_expect(client_timer > 0 && client_timer <= 33, "client's timer %lds", client_timer);

    /* sockfix status counts them. */
    sockfix(&r, ARGS("status"));
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, cg) != NULL, "%s", r.out);
    stop_connected(&c);
}

/* The values Go sets itself on every connection it makes or accepts. */
#define GO_KEEPALIVE 15

Test(attach, go_keeps_its_own_keepalive_and_gets_the_rest_under_precedence_program)
{
    need_go();
    const char *cg = make_cgroup(NULL, "go");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024];
    snprintf(policy, sizeof policy, "[sockfix]\nprecedence = program\n" SERVER_AND_CLIENT, port,
             port);
    struct run_result r;
    attach_policy(cg, policy, &r);
    cr_expect(strstr(r.out, "precedence = program"), "%s", r.out);

    struct connected c;
    start_connected(cg, PEER_GO, port, &c);
    int lfd = c.listener;
    int afd = c.accepted;
    int cfd = c.client_fd;

    cr_expect_eq(opt(c.server.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    /* Go's own values stay; the policy adds what Go does not set. */
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPIDLE), GO_KEEPALIVE);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPINTVL), GO_KEEPALIVE);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPCNT), 4);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_USER_TIMEOUT), 90000);
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_KEEPIDLE), GO_KEEPALIVE);
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_KEEPCNT), 5);
    char row[512];
    inspect_row(c.server.pid, afd, row, sizeof row);
    cr_expect(strstr(row, " yes       15s      15s       4       90s "), "%s", row);
    stop_connected(&c);
}

Test(attach, precedence_policy_replaces_what_go_sets)
{
    need_go();
    const char *cg = make_cgroup(NULL, "enforce");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024];
    snprintf(policy, sizeof policy, "[sockfix]\nprecedence = policy\n" SERVER_AND_CLIENT, port,
             port);
    struct run_result r;
    attach_policy(cg, policy, &r);

    struct connected c;
    start_connected(cg, PEER_GO, port, &c);
    int afd = c.accepted;
    int cfd = c.client_fd;
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPINTVL), 13);
    cr_expect_eq(opt(c.server.pid, afd, IPPROTO_TCP, TCP_KEEPCNT), 4);
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_KEEPIDLE), 33);
    /* The client rule sets no interval: Go's stays. */
    cr_expect_eq(opt(c.client.pid, cfd, IPPROTO_TCP, TCP_KEEPINTVL), GO_KEEPALIVE);

    sockfix(&r, ARGS("status", "--json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *mine = strstr(r.out, cg);
    cr_assert_not_null(mine, "%s", r.out);
    const char *replaced = strstr(mine, "\"replaced\": ");
    cr_assert_not_null(replaced, "%s", r.out);
    /* Go set idle and interval on two connections; the client's interval stays Go's. */
    cr_expect_geq(strtol(replaced + strlen("\"replaced\": "), NULL, 10), 3, "%s", mine);
    stop_connected(&c);
}

Test(attach, a_nested_cgroup_gets_the_policy_and_a_process_outside_does_not)
{
    const char *cg = make_cgroup(NULL, "parent");
    const char *child = make_cgroup(cg, "child");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024];
    snprintf(policy, sizeof policy, SERVER_AND_CLIENT, port, port);
    struct run_result r;
    attach_policy(cg, policy, &r);

    struct held inside, outside;
    start_in(child, PEER_STATIC, ARGS("serve", "4", port_arg(port)), &inside);
    unsigned port2 = free_tcp_port(AF_INET);
    /* Outside: the same program and kind of socket, on a port a rule for
     * every port would match (the policy is attached by cgroup, not port). */
    const char *argv[] = {PEER_STATIC, "serve", "4", port_arg(port2), NULL};
    start_held_argv(PEER_STATIC, argv, PLAIN_ENV, &outside);
    int lin = (int)result_num(&inside.result, "listener.fd");
    int lout = (int)result_num(&outside.result, "listener.fd");
    cr_expect_eq(opt(inside.pid, lin, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    cr_expect_eq(opt(inside.pid, lin, SOL_SOCKET, SO_KEEPALIVE), 1);
    cr_expect_eq(opt(outside.pid, lout, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
    cr_expect_eq(opt(outside.pid, lout, SOL_SOCKET, SO_KEEPALIVE), 0);
    stop_held(&inside);
    stop_held(&outside);
}

Test(attach, a_static_server_restarts_past_time_wait)
{
    const char *cg = make_cgroup(NULL, "restart");
    unsigned port = free_low_port(AF_INET);
    char policy[256];
    snprintf(policy, sizeof policy,
             "[servers]\nmatch.port = %u\nmatch.role = server\n"
             "reuseaddr = yes\n",
             port);
    struct run_result r, first, second;
    attach_policy(cg, policy, &r);
    const char *argv[] = {LAUNCH, "--cgroup",     cg,  "--", SOCKPROBE_STATIC, "timewait",
                          "4",    port_arg(port), NULL};
    run_program(LAUNCH, argv, PLAIN_ENV, NULL, &first);
    cr_assert_eq(first.status, 0, "%s%s", first.out, first.err);
    cr_assert_str_eq(result_get(&first, "bind"), "ok");
    /* The second run binds while the first run's connection sits in TIME_WAIT. */
    run_program(LAUNCH, argv, PLAIN_ENV, NULL, &second);
    cr_expect_str_eq(result_get(&second, "bind"), "ok", "%s%s", second.out, second.err);
    cr_expect_eq(result_num(&second, "accepted.reuseaddr"), 1);
    /* The same program outside the cgroup fails: the TIME_WAIT is real. */
    const char *bare[] = {SOCKPROBE_STATIC, "timewait", "4", port_arg(port), NULL};
    run_program(SOCKPROBE_STATIC, bare, PLAIN_ENV, NULL, &r);
    cr_expect_str_eq(result_get(&r, "bind"), "EADDRINUSE", "%s", r.out);
}

/* A static program's own IP_TOS (level 0, IPPROTO_IP) before connect is
 * its own under precedence = program and replaced under policy, like any
 * other option (the kernel programs once took level 0 for "no option"). */
Test(attach, an_ip_level_option_the_program_set_follows_the_precedence)
{
    const char *cg = make_cgroup(NULL, "iplevel");
    static const char *const policies[] = {
        "[c]\nmatch.role = client\ntos = 32\n",
        "[sockfix]\nprecedence = policy\n[c]\nmatch.role = client\ntos = 32\n"};
    for (int i = 0; i < 2; i++) {
        struct run_result r;
        attach_policy(cg, policies[i], &r);
        const char *argv[] = {LAUNCH, "--cgroup", cg, "--", SOCKPROBE_STATIC, "own", "4", NULL};
        run_program(LAUNCH, argv, PLAIN_ENV, NULL, &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_eq(result_num(&r, "client.tos"), i == 0 ? 0x10 : 32, "%s", policies[i]);
        cr_expect_eq(result_num(&r, "client.keepintvl"), 33); /* not in the policy: the program's */
    }
}

Test(attach, a_udp_server_and_an_ipv6_server)
{
    const char *cg = make_cgroup(NULL, "udp6");
    unsigned uport = free_tcp_port(AF_INET), port6 = free_tcp_port(AF_INET6);
    char policy[1024];
    snprintf(policy, sizeof policy,
             "[udp]\nmatch.type = udp\nmatch.port = %u\nreuseport = yes\npriority = 4\n"
             "tos = 16\n"
             "[v6]\nmatch.family = ipv6\nmatch.port = %u\nmatch.role = server\n"
             "keepalive = yes\nkeepidle = 61s\ntos = 32\n",
             uport, port6);
    struct run_result r;
    attach_policy(cg, policy, &r);
    struct held udp, six;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(uport), "--udp"), &udp);
    start_in(cg, PEER_STATIC, ARGS("serve", "6", port_arg(port6)), &six);
    int ufd = (int)result_num(&udp.result, "udp.fd");
    cr_expect_eq(opt(udp.pid, ufd, SOL_SOCKET, SO_REUSEPORT), 1);
    cr_expect_eq(opt(udp.pid, ufd, SOL_SOCKET, SO_PRIORITY), 4);
    cr_expect_eq(opt(udp.pid, ufd, IPPROTO_IP, IP_TOS), 16);
    int lfd = (int)result_num(&six.result, "listener.fd");
    cr_expect_eq(opt(six.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 61);
    cr_expect_eq(opt(six.pid, lfd, IPPROTO_IPV6, IPV6_TCLASS), 32);
    stop_held(&udp);
    stop_held(&six);
}

Test(attach, match_program_sees_the_first_15_characters_of_the_name)
{
    const char *cg = make_cgroup(NULL, "program");
    unsigned port = free_tcp_port(AF_INET);
    /* A copy with a long name: the kernel keeps "legacy-server-w". */
    char dir[] = "/tmp/sockfix-attach-XXXXXX", copy[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(copy, sizeof copy, "%s/legacy-server-with-a-long-name", dir);
    struct run_result r;
    run_program("/bin/cp", ARGS("cp", PEER_STATIC, copy), PLAIN_ENV, NULL, &r);
    cr_assert_eq(r.status, 0);
    char policy[512];
    snprintf(policy, sizeof policy,
             "[long]\nmatch.program = legacy-server-with-a-long-name\nmatch.port = %u\n"
             "keepalive = yes\nkeepidle = 41s\n"
             "[other]\nmatch.program = peer_stat*\nmatch.port = %u\nkeepalive = yes\n"
             "keepidle = 42s\n",
             port, port);
    attach_policy(cg, policy, &r);
    /* Said at attach: the name is cut. */
    cr_expect(strstr(r.err, "legacy-server-with-a-long-name") && strstr(r.err, "15"), "%s", r.err);
    struct held longer, plain;
    start_in(cg, copy, ARGS("serve", "4", port_arg(port)), &longer);
    int lfd = (int)result_num(&longer.result, "listener.fd");
    cr_expect_eq(opt(longer.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 41);
    stop_held(&longer);
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(port)), &plain);
    lfd = (int)result_num(&plain.result, "listener.fd");
    cr_expect_eq(opt(plain.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 42);
    stop_held(&plain);
    unlink(copy);
    rmdir(dir);
}

/* The pins of cgroup cg's attachment: /sys/fs/bpf/sockfix/ID. */
static void pin_dir(const char *cg, char *dir, size_t len)
{
    struct stat st;
    cr_assert(stat(cg, &st) == 0);
    snprintf(dir, len, "/sys/fs/bpf/sockfix/%llu", (unsigned long long)st.st_ino);
}

Test(attach, detach_removes_everything_and_new_sockets_get_the_defaults)
{
    const char *cg = make_cgroup(NULL, "detach");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024], dir[128];
    snprintf(policy, sizeof policy, SERVER_AND_CLIENT, port, port);
    struct run_result r;
    attach_policy(cg, policy, &r);
    pin_dir(cg, dir, sizeof dir);
    cr_assert(access(dir, F_OK) == 0, "%s", dir);
    struct held before;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(port)), &before);

    sockfix(&r, ARGS("detach", cg));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "detached from "), "%s", r.out);
    cr_expect_neq(access(dir, F_OK), 0, "%s is still there", dir);
    sockfix(&r, ARGS("status"));
    cr_expect_null(strstr(r.out, cg), "%s", r.out);

    unsigned port2 = free_tcp_port(AF_INET);
    struct held after;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(port2)), &after);
    int lfd = (int)result_num(&after.result, "listener.fd");
    cr_expect_eq(opt(after.pid, lfd, SOL_SOCKET, SO_KEEPALIVE), 0);
    cr_expect_eq(opt(after.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
    /* What was set before stays: detaching changes no existing socket. */
    lfd = (int)result_num(&before.result, "listener.fd");
    cr_expect_eq(opt(before.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    /* Detaching again says there is nothing. */
    sockfix(&r, ARGS("detach", cg));
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "sockfix detach: no sockfix attachment on "), "%s", r.err);
    stop_held(&before);
    stop_held(&after);
}

/* The counter "sockets configured" of cg in sockfix status --json. */
static long sockets_configured(const char *cg)
{
    struct run_result r;
    sockfix(&r, ARGS("status", "--json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *mine = strstr(r.out, cg);
    cr_assert_not_null(mine, "%s", r.out);
    const char *c = strstr(mine, "\"sockets\": ");
    cr_assert_not_null(c, "%s", r.out);
    return strtol(c + strlen("\"sockets\": "), NULL, 10);
}

/* What the verifier went through for each program stays well inside the
 * kernel's limit (1,000,000): kernels differ in how well they prune, and one
 * of this VM's took the programs past the limit when every program checked
 * the rule step inline (the bind programs at 418,905, sockops at 655,680,
 * setsockopt over the limit; with the step a global function: 29k-79k). */
Test(attach, every_program_verifies_within_a_quarter_of_the_kernels_limit)
{
    const char *cg = make_cgroup(NULL, "verified");
    struct run_result r;
    attach_policy(cg,
                  "[a]\nmatch.port = 1-2, 3, 4\nmatch.address = 10.0.0.0/8, ::1\n"
                  "match.program = nginx, redis*\nkeepidle = 60s\n",
                  &r);
    sockfix(&r, ARGS("status", "--json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *mine = strstr(r.out, cg);
    cr_assert_not_null(mine, "%s", r.out);
    static const char *const names[] = {"bind4",    "bind6",   "connect4",
                                        "connect6", "sockops", "setsockopt"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "{\"name\": \"%s\"", names[i]);
        const char *prog = strstr(mine, key);
        cr_assert_not_null(prog, "%s in %s", names[i], r.out);
        const char *v = strstr(prog, "\"verified_insns\": ");
        cr_assert_not_null(v, "%s", r.out);
        long insns = strtol(v + strlen("\"verified_insns\": "), NULL, 10);
        cr_expect(insns > 0 && insns <= 250000, "%s: %ld instructions verified", names[i], insns);
    }
}

Test(attach, attaching_again_replaces_the_policy_in_place)
{
    const char *cg = make_cgroup(NULL, "replace");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024], dir[128], link[256];
    snprintf(policy, sizeof policy, SERVER_AND_CLIENT, port, port);
    struct run_result r;
    attach_policy(cg, policy, &r);
    cr_expect(strstr(r.out, "attached to "), "%s", r.out);
    struct held first;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(port)), &first);
    stop_held(&first);
    long counted = sockets_configured(cg);
    cr_expect_geq(counted, 1);
    pin_dir(cg, dir, sizeof dir);
    snprintf(link, sizeof link, "%s/sockops", dir);
    struct stat before, after;
    cr_assert(stat(link, &before) == 0, "%s: %s", link, strerror(errno));

    snprintf(policy, sizeof policy,
             "[servers]\nmatch.port = %u\nmatch.role = server\nkeepalive = yes\nkeepidle = 72s\n",
             port);
    attach_policy(cg, policy, &r);
    cr_expect(strstr(r.out, "replaced the policy on "), "%s", r.out);
    /* The same links, updated (bpf_link_update): never a moment without one. */
    cr_assert(stat(link, &after) == 0);
    cr_expect_eq(before.st_ino, after.st_ino);
    /* The counters belong to the attachment: kept. */
    cr_expect_geq(sockets_configured(cg), counted);
    struct held second;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(port)), &second);
    int lfd = (int)result_num(&second.result, "listener.fd");
    cr_expect_eq(opt(second.pid, lfd, IPPROTO_TCP, TCP_KEEPIDLE), 72);
    stop_held(&second);
    sockfix(&r, ARGS("status"));
    cr_expect(strstr(r.out, "1 rule,"), "%s", r.out);
}

Test(attach, a_cgroup_that_is_gone_is_detached_by_its_path)
{
    const char *cg = make_cgroup(NULL, "gone");
    char policy[] = "[k]\nkeepalive = yes\n", dir[128];
    struct run_result r;
    attach_policy(cg, policy, &r);
    pin_dir(cg, dir, sizeof dir);
    cr_assert(rmdir(cg) == 0, "rmdir %s: %s", cg, strerror(errno));
    sockfix(&r, ARGS("status"));
    cr_expect(strstr(r.out, "[the cgroup is gone: sockfix detach with its path removes this "
                            "entry]"),
              "%s", r.out);
    sockfix(&r, ARGS("detach", cg));
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "removed the attachment of "), "%s", r.out);
    cr_expect_neq(access(dir, F_OK), 0);
}

/* Nothing of an attachment is left: no pin directory for cg. */
static void nothing_attached(const char *cg)
{
    char dir[128];
    pin_dir(cg, dir, sizeof dir);
    cr_expect_neq(access(dir, F_OK), 0, "%s exists", dir);
}

Test(attach, a_missing_cgroup_or_one_outside_the_hierarchy_is_refused)
{
    char missing[1200];
    snprintf(missing, sizeof missing, "%s/sockfix-test-%d-none", cg_root, (int)getpid());
    char path[64];
    write_policy("[k]\nkeepalive = yes\n", path);
    struct run_result r;
    sockfix(&r, ARGS("attach", "-c", path, missing));
    cr_expect_eq(r.status, 1);
    char want[1400];
    snprintf(want, sizeof want, "sockfix attach: no cgroup %s (No such file or directory)\n",
             missing);
    cr_expect_str_eq(r.err, want);
    sockfix(&r, ARGS("attach", "-c", path, "/tmp"));
    cr_expect_eq(r.status, 1);
    snprintf(want, sizeof want,
             "sockfix attach: /tmp is not a cgroup of the v2 hierarchy (it is mounted at %s)\n",
             cg_root);
    cr_expect_str_eq(r.err, want);
    sockfix(&r, ARGS("attach", "-c", path, "--pid", "999999999"));
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "sockfix attach: no process with PID 999999999\n");
}

Test(attach, without_a_cgroup_v2_hierarchy_it_says_so)
{
    const char *cg = make_cgroup(NULL, "nov2");
    char path[64], script[2048];
    write_policy("[k]\nkeepalive = yes\n", path);
    /* A mount namespace of its own where the hierarchy is unmounted. */
    snprintf(script, sizeof script, "umount -l %s && exec %s attach -c %s %s", cg_root, SOCKFIX_CLI,
             path, cg);
    struct run_result r;
    run_program("/usr/bin/unshare",
                ARGS("unshare", "-m", "--propagation", "private", "sh", "-c", script), PLAIN_ENV,
                NULL, &r);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_str_eq(r.err, "sockfix attach: no cgroup v2 hierarchy is mounted (none in "
                            "/proc/self/mountinfo): sockfix attach needs one (mount -t cgroup2 "
                            "none /sys/fs/cgroup)\n");
    nothing_attached(cg);
}

Test(attach, without_the_capabilities_it_names_them)
{
    const char *cg = make_cgroup(NULL, "caps");
    char path[64];
    write_policy("[k]\nkeepalive = yes\n", path);
    chmod(path, 0644);
    struct run_result r;
    run_program(LAUNCH, ARGS(LAUNCH, "--uid", "65534", "--", SOCKFIX_CLI, "attach", "-c", path, cg),
                PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_str_eq(r.err, "sockfix attach: loading and attaching the programs needs CAP_BPF, "
                            "CAP_NET_ADMIN and CAP_PERFMON (or CAP_SYS_ADMIN with CAP_NET_ADMIN: "
                            "root); this process lacks CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON\n");
    nothing_attached(cg);
}

Test(attach, a_kernel_without_bpf_is_named_and_the_library_still_works)
{
    const char *cg = make_cgroup(NULL, "nobpf");
    char path[64];
    write_policy("[k]\nkeepalive = yes\n", path);
    struct run_result r;
    run_program(LAUNCH, ARGS(LAUNCH, "--no-bpf", "--", SOCKFIX_CLI, "attach", "-c", path, cg),
                PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "cannot load BPF programs: Function not implemented\n"), "%s", r.err);
    nothing_attached(cg);
    /* sockfix run and the library do not need BPF. */
    write_policy("[k]\nkeepalive = yes\nkeepidle = 77s\n", path);
    run_program(LAUNCH,
                ARGS(LAUNCH, "--no-bpf", "--", SOCKFIX_CLI, "run", "-c", path, "--", SOCKPROBE,
                     "hold", "4"),
                PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(result_num(&r, "listener.keepidle"), 77);
}

Test(attach, a_verifier_rejection_shows_its_last_lines_and_attaches_nothing)
{
    const char *cg = make_cgroup(NULL, "verifier");
    char path[64];
    write_policy("[k]\nkeepalive = yes\n", path);
    struct run_result r;
    run_program(SOCKFIX_CLI, ARGS("sockfix", "attach", "-c", path, cg),
                ARGS("PATH=/usr/bin:/bin", "SOCKFIX_ATTACH_OBJECT=" BROKEN_BPF), NULL, &r);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "sockfix attach: the programs did not load: ") &&
                  strstr(r.err, "; the verifier's last lines:\n"),
              "%s", r.err);
    /* The verifier's own words about the bad read. */
    cr_expect(strstr(r.err, "sf_refused") || strstr(r.err, "invalid bpf_context access"), "%s",
              r.err);
    nothing_attached(cg);
}

Test(attach, policy_errors_and_globs_the_kernel_cannot_evaluate_exit_78)
{
    const char *cg = make_cgroup(NULL, "policy");
    char path[64], want[512];
    write_policy("[k]\nkeepidle = forever\n", path);
    struct run_result r;
    sockfix(&r, ARGS("attach", "-c", path, cg));
    cr_expect_eq(r.status, 78);
    cr_expect(strstr(r.err, path) && strstr(r.err, ":2: "), "%s", r.err);
    nothing_attached(cg);

    write_policy("[k]\nkeepalive = yes\n\n[odd]\nmatch.program = *server\nkeepidle = 9s\n", path);
    sockfix(&r, ARGS("attach", "-c", path, cg));
    cr_expect_eq(r.status, 78);
    snprintf(want, sizeof want,
             "%s:5: match.program: \"*server\" is a glob the kernel cannot evaluate: sockfix "
             "attach takes a name, or a name followed by * (the library takes it)\n"
             "sockfix attach: the kernel programs cannot take this policy; nothing was "
             "attached\n",
             path);
    cr_expect_str_eq(r.err, want);
    nothing_attached(cg);
}

Test(attach, options_bpf_cannot_set_are_named_with_their_line)
{
    const char *cg = make_cgroup(NULL, "notes");
    char path[64];
    write_policy("[s]\nmatch.role = server\nbacklog = 1024\nlinger = 5s\nkeepalive = yes\n", path);
    struct run_result r;
    sockfix(&r, ARGS("attach", "-c", path, cg));
    if (r.status != 0 && strstr(r.err, "this kernel ("))
        cr_skip_test("%s", r.err);
    cr_expect_eq(r.status, 0, "%s", r.err);
    char line3[128], line4[128];
    snprintf(line3, sizeof line3, "%s:3: ", path);
    snprintf(line4, sizeof line4, "%s:4: ", path);
    cr_expect(strstr(r.err, line3) && strstr(r.err, "backlog"), "%s", r.err);
    cr_expect(strstr(r.err, line4) && strstr(r.err, "linger"), "%s", r.err);
    sockfix(&r, ARGS("status"));
    cr_expect(strstr(r.out, "not applied here (the kernel does not let BPF set them): backlog "
                            "linger"),
              "%s", r.out);
}

Test(attach, usage_errors_exit_2)
{
    struct run_result r;
    sockfix(&r, ARGS("attach"));
    cr_expect_eq(r.status, 2);
    sockfix(&r, ARGS("attach", "/a", "/b"));
    cr_expect_eq(r.status, 2);
    sockfix(&r, ARGS("detach", "--unit"));
    cr_expect_eq(r.status, 2);
    sockfix(&r, ARGS("status", "--bogus"));
    cr_expect_eq(r.status, 2);
}

Test(attach, unit_and_pid_name_the_cgroup)
{
    /* A cgroup named as systemd names a service's: found by --unit. */
    const char *cg = make_cgroup(NULL, "unit.service");
    char unit[128], path[64];
    snprintf(unit, sizeof unit, "sockfix-test-%d-unit", (int)getpid());
    write_policy("[k]\nkeepalive = yes\n", path);
    struct run_result r;
    sockfix(&r, ARGS("attach", "-c", path, "--unit", unit));
    if (r.status != 0 && strstr(r.err, "this kernel ("))
        cr_skip_test("%s", r.err);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, cg), "%s", r.out);
    /* --pid: the cgroup of a process in it. */
    struct held h;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(free_tcp_port(AF_INET))), &h);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    sockfix(&r, ARGS("detach", "--pid", pid));
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, cg), "%s", r.out);
    stop_held(&h);
}

/* The DaemonSet of deploy/kubernetes: the host's hierarchy mounted under
 * another path, beside the container's own at /sys/fs/cgroup. */
Test(attach, a_hierarchy_mounted_elsewhere_is_found_by_the_path)
{
    const char *cg = make_cgroup(NULL, "elsewhere");
    char dir[] = "/tmp/sockfix-hostcg-XXXXXX", path[64], script[4096];
    cr_assert_not_null(mkdtemp(dir));
    write_policy("[k]\nkeepalive = yes\n", path);
    const char *name = strrchr(cg, '/') + 1;
    snprintf(script, sizeof script, "mount --bind %s %s && exec %s attach -c %s %s/%s", cg_root,
             dir, SOCKFIX_CLI, path, dir, name);
    struct run_result r;
    run_program("/usr/bin/unshare",
                ARGS("unshare", "-m", "--propagation", "private", "sh", "-c", script), PLAIN_ENV,
                NULL, &r);
    rmdir(dir);
    if (r.status != 0 && strstr(r.err, "this kernel ("))
        cr_skip_test("%s", r.err);
    cr_expect_eq(r.status, 0, "%s", r.err);
    /* The same cgroup, seen from here under its usual path. */
    sockfix(&r, ARGS("status"));
    char dirpin[128];
    pin_dir(cg, dirpin, sizeof dirpin);
    cr_expect_eq(access(dirpin, F_OK), 0, "%s\n%s", dirpin, r.out);
}

/* A listener made before a replacement still passes its event on: the
 * connections it accepts afterwards get what they do not inherit. */
Test(attach, a_listener_from_before_a_replacement_keeps_its_accepted_sockets_configured)
{
    const char *cg = make_cgroup(NULL, "keepstate");
    unsigned port = free_tcp_port(AF_INET);
    char policy[1024];
    snprintf(policy, sizeof policy, SERVER_AND_CLIENT, port, port);
    struct run_result r;
    attach_policy(cg, policy, &r);
    struct held server;
    start_in(cg, PEER_STATIC, ARGS("serve", "4", port_arg(port)), &server);
    attach_policy(cg, policy, &r); /* the same policy again: a replacement */
    cr_expect(strstr(r.out, "replaced the policy on "), "%s", r.out);
    struct held client;
    start_in(cg, PEER_STATIC, ARGS("connect", "4", port_arg(port)), &client);
    struct run_result acc;
    held_ask(&server, "accept", &acc);
    int afd = (int)result_num(&acc, "accepted.fd");
    cr_expect_eq(opt(server.pid, afd, SOL_SOCKET, SO_PRIORITY), 3);
    cr_expect_eq(opt(server.pid, afd, IPPROTO_TCP, TCP_KEEPIDLE), 71);
    stop_held(&client);
    stop_held(&server);
}
