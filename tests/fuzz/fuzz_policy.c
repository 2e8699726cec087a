/* Fuzz target for the policy language: any bytes in, and the loader must
 * neither crash nor break its own promises. Besides the sanitizers' checks
 * it asserts: errors are bounded and printable, a clean policy's values
 * survive a format/parse round trip, and the matching index decides exactly
 * as the reference scan does for every socket kind and every port at the
 * edges of the policy's ranges. Built with libFuzzer by scripts/fuzz.sh, and
 * with replay_main.c into a corpus replay that ctest runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/match.h"
#include "config/policy.h"
#include "config/values.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_errors(const struct sf_policy *p)
{
    CHECK(p->nerrors <= SF_MAX_ERRORS + 1);
    for (size_t i = 0; i < p->nerrors; i++) {
        char line[512];
        sf_error_format(p, &p->errors[i], line, sizeof line);
        for (const unsigned char *c = (const unsigned char *)line; *c; c++)
            CHECK(*c >= 0x20 && *c != 0x7f); /* nothing reaches a terminal raw */
        if (i > 0 && p->errors[i].line)
            CHECK(p->errors[i].line >= p->errors[i - 1].line);
    }
}

static void check_round_trip(const struct sf_policy *p)
{
    for (size_t r = 0; r < p->nrules; r++) {
        const struct sf_rule *rule = &p->rules[r];
        for (int o = 0; o < SF_OPT_COUNT; o++) {
            if (!(rule->set & SF_OPT_BIT(o)))
                continue;
            char text[64], err[256];
            int32_t back;
            sf_policy_format_value(p, &sf_options[o], rule->value[o], text, sizeof text);
            CHECK(sf_parse_option_value(&sf_options[o], text, &back, err, sizeof err) == 0);
            if (sf_options[o].kind == SF_VAL_NAME) /* the name itself is the value */
                CHECK(strcmp(text, sf_policy_name(p, rule->value[o])) == 0);
            else
                CHECK(back == rule->value[o]);
        }
    }
}

static void same_decision(const struct sf_decision *a, const struct sf_decision *b)
{
    CHECK(a->set == b->set);
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        if (!(a->set & SF_OPT_BIT(o)))
            continue;
        CHECK(a->value[o] == b->value[o]);
        CHECK(a->rule[o] == b->rule[o]);
    }
}

#define MAX_PORTS 256

static size_t edge_ports(const struct sf_policy *p, unsigned *ports)
{
    size_t n = 0;
    ports[n++] = 0;
    ports[n++] = 1;
    ports[n++] = 65535;
    for (size_t r = 0; r < p->nrules; r++) {
        for (size_t k = 0; k < p->rules[r].nports && n + 4 <= MAX_PORTS; k++) {
            unsigned lo = p->rules[r].ports[k].lo, hi = p->rules[r].ports[k].hi;
            ports[n++] = lo;
            ports[n++] = hi;
            ports[n++] = lo - 1;
            ports[n++] = hi < 65535 ? hi + 1 : hi;
        }
    }
    return n;
}

static void check_index(struct sf_policy *p)
{
    static const char *const names[] = {"fuzzd", "python3"};
    CHECK(sf_policy_select_program(p, names, 2) == 0);
    unsigned ports[MAX_PORTS];
    size_t nports = edge_ports(p, ports);
    for (unsigned kind = 0; kind < 8; kind++) {
        for (size_t i = 0; i < nports; i++) {
            struct sf_event ev = {
                .role = kind & 1 ? SF_ROLE_SERVER : SF_ROLE_CLIENT,
                .family = kind & 2 ? SF_FAMILY_IPV4 : SF_FAMILY_IPV6,
                .type = kind & 4 ? SF_TYPE_TCP : SF_TYPE_UDP,
                .port = ports[i],
            };
            struct sf_decision a, b;
            unsigned ma = sf_decide(p, &ev, &a), mb = sf_decide_scan(p, &ev, &b);
            CHECK(ma == mb);
            same_decision(&a, &b);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sf_policy *p = sf_policy_parse((const char *)data, size, "fuzz.ini");
    if (!p)
        return 0; /* out of memory: the only NULL */
    check_errors(p);
    if (p->nerrors == 0) {
        check_round_trip(p);
        check_index(p);
    } else {
        CHECK(p->nactive == 0);
    }
    sf_policy_free(p);
    return 0;
}
