/* Matching socket events against rules, without sockets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/decide.h"
#include "config/index.h"
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
    return (struct sf_event){
        .role = SF_ROLE_SERVER, .family = SF_FAMILY_IPV4, .type = SF_TYPE_TCP, .port = port};
}

static struct sf_event client(unsigned port)
{
    return (struct sf_event){
        .role = SF_ROLE_CLIENT, .family = SF_FAMILY_IPV4, .type = SF_TYPE_TCP, .port = port};
}

Test(match, role_family_type_and_port)
{
    struct sf_policy *p = parse("[r]\nmatch.role = server\nmatch.family = ipv6\n"
                                "match.type = udp\nmatch.port = 53, 5000-5010\nreuseport = yes\n");
    const struct sf_rule *r = &p->rules[0];
    struct sf_event ev = {
        .role = SF_ROLE_SERVER, .family = SF_FAMILY_IPV6, .type = SF_TYPE_UDP, .port = 53};
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
        server(0),
        server(80),
        client(443),
        {.role = SF_ROLE_CLIENT, .family = SF_FAMILY_IPV6, .type = SF_TYPE_TCP, .port = 1}};
    for (size_t i = 0; i < 4; i++)
        cr_expect(sf_rule_matches(&p->rules[0], &evs[i]), "event %zu", i);
    struct sf_event udp = {
        .role = SF_ROLE_SERVER, .family = SF_FAMILY_IPV4, .type = SF_TYPE_UDP, .port = 53};
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
    struct sf_event udp = {
        .role = SF_ROLE_SERVER, .family = SF_FAMILY_IPV4, .type = SF_TYPE_UDP, .port = 53};
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

/* ---- the index against the scan it replaces ---- */

static uint64_t rng_state = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* A random but valid policy of n rules over a small port space, so that
 * ranges overlap, nest and touch. */
static char *random_policy(int n)
{
    size_t cap = (size_t)n * 256 + 64;
    char *text = malloc(cap), *w = text;
    static const char *const roles[] = {"", "server", "client", "server, client"};
    static const char *const families[] = {"", "ipv4", "ipv6"};
    static const char *const types[] = {"", "tcp", "udp", "tcp, udp"};
    for (int i = 0; i < n; i++) {
        unsigned role = rnd(4), type = rnd(4);
        w += sprintf(w, "[r%d]\n", i);
        if (role)
            w += sprintf(w, "match.role = %s\n", roles[role]);
        if (rnd(2))
            w += sprintf(w, "match.family = %s\n", families[1 + rnd(2)]);
        if (type)
            w += sprintf(w, "match.type = %s\n", types[type]);
        unsigned nports = rnd(3);
        if (nports) {
            w += sprintf(w, "match.port = ");
            for (unsigned k = 0; k < nports; k++) {
                unsigned lo = 1 + rnd(60), hi = lo + rnd(20);
                w += sprintf(w, k ? ", %u-%u" : "%u-%u", lo, hi);
            }
            w += sprintf(w, "\n");
        }
        bool udp_only = type == 2, client_only = role == 2;
        if (!client_only)
            w += sprintf(w, "reuseaddr = %s\n", rnd(2) ? "yes" : "no");
        if (!udp_only) {
            if (rnd(2))
                w += sprintf(w, "keepalive = %s\n", rnd(3) ? "yes" : "no");
            if (rnd(2))
                w += sprintf(w, "keepidle = %u\n", 1 + rnd(100));
            if (rnd(2))
                w += sprintf(w, "keepcnt = %u\n", 1 + rnd(9));
            if (rnd(3) == 0)
                w += sprintf(w, "nodelay = yes\n");
            if (!client_only && rnd(4) == 0)
                w += sprintf(w, "backlog = %u\n", 1 + rnd(1000));
        }
        if (!client_only && rnd(3) == 0)
            w += sprintf(w, "reuseport = yes\n");
    }
    return text;
}

static void expect_same_decisions(const struct sf_policy *p)
{
    for (unsigned c = 0; c < 8; c++) {
        for (unsigned port = 0; port <= 90; port++) {
            struct sf_event ev = {.role = (c & 4) ? SF_ROLE_CLIENT : SF_ROLE_SERVER,
                                  .family = (c & 2) ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4,
                                  .type = (c & 1) ? SF_TYPE_UDP : SF_TYPE_TCP,
                                  .port = port};
            struct sf_decision a, b;
            unsigned ma = sf_decide(p, &ev, &a), mb = sf_decide_scan(p, &ev, &b);
            cr_assert_eq(ma, mb, "matched, combo %u port %u", c, port);
            cr_assert_eq(a.set, b.set, "set, combo %u port %u", c, port);
            for (int o = 0; o < SF_OPT_COUNT; o++) {
                if (!(a.set & SF_OPT_BIT(o)))
                    continue;
                cr_assert_eq(a.value[o], b.value[o], "%s, combo %u port %u", sf_options[o].key, c,
                             port);
                cr_assert_eq(a.rule[o], b.rule[o], "rule of %s, combo %u port %u",
                             sf_options[o].key, c, port);
            }
        }
    }
}

Test(match, the_index_decides_as_the_scan_does)
{
    for (int round = 0; round < 64; round++) {
        /* the last rounds pass 256 port ranges, where the index builds
         * through a port table instead of binary searches */
        char *text = random_policy(round < 60 ? 1 + (int)rnd(40) : 400);
        struct sf_policy *p = parse(text);
        cr_assert_null(p->index, "parsing alone builds no index");
        expect_same_decisions(p); /* scan against scan: the harness itself */
        sf_policy_select_program(p, NULL, 0);
        cr_assert_not_null(p->index);
        expect_same_decisions(p);
        sf_policy_free(p);
        free(text);
    }
}

Test(match, the_index_follows_program_selection)
{
    struct sf_policy *p = parse("[a]\nmatch.program = x\nmatch.port = 10-20\nkeepidle = 1\n"
                                "[b]\nmatch.port = 15\nkeepidle = 2\n"
                                "[c]\nmatch.program = y\nkeepidle = 3\n");
    const char *names[] = {"x"};
    sf_policy_select_program(p, names, 1);
    struct sf_decision d;
    struct sf_event ev = server(12);
    sf_decide(p, &ev, &d);
    cr_expect_eq(d.value[SF_OPT_KEEPIDLE], 1);
    ev.port = 15;
    sf_decide(p, &ev, &d);
    cr_expect_eq(d.value[SF_OPT_KEEPIDLE], 2);
    ev.port = 30;
    cr_expect_eq(sf_decide(p, &ev, &d), 0);
    expect_same_decisions(p);
    sf_policy_free(p);
}

/* sockfix apply selects the program again for each process: a selection
 * with address rules must not decide with the index of the one before. */
Test(match, address_rules_after_another_selection)
{
    struct sf_policy *p = parse("[a]\nmatch.program = one\nkeepidle = 5\n"
                                "[b]\nmatch.program = two\nmatch.address = 10.0.0.0/8\n"
                                "keepidle = 7\n");
    struct sf_event ev = server(80);
    ev.have_addr = true;
    memcpy(ev.addr, (uint8_t[]){127, 0, 0, 1}, 4);
    struct sf_decision d;
    sf_policy_select_program(p, (const char *[]){"one"}, 1);
    cr_expect_eq(sf_decide(p, &ev, &d), 1);
    cr_expect_eq(d.value[SF_OPT_KEEPIDLE], 5);
    sf_policy_select_program(p, (const char *[]){"two"}, 1);
    cr_expect_eq(sf_decide(p, &ev, &d), 0, "127.0.0.1 is not in 10.0.0.0/8");
    cr_expect_eq(d.set, 0);
    memcpy(ev.addr, (uint8_t[]){10, 1, 2, 3}, 4);
    cr_expect_eq(sf_decide(p, &ev, &d), 1);
    cr_expect_eq(d.value[SF_OPT_KEEPIDLE], 7);
    cr_expect_eq(d.rule[SF_OPT_KEEPIDLE], 1);
    sf_policy_free(p);
}

/* A kind of socket no rule takes is decided at once (the index's kinds):
 * the same as the scan, for the kinds taken and for those not. */
Test(match, kinds_no_rule_takes_are_decided_empty_and_the_others_as_the_scan)
{
    struct sf_policy *p = parse("[s]\nmatch.role = server\nmatch.family = ipv6\nkeepidle = 70\n"
                                "[u]\nmatch.type = udp\nmatch.role = server\nreuseport = yes\n");
    cr_assert_eq(sf_policy_select_program(p, NULL, 0), 0);
    cr_assert_not_null(p->index);
    for (unsigned c = 0; c < SF_COMBOS; c++) {
        struct sf_event ev = sf_combo_event(c);
        ev.port = 80;
        bool taken =
            ev.role == SF_ROLE_SERVER && (ev.type == SF_TYPE_UDP || ev.family == SF_FAMILY_IPV6);
        cr_expect_eq((p->index->kinds >> c) & 1, taken, "combo %u", c);
        struct sf_decision a, b;
        unsigned ma = sf_decide(p, &ev, &a), mb = sf_decide_scan(p, &ev, &b);
        cr_expect_eq(ma, mb, "combo %u", c);
        cr_expect_eq(a.set, b.set, "combo %u", c);
        cr_expect_eq(ma != 0, taken, "combo %u", c);
    }
    sf_policy_free(p);
}

Test(match, a_role_and_type_no_rule_takes_is_known_before_the_event)
{
    struct sf_policy *p = parse("[s]\nmatch.role = server\nmatch.family = ipv6\nkeepidle = 70\n"
                                "[u]\nmatch.type = udp\nmatch.role = client\nmark = 1\n");
    cr_assert_eq(sf_policy_select_program(p, NULL, 0), 0);
    cr_expect(sf_policy_may_take(p, SF_ROLE_SERVER, SF_TYPE_TCP));
    cr_expect_not(sf_policy_may_take(p, SF_ROLE_SERVER, SF_TYPE_UDP));
    cr_expect_not(sf_policy_may_take(p, SF_ROLE_CLIENT, SF_TYPE_TCP));
    cr_expect(sf_policy_may_take(p, SF_ROLE_CLIENT, SF_TYPE_UDP));
    sf_policy_free(p);
}
