/* Matching socket events against rules, without sockets. */
#include <criterion/criterion.h>
#include <string.h>

#include "config/match.h"

static struct sf_policy *parse(const char *text)
{
    struct sf_policy *p = sf_policy_parse(text, strlen(text), "m.ini");
    cr_assert_not_null(p);
    cr_assert_eq(p->nerrors, 0, "%s", p->nerrors ? p->errors[0].message : "");
    return p;
}

static struct sf_event server(unsigned port)
{
    return (struct sf_event){SF_ROLE_SERVER, SF_FAMILY_IPV4, SF_TYPE_TCP, port};
}

static struct sf_event client(unsigned port)
{
    return (struct sf_event){SF_ROLE_CLIENT, SF_FAMILY_IPV4, SF_TYPE_TCP, port};
}

Test(match, role_family_type_and_port)
{
    struct sf_policy *p = parse("[r]\nmatch.role = server\nmatch.family = ipv6\n"
                                "match.type = udp\nmatch.port = 53, 5000-5010\nreuseport = yes\n");
    const struct sf_rule *r = &p->rules[0];
    struct sf_event ev = {SF_ROLE_SERVER, SF_FAMILY_IPV6, SF_TYPE_UDP, 53};
    cr_expect(sf_rule_matches(r, &ev));
    ev.port = 5000;
    cr_expect(sf_rule_matches(r, &ev));
    ev.port = 5010;
    cr_expect(sf_rule_matches(r, &ev));
    ev.port = 5011;
    cr_expect_not(sf_rule_matches(r, &ev));
    ev.port = 0;
    cr_expect_not(sf_rule_matches(r, &ev), "an unknown port matches no port list");
    ev.port = 53;
    ev.role = SF_ROLE_CLIENT;
    cr_expect_not(sf_rule_matches(r, &ev));
    ev.role = SF_ROLE_SERVER;
    ev.family = SF_FAMILY_IPV4;
    cr_expect_not(sf_rule_matches(r, &ev));
    ev.family = SF_FAMILY_IPV6;
    ev.type = SF_TYPE_TCP;
    cr_expect_not(sf_rule_matches(r, &ev));
    sf_policy_free(p);
}

Test(match, a_rule_without_match_keys_takes_every_tcp_socket)
{
    struct sf_policy *p = parse("[all]\nnodelay = yes\n");
    struct sf_event evs[] = {
        server(0), server(80), client(443), {SF_ROLE_CLIENT, SF_FAMILY_IPV6, SF_TYPE_TCP, 1}};
    for (size_t i = 0; i < 4; i++)
        cr_expect(sf_rule_matches(&p->rules[0], &evs[i]), "event %zu", i);
    struct sf_event udp = {SF_ROLE_SERVER, SF_FAMILY_IPV4, SF_TYPE_UDP, 53};
    cr_expect_not(sf_rule_matches(&p->rules[0], &udp));
    sf_policy_free(p);
}

Test(match, later_rules_override_key_by_key_with_provenance)
{
    struct sf_policy *p = parse("[base]\nkeepidle = 10\nkeepcnt = 2\nnodelay = yes\n"
                                "[web]\nmatch.port = 80\nkeepidle = 20\n"
                                "[other]\nmatch.port = 81\nkeepidle = 30\n");
    struct sf_decision d;
    struct sf_event ev = server(80);
    cr_assert_eq(sf_decide(p, &ev, &d), 2);
    cr_expect_eq(d.value[SF_OPT_KEEPIDLE], 20);
    cr_expect_eq(d.rule[SF_OPT_KEEPIDLE], 1);
    cr_expect_eq(d.value[SF_OPT_KEEPCNT], 2);
    cr_expect_eq(d.rule[SF_OPT_KEEPCNT], 0);
    cr_expect_eq(d.value[SF_OPT_NODELAY], 1);
    cr_expect_eq(d.set, SF_OPT_BIT(SF_OPT_KEEPIDLE) | SF_OPT_BIT(SF_OPT_KEEPCNT) |
                            SF_OPT_BIT(SF_OPT_NODELAY) | SF_OPT_BIT(SF_OPT_KEEPALIVE));
    sf_policy_free(p);
}

Test(match, timers_imply_keepalive_unless_the_merge_says_no)
{
    struct sf_policy *p = parse("[t]\nkeepintvl = 5\n"
                                "[off]\nmatch.role = client\nkeepalive = no\n"
                                "[on-again]\nmatch.port = 99\nkeepalive = yes\n");
    struct sf_decision d;
    struct sf_event ev = server(1);
    sf_decide(p, &ev, &d);
    cr_expect(d.set & SF_OPT_BIT(SF_OPT_KEEPALIVE));
    cr_expect_eq(d.value[SF_OPT_KEEPALIVE], 1);
    cr_expect_eq(d.rule[SF_OPT_KEEPALIVE], SF_RULE_IMPLIED);

    ev = client(1);
    sf_decide(p, &ev, &d);
    cr_expect_eq(d.value[SF_OPT_KEEPALIVE], 0);
    cr_expect_eq(d.set, SF_OPT_BIT(SF_OPT_KEEPALIVE), "keepalive = no drops the timers");

    ev = client(99);
    sf_decide(p, &ev, &d);
    cr_expect_eq(d.value[SF_OPT_KEEPALIVE], 1);
    cr_expect_eq(d.rule[SF_OPT_KEEPALIVE], 2);
    cr_expect(d.set & SF_OPT_BIT(SF_OPT_KEEPINTVL));
    sf_policy_free(p);
}

Test(match, only_options_that_fit_the_socket)
{
    struct sf_policy *p = parse("[both]\nmatch.type = tcp, udp\nreuseaddr = yes\n"
                                "keepalive = yes\nbacklog = 50\n");
    struct sf_decision d;
    struct sf_event udp = {SF_ROLE_SERVER, SF_FAMILY_IPV4, SF_TYPE_UDP, 53};
    sf_decide(p, &udp, &d);
    cr_expect_eq(d.set, SF_OPT_BIT(SF_OPT_REUSEADDR));
    struct sf_event c = client(80);
    sf_decide(p, &c, &d);
    cr_expect_eq(d.set, SF_OPT_BIT(SF_OPT_KEEPALIVE), "no reuseaddr or backlog for clients");
    struct sf_event s = server(80);
    sf_decide(p, &s, &d);
    cr_expect_eq(d.set, SF_OPT_BIT(SF_OPT_REUSEADDR) | SF_OPT_BIT(SF_OPT_KEEPALIVE) |
                            SF_OPT_BIT(SF_OPT_BACKLOG));
    sf_policy_free(p);
}

Test(match, nothing_matches_nothing_set)
{
    struct sf_policy *p = parse("[web]\nmatch.port = 80\nkeepidle = 5\n");
    struct sf_decision d;
    struct sf_event ev = server(8080);
    cr_expect_eq(sf_decide(p, &ev, &d), 0);
    cr_expect_eq(d.set, 0);
    sf_policy_free(p);
}

Test(match, program_selection_narrows_the_rules)
{
    struct sf_policy *p = parse("[py]\nmatch.program = python3*\nkeepidle = 7\n"
                                "[ng]\nmatch.program = nginx\nkeepidle = 8\n");
    const char *names[] = {"nginx", "nginx"};
    sf_policy_select_program(p, names, 2);
    struct sf_decision d;
    struct sf_event ev = server(80);
    cr_expect_eq(sf_decide(p, &ev, &d), 1);
    cr_expect_eq(d.value[SF_OPT_KEEPIDLE], 8);
    sf_policy_free(p);
}

Test(match, a_broken_policy_decides_nothing)
{
    const char text[] = "[ok]\nkeepidle = 5\n[bad]\nkeepcnt = 0\n";
    struct sf_policy *p = sf_policy_parse(text, sizeof text - 1, "m.ini");
    struct sf_decision d;
    struct sf_event ev = server(80);
    cr_expect_eq(sf_decide(p, &ev, &d), 0);
    cr_expect_eq(d.set, 0);
    sf_policy_free(p);
}
