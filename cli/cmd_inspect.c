/* sockfix inspect PID: the options on a running process's sockets (and its
 * descendants' with --tree), read from the kernel through pidfd_getfd
 * duplicates, each socket once, with its role as classify.h tells it. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../config/values.h"
#include "cli.h"
#include "walk.h"

struct inspect_args {
    bool json, tree;
    pid_t pid;
};

static int parse_args(int argc, char **argv, struct inspect_args *a)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"tree", no_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
    *a = (struct inspect_args){0};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        if (c == 'j')
            a->json = true;
        else if (c == 't')
            a->tree = true;
        else
            return unknown_option("inspect", argv[optind - 1]);
    }
    if (optind < argc - 1)
        return unexpected_argument("inspect", argv[optind + 1]);
    return parse_pid("inspect", optind < argc ? argv[optind] : NULL, &a->pid);
}

/* The sockets the walk read, in order. */
struct collected {
    struct tsock **v;
    size_t n;
};

static void collect(struct walk *w, struct tsock *s, int dup, void *arg)
{
    (void)w;
    (void)dup;
    struct collected *c = arg;
    c->v[c->n++] = s;
}

static void print_value(char *buf, size_t len, const struct sockinfo *si, int i)
{
    if (!si->have[i])
        snprintf(buf, len, "-");
    else if (sf_options[i].kind == SF_VAL_NAME)
        snprintf(buf, len, "%s", si->names[i][0] ? si->names[i] : "-");
    else
        sf_format_option_value(&sf_options[i], si->value[i], buf, len);
}

/* The table has a column for each option whose row says so (the
 * keepalive-era ones); any other option appears under "other" when it
 * differs from what the kernel gives a fresh socket of the same family and
 * type in the socket's namespace (--json has every option, always). */

static void role_text(const struct tsock *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", role_name(s->cls.role), s->cls.doubt ? "*" : "");
}

static void pid_text(const struct walk *w, const struct tsock *s, char *buf, size_t len)
{
    size_t others = 0;
    for (size_t h = 1; h < s->nholders; h++)
        others += s->holders[h].target != s->holders[h - 1].target;
    int pid = (int)w->targets[s->holders[0].target].pid;
    if (others)
        snprintf(buf, len, "%d+%zu", pid, others);
    else
        snprintf(buf, len, "%d", pid);
}

static void print_text(const struct walk *w, const struct collected *c)
{
    bool guessed = false;
    if (w->tree)
        printf("%-8s ", "PID");
    printf("%-4s %-4s %-8s %-24s %-24s", "FD", "TYPE", "ROLE", "LOCAL", "REMOTE");
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if (sf_options[i].column)
            printf(" %s", sf_options[i].key);
    printf(" other\n");
    for (size_t k = 0; k < c->n; k++) {
        const struct tsock *s = c->v[k];
        char local[64], remote[64] = "-", fds[64], role[16], pid[32];
        sockaddr_text(&s->si.local, local, sizeof local);
        if (s->si.peer_len)
            sockaddr_text(&s->si.peer, remote, sizeof remote);
        walk_fds_text(s, fds, sizeof fds);
        role_text(s, role, sizeof role);
        guessed |= s->cls.doubt;
        if (w->tree) {
            pid_text(w, s, pid, sizeof pid);
            printf("%-8s ", pid);
        }
        printf("%-4s %-4s %-8s %-24s %-24s", fds, s->si.type == SF_TYPE_TCP ? "tcp" : "udp", role,
               local, remote);
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            if (!sf_options[i].column)
                continue;
            char v[32];
            print_value(v, sizeof v, &s->si, i);
            printf(" %-*s", (int)strlen(sf_options[i].key), v);
        }
        const struct sockinfo *fresh = nsview_fresh(s->ns, s->si.domain, s->si.type);
        const char *sep = " ";
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            if (sf_options[i].column || !sockinfo_differs(&s->si, fresh, i) ||
                (s->si.peer_len && sf_options[i].autotuned))
                continue;
            char v[32];
            print_value(v, sizeof v, &s->si, i);
            printf("%s%s=%s", sep, sf_options[i].key, v);
            sep = ",";
        }
        if (*sep == ' ')
            printf(" -");
        printf("\n");
    }
    if (guessed)
        printf("* no listener accepts connections to this local port (any more): the role is "
               "told by the ports (see sockfix(1))\n");
}

static void print_json_options(const struct sockinfo *si)
{
    bool first = true;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (!si->have[i])
            continue;
        printf("%s\"%s\": ", first ? "" : ", ", sf_options[i].key);
        if (sf_options[i].kind == SF_VAL_BOOL)
            printf("%s", si->value[i] ? "true" : "false");
        else if (sf_options[i].kind == SF_VAL_NAME)
            print_json_string(si->names[i]);
        else if (sf_options[i].kind == SF_VAL_U32)
            printf("%u", (unsigned)si->value[i]);
        else
            printf("%d", si->value[i]);
        first = false;
    }
}

static void print_json(const struct walk *w, const struct collected *c)
{
    printf("{\"pid\": %d, \"program\": ", (int)w->targets[0].pid);
    print_json_string(w->targets[0].comm);
    printf(", \"processes\": [");
    for (size_t t = 0; t < w->ntargets; t++) {
        const struct target *tg = &w->targets[t];
        printf("%s{\"pid\": %d, \"program\": ", t ? ", " : "", (int)tg->pid);
        print_json_string(tg->comm);
        printf(", \"library\": ");
        if (tg->record.present) {
            printf("{\"policy\": ");
            print_json_string(tg->record.rec.policy[0] ? tg->record.rec.policy
                                                       : "(built-in default)");
            printf("}");
        } else {
            printf("null");
        }
        printf("}");
    }
    printf("], \"sockets\": [");
    for (size_t k = 0; k < c->n; k++) {
        const struct tsock *s = c->v[k];
        char local[64], remote[64];
        sockaddr_text(&s->si.local, local, sizeof local);
        printf("%s\n  {\"pid\": %d, \"fd\": %d, \"holders\": [", k ? "," : "",
               (int)w->targets[s->holders[0].target].pid, s->holders[0].fd);
        for (size_t h = 0; h < s->nholders; h++)
            printf("%s{\"pid\": %d, \"fd\": %d}", h ? ", " : "",
                   (int)w->targets[s->holders[h].target].pid, s->holders[h].fd);
        printf("], \"type\": \"%s\", \"family\": \"%s\", \"role\": \"%s\", \"role_source\": "
               "\"%s\", \"netns\": %llu, \"local\": \"%s\", \"remote\": ",
               s->si.type == SF_TYPE_TCP ? "tcp" : "udp",
               s->si.domain == AF_INET6 ? "ipv6" : "ipv4", role_name(s->cls.role),
               role_source_name(s->cls.source), (unsigned long long)s->ns->ino, local);
        if (s->si.peer_len) {
            sockaddr_text(&s->si.peer, remote, sizeof remote);
            printf("\"%s\"", remote);
        } else {
            printf("null");
        }
        if (s->cls.have_listener) {
            sockaddr_text(&s->cls.listener, remote, sizeof remote);
            printf(", \"listener\": \"%s\"", remote);
        }
        printf(", \"options\": {");
        print_json_options(&s->si);
        printf("}}");
    }
    printf("%s]}\n", c->n ? "\n" : "");
}

int cmd_inspect(int argc, char **argv)
{
    if (help_requested("inspect", argc, argv))
        return EXIT_OK;
    struct inspect_args a;
    int r = parse_args(argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    struct walk w;
    if (walk_open(&w, "inspect", a.pid, a.tree) != EXIT_OK)
        return walk_close(&w);
    struct collected c = {calloc(w.nsocks ? w.nsocks : 1, sizeof *c.v), 0};
    if (!c.v) {
        fprintf(stderr, "sockfix inspect: out of memory\n");
        walk_close(&w);
        return EXIT_FINDINGS;
    }
    walk_sockets(&w, collect, &c);
    if (w.status == EXIT_OK) {
        const struct target *t = &w.targets[0];
        if (a.json) {
            print_json(&w, &c);
        } else {
            printf("PID %d (%s)", (int)t->pid, t->comm);
            if (a.tree)
                printf(" and %zu descendant%s", w.ntargets - 1, w.ntargets == 2 ? "" : "s");
            if (c.n == 0)
                printf(" %s no TCP or UDP socket\n", a.tree ? "hold" : "has");
            else {
                printf("\n");
                print_text(&w, &c);
            }
        }
    }
    r = walk_close(&w);
    free(c.v);
    return r;
}
