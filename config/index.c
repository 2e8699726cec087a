#include "index.h"

#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "match.h"
#include "policy.h"

/* Past this many (segment, rule) pairs an index would cost more memory than
 * it saves time (deeply nested port ranges): scan instead. */
#define MAX_SEGMENT_ENTRIES (4u << 20)

static int fold_portless(const struct sf_policy *p, struct sf_index *ix)
{
    ix->addressed = malloc((p->nactive ? p->nactive : 1) * sizeof *ix->addressed);
    if (!ix->addressed)
        return -1;
    for (size_t i = 0; i < p->nactive; i++) {
        const struct sf_rule *r = &p->rules[p->active[i]];
        if (!r->nports && r->naddrs)
            ix->addressed[ix->naddressed++] = (uint32_t)i;
        ix->kinds |= sf_kinds_taken(r->types, r->roles, r->families);
    }
    for (unsigned c = 0; c < SF_COMBOS; c++) {
        struct sf_event ev = sf_combo_event(c);
        uint32_t applicable = sf_options_applicable(ev.type, ev.role);
        for (int o = 0; o < SF_OPT_COUNT; o++)
            ix->base[c][o].pos = -1;
        ix->base_matched[c] = 0;
        for (size_t i = 0; i < p->nactive; i++) {
            const struct sf_rule *r = &p->rules[p->active[i]];
            if (r->nports || r->naddrs || !sf_rule_matches(r, &ev))
                continue;
            ix->base_matched[c]++;
            for (int o = 0; o < SF_OPT_COUNT; o++)
                if (r->set & applicable & SF_OPT_BIT(o))
                    ix->base[c][o] = (struct sf_writer){(int32_t)i, r->value[o]};
        }
    }
    return 0;
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One past the segment holding port: the number of bounds <= port. */
static uint32_t segment_after(const uint32_t *seg_of, const uint32_t *b, uint32_t n, uint32_t port)
{
    if (seg_of)
        return seg_of[port];
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (b[mid] <= port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int build_segments(const struct sf_policy *p, struct sf_index *ix)
{
    size_t nranges = 0;
    for (size_t i = 0; i < p->nactive; i++)
        nranges += p->rules[p->active[i]].nports;
    if (nranges == 0)
        return 0;
    uint32_t *b = malloc((2 * nranges + 1) * sizeof *b);
    if (!b)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < p->nactive; i++) {
        const struct sf_rule *r = &p->rules[p->active[i]];
        for (size_t k = 0; k < r->nports; k++) {
            b[n++] = r->ports[k].lo;
            b[n++] = (uint32_t)r->ports[k].hi + 1;
        }
    }
    qsort(b, n, sizeof *b, by_value);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || b[u - 1] != b[i])
            b[u++] = b[i];
    ix->bounds = b;
    ix->nbounds = (uint32_t)u;

    /* Two passes over the ranges: count the rules per segment, then fill.
     * For large policies a port-to-segment table, for this build only,
     * spares a binary search per range end. */
    uint32_t *seg_of = nranges > 256 ? malloc(65537 * sizeof *seg_of) : NULL;
    uint32_t *start = calloc(u + 1, sizeof *start);
    if (!start) {
        free(seg_of);
        return -1;
    }
    for (uint32_t port = 0, k = 0; seg_of && port <= 65536; port++) {
        while (k < u && b[k] <= port)
            k++;
        seg_of[port] = k;
    }
    ix->seg_start = start;
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *fill = NULL;
        if (pass == 1) {
            for (size_t k = 0, sum = 0; k <= u; k++) { /* counts -> offsets */
                uint32_t c = start[k];
                start[k] = (uint32_t)sum;
                sum += c;
            }
            ix->seg_pos = malloc((total ? total : 1) * sizeof *ix->seg_pos);
            fill = calloc(u, sizeof *fill);
            if (!ix->seg_pos || !fill) {
                free(fill);
                free(seg_of);
                return -1;
            }
        }
        for (size_t i = 0; i < p->nactive; i++) {
            const struct sf_rule *r = &p->rules[p->active[i]];
            for (size_t k = 0; k < r->nports; k++) {
                long first = (long)segment_after(seg_of, b, (uint32_t)u, r->ports[k].lo) - 1;
                long end =
                    (long)segment_after(seg_of, b, (uint32_t)u, (uint32_t)r->ports[k].hi + 1) - 1;
                for (long s = first; s < end; s++) {
                    if (pass == 0) {
                        start[s]++;
                        if (++total > MAX_SEGMENT_ENTRIES) {
                            free(seg_of);
                            return -1;
                        }
                    } else if (fill[s] == 0 || ix->seg_pos[start[s] + fill[s] - 1] != (uint32_t)i) {
                        ix->seg_pos[start[s] + fill[s]++] = (uint32_t)i;
                    }
                }
            }
        }
        if (pass == 1) {
            /* A rule listing overlapping ranges was counted twice but stored
             * once: close the gaps. */
            size_t w = 0;
            for (size_t s = 0; s < u; s++) {
                uint32_t from = start[s];
                start[s] = (uint32_t)w;
                memmove(ix->seg_pos + w, ix->seg_pos + from, fill[s] * sizeof *ix->seg_pos);
                w += fill[s];
            }
            start[u] = (uint32_t)w;
            free(fill);
        }
    }
    free(seg_of);
    return 0;
}

void sf_index_free(struct sf_index *ix)
{
    if (!ix)
        return;
    free(ix->bounds);
    free(ix->seg_start);
    free(ix->seg_pos);
    free(ix->addressed);
    free(ix);
}

int sf_index_build(struct sf_policy *p)
{
    sf_index_free(p->index);
    p->index = NULL;
    struct sf_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return -1;
    if (fold_portless(p, ix) != 0 || build_segments(p, ix) != 0) {
        sf_index_free(ix);
        return -1;
    }
    p->index = ix;
    return 0;
}
