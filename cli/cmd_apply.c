/* sockfix apply PID: the policy on a running process's existing sockets,
 * without a restart and without LD_PRELOAD, through pidfd_getfd duplicates
 * (options set through a duplicate act on the very same socket). Each socket
 * is classified from the kernel's view and matched with the shim's matcher,
 * under the target's program name. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/match.h"
#include "../config/values.h"
#include "cli.h"
#include "procsock.h"
#include "sockinfo.h"

struct apply_args {
    const char *config;
    bool dry_run, json;
    pid_t pid;
};

/* What happened to one option of one socket. */
enum outcome { CHANGED, UNCHANGED, KEPT, NOT_APPLICABLE, FAILED };

struct option_result {
    enum outcome outcome;
    int from, to;
    int err; /* FAILED */
};

struct socket_result {
    struct sockinfo si;
    bool decided; /* a rule matched */
    struct sf_decision d;
    struct option_result opt[SF_OPT_COUNT];
};

static int parse_args(int argc, char **argv, struct apply_args *a)
{
    *a = (struct apply_args){0};
    const char *pid_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            a->dry_run = true;
        else if (strcmp(argv[i], "--json") == 0)
            a->json = true;
        else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            if (++i >= argc)
                return usage_error("apply", "%s needs a file", argv[i - 1]);
            a->config = argv[i];
        } else if (argv[i][0] == '-')
            return usage_error("apply", "unknown option \"%s\"", argv[i]);
        else if (pid_arg)
            return usage_error("apply", "unexpected argument \"%s\"", argv[i]);
        else
            pid_arg = argv[i];
    }
    return parse_pid("apply", pid_arg, &a->pid);
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The shim's facts for a socket the kernel describes; false for a socket
 * with no role yet (unbound, or TCP neither listening nor connected). */
static bool event_of(const struct sockinfo *si, struct sf_event *ev)
{
    bool server = strcmp(si->role, "listener") == 0 || strcmp(si->role, "server") == 0 ||
                  (si->udp && strcmp(si->role, "bound") == 0);
    bool client = strcmp(si->role, "client") == 0;
    if (!server && !client)
        return false;
    const struct sockaddr_storage *addr = server ? &si->local : &si->peer;
    bool mapped = addr->ss_family == AF_INET6 &&
                  IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)addr)->sin6_addr);
    *ev = (struct sf_event){
        .role = server ? SF_ROLE_SERVER : SF_ROLE_CLIENT,
        .family = si->ipv6 && !mapped ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4,
        .type = si->tcp ? SF_TYPE_TCP : SF_TYPE_UDP,
        .port = port_of(addr),
    };
    return true;
}

/* Whether an option can still act on an existing socket of this role. */
static bool applies_now(const struct sf_option *o, const struct sockinfo *si)
{
    bool listener = strcmp(si->role, "listener") == 0;
    bool client = strcmp(si->role, "client") == 0;
    return (o->phase & SF_PHASE_CONNECTION) || (listener && (o->phase & SF_PHASE_LISTENER)) ||
           (client && (o->phase & SF_PHASE_CLIENT));
}

static bool same_value(const struct sf_policy *p, const struct sf_option *o,
                       const struct sockinfo *si, int i, int32_t to)
{
    if (o->kind == SF_VAL_NAME)
        return strcmp(si->names[i], sf_policy_name(p, to)) == 0;
    return si->value[i] == to;
}

static int set_on(const struct sf_policy *p, int fd, const struct sf_option *o, unsigned family,
                  int32_t v)
{
    int level, name;
    sf_option_sockopt(o, family, &level, &name, NULL);
    unsigned char buf[SF_VALUE_BYTES];
    size_t n = sf_policy_encode_value(p, o, v, buf);
    return setsockopt(fd, level, name, buf, (socklen_t)n);
}

/* Decides and, unless dry_run, sets the options on the duplicate fd.
 * defaults: a fresh socket's values, to tell what the program set itself
 * (precedence = program). */
static void apply_socket(const struct sf_policy *p, int fd, const struct sockinfo *defaults,
                         bool dry_run, struct socket_result *res)
{
    struct sf_event ev;
    res->decided = event_of(&res->si, &ev) && sf_decide(p, &ev, &res->d) > 0 && res->d.set;
    if (!res->decided)
        return;
    for (int k = 0; k < SF_OPT_COUNT; k++) {
        enum sf_opt_id i = sf_apply_order[k];
        const struct sf_option *o = &sf_options[i];
        struct option_result *r = &res->opt[i];
        if (!(res->d.set & SF_OPT_BIT(i)) || !(o->types & ev.type))
            continue;
        r->to = res->d.value[i];
        r->from = res->si.value[i];
        if (!applies_now(o, &res->si)) {
            /* Said of the sockets the shim would have set it on: listeners
             * and bound UDP sockets, not their connections. */
            bool binds = strcmp(res->si.role, "listener") == 0 || res->si.udp;
            r->outcome = binds ? NOT_APPLICABLE : UNCHANGED;
            continue;
        }
        if (!res->si.have[i] || same_value(p, o, &res->si, i, r->to)) {
            r->outcome = UNCHANGED;
            continue;
        }
        if (p->precedence == SF_PRECEDENCE_PROGRAM && sockinfo_differs(&res->si, defaults, i)) {
            r->outcome = KEPT;
            continue;
        }
        if (dry_run ||
            set_on(p, fd, o, res->si.ipv6 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4, r->to) == 0) {
            r->outcome = CHANGED;
        } else {
            r->outcome = FAILED;
            r->err = errno;
        }
    }
}

static const char *not_applicable_reason(const struct sf_option *o)
{
    return (o->phase & SF_PHASE_BIND) ? "only before bind" : "fixed when listen was called";
}

static void value_text(const struct sf_option *o, int v, char *buf, size_t len)
{
    sf_format_option_value(o, v, buf, len);
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

static void print_text(const struct sf_policy *p, const struct apply_args *a, const char *program,
                       const struct socket_result *res, size_t n)
{
    printf("PID %d (%s), policy %s%s\n", (int)a->pid, program, p->source,
           a->dry_run ? " (dry run: nothing is changed)" : "");
    for (size_t k = 0; k < n; k++) {
        const struct socket_result *s = &res[k];
        char local[64], remote[64] = "", rules[256];
        sockaddr_text(&s->si.local, local, sizeof local);
        if (s->si.peer_len)
            sockaddr_text(&s->si.peer, remote, sizeof remote);
        printf("fd %d %s %s %s%s%s: ", s->si.fd, s->si.tcp ? "tcp" : "udp", s->si.role, local,
               s->si.peer_len ? " -> " : "", remote);
        if (!s->decided) {
            printf("no rule applies\n");
            continue;
        }
        rules_text(p, &s->d, rules, sizeof rules);
        const char *sep = "";
        int shown = 0;
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            const struct sf_option *o = &sf_options[i];
            const struct option_result *r = &s->opt[i];
            if (!(s->d.set & SF_OPT_BIT(i)) ||
                !(o->types & (s->si.tcp ? SF_TYPE_TCP : SF_TYPE_UDP)))
                continue;
            char from[32], to[32];
            if (o->kind == SF_VAL_NAME)
                snprintf(from, sizeof from, "%s", s->si.names[i][0] ? s->si.names[i] : "none");
            else
                value_text(o, r->from, from, sizeof from);
            sf_policy_format_value(p, o, r->to, to, sizeof to);
            switch (r->outcome) {
            case CHANGED:
                printf("%s%s %s -> %s", sep, o->key, from, to);
                break;
            case UNCHANGED:
                continue;
            case KEPT:
                printf("%s%s %s kept (set by the program; policy %s)", sep, o->key, from, to);
                break;
            case NOT_APPLICABLE:
                printf("%s%s not applicable to an existing socket (%s)", sep, o->key,
                       not_applicable_reason(o));
                break;
            case FAILED:
                printf("%s%s %s -> %s failed: %s", sep, o->key, from, to, strerror(r->err));
                break;
            }
            sep = ", ";
            shown++;
        }
        printf("%s (rules %s)\n", shown ? "" : "already as the policy says", rules);
    }
}

static const char *outcome_name(enum outcome o)
{
    static const char *const names[] = {"changed", "unchanged", "kept", "not_applicable", "failed"};
    return names[o];
}

static void print_json(const struct sf_policy *p, const struct apply_args *a, const char *program,
                       const struct socket_result *res, size_t n)
{
    printf("{\"pid\": %d, \"program\": ", (int)a->pid);
    print_json_string(program);
    printf(", \"policy\": ");
    print_json_string(p->source);
    printf(", \"dry_run\": %s, \"sockets\": [", a->dry_run ? "true" : "false");
    for (size_t k = 0; k < n; k++) {
        const struct socket_result *s = &res[k];
        char local[64], remote[64];
        sockaddr_text(&s->si.local, local, sizeof local);
        printf("%s\n  {\"fd\": %d, \"type\": \"%s\", \"role\": \"%s\", \"local\": \"%s\", "
               "\"remote\": ",
               k ? "," : "", s->si.fd, s->si.tcp ? "tcp" : "udp", s->si.role, local);
        if (s->si.peer_len) {
            sockaddr_text(&s->si.peer, remote, sizeof remote);
            printf("\"%s\"", remote);
        } else {
            printf("null");
        }
        printf(", \"options\": [");
        bool first = true;
        for (int i = 0; s->decided && i < SF_OPT_COUNT; i++) {
            const struct option_result *r = &s->opt[i];
            if (!(s->d.set & SF_OPT_BIT(i)) ||
                !(sf_options[i].types & (s->si.tcp ? SF_TYPE_TCP : SF_TYPE_UDP)))
                continue;
            printf("%s{\"option\": \"%s\", \"result\": \"%s\", ", first ? "" : ", ",
                   sf_options[i].key, outcome_name(r->outcome));
            if (sf_options[i].kind == SF_VAL_NAME) {
                printf("\"from\": ");
                print_json_string(s->si.names[i]);
                printf(", \"to\": ");
                print_json_string(sf_policy_name(p, r->to));
            } else {
                printf("\"from\": %d, \"to\": %d", r->from, r->to);
            }
            printf(", \"rule\": ");
            print_json_string(s->d.rule[i] == SF_RULE_IMPLIED ? "(implied)"
                                                              : p->rules[s->d.rule[i]].name);
            if (r->outcome == FAILED)
                printf(", \"error\": \"%s\"", strerror(r->err));
            printf("}");
            first = false;
        }
        printf("]}");
    }
    printf("%s]}\n", n ? "\n" : "");
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
    struct procsock_walk w;
    if (procsock_begin(&w, "apply", a.pid) != 0) {
        sf_policy_free(p);
        return EXIT_FINDINGS;
    }
    char exe[256], argv0[256], program[64];
    procsock_program_names(a.pid, exe, argv0);
    procsock_comm(a.pid, program, sizeof program);
    const char *names[2] = {exe, argv0};
    sf_policy_select_program(p, names, 2);

    struct listen_ports *lp = malloc(sizeof *lp);
    struct socket_result *res = calloc(w.nfds ? w.nfds : 1, sizeof *res);
    if (!lp || !res) {
        fprintf(stderr, "sockfix apply: out of memory\n");
        free(lp);
        free(res);
        procsock_end(&w);
        sf_policy_free(p);
        return EXIT_FINDINGS;
    }
    listen_ports_load(lp, a.pid);
    struct sockinfo tcp_defaults, udp_defaults;
    sockinfo_defaults(&tcp_defaults, &udp_defaults, lp);
    size_t n = 0;
    int status = EXIT_OK, fd, dup;
    bool failed;
    while ((dup = procsock_next(&w, &fd, &failed)) >= 0) {
        if (sockinfo_read(dup, lp, &res[n].si)) {
            res[n].si.fd = fd;
            apply_socket(p, dup, res[n].si.tcp ? &tcp_defaults : &udp_defaults, a.dry_run, &res[n]);
            for (int i = 0; i < SF_OPT_COUNT; i++)
                if (res[n].decided && res[n].opt[i].outcome == FAILED)
                    status = EXIT_FINDINGS;
            n++;
        }
        close(dup);
    }
    if (failed)
        status = EXIT_FINDINGS;
    procsock_end(&w);
    if (status == EXIT_OK || n > 0) {
        if (a.json)
            print_json(p, &a, program, res, n);
        else
            print_text(p, &a, program, res, n);
    }
    free(lp);
    free(res);
    sf_policy_free(p);
    return status;
}
