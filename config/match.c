#include "match.h"

int sf_rule_matches(const struct sf_rule *r, const struct sf_event *ev)
{
    if (!(r->types & ev->type))
        return 0;
    if (r->roles && !(r->roles & ev->role))
        return 0;
    if (r->families && !(r->families & ev->family))
        return 0;
    if (r->nports == 0)
        return 1;
    for (size_t i = 0; i < r->nports; i++)
        if (ev->port >= r->ports[i].lo && ev->port <= r->ports[i].hi)
            return 1;
    return 0;
}

unsigned sf_decide(const struct sf_policy *p, const struct sf_event *ev, struct sf_decision *d)
{
    uint32_t applicable = sf_options_applicable(ev->type, ev->role);
    unsigned matched = 0;
    d->set = 0;
    for (size_t i = 0; i < p->nactive; i++) {
        const struct sf_rule *r = &p->rules[p->active[i]];
        if (!sf_rule_matches(r, ev))
            continue;
        matched++;
        uint32_t take = r->set & applicable;
        for (int o = 0; take; o++, take >>= 1) {
            if (!(take & 1))
                continue;
            d->value[o] = r->value[o];
            d->rule[o] = (uint32_t)p->active[i];
        }
        d->set |= r->set & applicable;
    }
    uint32_t ka = SF_OPT_BIT(SF_OPT_KEEPALIVE);
    if (d->set & ka) {
        if (!d->value[SF_OPT_KEEPALIVE])
            d->set &= ~SF_KEEPALIVE_TIMERS;
    } else if (d->set & SF_KEEPALIVE_TIMERS) {
        d->set |= ka;
        d->value[SF_OPT_KEEPALIVE] = 1;
        d->rule[SF_OPT_KEEPALIVE] = SF_RULE_IMPLIED;
    }
    return matched;
}
