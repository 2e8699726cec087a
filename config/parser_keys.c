/* The keys of a policy: [sockfix]'s settings, a rule's match keys and its
 * options, each checked and stored in the rule being read. */
#include "parser.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "settings.h"
#include "values.h"

static const char *const match_keys[M_COUNT] = {"match.program", "match.port", "match.role",
                                                "match.family",  "match.type", "match.address"};
static const char *const global_keys[G_COUNT] = {"log", "strict", "precedence", "log_target"};

static bool duplicate_key(struct parse_ctx *c, unsigned *seen_line, const char *name)
{
    if (*seen_line) {
        ERROR(c, c->lineno, "duplicate key \"%s\" (first set on line %u)", name, *seen_line);
        return true;
    }
    *seen_line = c->lineno;
    return false;
}

void parse_global_key(struct parse_ctx *c, const char *name, const char *value)
{
    char q[64], err[ERRLEN];
    for (int k = 0; k < G_COUNT; k++) {
        if (strcmp(name, global_keys[k]) != 0)
            continue;
        if (duplicate_key(c, &c->global_line[k], name))
            return;
        if (k == G_LOG) {
            int level = sf_log_level_parse(value);
            if (level < 0) {
                ERROR(c, c->lineno,
                      "log: %s is not a log level (use off, error, warn, info, debug)",
                      sf_quote(value, q, sizeof q));
                return;
            }
            c->p->log_level = (enum sf_log_level)level;
            c->p->log_set = true;
        } else if (k == G_LOG_TARGET) {
            if (sf_log_target_parse(value, &c->p->log_target, c->p->log_path, err, sizeof err) !=
                0) {
                ERROR(c, c->lineno, "log_target: %s", err);
                return;
            }
            c->p->log_target_set = true;
        } else if (k == G_PRECEDENCE) {
            int prec = sf_precedence_parse(value);
            if (prec < 0) {
                ERROR(c, c->lineno, "precedence: %s is not one of program, policy",
                      sf_quote(value, q, sizeof q));
                return;
            }
            c->p->precedence = (enum sf_precedence)prec;
        } else {
            bool b;
            if (sf_parse_bool(value, &b, err, sizeof err) != 0) {
                ERROR(c, c->lineno, "strict: %s", err);
                return;
            }
            c->p->strict = b;
        }
        return;
    }
    ERROR(c, c->lineno, "unknown key %s in [%s]", sf_quote(name, q, sizeof q), GLOBAL_SECTION);
}

/* Splits a list on commas and white space; calls item for each element. */
static size_t for_each_item(struct parse_ctx *c, const char *key, char *value,
                            bool (*item)(struct parse_ctx *, const char *, char *))
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(value, ", \t", &save); t;
         t = strtok_r(NULL, ", \t", &save)) {
        if (!item(c, key, t))
            return 0;
        n++;
    }
    return n;
}

static bool program_item(struct parse_ctx *c, const char *key, char *t)
{
    (void)key;
    struct sf_rule *r = c->rule;
    char **v = parse_grow(c, r->programs, r->nprograms + 1, sizeof *v);
    if (!v)
        return false;
    r->programs = v;
    r->programs_line = c->lineno;
    if (!(v[r->nprograms] = strdup(t))) {
        c->oom = true;
        return false;
    }
    r->nprograms++;
    return true;
}

static bool port_item(struct parse_ctx *c, const char *key, char *t)
{
    char q[64];
    uint64_t lo, hi;
    char *dash = strchr(t, '-');
    int r1, r2;
    if (dash) {
        *dash = '\0';
        r1 = sf_parse_uint(t, 65535, &lo);
        r2 = sf_parse_uint(dash + 1, 65535, &hi);
        *dash = '-';
    } else {
        r1 = r2 = sf_parse_uint(t, 65535, &lo);
        hi = lo;
    }
    if (r1 == -1 || r2 == -1) {
        ERROR(c, c->lineno, "%s: %s is not a port or a range of ports (8080, 9000-9100)", key,
              sf_quote(t, q, sizeof q));
        return false;
    }
    if (r1 == -2 || r2 == -2 || lo < 1 || hi < 1) {
        ERROR(c, c->lineno, "%s: %s is out of range (1..65535)", key, sf_quote(t, q, sizeof q));
        return false;
    }
    if (lo > hi) {
        ERROR(c, c->lineno, "%s: %s is an empty range", key, sf_quote(t, q, sizeof q));
        return false;
    }
    struct sf_rule *r = c->rule;
    struct sf_port_range *v = parse_grow(c, r->ports, r->nports + 1, sizeof *v);
    if (!v)
        return false;
    r->ports = v;
    v[r->nports++] = (struct sf_port_range){(uint16_t)lo, (uint16_t)hi};
    return true;
}

struct word {
    const char *name;
    unsigned bit;
};

static bool word_item(struct parse_ctx *c, const char *key, char *t, const struct word *words,
                      size_t nwords, unsigned *mask)
{
    char q[64];
    for (size_t i = 0; i < nwords; i++) {
        if (strcmp(t, words[i].name) == 0) {
            *mask |= words[i].bit;
            return true;
        }
    }
    ERROR(c, c->lineno, "%s: %s is not one of %s, %s", key, sf_quote(t, q, sizeof q), words[0].name,
          words[1].name);
    return false;
}

static bool role_item(struct parse_ctx *c, const char *key, char *t)
{
    static const struct word w[] = {{"server", SF_ROLE_SERVER}, {"client", SF_ROLE_CLIENT}};
    return word_item(c, key, t, w, 2, &c->rule->roles);
}

static bool family_item(struct parse_ctx *c, const char *key, char *t)
{
    static const struct word w[] = {{"ipv4", SF_FAMILY_IPV4}, {"ipv6", SF_FAMILY_IPV6}};
    return word_item(c, key, t, w, 2, &c->rule->families);
}

static bool type_item(struct parse_ctx *c, const char *key, char *t)
{
    static const struct word w[] = {{"tcp", SF_TYPE_TCP}, {"udp", SF_TYPE_UDP}};
    return word_item(c, key, t, w, 2, &c->rule->types);
}

/* 10.1.0.0/16, 192.0.2.7 (a /32), 2001:db8::/32, ::ffff:10.0.0.0/104 (v4-mapped:
 * taken as the IPv4 network it maps). */
static bool address_item(struct parse_ctx *c, const char *key, char *t)
{
    char q[64];
    struct sf_cidr cidr = {0};
    char *slash = strchr(t, '/');
    if (slash)
        *slash = '\0';
    unsigned max;
    uint8_t buf[16];
    if (inet_pton(AF_INET, t, buf) == 1) {
        cidr.family = SF_FAMILY_IPV4;
        memcpy(cidr.addr, buf, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, t, buf) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(buf, mapped, 12) == 0) {
            cidr.family = SF_FAMILY_IPV4;
            memcpy(cidr.addr, buf + 12, 4);
            max = 32;
        } else {
            cidr.family = SF_FAMILY_IPV6;
            memcpy(cidr.addr, buf, 16);
            max = 128;
        }
    } else {
        if (slash)
            *slash = '/';
        ERROR(c, c->lineno, "%s: %s is not an address or network (10.1.0.0/16, 2001:db8::/32)", key,
              sf_quote(t, q, sizeof q));
        return false;
    }
    uint64_t prefix = max;
    if (slash) {
        *slash = '/';
        bool mapped_prefix = cidr.family == SF_FAMILY_IPV4 && strchr(t, ':');
        uint64_t limit = mapped_prefix ? 128 : max;
        if (sf_parse_uint(slash + 1, limit, &prefix) != 0 || (mapped_prefix && prefix < 96)) {
            ERROR(c, c->lineno, "%s: %s has a bad prefix length (0..%u)", key,
                  sf_quote(t, q, sizeof q), (unsigned)limit);
            return false;
        }
        if (mapped_prefix)
            prefix -= 96;
    }
    cidr.prefix = (uint8_t)prefix;
    struct sf_rule *r = c->rule;
    struct sf_cidr *v = parse_grow(c, r->addrs, r->naddrs + 1, sizeof *v);
    if (!v)
        return false;
    r->addrs = v;
    v[r->naddrs++] = cidr;
    return true;
}

static void match_key(struct parse_ctx *c, enum match_key k, const char *value)
{
    static bool (*const item[M_COUNT])(struct parse_ctx *, const char *, char *) = {
        program_item, port_item, role_item, family_item, type_item, address_item};
    if (duplicate_key(c, &c->match_line[k], match_keys[k]))
        return;
    char *copy = strdup(value);
    if (!copy) {
        c->oom = true;
        return;
    }
    size_t nerr = c->p->nerrors;
    if (k == M_TYPE)
        c->rule->types = 0;
    size_t n = for_each_item(c, match_keys[k], copy, item[k]);
    free(copy);
    if (n == 0 && c->p->nerrors == nerr && !c->oom)
        ERROR(c, c->lineno, "%s: empty match list", match_keys[k]);
    if (k == M_TYPE && c->rule->types == 0)
        c->rule->types = SF_TYPE_TCP; /* keep the rule consistent after an error */
}

/* Keeps a name option's value in the policy's name table. */
static int add_name(struct parse_ctx *c, const char *name, int32_t *index)
{
    struct sf_policy *p = c->p;
    for (size_t i = 0; i < p->nnames; i++) {
        if (strcmp(p->names[i], name) == 0) {
            *index = (int32_t)i;
            return 0;
        }
    }
    char(*v)[SF_NAME_MAX + 1] = parse_grow(c, p->names, p->nnames + 1, sizeof *v);
    if (!v)
        return -1;
    p->names = v;
    snprintf(v[p->nnames], sizeof v[p->nnames], "%s", name);
    *index = (int32_t)p->nnames++;
    return 0;
}

void parse_rule_key(struct parse_ctx *c, const char *name, const char *value)
{
    char q[64], err[ERRLEN];
    for (int k = 0; k < M_COUNT; k++) {
        if (strcmp(name, match_keys[k]) == 0) {
            match_key(c, (enum match_key)k, value);
            return;
        }
    }
    bool dscp = strcmp(name, "dscp") == 0; /* another way to write tos */
    const struct sf_option *o = dscp ? &sf_options[SF_OPT_TOS] : sf_option_by_key(name);
    if (!o) {
        ERROR(c, c->lineno, "unknown key %s in [%s]", sf_quote(name, q, sizeof q), c->rule->name);
        return;
    }
    int id = (int)(o - sf_options);
    struct sf_rule *r = c->rule;
    if (id == SF_OPT_TOS && r->value_line[id] && dscp != (c->rule_dscp_line != 0)) {
        ERROR(c, c->lineno, "%s: tos and dscp set the same option (first set on line %u)", name,
              r->value_line[id]);
        return;
    }
    if (duplicate_key(c, &r->value_line[id], name))
        return;
    int rc;
    if (dscp) {
        uint64_t v;
        rc = sf_parse_dscp(value, &v);
        if (rc == 0)
            r->value[id] = (int32_t)(v << 2);
        else
            snprintf(err, sizeof err, "%s is not a DSCP (ef, af11..af43, cs0..cs7, le, or 0..63)",
                     sf_quote(value, q, sizeof q));
        c->rule_dscp_line = c->lineno;
    } else {
        rc = sf_parse_option_value(o, value, &r->value[id], err, sizeof err);
    }
    if (rc == 0 && o->kind == SF_VAL_NAME)
        rc = add_name(c, value, &r->value[id]);
    if (rc != 0) {
        if (!c->oom)
            ERROR(c, c->lineno, "%s: %s", name, err);
        r->value_line[id] = 0; /* not set; a later check must not blame it */
        return;
    }
    r->set |= SF_OPT_BIT(id);
}
