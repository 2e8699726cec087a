/* The core of deciding for one socket event, shared by config/match.c and
 * config/event.c and by the kernel programs of sockfix attach
 * (attach/sockfix.bpf.c), which compile this same file with clang's BPF
 * target: inline functions over fixed types, no library call, every loop
 * bounded (the kernel's verifier asks for it: the bounds are the flat
 * format's there, and none here). One decision, wherever it is made. */
#ifndef SOCKFIX_CONFIG_DECIDE_H
#define SOCKFIX_CONFIG_DECIDE_H

#include "index.h"
#include "match.h"

/* Always inlined into the kernel programs: the verifier checks each use in
 * its own context, and a void subprogram may leave a pointer it refuses in
 * R0. */
#ifdef __bpf__
#define SF_DECIDE_FN static inline __attribute__((always_inline))
#else
#define SF_DECIDE_FN static inline
#endif

#ifndef SF_DECIDE_MAX_PORTS
#define SF_DECIDE_MAX_PORTS 0xffffffffu
#endif
#ifndef SF_DECIDE_MAX_ADDRS
#define SF_DECIDE_MAX_ADDRS 0xffffffffu
#endif
#ifndef SF_DECIDE_MAX_GLOB
#define SF_DECIDE_MAX_GLOB 0xffffffffu
#endif

/* The kind of a socket as a number below 8 (SF_COMBOS): role x family x type. */
SF_DECIDE_FN unsigned sf_combo(unsigned role, unsigned family, unsigned type)
{
    return (role == SF_ROLE_CLIENT) << 2 | (family == SF_FAMILY_IPV6) << 1 | (type == SF_TYPE_UDP);
}

/* The event of kind c, with no port and no address: sf_combo's inverse. */
SF_DECIDE_FN struct sf_event sf_combo_event(unsigned c)
{
    return (struct sf_event){.role = (c & 4) ? SF_ROLE_CLIENT : SF_ROLE_SERVER,
                             .family = (c & 2) ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4,
                             .type = (c & 1) ? SF_TYPE_UDP : SF_TYPE_TCP};
}

/* Family, port and address of an event from raw bytes in network order: 4
 * of them for AF_INET (six = 0), 16 for AF_INET6. A v4-mapped address
 * (::ffff:a.b.c.d) counts as IPv4: such a socket speaks IPv4 on the wire. */
SF_DECIDE_FN void sf_event_address(struct sf_event *ev, int six, const uint8_t *ip, unsigned port)
{
    int mapped = six;
    for (unsigned i = 0; six && i < 12; i++)
        mapped &= ip[i] == (i < 10 ? 0 : 0xff);
    for (unsigned i = 0; i < 16; i++) /* constant offsets in each branch (the verifier) */
        ev->addr[i] = 0;
    if (six && !mapped) {
        for (unsigned i = 0; i < 16; i++)
            ev->addr[i] = ip[i];
    } else if (mapped) {
        for (unsigned i = 0; i < 4; i++)
            ev->addr[i] = ip[12 + i];
    } else {
        for (unsigned i = 0; i < 4; i++)
            ev->addr[i] = ip[i];
    }
    ev->family = six && !mapped ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4;
    ev->port = port;
    ev->have_addr = true;
}

/* An accepted socket whose listener is out of sight: its own local address
 * stands in for the listener's, but for an IPv6 socket with a v4-mapped
 * local address: only a dual-stack listener on :: accepts those, so it is
 * matched as that listener (IPv6, address ::). */
SF_DECIDE_FN void sf_event_accepted_address(struct sf_event *ev, int six, const uint8_t *ip,
                                            unsigned port)
{
    sf_event_address(ev, six, ip, port);
    if (six && ev->family == SF_FAMILY_IPV4) {
        ev->family = SF_FAMILY_IPV6;
        for (unsigned i = 0; i < 16; i++)
            ev->addr[i] = 0;
    }
}

SF_DECIDE_FN int sf_kind_matches(unsigned types, unsigned roles, unsigned families,
                                 const struct sf_event *ev)
{
    return (types & ev->type) && (!roles || (roles & ev->role)) &&
           (!families || (families & ev->family));
}

/* The kinds of socket (bits sf_combo) a rule's kind keys take: a kind no
 * rule takes is decided at once, with nothing to apply. */
SF_DECIDE_FN uint32_t sf_kinds_taken(unsigned types, unsigned roles, unsigned families)
{
    uint32_t kinds = 0;
    for (unsigned c = 0; c < SF_COMBOS; c++) {
        struct sf_event ev = sf_combo_event(c);
        if (sf_kind_matches(types, roles, families, &ev))
            kinds |= 1u << c;
    }
    return kinds;
}

/* Whether port is in one of n ranges; no range: any port. */
SF_DECIDE_FN int sf_ports_hold(const struct sf_port_range *r, unsigned n, unsigned port)
{
    if (n == 0)
        return 1;
    for (unsigned i = 0; i < n && i < SF_DECIDE_MAX_PORTS; i++)
        if (port >= r[i].lo && port <= r[i].hi)
            return 1;
    return 0;
}

SF_DECIDE_FN int sf_cidr_holds(const struct sf_cidr *c, const struct sf_event *ev)
{
    if (c->family != ev->family)
        return 0;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    for (unsigned i = 0; i < 16 && i < full; i++)
        if (c->addr[i] != ev->addr[i])
            return 0;
    if (!rest || full >= 16)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (ev->addr[full] & mask);
}

/* Whether the event's address is in one of n networks; none: any address. */
SF_DECIDE_FN int sf_cidrs_hold(const struct sf_cidr *c, unsigned n, const struct sf_event *ev)
{
    if (n == 0)
        return 1;
    if (!ev->have_addr)
        return 0;
    for (unsigned i = 0; i < n && i < SF_DECIDE_MAX_ADDRS; i++)
        if (sf_cidr_holds(&c[i], ev))
            return 1;
    return 0;
}

/* A program glob of the simple kinds: a literal name (len characters), or
 * its first len characters then "*" (prefix). */
SF_DECIDE_FN int sf_simple_glob_matches(const char *glob, unsigned len, int prefix,
                                        const char *name)
{
    for (unsigned i = 0; i < len && i < SF_DECIDE_MAX_GLOB; i++)
        if (glob[i] != name[i])
            return 0;
    return prefix || name[len] == '\0';
}

/* Merges the options `take` of a rule (its values, its index) into d: rules
 * apply in file order and a later rule overrides an earlier one key by key. */
SF_DECIDE_FN void sf_take(struct sf_decision *d, uint32_t take, const int32_t *value, uint32_t rule)
{
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        if (!(take & SF_OPT_BIT(o)))
            continue;
        d->value[o] = value[o];
        d->rule[o] = rule;
    }
    d->set |= take;
}

/* After the merge: options that do not exist for the event's family go
 * (family_options); a keepalive timer implies keepalive = yes unless the
 * merge says no, and keepalive = no drops the timers. */
SF_DECIDE_FN void sf_finish(struct sf_decision *d, uint32_t family_options)
{
    uint32_t ka = SF_OPT_BIT(SF_OPT_KEEPALIVE);
    d->set &= family_options;
    if (d->set & ka) {
        if (!d->value[SF_OPT_KEEPALIVE])
            d->set &= ~SF_KEEPALIVE_TIMERS;
    } else if (d->set & SF_KEEPALIVE_TIMERS) {
        d->set |= ka;
        d->value[SF_OPT_KEEPALIVE] = 1;
        d->rule[SF_OPT_KEEPALIVE] = SF_RULE_IMPLIED;
    }
}

#endif
