/* The shim applied to a real program (tests/helpers/sockprobe), judged by
 * the kernel's view of its sockets: getsockopt on the very sockets, sock_diag
 * for the backlog, /proc/net for TIME_WAIT. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EXPECT(r, key, v) cr_expect_eq(result_num(r, key), (v), "%s", key)

TestSuite(shim, .timeout = 30);

static const char SERVER_CLIENT[] = "[srv]\n"
                                    "match.role = server\n"
                                    "reuseaddr = yes\n"
                                    "keepidle = 77s\n"
                                    "keepintvl = 13\n"
                                    "keepcnt = 5\n"
                                    "user_timeout = 4500ms\n"
                                    "nodelay = yes\n"
                                    "backlog = 1000\n"
                                    "\n"
                                    "[cli]\n"
                                    "match.role = client\n"
                                    "keepidle = 2m\n"
                                    "keepintvl = 7s\n"
                                    "keepcnt = 3\n"
                                    "user_timeout = 1m\n";

static void expect_server_values(const struct run_result *r, const char *who)
{
    char key[64];
#define E(name, v)                                                                                 \
    snprintf(key, sizeof key, "%s." name, who);                                                    \
    EXPECT(r, key, v)
    E("reuseaddr", 1);
    E("keepalive", 1);
    E("keepidle", 77);
    E("keepintvl", 13);
    E("keepcnt", 5);
    E("user_timeout", 4500);
    E("nodelay", 1);
#undef E
}

static void expect_client_values(const struct run_result *r)
{
    EXPECT(r, "client.reuseaddr", 0);
    EXPECT(r, "client.keepalive", 1);
    EXPECT(r, "client.keepidle", 120);
    EXPECT(r, "client.keepintvl", 7);
    EXPECT(r, "client.keepcnt", 3);
    EXPECT(r, "client.user_timeout", 60000);
    EXPECT(r, "client.nodelay", 0);
}

static void expect_untouched(const struct run_result *r, const char *who)
{
    char key[64];
    snprintf(key, sizeof key, "%s.keepalive", who);
    EXPECT(r, key, 0);
    snprintf(key, sizeof key, "%s.keepidle", who);
    EXPECT(r, key, 7200);
    snprintf(key, sizeof key, "%s.user_timeout", who);
    EXPECT(r, key, 0);
}

Test(shim, server_and_client_sockets_get_their_rules_ipv4)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_server_values(&r, "listener");
    expect_server_values(&r, "accepted");
    expect_client_values(&r);
    if (!UNDER_QEMU) /* the helper reads it through sock_diag */
        EXPECT(&r, "listener.backlog", 1000);
    cr_expect_str_empty(r.err);
}

Test(shim, server_and_client_sockets_get_their_rules_ipv6)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("pair", "6"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_server_values(&r, "listener");
    expect_server_values(&r, "accepted");
    expect_client_values(&r);
    if (!UNDER_QEMU) /* the helper reads it through sock_diag */
        EXPECT(&r, "listener.backlog", 1000);
}

Test(shim, accept4_flags_pass_through)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("pair", "4", "0", "accept4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "accepted.cloexec", 1);
    expect_server_values(&r, "accepted");
}

Test(shim, bare_program_keeps_kernel_defaults)
{
    struct run_result r;
    run_probe(&(struct run_opts){.bare = true, .policy = SERVER_CLIENT}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0);
    expect_untouched(&r, "listener");
    expect_untouched(&r, "accepted");
    expect_untouched(&r, "client");
    EXPECT(&r, "listener.reuseaddr", 0);
    if (!UNDER_QEMU) /* the helper reads it through sock_diag */
        EXPECT(&r, "listener.backlog", 7);
}

Test(shim, builtin_default_policy)
{
    if (access("/etc/sockfix/sockfix.ini", F_OK) == 0)
        cr_skip_test("/etc/sockfix/sockfix.ini exists and would be used instead");
    struct run_result r;
    run_probe(&(struct run_opts){0}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    const char *who[] = {"listener", "accepted", "client"};
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s.keepalive", who[i]);
        EXPECT(&r, key, 1);
        snprintf(key, sizeof key, "%s.keepidle", who[i]);
        EXPECT(&r, key, 60);
        snprintf(key, sizeof key, "%s.keepintvl", who[i]);
        EXPECT(&r, key, 10);
        snprintf(key, sizeof key, "%s.keepcnt", who[i]);
        EXPECT(&r, key, 6);
    }
    EXPECT(&r, "listener.reuseaddr", 1);
    EXPECT(&r, "client.reuseaddr", 0);
    if (!UNDER_QEMU) /* the helper reads it through sock_diag */
        EXPECT(&r, "listener.backlog", 7);
    cr_expect_str_empty(r.err, "nothing is printed at the default level: %s", r.err);
}

Test(shim, rules_match_by_port)
{
    unsigned port = free_tcp_port(AF_INET);
    char policy[256];
    snprintf(
        policy, sizeof policy,
        "[other]\nmatch.port = %u\nkeepidle = 92s\n\n[this]\nmatch.port = 1-%u\nkeepidle = 91s\n"
        "[after]\nmatch.port = %u-65535\nkeepcnt = 9\n",
        port == 65535 ? 1 : port + 1, port, port + 1 > 65535 ? 1 : port + 1);
    struct run_result r;
    char p[16];
    snprintf(p, sizeof p, "%u", port);
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4", p), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "port", port);
    EXPECT(&r, "listener.keepidle", 91);
    EXPECT(&r, "accepted.keepidle", 91);
    EXPECT(&r, "client.keepidle", 91);
    EXPECT(&r, "listener.keepcnt", 9); /* kernel default: rule [after] did not match */
    EXPECT(&r, "client.keepalive", 1);
}

Test(shim, rules_match_by_program_name)
{
    static const char policy[] = "[mine]\nmatch.program = sock*\nkeepidle = 41\n"
                                 "[theirs]\nmatch.program = nginx redis-server\nkeepcnt = 4\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "listener.keepidle", 41);
    EXPECT(&r, "client.keepidle", 41);
    EXPECT(&r, "listener.keepcnt", 9);
    EXPECT(&r, "client.keepcnt", 9);
}

Test(shim, program_matches_argv0_as_well_as_the_executable)
{
    static const char policy[] = "[legacy]\nmatch.program = legacy-*\nkeepidle = 42\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy, .argv0 = "/opt/bin/legacy-server"},
              ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "listener.keepidle", 42);
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    expect_untouched(&r, "listener");
}

Test(shim, role_client_leaves_servers_alone)
{
    static const char policy[] = "[c]\nmatch.role = client\nkeepalive = yes\nnodelay = on\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_untouched(&r, "listener");
    expect_untouched(&r, "accepted");
    EXPECT(&r, "listener.reuseaddr", 0);
    EXPECT(&r, "client.keepalive", 1);
    EXPECT(&r, "client.keepidle", 7200);
    EXPECT(&r, "client.nodelay", 1);
}

Test(shim, rules_match_by_family)
{
    static const char policy[] = "[six]\nmatch.family = ipv6\nkeepidle = 66\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0);
    expect_untouched(&r, "listener");
    expect_untouched(&r, "client");
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "6"), &r);
    cr_assert_eq(r.status, 0);
    EXPECT(&r, "listener.keepidle", 66);
    EXPECT(&r, "accepted.keepidle", 66);
    EXPECT(&r, "client.keepidle", 66);
}

Test(shim, v4_mapped_client_counts_as_ipv4)
{
    /* An IPv6 socket connecting to ::ffff:127.0.0.1 talks IPv4 on the wire;
     * the dual-stack listener on :: is an IPv6 socket. */
    static const char policy[] = "[v4c]\nmatch.family = ipv4\nmatch.role = client\nkeepidle = 44\n"
                                 "[v6s]\nmatch.family = ipv6\nmatch.role = server\nkeepidle = 46\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4in6"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "client.keepidle", 44);
    EXPECT(&r, "listener.keepidle", 46);
    EXPECT(&r, "accepted.keepidle", 46);
}

Test(shim, later_rules_override_and_keepalive_no_wins)
{
    static const char policy[] = "[base]\nkeepidle = 30\nkeepcnt = 4\nnodelay = yes\n"
                                 "[servers]\nmatch.role = server\nkeepidle = 31\n"
                                 "[clients-off]\nmatch.role = client\nkeepalive = no\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "listener.keepalive", 1);
    EXPECT(&r, "listener.keepidle", 31);
    EXPECT(&r, "listener.keepcnt", 4);
    EXPECT(&r, "client.keepalive", 0);
    EXPECT(&r, "client.keepidle", 7200); /* timers dropped with keepalive = no */
    EXPECT(&r, "client.nodelay", 1);
}

Test(shim, restart_binds_again_despite_time_wait)
{
    struct run_result first, second;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("timewait", "4", "0"), &first);
    cr_assert_eq(first.status, 0, "%s%s", first.out, first.err);
    cr_assert_str_eq(result_get(&first, "bind"), "ok");
    EXPECT(&first, "accepted.reuseaddr", 1);
    cr_assert_eq(result_num(&first, "timewait"), 1, "the first run left no TIME_WAIT");
    char port[16];
    snprintf(port, sizeof port, "%ld", result_num(&first, "port"));
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("timewait", "4", port), &second);
    cr_assert_eq(second.status, 0, "%s%s", second.out, second.err);
    cr_assert_str_eq(result_get(&second, "bind"), "ok");
}

Test(shim, bare_restart_fails_with_eaddrinuse)
{
    struct run_result first, second, shim;
    run_probe(&(struct run_opts){.bare = true}, ARGS("timewait", "4", "0"), &first);
    cr_assert_eq(first.status, 0, "%s%s", first.out, first.err);
    cr_assert_eq(result_num(&first, "timewait"), 1);
    EXPECT(&first, "accepted.reuseaddr", 0);
    char port[16];
    snprintf(port, sizeof port, "%ld", result_num(&first, "port"));
    run_probe(&(struct run_opts){.bare = true}, ARGS("timewait", "4", port), &second);
    cr_assert_str_eq(result_get(&second, "bind"), "EADDRINUSE");
    /* The documented limit: the TIME_WAIT of a run without SO_REUSEADDR
     * blocks even a socket that has it. */
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("timewait", "4", port), &shim);
    cr_assert_str_eq(result_get(&shim, "bind"), "EADDRINUSE");
}

Test(shim, live_listener_still_gives_eaddrinuse)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("inuse", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_str_eq(result_get(&r, "second.bind"), "-1");
    cr_assert_str_eq(result_get(&r, "second.errno"), "EADDRINUSE");
    EXPECT(&r, "listener.reuseaddr", 1);
    EXPECT(&r, "second.reuseaddr", 1);
}

Test(shim, unix_sockets_untouched_and_silent)
{
    static const char policy[] = "[all]\nmatch.role = server, client\nreuseaddr = yes\n"
                                 "keepalive = yes\nkeepidle = 5\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy, .log = "info"}, ARGS("unix"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    const char *who[] = {"listener", "accepted", "client"};
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s.keepalive", who[i]);
        EXPECT(&r, key, 0);
        snprintf(key, sizeof key, "%s.reuseaddr", who[i]);
        EXPECT(&r, key, 0);
    }
    cr_expect_str_empty(r.err);
}

Test(shim, udp_rule_sets_reuse_options_at_bind)
{
    static const char policy[] = "[udp]\nmatch.type = udp\nreuseaddr = yes\nreuseport = yes\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("udp", "6"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "bound.reuseaddr", 1);
    EXPECT(&r, "bound.reuseport", 1);
    EXPECT(&r, "connected.reuseaddr", 0);
    EXPECT(&r, "connected.reuseport", 0);
}

Test(shim, rules_without_match_type_leave_udp_alone)
{
    static const char policy[] = "[tcp-only]\nreuseaddr = yes\nreuseport = yes\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("udp", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "bound.reuseaddr", 0);
    EXPECT(&r, "bound.reuseport", 0);
}

Test(shim, missing_policy_fails_open)
{
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = "/nonexistent/sockfix.ini"}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_untouched(&r, "listener");
    expect_untouched(&r, "client");
    char want[512];
    snprintf(want, sizeof want, "%s",
             log_line(&r, "/nonexistent/sockfix.ini: No such file or directory"));
    strcat(want, log_line(&r, "no policy in effect; the program runs with its sockets unchanged"));
    cr_assert_str_eq(r.err, want);
}

Test(shim, broken_policy_fails_open_with_every_error)
{
    static const char policy[] = "[good]\nkeepidle = 50\n"
                                 "[bad]\nkeepidle = 5x\nkeepcnt = 500\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_untouched(&r, "listener"); /* not even the good rule */
    expect_untouched(&r, "client");
    cr_assert(strstr(r.err,
                     ".ini:4: keepidle: \"5x\" is not a duration (use 45, 45s, 500ms, 2m or 1h)\n"),
              "%s", r.err);
    cr_assert(strstr(r.err, ".ini:5: keepcnt: \"500\" is out of range (1..127)\n"), "%s", r.err);
    cr_assert(
        strstr(r.err,
               log_line(&r, "no policy in effect; the program runs with its sockets unchanged")),
        "%s", r.err);
    char first[64];
    snprintf(first, sizeof first, "sockfix[%d]: /tmp/sockfix-test-", (int)r.pid);
    cr_assert_eq(strncmp(r.err, first, strlen(first)), 0, "%s", r.err);
}

Test(shim, strict_policy_error_stops_at_start_with_78)
{
    static const char policy[] = "[sockfix]\nstrict = yes\n[r]\nkeepcnt = 0\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 78);
    cr_assert_str_empty(r.out, "main must not run: %s", r.out);
    cr_assert(strstr(r.err, ".ini:4: keepcnt: \"0\" is out of range (1..127)\n"), "%s", r.err);
    cr_assert(strstr(r.err, log_line(&r, "strict mode: the program is stopped (exit status 78)")),
              "%s", r.err);
}

Test(shim, strict_from_environment)
{
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = "/nonexistent/sockfix.ini",
                                 .extra_env = {"SOCKFIX_STRICT=1"}},
              ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 78);
    cr_assert_str_empty(r.out);
    char want[512];
    snprintf(want, sizeof want, "%s",
             log_line(&r, "/nonexistent/sockfix.ini: No such file or directory"));
    strcat(want, log_line(&r, "strict mode: the program is stopped (exit status 78)"));
    cr_assert_str_eq(r.err, want);
}

Test(shim, strict_with_a_good_policy_runs)
{
    static const char policy[] = "[sockfix]\nstrict = yes\n[r]\nkeepcnt = 2\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "listener.keepcnt", 2);
    cr_expect_str_empty(r.err);
}

Test(shim, failed_setsockopt_is_logged_and_the_program_goes_on)
{
    SKIP_UNDER_QEMU("seccomp filters (the helper's --deny-setsockopt)");
    static const char policy[] = "[r]\nkeepidle = 33\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy}, ARGS("--deny-setsockopt", "pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_untouched(&r, "listener");
    expect_untouched(&r, "client");
    char text[256];
    snprintf(
        text, sizeof text,
        "listen fd=%ld 127.0.0.1:%ld: setsockopt TCP_KEEPIDLE=33s failed: EPERM (1); the socket "
        "keeps its own value",
        result_num(&r, "listener.fd"), result_num(&r, "port"));
    cr_assert(strstr(r.err, log_line(&r, text)), "%s", r.err);
    /* the connect's same failures are held back by the rate limit (a second
     * per option and errno): tests/integration/test_logging.c */
}

Test(shim, info_logs_one_line_per_decision)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT, .log = "info"}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    long port = result_num(&r, "port");
    long lfd = result_num(&r, "listener.fd"), cfd = result_num(&r, "client.fd");
    char text[256], want[2048] = "";
    snprintf(text, sizeof text, "bind fd=%ld 127.0.0.1:%ld rules=srv: reuseaddr=yes", lfd, port);
    strcat(want, log_line(&r, text));
    snprintf(text, sizeof text,
             "listen fd=%ld 127.0.0.1:%ld rules=srv: keepalive=yes keepidle=77s keepintvl=13s "
             "keepcnt=5 user_timeout=4500ms nodelay=yes backlog=1000",
             lfd, port);
    strcat(want, log_line(&r, text));
    snprintf(text, sizeof text,
             "connect fd=%ld 127.0.0.1:%ld rules=cli: keepalive=yes keepidle=120s keepintvl=7s "
             "keepcnt=3 user_timeout=60s",
             cfd, port);
    strcat(want, log_line(&r, text));
    cr_assert_str_eq(r.err, want);
}

Test(shim, errno_and_results_are_the_real_calls)
{
    struct run_result shim, bare;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("errno", "6"), &shim);
    run_probe(&(struct run_opts){.bare = true}, ARGS("errno", "6"), &bare);
    cr_assert_eq(shim.status, 0, "%s%s", shim.out, shim.err);
    EXPECT(&shim, "errno.kept", 1);
    cr_assert_str_eq(shim.out, bare.out);
}

Test(shim, nonblocking_connect_keeps_einprogress_and_flags)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT}, ARGS("nonblock", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_str_eq(result_get(&r, "connect.errno"), "EINPROGRESS");
    EXPECT(&r, "accepted.nonblock", 1);
    EXPECT(&r, "accepted.cloexec", 1);
    EXPECT(&r, "client.nonblock", 1);
    expect_server_values(&r, "accepted");
    expect_client_values(&r);
}

Test(shim, inherited_listener_gets_the_policy_per_connection)
{
    int l = socket(AF_INET, SOCK_STREAM, 0); /* no CLOEXEC: the helper inherits it */
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(l, (struct sockaddr *)&in, sizeof in) == 0 && listen(l, 4) == 0);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", l);
    struct run_result r;
    run_probe(&(struct run_opts){.policy = SERVER_CLIENT, .log = "info"}, ARGS("inherit", fd), &r);
    close(l);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_untouched(&r, "listener"); /* never listened under the shim */
    EXPECT(&r, "accepted.keepalive", 1);
    EXPECT(&r, "accepted.keepidle", 77);
    EXPECT(&r, "accepted.user_timeout", 4500);
    EXPECT(&r, "accepted.nodelay", 1);
    EXPECT(&r, "client.keepidle", 120);
    cr_assert(strstr(r.err, "]: accept fd="), "%s", r.err);
}

Test(shim, threads_racing_at_the_first_connect_all_get_the_policy)
{
    static const char policy[] = "[c]\nmatch.role = client\nkeepidle = 19\n";
    for (int attempt = 0; attempt < 5; attempt++) {
        struct run_result r;
        run_probe(&(struct run_opts){.policy = policy}, ARGS("race", "16"), &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        for (int i = 0; i < 16; i++) {
            char key[32];
            snprintf(key, sizeof key, "client%d.keepidle", i);
            cr_assert_eq(result_num(&r, key), 19, "%s (attempt %d)", key, attempt);
        }
    }
}

Test(shim, a_process_without_sockets_never_parses_the_policy)
{
    /* Errors of a non-strict policy are reported at the first socket event:
     * a process that makes none pays for no parsing and prints nothing. */
    static const char broken[] = "[r]\nkeepcnt = 0\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = broken, .log = "debug"}, ARGS("self"), &r);
    cr_assert_eq(r.status, 0);
    cr_expect_str_empty(r.err);
    run_probe(&(struct run_opts){.policy = broken, .log = "debug"}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0);
    cr_expect(strstr(r.err, ".ini:2: keepcnt: \"0\" is out of range (1..127)"), "%s", r.err);
}

Test(shim, policies_of_every_size_are_read)
{
    /* Under 4 KiB, up to 64 KiB and above: three ways the constructor keeps
     * the text (static buffer, mapped pages, loaded whole at start). */
    static const size_t sizes[] = {100, 20000, 200000};
    for (size_t k = 0; k < 3; k++) {
        char *text = malloc(sizes[k] + 64);
        size_t n = 0;
        while (n + 40 < sizes[k])
            n += (size_t)sprintf(text + n, "; padding padding padding padding pad\n");
        sprintf(text + n, "[r]\nkeepidle = %zu\n", 100 + k);
        struct run_result r;
        run_probe(&(struct run_opts){.policy = text}, ARGS("pair", "4"), &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_eq(result_num(&r, "listener.keepidle"), 100 + (long)k, "size %zu", sizes[k]);
        cr_expect_str_empty(r.err);
        free(text);
    }
}
