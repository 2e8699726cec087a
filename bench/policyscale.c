/* policyscale: policy load and match cost against the number of rules.
 *
 *   policyscale RULES EVENTS
 *
 * Generates a policy of RULES rules (each with its own port, role and
 * options, plus two catch-all rules), then measures:
 *   load_ms         parse + program selection + index, as the shim does it
 *   match_ns        sf_decide per event, events over varied ports and kinds
 * Prints "load_ms X" and "match_ns Y". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config/match.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static char *generate(long rules, size_t *len)
{
    char *text = malloc((size_t)(rules + 2) * 160 + 256), *w = text;
    w += sprintf(w, "[sockfix]\nlog = warn\n\n[servers]\nmatch.role = server\nreuseaddr = yes\n\n"
                    "[keepalive]\nkeepidle = 60s\nkeepintvl = 10s\nkeepcnt = 6\n\n");
    /* A generated port map, the way a large policy is written: every tenth
     * rule is also limited to some programs. */
    for (long i = 0; i < rules; i++) {
        w += sprintf(w, "[svc-%ld]\n", i);
        if (i % 10 == 0)
            w += sprintf(w, "match.program = prog-%ld svc*\n", i % 97);
        w += sprintf(w, "match.port = %ld\nmatch.role = %s\nkeepidle = %lds\n", 1 + (i * 7) % 65535,
                     i % 2 ? "client" : "server", 1 + i % 3000);
    }
    *len = (size_t)(w - text);
    return text;
}

int main(int argc, char **argv)
{
    long rules = argc > 1 ? atol(argv[1]) : 100;
    long events = argc > 2 ? atol(argv[2]) : 1000000;
    size_t len;
    char *text = generate(rules, &len);
    const char *names[] = {"svc-daemon", "svc-daemon"};
    double best_load = 1e18;
    struct sf_policy *p = NULL;
    for (int round = 0; round < 5; round++) {
        sf_policy_free(p);
        double t0 = now_ns();
        p = sf_policy_parse(text, len, "generated.ini");
        sf_policy_select_program(p, names, 2);
        double dt = now_ns() - t0;
        if (dt < best_load)
            best_load = dt;
    }
    if (!p || p->nerrors) {
        fprintf(stderr, "policyscale: generated policy has errors\n");
        return 1;
    }
    struct sf_event *ev = malloc(4096 * sizeof *ev);
    unsigned seed = 12345;
    for (int i = 0; i < 4096; i++) {
        seed = seed * 1103515245 + 12345;
        ev[i] = (struct sf_event){.role = (seed >> 8) % 2 ? SF_ROLE_CLIENT : SF_ROLE_SERVER,
                                  .family = (seed >> 12) % 2 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4,
                                  .type = SF_TYPE_TCP,
                                  .port = 1 + (seed >> 16) % 65535};
    }
    struct sf_decision d;
    unsigned sink = 0;
    double t0 = now_ns();
    for (long i = 0; i < events; i++)
        sink += sf_decide(p, &ev[i & 4095], &d) + d.set;
    double per = (now_ns() - t0) / (double)events;
    printf("load_ms %.3f\nmatch_ns %.1f\nactive_rules %zu\npolicy_bytes %zu\n", best_load / 1e6,
           per, p->nactive, len);
    sf_policy_free(p);
    free(text);
    free(ev);
    return sink == 0xdeadbeef;
}
