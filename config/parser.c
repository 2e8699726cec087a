/* The policy language's reader: lines, sections and the checks made when a
 * rule ends, over inih; the keys are read in parser_keys.c. */
#include "parser.h"

#include <ctype.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

#define MAX_SECTION_NAME 49 /* inih keeps 50 bytes of a section name */

void *parse_grow(struct parse_ctx *c, void *ptr, size_t n, size_t size)
{
    void *q = reallocarray(ptr, n, size);
    if (!q)
        c->oom = true;
    return q;
}

static void append_error(struct sf_policy *p, bool *oom, unsigned line, const char *buf);

void parse_error(struct sf_policy *p, bool *oom, unsigned line, const char *fmt, ...)
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

void parse_warning(struct parse_ctx *c, unsigned line, size_t rule, const char *msg)
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
    parse_warning(c, r->value_line[SF_OPT_KEEPALIVE], (size_t)(r - c->p->rules), msg);
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
        struct sf_rule *rules = parse_grow(c, p->rules, cap, sizeof *rules);
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
        parse_global_key(c, name, value);
    else
        parse_rule_key(c, name, value);
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
        for (size_t i = 0; i < p->nrules; i++) {
            p->active[i] = i;
            p->active_set |= p->rules[i].set;
        }
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
    parse_error(p, &oom, 0, "%s", message);
    if (oom) {
        sf_policy_free(p);
        return NULL;
    }
    return p;
}
