#include "policy.h"

#include <ctype.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <arpa/inet.h>
#include <ini.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "values.h"

#define GLOBAL_SECTION "sockfix"
#define MAX_SECTION_NAME 49 /* inih keeps 50 bytes of a section name */
#define ERRLEN 256

enum match_key { M_PROGRAM, M_PORT, M_ROLE, M_FAMILY, M_TYPE, M_ADDRESS, M_COUNT };
static const char *const match_keys[M_COUNT] = {"match.program", "match.port", "match.role",
                                                "match.family",  "match.type", "match.address"};
enum global_key { G_LOG, G_STRICT, G_PRECEDENCE, G_LOG_TARGET, G_COUNT };
static const char *const global_keys[G_COUNT] = {"log", "strict", "precedence", "log_target"};

struct name_index { /* open addressing, for duplicate sections in O(1) */
    size_t *slot;   /* rule index + 1; 0 = empty */
    size_t cap;
};

struct parse_ctx {
    struct sf_policy *p;
    const char *pos, *end;
    unsigned lineno;
    bool key_pending; /* the current line must reach the handler */
    bool key_handled;
    bool have_section;
    bool skip_section; /* its header was bad or repeated: its keys are not read */
    bool in_global;
    bool global_seen;
    struct sf_rule *rule;
    unsigned match_line[M_COUNT];
    unsigned global_line[G_COUNT];
    struct name_index names;
    size_t rules_cap;
    unsigned stopped_at;     /* the last line read when too many errors stopped the parser */
    unsigned rule_dscp_line; /* the current rule's tos came from a dscp key */
    bool oom;
};

static void *grow(struct parse_ctx *c, void *ptr, size_t n, size_t size)
{
    void *q = reallocarray(ptr, n, size);
    if (!q)
        c->oom = true;
    return q;
}

static void add_error_at(struct sf_policy *p, bool *oom, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append_error(struct sf_policy *p, bool *oom, unsigned line, const char *buf);

static void add_error_at(struct sf_policy *p, bool *oom, unsigned line, const char *fmt, ...)
{
    if (p->nerrors >= SF_MAX_ERRORS) /* the parser stops; see read_line */
        return;
    char buf[ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    append_error(p, oom, line, buf);
}

/* Appends a copy of msg to a list of errors or warnings. */
static void append_to(struct sf_error **list, size_t *n, bool *oom, struct sf_error e)
{
    struct sf_error *v = reallocarray(*list, *n + 1, sizeof *v);
    if (v)
        *list = v;
    if (!v || !(e.message = strdup(e.message))) {
        *oom = true;
        return;
    }
    v[(*n)++] = e;
}

static void append_error(struct sf_policy *p, bool *oom, unsigned line, const char *buf)
{
    append_to(&p->errors, &p->nerrors, oom,
              (struct sf_error){.line = line, .message = (char *)buf});
}

#define ERROR(c, line, ...) add_error_at((c)->p, &(c)->oom, (line), __VA_ARGS__)

static void add_warning(struct parse_ctx *c, unsigned line, size_t rule, const char *msg)
{
    append_to(&c->p->warnings, &c->p->nwarnings, &c->oom,
              (struct sf_error){.line = line, .message = (char *)msg, .rule = rule});
}

/* ---- section names ---- */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Index of a rule with this name, or -1. */
static long find_rule(const struct parse_ctx *c, const char *name)
{
    if (!c->names.cap)
        return -1;
    for (size_t i = hash_name(name) & (c->names.cap - 1);; i = (i + 1) & (c->names.cap - 1)) {
        size_t s = c->names.slot[i];
        if (!s)
            return -1;
        if (strcmp(c->p->rules[s - 1].name, name) == 0)
            return (long)(s - 1);
    }
}

static int index_rule(struct parse_ctx *c, size_t idx)
{
    if ((c->p->nrules + 1) * 2 > c->names.cap) {
        size_t cap = c->names.cap ? c->names.cap * 2 : 64;
        size_t *slot = calloc(cap, sizeof *slot);
        if (!slot) {
            c->oom = true;
            return -1;
        }
        for (size_t i = 0; i < c->names.cap; i++) {
            size_t s = c->names.slot[i];
            if (!s)
                continue;
            size_t j = hash_name(c->p->rules[s - 1].name) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = s;
        }
        free(c->names.slot);
        c->names.slot = slot;
        c->names.cap = cap;
    }
    size_t j = hash_name(c->p->rules[idx].name) & (c->names.cap - 1);
    while (c->names.slot[j])
        j = (j + 1) & (c->names.cap - 1);
    c->names.slot[j] = idx + 1;
    return 0;
}

static bool valid_section_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.' && *s != ':' &&
            *s != '@' && *s != '/' && *s != '+')
            return false;
    return true;
}

/* ---- rule checks when a section ends ---- */

static const char *type_names(unsigned types)
{
    return types == SF_TYPE_UDP ? "udp" : types == SF_TYPE_TCP ? "tcp" : "tcp, udp";
}

/* keepalive = no drops the timers (see match.c): in the same rule they
 * cannot have been meant. */
static void warn_timers_without_keepalive(struct parse_ctx *c, const struct sf_rule *r)
{
    uint32_t ka = SF_OPT_BIT(SF_OPT_KEEPALIVE);
    if ((r->set & ka) == 0 || r->value[SF_OPT_KEEPALIVE] || !(r->set & SF_KEEPALIVE_TIMERS))
        return;
    char msg[ERRLEN];
    size_t n = (size_t)snprintf(msg, sizeof msg,
                                "keepalive = no switches keepalive off and drops the timers this "
                                "rule also sets (");
    const char *sep = "";
    for (int t = SF_OPT_KEEPIDLE; t <= SF_OPT_KEEPCNT; t++) {
        if (r->set & SF_OPT_BIT(t)) {
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s line %u", sep, sf_options[t].key,
                                  r->value_line[t]);
            sep = ", ";
        }
    }
    snprintf(msg + n, sizeof msg - n, "): they have no effect");
    add_warning(c, r->value_line[SF_OPT_KEEPALIVE], (size_t)(r - c->p->rules), msg);
}

static void finish_rule(struct parse_ctx *c)
{
    struct sf_rule *r = c->rule;
    c->rule_dscp_line = 0;
    if (!r)
        return;
    warn_timers_without_keepalive(c, r);
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        if (!(r->set & SF_OPT_BIT(i)))
            continue;
        if (!(o->types & r->types))
            ERROR(c, r->value_line[i], "%s applies to %s sockets only; this rule matches %s",
                  o->key, type_names(o->types), type_names(r->types));
        else if (r->roles && !(o->roles & r->roles))
            ERROR(c, r->value_line[i], "%s applies to %s sockets only; this rule matches %s",
                  o->key, o->roles == SF_ROLE_SERVER ? "server" : "client",
                  r->roles == SF_ROLE_SERVER ? "server" : "client");
        else if (o->families && r->families && !(o->families & r->families))
            ERROR(c, r->value_line[i], "%s applies to %s sockets only; this rule matches %s",
                  o->key, o->families == SF_FAMILY_IPV6 ? "ipv6" : "ipv4",
                  r->families == SF_FAMILY_IPV6 ? "ipv6" : "ipv4");
    }
    c->rule = NULL;
}

static void finish_section(struct parse_ctx *c)
{
    finish_rule(c);
    memset(c->match_line, 0, sizeof c->match_line);
    c->in_global = false;
    c->skip_section = false;
}

/* ---- lines ---- */

/* The handler sees only name = value lines; a content line it never saw was
 * a syntax error in inih's eyes. */
static void check_previous_line(struct parse_ctx *c)
{
    if (c->key_pending && !c->key_handled)
        ERROR(c, c->lineno, "expected \"key = value\" or \"[section]\"");
    c->key_pending = false;
}

/* Returns the position of ']' in a header, or NULL; like inih, an inline
 * comment (";" after white space) ends the search. */
static char *header_end(char *s)
{
    for (char *q = s + 1; *q; q++) {
        if (*q == ']')
            return q;
        if (*q == ';' && isspace((unsigned char)q[-1]))
            return NULL;
    }
    return NULL;
}

static void start_section(struct parse_ctx *c, char *line)
{
    char *close = header_end(line);
    finish_section(c);
    c->have_section = true;
    c->skip_section = true; /* until the header proves good */
    if (!close) {
        ERROR(c, c->lineno, "section header without \"]\"");
        return;
    }
    for (char *t = close + 1; *t && *t != ';' && *t != '#'; t++) {
        if (!isspace((unsigned char)*t)) {
            ERROR(c, c->lineno, "unexpected text after the section header");
            return;
        }
    }
    char *name = line + 1;
    while (isspace((unsigned char)*name))
        name++;
    char *e = close;
    while (e > name && isspace((unsigned char)e[-1]))
        e--;
    *e = '\0';
    char q[80];
    if (!valid_section_name(name)) {
        ERROR(c, c->lineno, "invalid section name %s (use letters, digits and - _ . : @ / +)",
              sf_quote(name, q, sizeof q));
        return;
    }
    if (strlen(name) > MAX_SECTION_NAME) {
        ERROR(c, c->lineno, "section name %s is longer than %d characters",
              sf_quote(name, q, sizeof q), MAX_SECTION_NAME);
        return;
    }
    if (strcmp(name, GLOBAL_SECTION) == 0) {
        if (c->global_seen) {
            ERROR(c, c->lineno, "duplicate section [%s]", GLOBAL_SECTION);
            return;
        }
        c->global_seen = true;
        c->in_global = true;
        c->skip_section = false;
        return;
    }
    long prev = find_rule(c, name);
    if (prev >= 0) {
        ERROR(c, c->lineno, "duplicate section [%s] (first on line %u)", name,
              c->p->rules[prev].line);
        return;
    }
    struct sf_policy *p = c->p;
    if (p->nrules == c->rules_cap) { /* doubling: 10 000 rules load in linear time */
        size_t cap = c->rules_cap ? c->rules_cap * 2 : 16;
        struct sf_rule *rules = grow(c, p->rules, cap, sizeof *rules);
        if (!rules)
            return;
        p->rules = rules;
        c->rules_cap = cap;
    }
    struct sf_rule *r = &p->rules[p->nrules];
    memset(r, 0, sizeof *r);
    r->name = strdup(name);
    if (!r->name) {
        c->oom = true;
        return;
    }
    r->line = c->lineno;
    r->types = SF_TYPE_TCP;
    p->nrules++;
    if (index_rule(c, p->nrules - 1) != 0)
        return;
    c->rule = r;
    c->skip_section = false;
}

static char *read_line(char *str, int num, void *stream)
{
    struct parse_ctx *c = stream;
    check_previous_line(c);
    if (c->pos >= c->end || c->oom)
        return NULL;
    if (c->p->nerrors >= SF_MAX_ERRORS) {
        c->stopped_at = c->lineno;
        return NULL;
    }
    const char *nl = memchr(c->pos, '\n', (size_t)(c->end - c->pos));
    const char *line_end = nl ? nl : c->end;
    size_t n = (size_t)(line_end - c->pos);
    const char *start = c->pos;
    c->pos = nl ? nl + 1 : c->end;
    c->lineno++;
    str[0] = '\0';
    if (memchr(start, '\0', n)) {
        ERROR(c, c->lineno, "NUL byte in line");
        return str;
    }
    if (n + 3 > (size_t)num) { /* inih needs room for "\r\n\0" */
        ERROR(c, c->lineno, "line is too long (%zu characters; at most %d)", n, num - 3);
        return str;
    }
    memcpy(str, start, n);
    str[n] = '\0';

    char *s = str;
    if (c->lineno == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '\0' || *s == ';' || *s == '#')
        return str;
    if (*s == '[') { /* sections are tracked here, with their lines: inih needs none */
        start_section(c, s);
        str[0] = '\0';
        return str;
    }
    c->key_pending = true;
    c->key_handled = false;
    return str;
}

/* ---- keys ---- */

static bool duplicate_key(struct parse_ctx *c, unsigned *seen_line, const char *name)
{
    if (*seen_line) {
        ERROR(c, c->lineno, "duplicate key \"%s\" (first set on line %u)", name, *seen_line);
        return true;
    }
    *seen_line = c->lineno;
    return false;
}

static void global_key(struct parse_ctx *c, const char *name, const char *value)
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
    char **v = grow(c, r->programs, r->nprograms + 1, sizeof *v);
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
    struct sf_port_range *v = grow(c, r->ports, r->nports + 1, sizeof *v);
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
    struct sf_cidr *v = grow(c, r->addrs, r->naddrs + 1, sizeof *v);
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
    char(*v)[SF_NAME_MAX + 1] = grow(c, p->names, p->nnames + 1, sizeof *v);
    if (!v)
        return -1;
    p->names = v;
    snprintf(v[p->nnames], sizeof v[p->nnames], "%s", name);
    *index = (int32_t)p->nnames++;
    return 0;
}

static void rule_key(struct parse_ctx *c, const char *name, const char *value)
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

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* the reader tracks sections, with their line numbers */
    struct parse_ctx *c = user;
    c->key_handled = true;
    if (c->skip_section || c->oom)
        return 1;
    if (!c->have_section) {
        char q[64];
        ERROR(c, c->lineno, "key %s outside of a section", sf_quote(name, q, sizeof q));
        return 1;
    }
    if (c->in_global)
        global_key(c, name, value);
    else
        rule_key(c, name, value);
    return 1;
}

/* ---- the whole file ---- */

static struct sf_policy *policy_new(const char *source)
{
    struct sf_policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->log_level = SF_LOG_WARN;
    p->source = strdup(source ? source : "(policy)");
    if (!p->source) {
        free(p);
        return NULL;
    }
    return p;
}

struct sf_policy *sf_policy_parse(const char *text, size_t len, const char *source)
{
    struct sf_policy *p = policy_new(source);
    if (!p)
        return NULL;
    struct parse_ctx c = {.p = p, .pos = text, .end = text + len};
    /* inih's continuation lines would turn indented keys into values of the
     * key above; a policy has no multi-line values. */
    ini_allow_multiline = false;
    int r = ini_parse_stream(read_line, &c, on_key, &c);
    finish_section(&c);
    free(c.names.slot);
    if (r > 0) { /* inih saw an error we did not name: never let it pass */
        bool named = false;
        for (size_t i = 0; i < p->nerrors; i++)
            named |= p->errors[i].line == (unsigned)r;
        if (!named)
            ERROR(&c, (unsigned)r, "syntax error");
    }
    if (r == -2 || c.oom) {
        sf_policy_free(p);
        return NULL;
    }
    /* Errors are collected as found; report them in line order. */
    for (size_t i = 1; i < p->nerrors; i++) { /* insertion sort keeps equal lines in order */
        struct sf_error e = p->errors[i];
        size_t j = i;
        while (j > 0 && p->errors[j - 1].line > e.line) {
            p->errors[j] = p->errors[j - 1];
            j--;
        }
        p->errors[j] = e;
    }
    if (c.stopped_at) {
        char msg[ERRLEN];
        snprintf(msg, sizeof msg, "too many errors (%d); stopped reading after line %u",
                 SF_MAX_ERRORS, c.stopped_at);
        append_error(p, &c.oom, 0, msg);
        if (c.oom) {
            sf_policy_free(p);
            return NULL;
        }
    }
    if (p->nerrors == 0) { /* a policy with errors applies no rule at all */
        p->active = calloc(p->nrules ? p->nrules : 1, sizeof *p->active);
        if (!p->active) {
            sf_policy_free(p);
            return NULL;
        }
        for (size_t i = 0; i < p->nrules; i++)
            p->active[i] = i;
        p->nactive = p->nrules;
    }
    return p;
}

struct sf_policy *sf_policy_failed(const char *source, const char *message)
{
    struct sf_policy *p = policy_new(source);
    if (!p)
        return NULL;
    bool oom = false;
    add_error_at(p, &oom, 0, "%s", message);
    if (oom) {
        sf_policy_free(p);
        return NULL;
    }
    return p;
}

/* fnmatch, with the common literal and "prefix*" globs done directly:
 * selecting among 10 000 rules stays well under a millisecond. */
static bool glob_matches(const char *glob, const char *name)
{
    size_t special = strcspn(glob, "*?[\\");
    if (glob[special] == '\0' || (glob[special] == '*' && glob[special + 1] == '\0'))
        return sf_simple_glob_matches(glob, (unsigned)special, glob[special] == '*', name);
    return fnmatch(glob, name, 0) == 0;
}

static bool rule_matches_program(const struct sf_rule *r, const char *const *names, size_t n)
{
    if (r->nprograms == 0)
        return true;
    for (size_t g = 0; g < r->nprograms; g++)
        for (size_t i = 0; i < n; i++)
            if (names[i] && names[i][0] && glob_matches(r->programs[g], names[i]))
                return true;
    return false;
}

int sf_policy_select_program(struct sf_policy *p, const char *const *names, size_t nnames)
{
    if (p->nerrors) /* no rule is active in a policy with errors */
        return 0;
    size_t k = 0;
    for (size_t idx = 0; idx < p->nrules; idx++)
        if (rule_matches_program(&p->rules[idx], names, nnames))
            p->active[k++] = idx;
    p->nactive = k;
    p->active_set = 0;
    for (size_t i = 0; i < p->nactive; i++)
        p->active_set |= p->rules[p->active[i]].set;
    return sf_index_build(p);
}

const char *sf_policy_name(const struct sf_policy *p, int32_t value)
{
    return value >= 0 && (size_t)value < p->nnames ? p->names[value] : "?";
}

void sf_policy_format_value(const struct sf_policy *p, const struct sf_option *opt, int32_t value,
                            char *buf, size_t len)
{
    if (opt->kind != SF_VAL_NAME) {
        sf_format_option_value(opt, value, buf, len);
    } else if (len > 0) { /* no stdio: the library formats values in its hooks */
        size_t n = strnlen(sf_policy_name(p, value), len - 1);
        memcpy(buf, sf_policy_name(p, value), n);
        buf[n] = '\0';
    }
}

size_t sf_policy_encode_value(const struct sf_policy *p, const struct sf_option *opt, int32_t v,
                              unsigned char buf[SF_VALUE_BYTES])
{
    if (opt->kind == SF_VAL_NAME) {
        const char *s = sf_policy_name(p, v);
        size_t n = strnlen(s, SF_NAME_MAX);
        memcpy(buf, s, n);
        return n;
    }
    if (opt->kind == SF_VAL_LINGER) {
        struct linger lg = {.l_onoff = v >= 0, .l_linger = v >= 0 ? v : 0};
        memcpy(buf, &lg, sizeof lg);
        return sizeof lg;
    }
    int i = v;
    memcpy(buf, &i, sizeof i);
    return sizeof i;
}

void sf_error_format(const struct sf_policy *p, const struct sf_error *e, char *buf, size_t len)
{
    char source[256]; /* a path from the environment may hold control characters */
    sf_escape(p->source, source, sizeof source);
    if (e->line)
        snprintf(buf, len, "%s:%u: %s", source, e->line, e->message);
    else
        snprintf(buf, len, "%s: %s", source, e->message);
}

void sf_policy_free(struct sf_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nrules; i++) {
        struct sf_rule *r = &p->rules[i];
        for (size_t g = 0; g < r->nprograms; g++)
            free(r->programs[g]);
        free(r->programs);
        free(r->ports);
        free(r->addrs);
        free(r->name);
    }
    for (size_t i = 0; i < p->nerrors; i++)
        free(p->errors[i].message);
    free(p->errors);
    for (size_t i = 0; i < p->nwarnings; i++)
        free(p->warnings[i].message);
    free(p->warnings);
    sf_index_free(p->index);
    free(p->rules);
    free(p->active);
    free(p->names);
    free(p->source);
    free(p);
}

static const char *const level_names[] = {"off", "error", "warn", "info", "debug"};

int sf_log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

static bool in_word_list(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *q = list; (q = strstr(q, word)); q += n)
        if ((q == list || isspace((unsigned char)q[-1])) &&
            (q[n] == '\0' || isspace((unsigned char)q[n])))
            return true;
    return false;
}

void sf_policy_check_congestion(const struct sf_policy *p, const char *available,
                                void (*emit)(const char *line, void *arg), void *arg)
{
    char avail[256], q[64], line[1024];
    snprintf(avail, sizeof avail, "%s", available);
    avail[strcspn(avail, "\n")] = '\0';
    for (size_t i = 0; i < p->nactive; i++) {
        const struct sf_rule *r = &p->rules[p->active[i]];
        if (!(r->set & SF_OPT_BIT(SF_OPT_CONGESTION)))
            continue;
        const char *name = sf_policy_name(p, r->value[SF_OPT_CONGESTION]);
        if (in_word_list(name, avail))
            continue;
        char source[256];
        sf_escape(p->source, source, sizeof source);
        snprintf(line, sizeof line,
                 "%s:%u: congestion: %s is not available on this kernel (available: %s); "
                 "setting it will fail",
                 source, r->value_line[SF_OPT_CONGESTION], sf_quote(name, q, sizeof q), avail);
        emit(line, arg);
    }
}

int sf_log_target_parse(const char *s, enum sf_log_target *target, char path[SF_LOG_PATH_MAX],
                        char *err, size_t errlen)
{
    char q[64];
    const char *file = strncmp(s, "file:", 5) == 0 ? s + 5 : NULL;
    const char *sock = strncmp(s, "syslog:", 7) == 0 ? s + 7 : NULL;
    if (strcmp(s, "stderr") == 0) {
        *target = SF_LOG_TO_STDERR;
        path[0] = '\0';
        return 0;
    }
    if (strcmp(s, "syslog") == 0) {
        *target = SF_LOG_TO_SYSLOG;
        snprintf(path, SF_LOG_PATH_MAX, "/dev/log");
        return 0;
    }
    const char *where = file ? file : sock;
    if (!where) {
        snprintf(err, errlen, "%s is not stderr, syslog, syslog:/SOCKET or file:/PATH",
                 sf_quote(s, q, sizeof q));
        return -1;
    }
    if (where[0] != '/' || strlen(where) >= SF_LOG_PATH_MAX) {
        snprintf(err, errlen, "%s needs an absolute path (at most %d characters)",
                 sf_quote(s, q, sizeof q), SF_LOG_PATH_MAX - 1);
        return -1;
    }
    *target = file ? SF_LOG_TO_FILE : SF_LOG_TO_SYSLOG;
    snprintf(path, SF_LOG_PATH_MAX, "%s", where);
    return 0;
}

void sf_policy_check_buffers(const struct sf_policy *p, long rmem_max, long wmem_max,
                             void (*emit)(const char *line, void *arg), void *arg)
{
    static const struct {
        int id;
        const char *sysctl;
    } buffers[] = {{SF_OPT_RCVBUF, "net.core.rmem_max"}, {SF_OPT_SNDBUF, "net.core.wmem_max"}};
    char source[256], value[32], line[512];
    sf_escape(p->source, source, sizeof source);
    for (size_t i = 0; i < p->nactive; i++) {
        const struct sf_rule *r = &p->rules[p->active[i]];
        for (int b = 0; b < 2; b++) {
            int id = buffers[b].id;
            long max = b == 0 ? rmem_max : wmem_max;
            if (!(r->set & SF_OPT_BIT(id)) || max <= 0 || r->value[id] <= max)
                continue;
            sf_format_option_value(&sf_options[id], r->value[id], value, sizeof value);
            snprintf(line, sizeof line, "%s:%u: %s: %s is above %s (%ld bytes); the kernel caps it",
                     source, r->value_line[id], sf_options[id].key, value, buffers[b].sysctl, max);
            emit(line, arg);
        }
    }
}

void sf_policy_emit_warnings(const struct sf_policy *p, bool active_only,
                             void (*emit)(const char *line, void *arg), void *arg)
{
    char line[512];
    for (size_t w = 0; w < p->nwarnings; w++) {
        bool active = !active_only;
        for (size_t i = 0; i < p->nactive && !active; i++)
            active = p->active[i] == p->warnings[w].rule;
        if (!active)
            continue;
        sf_error_format(p, &p->warnings[w], line, sizeof line);
        emit(line, arg);
    }
}

int sf_precedence_parse(const char *s)
{
    return strcmp(s, "program") == 0  ? SF_PRECEDENCE_PROGRAM
           : strcmp(s, "policy") == 0 ? SF_PRECEDENCE_POLICY
                                      : -1;
}

const char *sf_log_level_name(enum sf_log_level level)
{
    return level_names[level];
}
