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
#include "applied.h"
#include "cli.h"
#include "walk.h"

struct apply_args {
    const char *config;
    bool dry_run, json, tree;
    pid_t pid;
};

/* What happened to one option of one socket. */
enum outcome { CHANGED, UNCHANGED, KEPT, NOT_APPLICABLE, FAILED };

/* Who set the value an option holds, and how that is known. */
enum owner { OWNER_NONE, OWNER_PROGRAM, OWNER_SOCKFIX };
enum owner_source { KNOWN_FROM_RECORD, KNOWN_FROM_APPLIED, GUESSED_FROM_FRESH, DEFAULT_VALUE };

struct option_result {
    enum outcome outcome;
    int from, to;
    enum owner owner;
    enum owner_source source;
    int err; /* FAILED */
};

struct socket_result {
    struct tsock *s;
    bool decided; /* a rule matched */
    struct sf_decision d;
    struct option_result opt[SF_OPT_COUNT];
};

struct apply_run {
    const struct apply_args *a;
    struct sf_policy *p;
    const struct target *selected; /* whose names p->active is selected for */
    struct applied *applied;       /* per target: what earlier runs set */
    struct socket_result *res;
    size_t n;
    unsigned counts[FAILED + 1];
};

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

/* Whether the socket holds the policy's value v of option i. */
static bool holds(const struct apply_run *run, const struct tsock *s, int i, int32_t v)
{
    const struct sf_option *o = &sf_options[i];
    if (i == SF_OPT_BACKLOG) /* the kernel caps a backlog at net.core.somaxconn */
        return s->si.value[i] == (v < s->ns->somaxconn ? v : s->ns->somaxconn);
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

/* ---- output ---- */

static bool shown(const struct socket_result *res, int i)
{
    return res->decided && (res->d.set & SF_OPT_BIT(i)) &&
           (sf_options[i].types & res->s->si.type) && res->opt[i].outcome != UNCHANGED;
}

/* "servers, keepalive": the rules behind the options of a decision. */
static void rules_text(const struct sf_policy *p, const struct sf_decision *d, char *buf,
                       size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    uint32_t named[SF_OPT_COUNT] = {0};
    int nnamed = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (!(d->set & SF_OPT_BIT(i)) || d->rule[i] == SF_RULE_IMPLIED)
            continue;
        bool seen = false;
        for (int k = 0; k < nnamed; k++)
            seen |= named[k] == d->rule[i];
        if (seen)
            continue;
        named[nnamed++] = d->rule[i];
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                 nnamed > 1 ? ", " : "", p->rules[d->rule[i]].name);
    }
}

static const char *not_applicable_reason(const struct sf_option *o)
{
    return (o->phase & SF_PHASE_BIND) ? "only before bind" : "fixed when listen was called";
}

static void value_text(const struct sf_policy *p, const struct tsock *s, int i, int v, bool current,
                       char *buf, size_t len)
{
    if (current && sf_options[i].kind == SF_VAL_NAME)
        snprintf(buf, len, "%s", s->si.names[i][0] ? s->si.names[i] : "none");
    else
        sf_policy_format_value(p, &sf_options[i], v, buf, len);
}

static void print_option(const struct apply_run *run, const struct socket_result *res, int i)
{
    const struct sf_option *o = &sf_options[i];
    const struct option_result *r = &res->opt[i];
    char from[32], to[32];
    value_text(run->p, res->s, i, r->from, true, from, sizeof from);
    value_text(run->p, res->s, i, r->to, false, to, sizeof to);
    switch (r->outcome) {
    case CHANGED:
        printf("%s %s -> %s", o->key, from, to);
        if (r->owner == OWNER_SOCKFIX)
            printf(" (sockfix's earlier value)");
        else if (r->owner == OWNER_PROGRAM)
            printf(" (the program's value; precedence = policy)");
        break;
    case KEPT:
        printf("%s %s kept (set by the program%s; policy %s)", o->key, from,
               r->source == GUESSED_FROM_FRESH ? ", as it differs from a fresh socket" : "", to);
        break;
    case NOT_APPLICABLE:
        printf("%s %s, policy %s: not applicable to an existing socket (%s)", o->key, from, to,
               not_applicable_reason(o));
        break;
    case FAILED:
        printf("%s %s -> %s failed: %s", o->key, from, to, strerror(r->err));
        break;
    case UNCHANGED:
        break;
    }
}

static void print_socket_head(const struct walk *w, const struct socket_result *res)
{
    const struct tsock *s = res->s;
    char local[64], remote[64] = "", fds[64];
    sockaddr_text(&s->si.local, local, sizeof local);
    if (s->si.peer_len)
        sockaddr_text(&s->si.peer, remote, sizeof remote);
    walk_fds_text(s, fds, sizeof fds);
    if (w->tree)
        printf("PID %d ", (int)w->targets[s->holders[0].target].pid);
    printf("fd%s %s %s %s%s %s%s%s: ", strchr(fds, ',') ? "s" : "", fds,
           s->si.type == SF_TYPE_TCP ? "tcp" : "udp", role_name(s->cls.role),
           s->cls.doubt ? "*" : "", local, s->si.peer_len ? " -> " : "", remote);
}

static void print_text(const struct walk *w, const struct apply_run *run)
{
    const struct target *t = &w->targets[0];
    printf("PID %d (%s)%s, policy %s%s\n", (int)t->pid, t->comm,
           w->tree ? " and its descendants" : "", run->p->source,
           run->a->dry_run ? " (dry run: nothing is changed)" : "");
    if (t->record.present)
        printf("PID %d runs libsockfix with policy %s: the values it set are sockfix's and move "
               "to this policy's\n",
               (int)t->pid, t->record.rec.policy[0] ? t->record.rec.policy : "(built-in default)");
    bool guessed = false;
    for (size_t k = 0; k < run->n; k++) {
        const struct socket_result *res = &run->res[k];
        print_socket_head(w, res);
        guessed |= res->s->cls.doubt;
        if (res->s->cls.role == ROLE_CONNECTING) {
            printf("connecting: the remote address is not known yet\n");
            continue;
        }
        if (res->s->cls.role == ROLE_BOUND && res->s->cls.ephemeral_bind) {
            printf("bound to an ephemeral port: nothing is decided for it (as the library "
                   "decides nothing at a bind to port 0)\n");
            continue;
        }
        if (!res->decided) {
            printf("no rule applies\n");
            continue;
        }
        char rules[256];
        rules_text(run->p, &res->d, rules, sizeof rules);
        int n = 0;
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            if (!shown(res, i))
                continue;
            printf("%s", n++ ? ", " : "");
            print_option(run, res, i);
        }
        printf("%s (rules %s)\n", n ? "" : "already as the policy says", rules);
    }
    if (guessed)
        printf("* no listener accepts connections to this local port (any more): the role is "
               "told by the ports (see sockfix(1))\n");
    printf("%zu socket%s: %u option%s %s, %u kept as the program set them, %u not applicable, "
           "%u failed\n",
           run->n, run->n == 1 ? "" : "s", run->counts[CHANGED],
           run->counts[CHANGED] == 1 ? "" : "s", run->a->dry_run ? "to change" : "changed",
           run->counts[KEPT], run->counts[NOT_APPLICABLE], run->counts[FAILED]);
}

static const char *outcome_name(enum outcome o)
{
    static const char *const names[] = {"changed", "unchanged", "kept", "not_applicable", "failed"};
    return names[o];
}

static void print_json_option(const struct apply_run *run, const struct socket_result *res, int i)
{
    static const char *const owners[] = {"none", "program", "sockfix"};
    static const char *const sources[] = {"record", "applied", "fresh-socket", "default"};
    const struct option_result *r = &res->opt[i];
    printf("{\"option\": \"%s\", \"result\": \"%s\", ", sf_options[i].key,
           outcome_name(r->outcome));
    if (sf_options[i].kind == SF_VAL_NAME) {
        printf("\"from\": ");
        print_json_string(res->s->si.names[i]);
        printf(", \"to\": ");
        print_json_string(sf_policy_name(run->p, r->to));
    } else {
        printf("\"from\": %d, \"to\": %d", r->from, r->to);
    }
    printf(", \"rule\": ");
    print_json_string(res->d.rule[i] == SF_RULE_IMPLIED ? "(implied)"
                                                        : run->p->rules[res->d.rule[i]].name);
    if (r->outcome != UNCHANGED)
        printf(", \"owner\": \"%s\", \"owner_source\": \"%s\"", owners[r->owner],
               sources[r->source]);
    if (r->outcome == FAILED)
        printf(", \"error\": \"%s\"", strerror(r->err));
    printf("}");
}

static void print_json(const struct walk *w, const struct apply_run *run)
{
    const struct target *t = &w->targets[0];
    printf("{\"pid\": %d, \"program\": ", (int)t->pid);
    print_json_string(t->comm);
    printf(", \"policy\": ");
    print_json_string(run->p->source);
    printf(", \"dry_run\": %s, \"library_policy\": ", run->a->dry_run ? "true" : "false");
    if (t->record.present)
        print_json_string(t->record.rec.policy[0] ? t->record.rec.policy : "(built-in default)");
    else
        printf("null");
    printf(", \"sockets\": [");
    for (size_t k = 0; k < run->n; k++) {
        const struct socket_result *res = &run->res[k];
        const struct tsock *s = res->s;
        char local[64], remote[64];
        sockaddr_text(&s->si.local, local, sizeof local);
        printf(
            "%s\n  {\"pid\": %d, \"fd\": %d, \"type\": \"%s\", \"role\": \"%s\", \"role_source\": "
            "\"%s\", \"local\": \"%s\", \"remote\": ",
            k ? "," : "", (int)w->targets[s->holders[0].target].pid, s->holders[0].fd,
            s->si.type == SF_TYPE_TCP ? "tcp" : "udp", role_name(s->cls.role),
            role_source_name(s->cls.source), local);
        if (s->si.peer_len) {
            sockaddr_text(&s->si.peer, remote, sizeof remote);
            printf("\"%s\"", remote);
        } else {
            printf("null");
        }
        printf(", \"options\": [");
        bool first = true;
        for (int i = 0; res->decided && i < SF_OPT_COUNT; i++) {
            if (!(res->d.set & SF_OPT_BIT(i)) || !(sf_options[i].types & s->si.type))
                continue;
            printf("%s", first ? "" : ", ");
            print_json_option(run, res, i);
            first = false;
        }
        printf("]}");
    }
    printf("%s]}\n", run->n ? "\n" : "");
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
            print_json(&w, &run);
        else
            print_text(&w, &run);
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
