/* The matching index: what the active rules give each kind of socket,
 * precomputed once per process so that deciding is a lookup, not a scan.
 *
 * Rules apply in file order and a later rule wins key by key, so for each
 * option only the last matching rule that sets it matters. Rules without
 * match.port are folded, per combination of role, family and type, into the
 * last writer of each option; rules with match.port are found through the
 * port: a sorted list of range boundaries splits 1..65535 into segments,
 * each listing the rules that cover it. Rules with match.address but no
 * match.port depend on the address: they are listed apart and tried on each
 * event. Deciding takes the folded writers, a binary search for the port,
 * the few rules of its segment and the address rules. */
#ifndef SOCKFIX_CONFIG_INDEX_H
#define SOCKFIX_CONFIG_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"

#define SF_COMBOS 8 /* role x family x type: sf_combo (decide.h) */

struct sf_writer {
    int32_t pos; /* position in the active list; -1: none */
    int32_t value;
};

struct sf_index {
    uint32_t kinds; /* bit sf_combo: some active rule's kind keys take it (sf_kinds_taken) */
    struct sf_writer base[SF_COMBOS][SF_OPT_COUNT];
    uint32_t base_matched[SF_COMBOS];
    uint32_t nbounds;    /* segment k is [bounds[k], bounds[k + 1]) */
    uint32_t *bounds;    /* ports, ascending; the last is 65536 */
    uint32_t *seg_start; /* nbounds + 1 offsets into seg_pos */
    uint32_t *seg_pos;   /* active positions of port rules, ascending per segment */
    uint32_t naddressed;
    uint32_t *addressed; /* active positions of rules with match.address but no match.port */
};

struct sf_policy;

/* Builds p->index from p->active; replaces an older one. Returns -1 when out
 * of memory (the policy then keeps no index and decides by scanning). */
int sf_index_build(struct sf_policy *p);
void sf_index_free(struct sf_index *ix);

#endif
