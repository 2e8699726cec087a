/* Deciding what applies to one socket event: a pure function of the policy
 * and the facts the hook gathered. No allocation, no system calls, so the
 * shim can call it on its hot path. */
#ifndef SOCKFIX_CONFIG_MATCH_H
#define SOCKFIX_CONFIG_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct sf_event {
    unsigned role;    /* SF_ROLE_SERVER or SF_ROLE_CLIENT */
    unsigned family;  /* SF_FAMILY_IPV4 (also v4-mapped) or SF_FAMILY_IPV6 */
    unsigned type;    /* SF_TYPE_TCP or SF_TYPE_UDP */
    unsigned port;    /* local port (server) or remote port (client); 0 = unknown */
    bool have_addr;   /* addr holds the local (server) or remote (client) address */
    uint8_t addr[16]; /* IPv4 (also v4-mapped): the first 4 bytes */
};

#define SF_RULE_IMPLIED UINT32_MAX

struct sf_decision {
    uint32_t set; /* SF_OPT_BIT of every option to apply */
    int32_t value[SF_OPT_COUNT];
    /* Rule index that set each option; for keepalive implied by a timer, the
     * timer's rule. */
    uint32_t rule[SF_OPT_COUNT];
};

/* Whether some active rule's kind keys may take a socket of this role and
 * type, in either family (an IPv6 socket's event is IPv4 for a v4-mapped
 * address): a hook can skip building the event when none can. */
bool sf_policy_may_take(const struct sf_policy *p, unsigned role, unsigned type);

/* Merges the active rules matching ev, in file order, later keys winning;
 * a keepalive timer implies keepalive = yes unless the merge says no, and
 * keepalive = no drops the timers. Returns the number of rules matched.
 * Uses p->index when there is one (see index.h). */
unsigned sf_decide(const struct sf_policy *p, const struct sf_event *ev, struct sf_decision *d);

/* The same by scanning every active rule: the reference the index is
 * tested against, and the fallback without one. */
unsigned sf_decide_scan(const struct sf_policy *p, const struct sf_event *ev,
                        struct sf_decision *d);

/* Selection: which rules can match this program. */
/* Makes active the rules whose match.program globs match one of names (or
 * that have no match.program), then builds the matching index. May be
 * called again for other names; not while the policy is shared. 0, or -1
 * when out of memory for the index (sf_decide then scans the rules). */
int sf_policy_select_program(struct sf_policy *p, const char *const *names, size_t nnames);

/* Whether rule r matches ev (the program was settled by selection). */
int sf_rule_matches(const struct sf_rule *r, const struct sf_event *ev);

#endif
