/* sockfix explain: the merged options for one kind of socket, and where
 * each comes from. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../config/event.h"
#include "../config/flat.h"
#include "../config/match.h"
#include "../config/values.h"
#include "cli.h"

struct explain_args {
    const char *config;
    const char *program;
    const char *address;
    bool family_given;
    bool attach;                  /* --attach: as sockfix attach decides */
    struct sockaddr_storage addr; /* --address, with --port */
    struct sf_event ev;
};

static int parse_address(const char *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, s, &in->sin_addr) == 1)
        ss->ss_family = AF_INET;
    else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1)
        ss->ss_family = AF_INET6;
    else
        return -1;
    return 0;
}

static int word(const char *arg, const char *a, const char *b, unsigned va, unsigned vb,
                unsigned *out)
{
    if (strcmp(arg, a) == 0)
        *out = va;
    else if (strcmp(arg, b) == 0)
        *out = vb;
    else
        return -1;
    return 0;
}

static int parse_option(int c, struct explain_args *a)
{
    switch (c) {
    case 'c':
        a->config = optarg;
        return EXIT_OK;
    case 'P':
        a->program = optarg;
        return EXIT_OK;
    case 'r':
        if (word(optarg, "server", "client", SF_ROLE_SERVER, SF_ROLE_CLIENT, &a->ev.role))
            return usage_error("explain", "--role takes server or client, not %s", quoted(optarg));
        return EXIT_OK;
    case 'f':
        if (word(optarg, "ipv4", "ipv6", SF_FAMILY_IPV4, SF_FAMILY_IPV6, &a->ev.family))
            return usage_error("explain", "--family takes ipv4 or ipv6, not %s", quoted(optarg));
        a->family_given = true;
        return EXIT_OK;
    case 't':
        if (word(optarg, "tcp", "udp", SF_TYPE_TCP, SF_TYPE_UDP, &a->ev.type))
            return usage_error("explain", "--type takes tcp or udp, not %s", quoted(optarg));
        return EXIT_OK;
    case 'a':
        if (parse_address(optarg, &a->addr) != 0)
            return usage_error("explain", "--address takes an IPv4 or IPv6 address, not %s",
                               quoted(optarg));
        a->address = optarg;
        return EXIT_OK;
    case 'A':
        a->attach = true;
        return EXIT_OK;
    case 'p': {
        char *end;
        long port = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end || port < 1 || port > 65535)
            return usage_error("explain", "--port takes a port from 1 to 65535, not %s",
                               quoted(optarg));
        a->ev.port = (unsigned)port;
        return EXIT_OK;
    }
    default:
        return -1;
    }
}

/* With --address, the event comes from the one builder the library and
 * sockfix apply use (config/event.h): a socket bound to the address (server)
 * or connecting to it (client). */
static int address_event(struct explain_args *a)
{
    struct sockaddr_storage *ss = &a->addr;
    uint16_t port = htons((uint16_t)a->ev.port);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = port;
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = port;
    socklen_t len =
        ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    bool server = a->ev.role == SF_ROLE_SERVER;
    struct sf_sock_facts f = {.domain = ss->ss_family,
                              .type = a->ev.type,
                              .state = server ? SF_SOCK_LISTENER : SF_SOCK_CLIENT,
                              .local = server ? (struct sockaddr *)ss : NULL,
                              .local_len = len,
                              .peer = server ? NULL : (struct sockaddr *)ss,
                              .peer_len = len};
    unsigned asked = a->ev.family;
    if (!sf_event_from_facts(&f, &a->ev))
        return usage_error("explain", "--address %s cannot be matched", quoted(a->address));
    if (!a->family_given || asked == a->ev.family)
        return EXIT_OK;
    if (ss->ss_family == AF_INET6) /* v4-mapped */
        return usage_error(
            "explain",
            "--family ipv6 does not fit --address %s: a socket %s a v4-mapped address counts as "
            "ipv4 (see match.family); a connection accepted by a dual-stack listener on :: is "
            "matched as that listener: --address ::",
            a->address, server ? "bound to" : "connecting to");
    return usage_error("explain", "--family %s does not fit --address %s, an %s address",
                       asked == SF_FAMILY_IPV4 ? "ipv4" : "ipv6", a->address,
                       ss->ss_family == AF_INET ? "IPv4" : "IPv6");
}

static int parse_args(int argc, char **argv, struct explain_args *a)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"program", required_argument, NULL, 'P'},
                                             {"role", required_argument, NULL, 'r'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"family", required_argument, NULL, 'f'},
                                             {"type", required_argument, NULL, 't'},
                                             {"address", required_argument, NULL, 'a'},
                                             {"attach", no_argument, NULL, 'A'},
                                             {NULL, 0, NULL, 0}};
    *a = (struct explain_args){
        .ev = {.role = SF_ROLE_SERVER, .family = SF_FAMILY_IPV4, .type = SF_TYPE_TCP}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+c:", longopts, NULL)) != -1) {
        int r = parse_option(c, a);
        if (r < 0)
            return unknown_option("explain", argv[optind - 1]);
        if (r != EXIT_OK)
            return r;
    }
    if (optind < argc)
        return unexpected_argument("explain", argv[optind]);
    return a->address ? address_event(a) : EXIT_OK;
}

/* When an option is applied to such a socket: one answer, worded for the
 * library and for the kernel programs of sockfix attach (attach/sockfix.bpf.c). */
enum moment {
    AT_CONNECT,
    AT_BIND,
    AT_UDP_BIND,
    AT_LISTEN_ARG,
    AT_LISTENER_ONLY,
    AT_LISTEN_INHERITED,
    AT_LISTEN_EACH,
    MOMENTS
};

static enum moment moment_of(const struct sf_option *o, const struct sf_event *ev)
{
    if (ev->role == SF_ROLE_CLIENT)
        return AT_CONNECT;
    if (o->phase & SF_PHASE_BIND)
        return AT_BIND;
    if (ev->type == SF_TYPE_UDP)
        return AT_UDP_BIND;
    if (o->phase & SF_PHASE_LISTEN_ARG)
        return AT_LISTEN_ARG;
    if (o->phase & SF_PHASE_LISTENER)
        return AT_LISTENER_ONLY;
    return o->inherited ? AT_LISTEN_INHERITED : AT_LISTEN_EACH;
}

static const char *const library_words[MOMENTS] = {
    [AT_CONNECT] = "before connect",
    [AT_BIND] = "before bind",
    [AT_UDP_BIND] = "before bind (a UDP server does not listen)",
    [AT_LISTEN_ARG] = "replaces the listen() backlog",
    [AT_LISTENER_ONLY] = "at listen, on the listener only",
    [AT_LISTEN_INHERITED] = "at listen; accepted sockets inherit it",
    [AT_LISTEN_EACH] = "at listen and on each accepted socket (not inherited)",
};

static const char *const attach_words[MOMENTS] = {
    [AT_CONNECT] = "library and attach: before connect (cgroup/connect)",
    [AT_BIND] = "library and attach: before bind (cgroup/bind)",
    [AT_UDP_BIND] = "library and attach: before bind (cgroup/bind; a UDP server does not listen)",
    [AT_LISTEN_ARG] = "library and attach: at listen (sockops)",
    [AT_LISTENER_ONLY] = "library and attach: at listen (sockops), on the listener only",
    [AT_LISTEN_INHERITED] = "library and attach: at listen (sockops); accepted sockets inherit it",
    [AT_LISTEN_EACH] = "library and attach: at listen and on each accepted socket (sockops)",
};

static const char *when_applied(const struct sf_option *o, const struct sf_event *ev, bool attach)
{
    if (attach && !o->attachable)
        return "library only: the kernel does not let BPF programs set it";
    return (attach ? attach_words : library_words)[moment_of(o, ev)];
}

static void print_rule_ref(const struct sf_policy *p, const struct sf_decision *d, int opt)
{
    if (d->rule[opt] != SF_RULE_IMPLIED) {
        const struct sf_rule *r = &p->rules[d->rule[opt]];
        printf("[%s] line %u", r->name, r->value_line[opt]);
        return;
    }
    /* implied keepalive: name the first timer that implied it */
    for (int t = SF_OPT_KEEPIDLE; t <= SF_OPT_KEEPCNT; t++) {
        if (d->set & SF_OPT_BIT(t)) {
            const struct sf_rule *r = &p->rules[d->rule[t]];
            printf("implied by %s ([%s] line %u)", sf_options[t].key, r->name, r->value_line[t]);
            return;
        }
    }
}

/* The rules that hold for the event: the library's (flat NULL), or those of
 * the kernel programs, which match the process name. */
static unsigned print_matching_rules(const struct sf_policy *p, const struct sf_flat *flat,
                                     const struct sf_event *ev, const char *program)
{
    unsigned n = 0;
    char comm[SF_FLAT_NAME] = "";
    if (program)
        snprintf(comm, sizeof comm, "%s", program);
    size_t count = flat ? flat->nrules : p->nactive;
    for (size_t i = 0; i < count; i++) {
        struct sf_decision scratch = {0};
        const struct sf_rule *r = &p->rules[flat ? flat->rules[i].index : p->active[i]];
        bool holds =
            flat ? sf_flat_rule_step(&flat->rules[i], ev, program != NULL, comm, 0, &scratch)
                 : sf_rule_matches(r, ev);
        if (holds)
            printf("%s[%s] line %u", n++ ? ", " : "", r->name, r->line);
    }
    return n;
}

static void explain(const struct sf_policy *p, const struct sf_flat *flat,
                    const struct explain_args *a)
{
    const struct sf_event *ev = &a->ev;
    printf("policy:  %s\n", p->source);
    printf("socket:  %s %s %s, ", ev->type == SF_TYPE_TCP ? "tcp" : "udp",
           ev->family == SF_FAMILY_IPV4 ? "ipv4" : "ipv6",
           ev->role == SF_ROLE_SERVER ? "server" : "client");
    if (ev->port)
        printf("%s port %u, ", ev->role == SF_ROLE_SERVER ? "local" : "remote", ev->port);
    else
        printf("any port (rules with match.port not considered), ");
    if (a->program)
        printf("program %s\n", a->program);
    else
        printf("any program (rules with match.program not considered)\n");
    bool address_rules = false;
    for (size_t i = 0; i < p->nactive; i++)
        address_rules |= p->rules[p->active[i]].naddrs > 0;
    if (a->address && a->addr.ss_family == AF_INET6 && ev->family == SF_FAMILY_IPV4)
        printf("address: %s (%s; v4-mapped: matched as IPv4 %u.%u.%u.%u)\n", a->address,
               ev->role == SF_ROLE_SERVER ? "local" : "remote", ev->addr[0], ev->addr[1],
               ev->addr[2], ev->addr[3]);
    else if (a->address)
        printf("address: %s (%s)\n", a->address, ev->role == SF_ROLE_SERVER ? "local" : "remote");
    else if (address_rules)
        printf("address: any (rules with match.address not considered; see --address)\n");

    struct sf_decision d;
    if (flat)
        sf_flat_decide(flat, ev, a->program, &d);
    else
        sf_decide(p, ev, &d);
    printf("rules:   ");
    unsigned n = print_matching_rules(p, flat, ev, a->program);
    printf("%s\n", n ? "" : "none match");
    if (!d.set) {
        printf("\nNo option is set on such a socket.\n");
        return;
    }
    printf("\n%-13s %-8s %-17s %s\n", "option", "value", "socket option", "set by");
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (!(d.set & SF_OPT_BIT(i)))
            continue;
        const struct sf_option *o = &sf_options[i];
        char value[32];
        sf_policy_format_value(p, o, d.value[i], value, sizeof value);
        int level, name;
        const char *label;
        sf_option_sockopt(o, ev->family, &level, &name, &label);
        printf("%-13s %-8s %-17s ", o->key, value, label);
        print_rule_ref(p, &d, i);
        printf(", %s\n", when_applied(o, ev, flat != NULL));
    }
}

/* What sockfix attach would say of the policy: its refusals (then nothing
 * is explained) and its notes. EXIT_OK, or EXIT_POLICY after the refusals. */
static int attach_view(const struct sf_policy *p, struct sf_flat *flat)
{
    if (sf_flat_compile(p, flat) != 0) {
        fprintf(stderr, "sockfix explain: out of memory\n");
        return EXIT_FINDINGS;
    }
    for (uint32_t i = 0; i < flat->nissues; i++)
        if (flat->issues[i].error)
            fprintf(stderr, "%s\n", flat->issues[i].message);
    if (flat->nerrors) {
        fprintf(stderr, "sockfix explain: sockfix attach cannot take this policy\n");
        return EXIT_POLICY;
    }
    return EXIT_OK;
}

static void print_attach_notes(const struct sf_flat *flat, const char *program)
{
    printf("\nmode:    sockfix attach (the kernel programs); without --attach: the library\n");
    if (program && strlen(program) > SF_FLAT_NAME - 1)
        printf("note:    the kernel keeps the first %d characters of a process name: matched as "
               "\"%.*s\"\n",
               SF_FLAT_NAME - 1, SF_FLAT_NAME - 1, program);
    for (uint32_t i = 0; i < flat->nissues; i++)
        printf("note:    %s\n", flat->issues[i].message);
}

int cmd_explain(int argc, char **argv)
{
    if (help_requested("explain", argc, argv))
        return EXIT_OK;
    struct explain_args a;
    int r = parse_args(argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    struct sf_policy *p = load_valid_policy("explain", a.config, "no rule would apply");
    if (!p)
        return EXIT_POLICY;
    struct sf_flat flat = {0};
    if (a.attach && (r = attach_view(p, &flat)) != EXIT_OK) {
        sf_flat_free(&flat);
        sf_policy_free(p);
        return r;
    }
    const char *names[1] = {a.program};
    sf_policy_select_program(p, names, a.program ? 1 : 0);
    explain(p, a.attach ? &flat : NULL, &a);
    if (a.attach)
        print_attach_notes(&flat, a.program);
    sf_flat_free(&flat);
    sf_policy_free(p);
    return EXIT_OK;
}
