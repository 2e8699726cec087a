#include "match.h"

#include <string.h>

static bool in_cidr(const struct sf_cidr *c, const struct sf_event *ev)
{
    if (c->family != ev->family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, ev->addr, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (ev->addr[full] & mask);
}

static bool address_matches(const struct sf_rule *r, const struct sf_event *ev)
{
    if (r->naddrs == 0)
        return true;
    if (!ev->have_addr)
        return false;
    for (size_t i = 0; i < r->naddrs; i++)
        if (in_cidr(&r->addrs[i], ev))
            return true;
    return false;
}

int sf_rule_matches(const struct sf_rule *r, const struct sf_event *ev)
{
    if (!(r->types & ev->type))
        return 0;
    if (r->roles && !(r->roles & ev->role))
        return 0;
    if (r->families && !(r->families & ev->family))
        return 0;
    if (!address_matches(r, ev))
        return 0;
    if (r->nports == 0)
        return 1;
    for (size_t i = 0; i < r->nports; i++)
        if (ev->port >= r->ports[i].lo && ev->port <= r->ports[i].hi)
            return 1;
    return 0;
}

/* Options that exist for a socket of this family (IPV6_V6ONLY: IPv6 only). */
static uint32_t family_options(unsigned family)
{
    uint32_t m = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if (!sf_options[i].families || (sf_options[i].families & family))
            m |= SF_OPT_BIT(i);
    return m;
}

static void imply_keepalive(struct sf_decision *d)
{
    uint32_t ka = SF_OPT_BIT(SF_OPT_KEEPALIVE);
    if (d->set & ka) {
        if (!d->value[SF_OPT_KEEPALIVE])
            d->set &= ~SF_KEEPALIVE_TIMERS;
    } else if (d->set & SF_KEEPALIVE_TIMERS) {
        d->set |= ka;
        d->value[SF_OPT_KEEPALIVE] = 1;
        d->rule[SF_OPT_KEEPALIVE] = SF_RULE_IMPLIED;
    }
}

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
        uint32_t take = r->set & applicable;
        for (int o = 0; take; o++, take >>= 1) {
            if (!(take & 1))
                continue;
            d->value[o] = r->value[o];
            d->rule[o] = (uint32_t)p->active[i];
        }
        d->set |= r->set & applicable;
    }
    d->set &= family_options(ev->family);
    imply_keepalive(d);
    return matched;
}

unsigned sf_decide(const struct sf_policy *p, const struct sf_event *ev, struct sf_decision *d)
{
    const struct sf_index *ix = p->index;
    if (!ix)
        return sf_decide_scan(p, ev, d);
    unsigned c = sf_combo(ev->role, ev->family, ev->type);
    struct sf_writer w[SF_OPT_COUNT];
    memcpy(w, ix->base[c], sizeof w);
    unsigned matched = ix->base_matched[c];
    if (ev->port && ix->nbounds) {
        uint32_t applicable = sf_options_applicable(ev->type, ev->role);
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
        for (uint32_t e = k < 0 ? 0 : ix->seg_start[k]; k >= 0 && e < ix->seg_start[k + 1]; e++) {
            int32_t pos = (int32_t)ix->seg_pos[e];
            const struct sf_rule *r = &p->rules[p->active[pos]];
            if (!sf_rule_matches(r, ev))
                continue;
            matched++;
            uint32_t take = r->set & applicable;
            for (int o = 0; take; o++, take >>= 1)
                if ((take & 1) && pos > w[o].pos)
                    w[o] = (struct sf_writer){pos, r->value[o]};
        }
    }
    d->set = 0;
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        if (w[o].pos < 0)
            continue;
        d->set |= SF_OPT_BIT(o);
        d->value[o] = w[o].value;
        d->rule[o] = (uint32_t)p->active[w[o].pos];
    }
    d->set &= family_options(ev->family);
    imply_keepalive(d);
    return matched;
}
