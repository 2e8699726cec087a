/* The policy object: its values by name, their encoding for setsockopt,
 * its messages, and freeing it. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "index.h"
#include "values.h"

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
