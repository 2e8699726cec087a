/* The one event builder (config/event.h), the option table's readback rules,
 * the value formatter and the policy's warnings: pure, without sockets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "config/event.h"
#include "config/values.h"

static struct sockaddr_in v4(const char *addr, unsigned port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    cr_assert(inet_pton(AF_INET, addr, &in.sin_addr) == 1);
    return in;
}

static struct sockaddr_in6 v6(const char *addr, unsigned port)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    cr_assert(inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1);
    return in6;
}

#define SA(x) ((const struct sockaddr *)&(x)), sizeof(x)

static struct sf_event build(struct sf_sock_facts f)
{
    struct sf_event ev;
    cr_assert(sf_event_from_facts(&f, &ev));
    return ev;
}

Test(event, a_server_is_matched_by_its_local_address)
{
    struct sockaddr_in a = v4("10.1.2.3", 8080);
    struct sf_event ev = build((struct sf_sock_facts){.domain = AF_INET,
                                                      .type = SF_TYPE_TCP,
                                                      .state = SF_SOCK_LISTENER,
                                                      .local = (const struct sockaddr *)&a,
                                                      .local_len = sizeof a});
    cr_expect_eq(ev.role, SF_ROLE_SERVER);
    cr_expect_eq(ev.family, SF_FAMILY_IPV4);
    cr_expect_eq(ev.port, 8080);
    cr_expect(ev.have_addr);
    cr_expect_eq(memcmp(ev.addr, "\x0a\x01\x02\x03", 4), 0);
}

Test(event, a_client_is_matched_by_its_remote_address)
{
    struct sockaddr_in6 peer = v6("2001:db8::7", 5432);
    struct sf_event ev = build((struct sf_sock_facts){.domain = AF_INET6,
                                                      .type = SF_TYPE_TCP,
                                                      .state = SF_SOCK_CLIENT,
                                                      .peer = (const struct sockaddr *)&peer,
                                                      .peer_len = sizeof peer});
    cr_expect_eq(ev.role, SF_ROLE_CLIENT);
    cr_expect_eq(ev.family, SF_FAMILY_IPV6);
    cr_expect_eq(ev.port, 5432);
}

Test(event, v4_mapped_counts_as_ipv4)
{
    struct sockaddr_in6 peer = v6("::ffff:192.0.2.9", 80);
    struct sf_event ev = build((struct sf_sock_facts){.domain = AF_INET6,
                                                      .type = SF_TYPE_TCP,
                                                      .state = SF_SOCK_CLIENT,
                                                      .peer = (const struct sockaddr *)&peer,
                                                      .peer_len = sizeof peer});
    cr_expect_eq(ev.family, SF_FAMILY_IPV4);
    cr_expect_eq(memcmp(ev.addr, "\xc0\x00\x02\x09", 4), 0);
}

Test(event, an_accepted_socket_is_matched_as_its_listener)
{
    struct sockaddr_in6 any = v6("::", 8080), local = v6("::ffff:127.0.0.1", 8080);
    struct sf_sock_facts f = {.domain = AF_INET6,
                              .type = SF_TYPE_TCP,
                              .state = SF_SOCK_ACCEPTED,
                              .local = (const struct sockaddr *)&local,
                              .local_len = sizeof local,
                              .listener = (const struct sockaddr *)&any,
                              .listener_len = sizeof any};
    struct sf_event ev = build(f);
    cr_expect_eq(ev.family, SF_FAMILY_IPV6, "a dual-stack listener's IPv4 connection is ipv6");
    cr_expect_eq(memcmp(ev.addr, in6addr_any.s6_addr, 16), 0);
    /* the listener out of sight: a v4-mapped local address means a listener on :: */
    f.listener = NULL;
    ev = build(f);
    cr_expect_eq(ev.family, SF_FAMILY_IPV6);
    cr_expect_eq(memcmp(ev.addr, in6addr_any.s6_addr, 16), 0);
    cr_expect_eq(ev.port, 8080);
    /* an IPv4 listener on 0.0.0.0: its connections are matched as 0.0.0.0 */
    struct sockaddr_in zero = v4("0.0.0.0", 80), mine = v4("127.0.0.1", 80);
    ev = build((struct sf_sock_facts){.domain = AF_INET,
                                      .type = SF_TYPE_TCP,
                                      .state = SF_SOCK_ACCEPTED,
                                      .local = (const struct sockaddr *)&mine,
                                      .local_len = sizeof mine,
                                      .listener = (const struct sockaddr *)&zero,
                                      .listener_len = sizeof zero});
    cr_expect_eq(memcmp(ev.addr, "\0\0\0\0", 4), 0);
    /* without the listener, the local address stands in */
    ev = build((struct sf_sock_facts){.domain = AF_INET,
                                      .type = SF_TYPE_TCP,
                                      .state = SF_SOCK_ACCEPTED,
                                      .local = (const struct sockaddr *)&mine,
                                      .local_len = sizeof mine});
    cr_expect_eq(memcmp(ev.addr, "\x7f\0\0\x01", 4), 0);
}

Test(event, facts_that_describe_no_socket_are_refused)
{
    struct sockaddr_in a = v4("127.0.0.1", 1);
    struct sf_event ev;
    struct sf_sock_facts f = {.domain = AF_INET6, /* an IPv4 address on an IPv6 socket */
                              .type = SF_TYPE_TCP,
                              .state = SF_SOCK_LISTENER,
                              .local = (const struct sockaddr *)&a,
                              .local_len = sizeof a};
    cr_expect_not(sf_event_from_facts(&f, &ev));
    f.domain = AF_INET;
    f.local_len = 4; /* too short */
    cr_expect_not(sf_event_from_facts(&f, &ev));
    f.local_len = sizeof a;
    f.type = 0;
    cr_expect_not(sf_event_from_facts(&f, &ev));
    f.type = SF_TYPE_UDP;
    f.domain = AF_UNIX;
    cr_expect_not(sf_event_from_facts(&f, &ev));
}

Test(event, how_the_kernel_reports_a_value)
{
    const struct sf_option *defer = &sf_options[SF_OPT_DEFER_ACCEPT];
    /* SYN-ACK retransmission steps (measured): 1, 3, 7, 15, 31, 63, 127, 247, 367, ... */
    cr_expect(sf_option_holds(defer, 7, 5, false));
    cr_expect(sf_option_holds(defer, 3, 2, false));
    cr_expect(sf_option_holds(defer, 1, 1, false));
    cr_expect(sf_option_holds(defer, 0, 0, false));
    cr_expect(sf_option_holds(defer, 247, 200, false));
    cr_expect(sf_option_holds(defer, 487, 400, false));
    cr_expect(sf_option_holds(defer, 127, 100, false));
    cr_expect_not(sf_option_holds(defer, 5, 5, false));
    const struct sf_option *maxseg = &sf_options[SF_OPT_MAXSEG];
    cr_expect(sf_option_holds(maxseg, 1388, 1400, true), "a connection's MSS under the clamp");
    cr_expect_not(sf_option_holds(maxseg, 1388, 1400, false), "a listener reports the value set");
    cr_expect_not(sf_option_holds(maxseg, 65483, 1400, true));
    cr_expect_eq(sf_option_from_kernel(&sf_options[SF_OPT_RCVBUF], 131072), 65536);
    cr_expect_eq(sf_option_from_kernel(&sf_options[SF_OPT_KEEPIDLE], 60), 60);
}

Test(event, one_formatter_writes_values_as_a_policy_does)
{
    char buf[32];
    sf_format_option_value(&sf_options[SF_OPT_USER_TIMEOUT], 90000, buf, sizeof buf);
    cr_expect_str_eq(buf, "90s");
    sf_format_option_value(&sf_options[SF_OPT_USER_TIMEOUT], 4500, buf, sizeof buf);
    cr_expect_str_eq(buf, "4500ms");
    sf_format_option_value(&sf_options[SF_OPT_KEEPIDLE], -3, buf, sizeof buf);
    cr_expect_str_eq(buf, "-3s");
    sf_format_option_value(&sf_options[SF_OPT_MARK], -1, buf, sizeof buf);
    cr_expect_str_eq(buf, "4294967295");
    sf_format_option_value(&sf_options[SF_OPT_KEEPIDLE], 32767, buf, 4);
    cr_expect_str_eq(buf, "327", "cut to the buffer, terminated");
}

static void collect(const char *line, void *arg)
{
    strcat(arg, line);
    strcat(arg, "\n");
}

Test(event, timers_with_keepalive_off_are_a_warning)
{
    static const char text[] = "[a]\nkeepidle = 5\nkeepalive = no\nkeepintvl = 2\n"
                               "[b]\nkeepalive = no\n[c]\nkeepcnt = 3\n[d]\nkeepalive = no\n";
    struct sf_policy *p = sf_policy_parse(text, strlen(text), "w.ini");
    cr_assert_not_null(p);
    cr_expect_eq(p->nerrors, 0);
    cr_assert_eq(p->nwarnings, 1, "only [a] sets timers and keepalive = no itself");
    char out[1024] = "";
    sf_policy_emit_warnings(p, false, collect, out);
    cr_expect_str_eq(out, "w.ini:3: keepalive = no switches keepalive off and drops the timers "
                          "this rule also sets (keepidle line 2, keepintvl line 4): they have no "
                          "effect\n");
    sf_policy_free(p);
}
