#include "flat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "values.h"

static int add_issue(struct sf_flat *f, bool error, const struct sf_policy *p, unsigned line,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add_issue(struct sf_flat *f, bool error, const struct sf_policy *p, unsigned line,
                     const char *fmt, ...)
{
    struct sf_flat_issue *v = reallocarray(f->issues, f->nissues + 1, sizeof *v);
    if (!v)
        return -1;
    f->issues = v;
    struct sf_flat_issue *i = &v[f->nissues++];
    char source[200], text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sf_escape(p->source, source, sizeof source);
    if (line)
        snprintf(i->message, sizeof i->message, "%s:%u: %s", source, line, text);
    else
        snprintf(i->message, sizeof i->message, "%s: %s", source, text);
    i->error = error;
    f->nerrors += error;
    return 0;
}

/* The option table, as the kernel programs read it. */
static void compile_config(const struct sf_policy *p, struct sf_flat_config *c)
{
    c->precedence = p->precedence;
    for (int client = 0; client < 2; client++)
        for (int udp = 0; udp < 2; udp++)
            c->applicable[client][udp] = sf_options_applicable(
                udp ? SF_TYPE_UDP : SF_TYPE_TCP, client ? SF_ROLE_CLIENT : SF_ROLE_SERVER);
    for (unsigned fam = SF_FAMILY_IPV4; fam <= SF_FAMILY_IPV6; fam++)
        c->family_options[fam] = sf_options_for_family(fam);
    c->inherited = sf_options_inherited();
    c->not_inherited = sf_options_not_inherited();
    for (int k = 0; k < SF_OPT_COUNT; k++)
        c->apply_order[k] = (uint8_t)sf_apply_order[k];
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        c->options[i] = (struct sf_flat_option){
            .level = o->level,
            .name = o->optname,
            .level6 = o->optname6 ? o->level6 : o->level,
            .name6 = o->optname6 ? o->optname6 : o->optname,
            .kind = (uint8_t)o->kind,
            .attachable = o->attachable,
            .phase = (uint16_t)o->phase,
        };
    }
}

/* A program glob of the kinds the kernel evaluates; -1 for the others. */
static int compile_glob(const char *glob, struct sf_flat_glob *g, size_t *cut)
{
    size_t special = strcspn(glob, "*?[\\");
    bool prefix = glob[special] == '*' && glob[special + 1] == '\0';
    if (glob[special] != '\0' && !prefix)
        return -1;
    *cut = special > SF_FLAT_NAME - 1 ? special : 0;
    size_t len = special > SF_FLAT_NAME - 1 ? SF_FLAT_NAME - 1 : special;
    memset(g, 0, sizeof *g);
    memcpy(g->text, glob, len);
    g->len = (uint8_t)len;
    g->prefix = prefix || *cut; /* a longer name is matched by the first 15 characters */
    return 0;
}

static int compile_programs(const struct sf_policy *p, const struct sf_rule *r,
                            struct sf_flat_rule *fr, unsigned line, struct sf_flat *f)
{
    char q[64];
    if (r->nprograms > SF_FLAT_MAX_PROGRAMS)
        return add_issue(f, true, p, line,
                         "match.program: sockfix attach takes at most %d globs in a rule "
                         "(this one has %zu)",
                         SF_FLAT_MAX_PROGRAMS, r->nprograms);
    for (size_t g = 0; g < r->nprograms; g++) {
        size_t cut;
        if (compile_glob(r->programs[g], &fr->programs[g], &cut) != 0) {
            if (add_issue(f, true, p, line,
                          "match.program: %s is a glob the kernel cannot evaluate: sockfix "
                          "attach takes a name, or a name followed by * (the library takes it)",
                          sf_quote(r->programs[g], q, sizeof q)) != 0)
                return -1;
        } else if (cut && add_issue(f, false, p, line,
                                    "match.program: %s is matched by its first %d characters "
                                    "(\"%.*s\"), the kernel's process name",
                                    sf_quote(r->programs[g], q, sizeof q), SF_FLAT_NAME - 1,
                                    SF_FLAT_NAME - 1, r->programs[g]) != 0) {
            return -1;
        }
    }
    fr->nprograms = (uint8_t)r->nprograms;
    return 0;
}

static int compile_rule(const struct sf_policy *p, size_t idx, struct sf_flat_rule *fr,
                        struct sf_flat *f)
{
    const struct sf_rule *r = &p->rules[idx];
    *fr = (struct sf_flat_rule){.index = (uint32_t)idx,
                                .set = r->set,
                                .types = (uint8_t)r->types,
                                .roles = (uint8_t)r->roles,
                                .families = (uint8_t)r->families};
    memcpy(fr->value, r->value, sizeof fr->value);
    if (r->nports > SF_FLAT_MAX_PORTS)
        return add_issue(
            f, true, p, r->line,
            "[%s]: sockfix attach takes at most %d ports or ranges in a rule (this one "
            "has %zu)",
            r->name, SF_FLAT_MAX_PORTS, r->nports);
    if (r->naddrs > SF_FLAT_MAX_ADDRS)
        return add_issue(f, true, p, r->line,
                         "[%s]: sockfix attach takes at most %d networks in a rule (this one has "
                         "%zu)",
                         r->name, SF_FLAT_MAX_ADDRS, r->naddrs);
    memcpy(fr->ports, r->ports, r->nports * sizeof *r->ports);
    memcpy(fr->addrs, r->addrs, r->naddrs * sizeof *r->addrs);
    fr->nports = (uint8_t)r->nports;
    fr->naddrs = (uint8_t)r->naddrs;
    if (compile_programs(p, r, fr, r->programs_line, f) != 0)
        return -1;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        if ((r->set & SF_OPT_BIT(i)) && !o->attachable &&
            add_issue(f, false, p, r->value_line[i],
                      "%s: the kernel does not let sockfix attach set %s; only the library "
                      "applies it",
                      o->key, o->optlabel) != 0)
            return -1;
    }
    return 0;
}

int sf_flat_compile(const struct sf_policy *p, struct sf_flat *out)
{
    memset(out, 0, sizeof *out);
    compile_config(p, &out->config);
    if (p->nrules > SF_FLAT_MAX_RULES)
        return add_issue(out, true, p, 0,
                         "sockfix attach takes at most %d rules (this policy has %zu)",
                         SF_FLAT_MAX_RULES, p->nrules);
    if (p->nnames > SF_FLAT_MAX_NAMES)
        return add_issue(out, true, p, 0,
                         "sockfix attach takes at most %d names of interfaces and congestion "
                         "controls (this policy has %zu)",
                         SF_FLAT_MAX_NAMES, p->nnames);
    for (size_t i = 0; i < p->nnames; i++)
        memcpy(out->config.names[i], p->names[i], SF_FLAT_NAME - 1);
    out->rules = calloc(p->nrules ? p->nrules : 1, sizeof *out->rules);
    if (!out->rules)
        return -1;
    for (size_t i = 0; i < p->nrules; i++) {
        if (compile_rule(p, i, &out->rules[i], out) != 0)
            return -1;
        out->config.set_anywhere |= p->rules[i].set;
        out->config.kinds |=
            sf_kinds_taken(p->rules[i].types, p->rules[i].roles, p->rules[i].families);
    }
    out->nrules = out->config.nrules = (uint32_t)p->nrules;
    return 0;
}

unsigned sf_flat_decide(const struct sf_flat *f, const struct sf_event *ev, const char *comm,
                        struct sf_decision *d)
{
    uint32_t applicable = sf_flat_applicable(&f->config, ev);
    char name[SF_FLAT_NAME] = "";
    if (comm)
        snprintf(name, sizeof name, "%s", comm);
    unsigned matched = 0;
    d->set = 0;
    uint32_t n = sf_flat_may_hold(&f->config, ev) ? f->nrules : 0;
    for (uint32_t i = 0; i < n; i++)
        matched += (unsigned)sf_flat_rule_step(&f->rules[i], ev, comm != NULL, name, applicable, d);
    sf_finish(d, sf_flat_family_options(&f->config, ev));
    return matched;
}

void sf_flat_free(struct sf_flat *f)
{
    free(f->rules);
    free(f->issues);
    memset(f, 0, sizeof *f);
}
