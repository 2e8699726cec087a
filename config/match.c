#include "match.h"

#include <fnmatch.h>
#include <string.h>

#include "decide.h"
#include "index.h"

int sf_rule_matches(const struct sf_rule *r, const struct sf_event *ev)
{
    return sf_kind_matches(r->types, r->roles, r->families, ev) &&
           sf_cidrs_hold(r->addrs, (unsigned)r->naddrs, ev) &&
           sf_ports_hold(r->ports, (unsigned)r->nports, ev->port);
}

/* Options that exist for a socket of this family (IPV6_V6ONLY: IPv6 only). */
unsigned sf_decide_scan(const struct sf_policy *p, const struct sf_event *ev, struct sf_decision *d)
{
    uint32_t applicable = sf_options_applicable(ev->type, ev->role);
    unsigned matched = 0;
    d->set = 0;
    for (size_t i = 0; i < p->nactive; i++) {
        const struct sf_rule *r = &p->rules[p->active[i]];
        if (!sf_rule_matches(r, ev))
            continue;
        matched++;
        sf_take(d, r->set & applicable, r->value, (uint32_t)p->active[i]);
    }
    sf_finish(d, sf_options_for_family(ev->family));
    return matched;
}

/* Rule p->active[pos] over ev: the writers of the options it sets, when it
 * holds and comes after their current writer. 1 when it held. */
static unsigned merge_rule(const struct sf_policy *p, int32_t pos, const struct sf_event *ev,
                           uint32_t applicable, struct sf_writer *w)
{
    const struct sf_rule *r = &p->rules[p->active[pos]];
    if (!sf_rule_matches(r, ev))
        return 0;
    uint32_t take = r->set & applicable;
    for (int o = 0; take; o++, take >>= 1)
        if ((take & 1) && pos > w[o].pos)
            w[o] = (struct sf_writer){pos, r->value[o]};
    return 1;
}

/* Whether some active rule's kind keys take sockets of kind c (sf_combo). */
static bool kind_taken(const struct sf_index *ix, unsigned c)
{
    return (ix->kinds >> c) & 1;
}

bool sf_policy_may_take(const struct sf_policy *p, unsigned role, unsigned type)
{
    const struct sf_index *ix = p->index;
    return !ix || kind_taken(ix, sf_combo(role, SF_FAMILY_IPV4, type)) ||
           kind_taken(ix, sf_combo(role, SF_FAMILY_IPV6, type));
}

unsigned sf_decide(const struct sf_policy *p, const struct sf_event *ev, struct sf_decision *d)
{
    const struct sf_index *ix = p->index;
    if (!ix)
        return sf_decide_scan(p, ev, d);
    unsigned c = sf_combo(ev->role, ev->family, ev->type);
    d->set = 0;
    if (!kind_taken(ix, c)) /* a client of a policy for servers */
        return 0;
    struct sf_writer w[SF_OPT_COUNT];
    memcpy(w, ix->base[c], sizeof w);
    unsigned matched = ix->base_matched[c];
    uint32_t applicable = sf_options_applicable(ev->type, ev->role);
    if (ev->port && ix->nbounds) {
        long lo = 0, hi = (long)ix->nbounds - 1, k = -1;
        while (lo <= hi) {
            long mid = (lo + hi) / 2;
            if (ix->bounds[mid] <= ev->port) {
                k = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        for (uint32_t e = k < 0 ? 0 : ix->seg_start[k]; k >= 0 && e < ix->seg_start[k + 1]; e++)
            matched += merge_rule(p, (int32_t)ix->seg_pos[e], ev, applicable, w);
    }
    for (uint32_t e = 0; ev->have_addr && e < ix->naddressed; e++)
        matched += merge_rule(p, (int32_t)ix->addressed[e], ev, applicable, w);
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        if (w[o].pos < 0)
            continue;
        d->set |= SF_OPT_BIT(o);
        d->value[o] = w[o].value;
        d->rule[o] = (uint32_t)p->active[w[o].pos];
    }
    sf_finish(d, sf_options_for_family(ev->family));
    return matched;
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
