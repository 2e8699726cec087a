/* A policy compiled for the kernel programs of sockfix attach: fixed-size
 * records in BPF maps, read by attach/sockfix.bpf.c, which decides with the
 * same core as the library (decide.h). This header is shared by both sides,
 * so it holds fixed types only. */
#ifndef SOCKFIX_CONFIG_FLAT_H
#define SOCKFIX_CONFIG_FLAT_H

#include <stdbool.h>
#include <stdint.h>

#include "match.h"

#define SF_FLAT_MAX_RULES 1024
#define SF_FLAT_MAX_PORTS 32   /* ports or ranges in one rule */
#define SF_FLAT_MAX_ADDRS 16   /* networks in one rule */
#define SF_FLAT_MAX_PROGRAMS 8 /* program globs in one rule */
#define SF_FLAT_NAME 16        /* the kernel's process name (TASK_COMM_LEN), and a name value */
#define SF_FLAT_MAX_NAMES 32   /* values of name options (bind_device, congestion) */

/* A program glob the kernel can evaluate: a name, or a prefix then "*". */
struct sf_flat_glob {
    char text[SF_FLAT_NAME];
    uint8_t len; /* at most SF_FLAT_NAME - 1 */
    uint8_t prefix;
};

struct sf_flat_rule {
    uint32_t index; /* the rule's index in the policy */
    uint32_t set;   /* SF_OPT_BIT of every option it sets */
    int32_t value[SF_OPT_COUNT];
    uint8_t types, roles, families; /* as struct sf_rule's */
    uint8_t nports, naddrs, nprograms;
    struct sf_port_range ports[SF_FLAT_MAX_PORTS];
    struct sf_cidr addrs[SF_FLAT_MAX_ADDRS];
    struct sf_flat_glob programs[SF_FLAT_MAX_PROGRAMS];
};

/* An option table row, as far as the kernel programs need it. */
struct sf_flat_option {
    int32_t level, name, level6, name6;
    uint8_t kind, attachable;
    uint16_t phase;
};

struct sf_flat_config {
    uint32_t nrules;
    uint32_t precedence;        /* enum sf_precedence */
    uint32_t applicable[2][2];  /* sf_options_applicable: [client?][udp?] */
    uint32_t family_options[3]; /* options that exist for SF_FAMILY_IPV4 (1), IPV6 (2) */
    uint32_t inherited, not_inherited;
    uint32_t set_anywhere; /* every option some rule sets */
    uint32_t kinds;        /* bit sf_combo: some rule's kind keys (role, family, type) take it */
    uint8_t apply_order[SF_OPT_COUNT];
    struct sf_flat_option options[SF_OPT_COUNT];
    char names[SF_FLAT_MAX_NAMES][SF_FLAT_NAME];
};

/* What the compiler found: errors refuse the policy; notes say what the
 * kernel programs do differently from the library. */
struct sf_flat_issue {
    bool error;
    char message[512]; /* "FILE:LINE: ..." */
};

struct sf_flat {
    struct sf_flat_config config;
    struct sf_flat_rule *rules;
    uint32_t nrules;
    struct sf_flat_issue *issues;
    uint32_t nissues, nerrors;
};

#include "decide.h"

/* One rule of a flat policy over an event: merged into d when it holds (the
 * process name comm, when have_comm, for match.program). 1 when it held.
 * The step of every flat decision: the kernel programs' and sf_flat_decide. */
SF_DECIDE_FN int sf_flat_rule_step(const struct sf_flat_rule *r, const struct sf_event *ev,
                                   int have_comm, const char *comm, uint32_t applicable,
                                   struct sf_decision *d)
{
    if (!sf_kind_matches(r->types, r->roles, r->families, ev) ||
        !sf_cidrs_hold(r->addrs, r->naddrs, ev) || !sf_ports_hold(r->ports, r->nports, ev->port))
        return 0;
    if (r->nprograms) {
        int named = 0;
        for (unsigned g = 0; have_comm && !named && g < r->nprograms && g < SF_FLAT_MAX_PROGRAMS;
             g++)
            named =
                sf_simple_glob_matches(r->programs[g].text, r->programs[g].len & (SF_FLAT_NAME - 1),
                                       r->programs[g].prefix, comm);
        if (!named) /* no process to ask (softirq): no name matches */
            return 0;
    }
    sf_take(d, r->set & applicable, r->value, r->index);
    return 1;
}

/* Whether a rule may hold for the event at all: the kernel programs keep
 * nothing and decide nothing for the other sockets. */
SF_DECIDE_FN int sf_flat_may_hold(const struct sf_flat_config *c, const struct sf_event *ev)
{
    return (c->kinds >> sf_combo(ev->role, ev->family, ev->type)) & 1;
}

/* The options that apply to the event's type and role, and that exist for
 * its family. */
SF_DECIDE_FN uint32_t sf_flat_applicable(const struct sf_flat_config *c, const struct sf_event *ev)
{
    return c->applicable[ev->role == SF_ROLE_CLIENT][ev->type == SF_TYPE_UDP];
}

SF_DECIDE_FN uint32_t sf_flat_family_options(const struct sf_flat_config *c,
                                             const struct sf_event *ev)
{
    return c->family_options[ev->family == SF_FAMILY_IPV6 ? 2 : 1];
}

#ifndef __bpf__
/* The decision of the kernel programs for an event of a process named comm
 * (NULL: none known), made here: sockfix explain --attach. The number of
 * rules that held. */
unsigned sf_flat_decide(const struct sf_flat *f, const struct sf_event *ev, const char *comm,
                        struct sf_decision *d);

/* Compiles every rule of p (a policy without errors; match.program is
 * evaluated in the kernel, so no rule is left out for its program). 0, or
 * -1 when out of memory; what cannot be compiled is in out->issues. */
int sf_flat_compile(const struct sf_policy *p, struct sf_flat *out);
void sf_flat_free(struct sf_flat *f);
#endif

#endif
