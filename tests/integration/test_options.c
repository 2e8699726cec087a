/* The options beyond keepalive: what the running kernel does with each
 * (inherited or not by accepted sockets, when it can be set, which need a
 * capability), checked against the option table; then every one applied by
 * the shim and read back from the very sockets; then match.address. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config/options.h"
#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EXPECT(r, key, v) cr_expect_eq(result_num(r, key), (v), "%s", key)

TestSuite(options, .timeout = 60);

/* ---- the kernel's behaviour, measured in this (unpreloaded) process ---- */

struct probe_value {
    const void *val;
    socklen_t len;
};

static struct probe_value sample(int id)
{
    static const int one = 1, num = 77, prio = 5, tos = 0x48, buf = 100000, seg = 1200,
                     lowat = 16384, fastopen = 16, defer = 7, idle = 33, ms = 4000;
    static const struct linger lg = {1, 7};
    switch (id) {
    case SF_OPT_BIND_DEVICE:
        return (struct probe_value){"lo", 2};
    case SF_OPT_CONGESTION:
        return (struct probe_value){"reno", 4};
    case SF_OPT_LINGER:
        return (struct probe_value){&lg, sizeof lg};
    case SF_OPT_MARK:
        return (struct probe_value){&num, sizeof num};
    case SF_OPT_PRIORITY:
        return (struct probe_value){&prio, sizeof prio};
    case SF_OPT_TOS:
        return (struct probe_value){&tos, sizeof tos};
    case SF_OPT_RCVBUF:
    case SF_OPT_SNDBUF:
        return (struct probe_value){&buf, sizeof buf};
    case SF_OPT_MAXSEG:
        return (struct probe_value){&seg, sizeof seg};
    case SF_OPT_NOTSENT_LOWAT:
        return (struct probe_value){&lowat, sizeof lowat};
    case SF_OPT_FASTOPEN:
        return (struct probe_value){&fastopen, sizeof fastopen};
    case SF_OPT_DEFER_ACCEPT:
        return (struct probe_value){&defer, sizeof defer};
    case SF_OPT_KEEPIDLE:
    case SF_OPT_KEEPINTVL:
        return (struct probe_value){&idle, sizeof idle};
    case SF_OPT_KEEPCNT:
        return (struct probe_value){&defer, sizeof defer};
    case SF_OPT_USER_TIMEOUT:
        return (struct probe_value){&ms, sizeof ms};
    default:
        return (struct probe_value){&one, sizeof one};
    }
}

/* Whether this process holds CAP_NET_ADMIN, which the options whose row has
 * needs_cap_above = 0 need for any value (a developer's unprivileged run). */
static bool has_net_admin(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2] = {0};
    return syscall(SYS_capget, &h, d) == 0 && (d[0].effective & (1u << CAP_NET_ADMIN));
}

/* Whether an accepted socket shows what was set on its listener. */
static bool inherited_by_accepted(int id)
{
    const struct sf_option *o = &sf_options[id];
    int level, name;
    sf_option_sockopt(o, SF_FAMILY_IPV4, &level, &name, NULL);
    struct probe_value v = sample(id);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(setsockopt(l, level, name, v.val, v.len) == 0, "%s: %s", o->key, strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert(bind(l, (struct sockaddr *)&a, alen) == 0 && listen(l, 4) == 0, "%s", o->key);
    cr_assert(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(connect(c, (struct sockaddr *)&a, alen) == 0);
    int s = accept(l, NULL, NULL);
    cr_assert(s >= 0);
    char on_listener[64] = "", on_accepted[64] = "";
    socklen_t n1 = sizeof on_listener, n2 = sizeof on_accepted;
    getsockopt(l, level, name, on_listener, &n1);
    getsockopt(s, level, name, on_accepted, &n2);
    bool same = n1 == n2 && memcmp(on_listener, on_accepted, n1) == 0;
    if (id == SF_OPT_MAXSEG) /* the accepted socket reports its effective MSS, at most the clamp */
        same = *(int *)on_accepted > 0 && *(int *)on_accepted <= *(int *)on_listener &&
               *(int *)on_accepted != 536;
    close(s);
    close(c);
    close(l);
    return same;
}

Test(options, the_table_says_what_the_kernel_does_for_accepted_sockets)
{
    for (int id = 0; id < SF_OPT_COUNT; id++) {
        const struct sf_option *o = &sf_options[id];
        if (o->phase & SF_PHASE_LISTEN_ARG || o->families == SF_FAMILY_IPV6)
            continue; /* backlog is no option; v6only: below */
        if (o->needs_cap_above == 0 && (!has_net_admin() || UNDER_QEMU))
            continue;                       /* privileged_options_reach_the_kernel, as root */
        if (o->phase & SF_PHASE_LISTENER) { /* listener-only: never on connections */
            cr_expect_not(o->inherited, "%s", o->key);
            continue;
        }
        cr_expect_eq(inherited_by_accepted(id), o->inherited, "%s: the table says %s", o->key,
                     o->inherited ? "inherited" : "not inherited");
    }
}

Test(options, v6only_only_before_bind)
{
    int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    cr_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    int one = 1;
    cr_expect_eq(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), -1);
    cr_expect_eq(errno, EINVAL, "IPV6_V6ONLY after bind: %s", strerror(errno));
    close(s);
    cr_expect_eq(sf_options[SF_OPT_V6ONLY].phase, SF_PHASE_BIND);
}

Test(options, transparent_mark_and_high_priority_need_cap_net_admin)
{
    SKIP_UNDER_QEMU("IP_TRANSPARENT and SO_MARK");
    if (geteuid() != 0)
        cr_skip_test("needs root, to compare with a process without capabilities");
    struct run_result r;
    run_program(SOCKPROBE, ARGS(SOCKPROBE, "caps"), ((const char *const[]){"PATH=/usr/bin", NULL}),
                NULL, &r);
    EXPECT(&r, "caps.transparent", 0);
    EXPECT(&r, "caps.mark", 0);
    EXPECT(&r, "caps.priority7", 0);
    run_program(
        "/usr/bin/setpriv",
        ARGS("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SOCKPROBE, "caps"),
        ((const char *const[]){"PATH=/usr/bin", NULL}), NULL, &r);
    EXPECT(&r, "caps.transparent", EPERM);
    EXPECT(&r, "caps.mark", EPERM);
    EXPECT(&r, "caps.priority7", EPERM);
    EXPECT(&r, "caps.freebind", 0);
}

/* ---- every option, applied by the shim ---- */

static const char ALL[] = "[servers]\n"
                          "match.role = server\n"
                          "reuseaddr = yes\n"
                          "freebind = yes\n"
                          "bind_device = lo\n"
                          "rcvbuf = 64k\n"
                          "sndbuf = 96k\n"
                          "linger = 5s\n"
                          "defer_accept = 7s\n"
                          "fastopen = 32\n"
                          "maxseg = 1200\n"
                          "congestion = reno\n"
                          "dscp = af21\n"
                          "priority = 5\n"
                          "notsent_lowat = 16k\n"
                          "[clients]\n"
                          "match.role = client\n"
                          "bind_device = lo\n"
                          "rcvbuf = 48k\n"
                          "linger = off\n"
                          "maxseg = 1100\n"
                          "congestion = reno\n"
                          "tos = 40\n"
                          "priority = 3\n"
                          "notsent_lowat = 8k\n";

Test(options, every_option_reaches_the_kernel)
{
    static const char *const families[] = {"4", "6"};
    for (int f = 0; f < 2; f++) {
        struct run_result r;
        run_probe(&(struct run_opts){.policy = ALL, .log = "info"}, ARGS("pair", families[f]), &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_null(strstr(r.err, "failed"), "%s", r.err);
        /* listener: everything, before bind or at listen */
        EXPECT(&r, "listener.freebind", 1);
        if (!UNDER_QEMU) /* it cannot read SO_BINDTODEVICE back */
            cr_expect_str_eq(result_get(&r, "listener.bind_device"), "lo");
        EXPECT(&r, "listener.rcvbuf", 2 * 65536); /* the kernel doubles what it is given */
        EXPECT(&r, "listener.sndbuf", 2 * 98304);
        EXPECT(&r, "listener.linger", 5);
        EXPECT(&r, "listener.defer_accept", 7);
        EXPECT(&r, "listener.fastopen", 32);
        EXPECT(&r, "listener.maxseg", 1200);
        cr_expect_str_eq(result_get(&r, "listener.congestion"), "reno");
        EXPECT(&r, "listener.tos", 18 << 2);
        EXPECT(&r, "listener.priority", 5);
        EXPECT(&r, "listener.notsent_lowat", 16384);
        /* accepted: inherited, and priority set per connection (not inherited) */
        EXPECT(&r, "accepted.rcvbuf", 2 * 65536);
        EXPECT(&r, "accepted.linger", 5);
        EXPECT(&r, "accepted.tos", 18 << 2);
        EXPECT(&r, "accepted.priority", 5);
        EXPECT(&r, "accepted.notsent_lowat", 16384);
        cr_expect_str_eq(result_get(&r, "accepted.congestion"), "reno");
        cr_expect_leq(result_num(&r, "accepted.maxseg"), 1200);
        /* client: before connect */
        if (!UNDER_QEMU)
            cr_expect_str_eq(result_get(&r, "client.bind_device"), "lo");
        EXPECT(&r, "client.rcvbuf", 2 * 49152);
        EXPECT(&r, "client.linger", -1);
        EXPECT(&r, "client.tos", 40);
        EXPECT(&r, "client.priority", 3);
        EXPECT(&r, "client.notsent_lowat", 8192);
        cr_expect_str_eq(result_get(&r, "client.congestion"), "reno");
        cr_expect_leq(result_num(&r, "client.maxseg"), 1100);
        cr_expect(strstr(r.err, "linger=5s defer_accept=7s fastopen=32 maxseg=1200 "
                                "congestion=reno tos=72 priority=5 notsent_lowat=16k"),
                  "the info line writes values as a policy would: %s", r.err);
    }
}

/* The options only CAP_NET_ADMIN may set (needs_cap_above = 0 in their rows). */
Test(options, privileged_options_reach_the_kernel)
{
    SKIP_UNDER_QEMU("IP_TRANSPARENT and SO_MARK");
    if (!has_net_admin())
        cr_skip_test("needs CAP_NET_ADMIN (transparent, mark): run as root");
    static const char policy[] = "[servers]\nmatch.role = server\ntransparent = yes\nmark = 0x2a\n"
                                 "[clients]\nmatch.role = client\nmark = 43\n";
    static const char *const families[] = {"4", "6"};
    for (int f = 0; f < 2; f++) {
        struct run_result r;
        run_probe(&(struct run_opts){.policy = policy, .log = "info"}, ARGS("pair", families[f]),
                  &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_null(strstr(r.err, "failed"), "%s", r.err);
        EXPECT(&r, "listener.transparent", 1);
        EXPECT(&r, "listener.mark", 42);
        EXPECT(&r, "accepted.mark", 42);
        EXPECT(&r, "client.mark", 43);
    }
}

Test(options, v6only_on_a_dual_stack_listener)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[six]\nmatch.family = ipv6\nv6only = yes\n"},
              ARGS("any6"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    EXPECT(&r, "any6.v6only", 1);
    run_probe(&(struct run_opts){.policy = ""}, ARGS("any6"), &r);
    EXPECT(&r, "any6.v6only", 0); /* net.ipv6.bindv6only = 0 on the test machines */
}

Test(options, without_cap_net_admin_the_program_runs_and_is_told)
{
    SKIP_UNDER_QEMU("IP_TRANSPARENT");
    if (geteuid() != 0)
        cr_skip_test("needs root, to run the helper as another user");
    char policy[64];
    write_policy("[all]\ntransparent = yes\nkeepidle = 44\n", policy);
    chmod(policy, 0644);
    char config[128];
    snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", policy);
    struct run_result r;
    run_program(
        "/usr/bin/setpriv",
        ARGS("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SOCKPROBE, "pair", "4"),
        ((const char *const[]){"PATH=/usr/bin", "LD_PRELOAD=" SHIM_PRELOAD, config, NULL}), NULL,
        &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "listener.transparent", 0);
    EXPECT(&r, "listener.keepidle", 44);
    char want[256];
    snprintf(want, sizeof want,
             ": setsockopt IP_TRANSPARENT=yes failed: EPERM (1), it needs CAP_NET_ADMIN; the "
             "socket keeps its own value\n");
    cr_expect(strstr(r.err, want), "%s", r.err);
    unlink(policy);
}

/* ---- match.address ---- */

Test(options, rules_match_by_address)
{
    static const char policy[] = "[v4]\nmatch.address = 127.0.0.0/8\nkeepidle = 81\n"
                                 "[v6]\nmatch.address = ::1/128\nkeepidle = 82\n"
                                 "[far]\nmatch.address = 10.1.0.0/16, 2001:db8::/32\n"
                                 "keepcnt = 9\nkeepintvl = 31\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    EXPECT(&r, "listener.keepidle", 81);
    EXPECT(&r, "accepted.keepidle", 81);
    EXPECT(&r, "client.keepidle", 81); /* the remote address of a client */
    EXPECT(&r, "client.keepintvl", 75);
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "6"), &r);
    EXPECT(&r, "listener.keepidle", 82);
    EXPECT(&r, "client.keepidle", 82);
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4in6"), &r);
    EXPECT(&r, "client.keepidle", 81); /* v4-mapped counts as IPv4 */
}

/* ---- a congestion control the kernel does not offer ---- */

Test(options, an_unavailable_congestion_control_is_named_at_load)
{
    char policy[64];
    write_policy("[all]\ncongestion = nosuchcc\n", policy);
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "re");
    char avail[256] = "";
    cr_assert(f && fgets(avail, sizeof avail, f));
    fclose(f);
    avail[strcspn(avail, "\n")] = '\0';
    char want[512];
    snprintf(want, sizeof want,
             "sockfix[%d]: %s:2: congestion: \"nosuchcc\" is not available on this kernel "
             "(available: %s); setting it will fail\n",
             (int)r.pid, policy, avail);
    cr_expect(strstr(r.err, want) == r.err, "%s", r.err);
    cr_expect(strstr(r.err, ": setsockopt TCP_CONGESTION=nosuchcc failed: ENOENT (2); the socket "
                            "keeps its own value\n"),
              "%s", r.err);
    /* sockfix check: valid, with the same warning */
    run_program(SOCKFIX_CLI, ARGS("sockfix", "check", policy),
                ((const char *const[]){"PATH=/usr/bin:/bin", NULL}), NULL, &r);
    cr_expect_eq(r.status, 0);
    snprintf(want, sizeof want,
             "%s:2: congestion: \"nosuchcc\" is not available on this kernel (available: %s); "
             "setting it will fail (warning)\n",
             policy, avail);
    cr_expect_str_eq(r.err, want);
    unlink(policy);
}

Test(options, a_udp_server_gets_tos_and_priority_at_bind)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[udp]\nmatch.type = udp\ndscp = ef\npriority = 4\n"},
              ARGS("udp", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    EXPECT(&r, "bound.tos", 46 << 2);
    EXPECT(&r, "bound.priority", 4);
    EXPECT(&r, "connected.tos", 46 << 2); /* a UDP client, at connect */
    run_probe(&(struct run_opts){.policy = "[udp]\nmatch.type = udp\ndscp = ef\n"},
              ARGS("udp", "6"), &r);
    EXPECT(&r, "bound.tos", 46 << 2); /* IPV6_TCLASS on an IPv6 socket */
}

Test(options, a_buffer_above_the_kernel_maximum_is_named_at_load)
{
    FILE *f = fopen("/proc/sys/net/core/rmem_max", "re");
    long rmem_max = 0;
    cr_assert(f && fscanf(f, "%ld", &rmem_max) == 1);
    fclose(f);
    if (rmem_max + 1 > 536870912)
        cr_skip_test("net.core.rmem_max is above what a policy may ask for");
    char text[128], policy[64], want[512];
    snprintf(text, sizeof text, "[all]\nrcvbuf = %ld\n", rmem_max + 1);
    write_policy(text, policy);
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(want, sizeof want,
             "sockfix[%d]: %s:2: rcvbuf: %ld is above net.core.rmem_max (%ld bytes); the "
             "kernel caps it\n",
             (int)r.pid, policy, rmem_max + 1, rmem_max);
    cr_expect_str_eq(r.err, want);
    EXPECT(&r, "listener.rcvbuf", 2 * rmem_max);
    unlink(policy);
}
