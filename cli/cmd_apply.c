/* sockfix apply PID: the policy on a running process's existing sockets (and
 * its descendants' with --tree), without a restart and without LD_PRELOAD,
 * through pidfd_getfd duplicates (options set through a duplicate act on the
 * very same socket). Each socket is classified from the kernel's view
 * (classify.h), turned into the event the library matches (config/event.h)
 * and decided by the library's matcher, under the names the library matched
 * in that process. Who set a value decides whether it moves: the library's
 * record and earlier apply runs know what sockfix set. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/values.h"
#include "../shim/fdtable.h"
#include "apply_run.h"

static int parse_args(int argc, char **argv, struct apply_args *a)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"dry-run", no_argument, NULL, 'n'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"tree", no_argument, NULL, 't'},
                                             {NULL, 0, NULL, 0}};
    *a = (struct apply_args){0};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'n':
            a->dry_run = true;
            break;
        case 'j':
            a->json = true;
            break;
        case 't':
            a->tree = true;
            break;
        default:
            return unknown_option("apply", argv[optind - 1]);
        }
    }
    if (optind < argc - 1)
        return unexpected_argument("apply", argv[optind + 1]);
    return parse_pid("apply", optind < argc ? argv[optind] : NULL, &a->pid);
}

/* The phases sockfix can still act on for a socket of this role, and those
 * it can only compare (fixed at bind or listen). */
static void phases_of(const struct tsock *s, unsigned *act, unsigned *compare)
{
    *act = *compare = 0;
    switch (s->cls.role) {
    case ROLE_LISTENER: /* bound to port 0: no bind-time option was ever meant for it */
        *act = SF_PHASE_CONNECTION | SF_PHASE_LISTENER;
        *compare = (s->cls.ephemeral_bind ? 0 : SF_PHASE_BIND) | SF_PHASE_LISTEN_ARG;
        break;
    case ROLE_SERVER:
        *act = SF_PHASE_CONNECTION;
        break;
    case ROLE_CLIENT:
        *act = SF_PHASE_CONNECTION | SF_PHASE_CLIENT;
        break;
    case ROLE_BOUND: /* a UDP server got its connection options at bind; TCP waits for listen */
        *act = s->si.type == SF_TYPE_UDP ? SF_PHASE_CONNECTION : 0;
        *compare = SF_PHASE_BIND;
        break;
    default:
        break;
    }
}

/* Whether the socket holds the policy's value v of option i. Above the
 * sysctl that caps the option (its row's capped_by, read in the socket's
 * namespace) the kernel keeps the sysctl's value: a socket at the cap holds
 * v as far as the kernel allows, and setting v again would change nothing. */
static bool holds(const struct apply_run *run, const struct tsock *s, int i, int32_t v)
{
    const struct sf_option *o = &sf_options[i];
    if (s->ns->cap[i] > 0 && v > s->ns->cap[i])
        v = (int32_t)s->ns->cap[i];
    return sockinfo_holds(&s->si, i, v, o->kind == SF_VAL_NAME ? sf_policy_name(run->p, v) : NULL);
}

/* Who set option i's current value on s. With the library's record of a
 * socket it saw made, that is known; else sockfix's own earlier values are
 * known (the record, earlier apply runs) and any other value that differs
 * from a fresh socket's is taken as the program's. */
static void find_owner(const struct apply_run *run, const struct tsock *s, int i,
                       struct option_result *r)
{
    uint32_t bit = SF_OPT_BIT(i);
    uint32_t applied = 0;
    for (size_t h = 0; h < s->nholders; h++)
        applied |= applied_mask(&run->applied[s->holders[h].target], s->inode);
    if (s->recorded && (s->rec.program & bit)) {
        r->owner = OWNER_PROGRAM;
        r->source = KNOWN_FROM_RECORD;
    } else if (s->recorded && (s->rec.sockfix & bit)) {
        r->owner = OWNER_SOCKFIX;
        r->source = KNOWN_FROM_RECORD;
    } else if (applied & bit) {
        r->owner = OWNER_SOCKFIX;
        r->source = KNOWN_FROM_APPLIED;
    } else if (s->recorded && (s->rec.kind & FD_WHOLE_LIFE)) {
        r->owner = OWNER_NONE; /* the program set nothing: the library would know */
        r->source = KNOWN_FROM_RECORD;
    } else if (sockinfo_differs(&s->si, nsview_fresh(s->ns, s->si.domain, s->si.type), i)) {
        r->owner = OWNER_PROGRAM;
        r->source = GUESSED_FROM_FRESH;
    } else {
        r->owner = OWNER_NONE;
        r->source = DEFAULT_VALUE;
    }
}

static int set_on(const struct sf_policy *p, int fd, const struct sf_option *o, int domain,
                  int32_t v)
{
    int level, name;
    sf_option_sockopt(o, domain == AF_INET6 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4, &level, &name, NULL);
    unsigned char buf[SF_VALUE_BYTES];
    size_t n = sf_policy_encode_value(p, o, v, buf);
    return setsockopt(fd, level, name, buf, (socklen_t)n);
}

/* The policy's active rules for the process that holds s. */
static void select_for(struct apply_run *run, const struct target *t)
{
    if (run->selected && memcmp(run->selected->names, t->names, sizeof t->names) == 0)
        return;
    const char *names[SF_NAMES];
    for (int i = 0; i < SF_NAMES; i++)
        names[i] = t->names[i];
    sf_policy_select_program(run->p, names, SF_NAMES);
    run->selected = t;
}

static void apply_option(struct apply_run *run, struct socket_result *res, int dup, int i,
                         unsigned act, unsigned compare)
{
    const struct tsock *s = res->s;
    const struct sf_option *o = &sf_options[i];
    struct option_result *r = &res->opt[i];
    r->to = res->d.value[i];
    r->from = s->si.value[i];
    if (!s->si.have[i] || holds(run, s, i, r->to)) {
        r->outcome = UNCHANGED;
        return;
    }
    find_owner(run, s, i, r);
    if (!(o->phase & act)) {
        r->outcome = (o->phase & compare) ? NOT_APPLICABLE : UNCHANGED;
        return;
    }
    if (run->p->precedence == SF_PRECEDENCE_PROGRAM && r->owner == OWNER_PROGRAM) {
        r->outcome = KEPT;
        return;
    }
    if (run->a->dry_run || set_on(run->p, dup, o, s->si.domain, r->to) == 0) {
        r->outcome = CHANGED;
    } else {
        r->outcome = FAILED;
        r->err = errno;
    }
}

static void apply_socket(struct walk *w, struct tsock *s, int dup, void *arg)
{
    struct apply_run *run = arg;
    struct socket_result *res = &run->res[run->n++];
    res->s = s;
    select_for(run, &w->targets[s->holders[0].target]);
    res->decided = s->cls.decided && sf_decide(run->p, &s->cls.ev, &res->d) > 0 && res->d.set;
    if (!res->decided)
        return;
    unsigned act, compare;
    phases_of(s, &act, &compare);
    for (int k = 0; k < SF_OPT_COUNT; k++) {
        int i = sf_apply_order[k];
        if (!(res->d.set & SF_OPT_BIT(i)) || !(sf_options[i].types & s->si.type))
            continue;
        apply_option(run, res, dup, i, act, compare);
        run->counts[res->opt[i].outcome]++;
    }
}

/* What this run changed joins what earlier runs set, per process. */
static void save_applied(const struct walk *w, struct apply_run *run)
{
    for (size_t k = 0; k < run->n; k++) {
        const struct socket_result *res = &run->res[k];
        uint32_t changed = 0;
        for (int i = 0; i < SF_OPT_COUNT; i++)
            if (res->decided && (res->d.set & SF_OPT_BIT(i)) && res->opt[i].outcome == CHANGED)
                changed |= SF_OPT_BIT(i);
        for (size_t h = 0; changed && h < res->s->nholders; h++)
            applied_add(&run->applied[res->s->holders[h].target], res->s->inode, changed);
    }
    for (size_t t = 0; t < w->ntargets; t++)
        if (applied_save(&run->applied[t], w->targets[t].pid) != 0)
            fprintf(stderr,
                    "sockfix apply: warning: cannot keep what was set for a later apply: %s\n",
                    strerror(errno));
}

int cmd_apply(int argc, char **argv)
{
    if (help_requested("apply", argc, argv))
        return EXIT_OK;
    struct apply_args a;
    int r = parse_args(argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    struct sf_policy *p = load_valid_policy("apply", a.config, "nothing was changed");
    if (!p)
        return EXIT_POLICY;
    struct walk w;
    if (walk_open(&w, "apply", a.pid, a.tree) != EXIT_OK) {
        sf_policy_free(p);
        return walk_close(&w);
    }
    struct apply_run run = {.a = &a, .p = p};
    run.res = calloc(w.nsocks ? w.nsocks : 1, sizeof *run.res);
    run.applied = calloc(w.ntargets, sizeof *run.applied);
    if (!run.res || !run.applied) {
        fprintf(stderr, "sockfix apply: out of memory\n");
        w.status = EXIT_FINDINGS;
    } else {
        for (size_t t = 0; t < w.ntargets; t++)
            applied_load(&run.applied[t], w.targets[t].pid);
        walk_sockets(&w, apply_socket, &run);
    }
    if (w.status == EXIT_OK) {
        if (a.json)
            apply_print_json(&w, &run);
        else
            apply_print_text(&w, &run);
        if (!a.dry_run)
            save_applied(&w, &run);
        if (run.counts[FAILED])
            w.status = EXIT_FINDINGS;
    }
    for (size_t t = 0; run.applied && t < w.ntargets; t++)
        applied_free(&run.applied[t]);
    r = walk_close(&w);
    free(run.res);
    free(run.applied);
    sf_policy_free(p);
    return r;
}
