/* The decision of sockfix attach's kernel programs equals the library's:
 * the same events go through sf_decide (the library, after selecting the
 * program as it does), sf_flat_decide (the compiled policy, in C: what
 * sockfix explain --attach shows) and the kernel programs themselves (their
 * decision step loaded into the kernel, run with BPF_PROG_TEST_RUN). Hand-
 * written policies cover every match key and the merging rules; seeded
 * random policies and events cover the rest. The kernel part needs root. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/attach.h"
#include "config/event.h"
#include "config/flat.h"
#include "config/options.h"
#include "config/policy.h"
#include "sockfix.skel.h"

/* The kernel programs' decision step, loaded with one policy. */
struct kernel_decider {
    struct bpf_object *obj;
    int prog_fd;
};

static bool kernel_available(void)
{
    return geteuid() == 0;
}

static void kernel_load(const struct sf_flat *f, struct kernel_decider *k)
{
    size_t size;
    const void *bytes = sockfix_bpf__elf_bytes(&size);
    k->obj = bpf_object__open_mem(bytes, size, NULL);
    cr_assert(libbpf_get_error(k->obj) == 0);
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, k->obj)
        bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), "sf_decide_test") == 0);
    struct bpf_map *rules = bpf_object__find_map_by_name(k->obj, "rules");
    cr_assert(bpf_map__set_max_entries(rules, f->nrules ? f->nrules : 1) == 0);
    int err = bpf_object__load(k->obj);
    cr_assert_eq(err, 0, "loading the decision step: %s", strerror(-err));
    uint32_t zero = 0;
    cr_assert(bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(k->obj, "config")),
                                  &zero, &f->config, 0) == 0);
    for (uint32_t i = 0; i < f->nrules; i++)
        cr_assert(bpf_map_update_elem(bpf_map__fd(rules), &i, &f->rules[i], 0) == 0);
    k->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(k->obj, "sf_decide_test"));
}

static unsigned kernel_decide(const struct kernel_decider *k, const struct sf_event *ev,
                              const char *comm, struct sf_decision *d)
{
    struct sf_attach_test t = {.ev = *ev};
    if (comm) {
        snprintf(t.comm, sizeof t.comm, "%s", comm);
        t.have_comm = 1;
    }
    /* A syscall program's context is copied back to ctx_in. */
    LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &t, .ctx_size_in = sizeof t);
    cr_assert_eq(bpf_prog_test_run_opts(k->prog_fd, &run), 0, "test run: %s", strerror(errno));
    cr_assert_eq(run.retval, 0);
    *d = t.d;
    return t.matched;
}

static void kernel_close(struct kernel_decider *k)
{
    bpf_object__close(k->obj);
    k->obj = NULL;
}

/* What the parity tests went through, printed at the end (the issue's note). */
static unsigned long compared_events, compared_policies, kernel_events;

static char event_text[256];
static const char *describe(const struct sf_event *ev, const char *comm)
{
    char addr[64] = "-";
    if (ev->have_addr)
        inet_ntop(ev->family == SF_FAMILY_IPV6 ? AF_INET6 : AF_INET, ev->addr, addr, sizeof addr);
    snprintf(event_text, sizeof event_text, "role %u family %u type %u port %u address %s comm %s",
             ev->role, ev->family, ev->type, ev->port, addr, comm ? comm : "(none)");
    return event_text;
}

static void same_decision(const char *what, const struct sf_decision *a, unsigned ma,
                          const struct sf_decision *b, unsigned mb, const char *policy,
                          const struct sf_event *ev, const char *comm)
{
    cr_assert_eq(a->set, b->set, "%s: options %#x against %#x for %s\n%s", what, a->set, b->set,
                 describe(ev, comm), policy);
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        if (!(a->set & SF_OPT_BIT(o)))
            continue;
        cr_assert_eq(a->value[o], b->value[o], "%s: %s = %d against %d for %s\n%s", what,
                     sf_options[o].key, a->value[o], b->value[o], describe(ev, comm), policy);
        cr_assert_eq(a->rule[o], b->rule[o], "%s: %s from rule %u against %u for %s\n%s", what,
                     sf_options[o].key, a->rule[o], b->rule[o], describe(ev, comm), policy);
    }
    cr_assert_eq(ma, mb, "%s: %u rules held against %u for %s\n%s", what, ma, mb,
                 describe(ev, comm), policy);
}

/* Every way of deciding ev for a process named comm (NULL: none known)
 * agrees; long_names: comm is longer than the kernel keeps, and only the
 * flat decision and the kernel's are compared. */
static void check_event(struct sf_policy *p, const struct sf_flat *f,
                        const struct kernel_decider *k, const char *policy,
                        const struct sf_event *ev, const char *comm)
{
    struct sf_decision lib = {0}, flat = {0}, kern = {0};
    unsigned mf = sf_flat_decide(f, ev, comm, &flat);
    if (!comm || strlen(comm) < SF_FLAT_NAME) {
        const char *names[1] = {comm};
        cr_assert_eq(sf_policy_select_program(p, names, comm ? 1 : 0), 0);
        unsigned ml = sf_decide(p, ev, &lib);
        same_decision("library and flat", &lib, ml, &flat, mf, policy, ev, comm);
    }
    if (k && k->obj) {
        unsigned mk = kernel_decide(k, ev, comm, &kern);
        same_decision("flat and kernel", &flat, mf, &kern, mk, policy, ev, comm);
        kernel_events++;
    }
    compared_events++;
}

static void set_address(struct sf_event *ev, const char *text, unsigned port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int domain;
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        cr_assert(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1);
        len = sizeof *in6;
        domain = AF_INET6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        cr_assert(inet_pton(AF_INET, text, &in->sin_addr) == 1);
        len = sizeof *in;
        domain = AF_INET;
    }
    cr_assert(sf_event_set_address(domain, (struct sockaddr *)&ss, len, ev));
}

static const char *const addresses[] = {
    "127.0.0.1", "10.1.2.3", "192.168.7.9",     "0.0.0.0",          "::1",           "2001:db8::7",
    "fe80::1",   "::",       "::ffff:10.1.2.3", "::ffff:127.0.0.1", "2001:db8:1::1", "172.16.0.1"};
static const unsigned ports[] = {0, 22, 80, 443, 5432, 8080, 8443, 20000, 32768, 65535};
static const char *const comms[] = {
    NULL, "lo", "reno", "legacy-server", "sshd", "nginx", "python3", "redis-server", "a"};

/* Every event of the tables above: roles, families (by address, v4-mapped
 * included), types, ports, with and without an address, every comm. */
static void check_every_event(struct sf_policy *p, const struct sf_flat *f,
                              const struct kernel_decider *k, const char *policy)
{
    for (unsigned role = SF_ROLE_SERVER; role <= SF_ROLE_CLIENT; role++)
        for (unsigned type = SF_TYPE_TCP; type <= SF_TYPE_UDP; type++)
            for (size_t pi = 0; pi < sizeof ports / sizeof ports[0]; pi++)
                for (size_t a = 0; a <= sizeof addresses / sizeof addresses[0]; a++)
                    for (size_t c = 0; c < sizeof comms / sizeof comms[0]; c++) {
                        struct sf_event ev = {.role = role, .type = type};
                        if (a < sizeof addresses / sizeof addresses[0]) {
                            set_address(&ev, addresses[a], ports[pi]);
                        } else { /* no address known: both families */
                            ev.port = ports[pi];
                            ev.family = 1 + (unsigned)(pi & 1);
                        }
                        check_event(p, f, k, policy, &ev, comms[c]);
                    }
}

static struct sf_policy *parse(const char *text)
{
    struct sf_policy *p = sf_policy_parse(text, strlen(text), "parity.ini");
    cr_assert_not_null(p);
    if (p->nerrors) {
        char msg[512];
        sf_error_format(p, &p->errors[0], msg, sizeof msg);
        cr_assert_fail("%s\n%s", msg, text);
    }
    return p;
}

/* Compiles text and checks every event through every path. */
static void check_policy(const char *text, bool with_kernel)
{
    struct sf_policy *p = parse(text);
    struct sf_flat f;
    cr_assert_eq(sf_flat_compile(p, &f), 0);
    cr_assert_eq(f.nerrors, 0, "%s\n%s", f.nissues ? f.issues[0].message : "", text);
    struct kernel_decider k = {0};
    if (with_kernel)
        kernel_load(&f, &k);
    check_every_event(p, &f, with_kernel ? &k : NULL, text);
    if (with_kernel)
        kernel_close(&k);
    sf_flat_free(&f);
    sf_policy_free(p);
    compared_policies++;
}

static void report(void)
{
    fprintf(stderr, "parity: %lu policies, %lu events compared (%lu through the kernel)\n",
            compared_policies, compared_events, kernel_events);
}

TestSuite(parity, .fini = report, .timeout = 600);

/* Policies written to reach every match key and every merging rule. */
static const char *const written[] = {
    /* the default policy's shape: later rules win key by key */
    "[servers]\nmatch.role = server\nreuseaddr = yes\n"
    "[keepalive]\nkeepalive = yes\nkeepidle = 60s\nkeepintvl = 10s\nkeepcnt = 6\n",
    /* ports and ranges, overlapping, with a later rule overriding */
    "[web]\nmatch.port = 80, 443, 8000-8999\nkeepidle = 30s\n"
    "[tls]\nmatch.port = 443, 8443\nkeepidle = 45s\nuser_timeout = 90s\n"
    "[all]\nkeepcnt = 3\n",
    /* families, incl. v4-mapped peers of a dual-stack listener */
    "[v6]\nmatch.family = ipv6\nkeepidle = 61s\ntos = 32\n"
    "[v4]\nmatch.family = ipv4\nkeepidle = 41s\ntos = 16\n",
    /* addresses: v4 and v6 networks, a host, the wildcard */
    "[lan]\nmatch.address = 10.0.0.0/8, 192.168.0.0/16\nkeepidle = 20s\n"
    "[docs]\nmatch.address = 2001:db8::/32\nkeepidle = 21s\n"
    "[loop]\nmatch.address = 127.0.0.1, ::1\nnodelay = yes\n"
    "[any]\nmatch.address = 0.0.0.0/0\npriority = 2\n",
    /* roles and types: UDP rules, client rules, server-only options */
    "[udp]\nmatch.type = udp\nreuseport = yes\npriority = 4\ntos = 8\n"
    "[both]\nmatch.type = tcp, udp\nmatch.role = server\nreuseaddr = yes\n"
    "[clients]\nmatch.role = client\nkeepalive = yes\nkeepidle = 33s\nmark = 7\n",
    /* programs: names and prefixes */
    "[lo]\nmatch.program = lo\nkeepidle = 11s\n"
    "[re]\nmatch.program = re*\nkeepidle = 12s\n"
    "[several]\nmatch.program = sshd, nginx, py*\nkeepcnt = 2\n"
    "[legacy]\nmatch.program = legacy-server\nmatch.port = 8080\nuser_timeout = 5s\n",
    /* keepalive = no after timers; timers alone imply keepalive */
    "[timers]\nkeepidle = 50s\n"
    "[off]\nmatch.port = 22\nkeepalive = no\n"
    "[on]\nmatch.port = 443\nkeepalive = yes\n",
    /* options of one family only, names, sizes, lingering, backlog */
    "[six]\nv6only = yes\nfreebind = yes\nbacklog = 1024\n"
    "[names]\ncongestion = reno\nbind_device = lo\n"
    "[sizes]\nrcvbuf = 256k\nsndbuf = 1m\nnotsent_lowat = 16384\nlinger = 5s\n"
    "[listen]\nmatch.role = server\ndefer_accept = 3s\nfastopen = 16\nmaxseg = 1400\n",
    /* no rule at all */
    "[sockfix]\nlog = off\n",
};

Test(parity, written_policies_in_c)
{
    for (size_t i = 0; i < sizeof written / sizeof written[0]; i++)
        check_policy(written[i], false);
}

Test(parity, written_policies_in_the_kernel)
{
    if (!kernel_available())
        cr_skip_test("the kernel's decision needs root (BPF_PROG_TEST_RUN); the C paths were "
                     "compared");
    for (size_t i = 0; i < sizeof written / sizeof written[0]; i++)
        check_policy(written[i], true);
}

/* A seeded generator: every run draws the same policies. */
static uint64_t rng = 0x5eed5eed12345678ull;
static unsigned draw(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void value_text(int o, char *buf, size_t len)
{
    const struct sf_option *opt = &sf_options[o];
    int64_t lo = opt->min < 0 ? 0 : opt->min, hi = opt->max;
    if (hi - lo > 5000)
        hi = lo + 5000;
    int64_t v = lo + (int64_t)draw((unsigned)(hi - lo + 1));
    switch (opt->kind) {
    case SF_VAL_BOOL:
        snprintf(buf, len, "%s", v ? "yes" : "no");
        break;
    case SF_VAL_SECONDS:
    case SF_VAL_LINGER:
        snprintf(buf, len, "%llds", (long long)v);
        break;
    case SF_VAL_MILLIS:
        snprintf(buf, len, "%lldms", (long long)v);
        break;
    case SF_VAL_NAME:
        snprintf(buf, len, "%s", o == SF_OPT_CONGESTION ? (v & 1 ? "reno" : "cubic") : "lo");
        break;
    default:
        snprintf(buf, len, "%lld", (long long)v);
        break;
    }
}

static void random_rule(char *out, size_t len, int n)
{
    size_t at = (size_t)snprintf(out, len, "[r%d]\n", n);
#define ADD(...) at += (size_t)snprintf(out + at, len - at, __VA_ARGS__)
    if (draw(3) == 0) {
        ADD("match.port = %u", ports[1 + draw(9)]);
        if (draw(2))
            ADD(", %u-%u", 8000 + draw(100), 8100 + draw(1000));
        ADD("\n");
    }
    if (draw(4) == 0)
        ADD("match.role = %s\n", draw(2) ? "server" : "client");
    if (draw(4) == 0)
        ADD("match.family = %s\n", draw(2) ? "ipv4" : "ipv6");
    if (draw(4) == 0)
        ADD("match.type = %s\n", (const char *[]){"tcp", "udp", "tcp, udp"}[draw(3)]);
    if (draw(4) == 0)
        ADD("match.address = %s\n",
            (const char *[]){"10.0.0.0/8", "127.0.0.0/8, ::1", "2001:db8::/32", "192.168.7.9",
                             "::/0", "0.0.0.0/0", "fe80::/10, 172.16.0.0/12"}[draw(7)]);
    if (draw(4) == 0)
        ADD("match.program = %s\n", (const char *[]){"lo", "reno", "re*", "legacy-*", "sshd, nginx",
                                                     "python3", "redis-server", "a*"}[draw(8)]);
    unsigned noptions = 1 + draw(4);
    for (unsigned i = 0; i < noptions; i++) {
        int o = (int)draw(SF_OPT_COUNT);
        char v[64];
        value_text(o, v, sizeof v);
        ADD("%s = %s\n", sf_options[o].key, v);
    }
#undef ADD
}

/* A random policy the parser takes (the generator also writes keys a rule
 * cannot have: an option for sockets its match keys exclude; those are
 * drawn again). */
static void random_policy(char *text, size_t len)
{
    for (;;) {
        size_t at = 0;
        unsigned nrules = 1 + draw(6);
        for (unsigned r = 0; r < nrules; r++) {
            random_rule(text + at, len - at, (int)r);
            at += strlen(text + at);
        }
        struct sf_policy *p = sf_policy_parse(text, at, "random.ini");
        bool ok = p && p->nerrors == 0;
        sf_policy_free(p);
        if (ok)
            return;
    }
}

static void random_policies(unsigned n, bool with_kernel)
{
    char text[8192];
    for (unsigned i = 0; i < n; i++) {
        random_policy(text, sizeof text);
        check_policy(text, with_kernel);
    }
}

Test(parity, random_policies_in_c)
{
    random_policies(300, false);
}

Test(parity, random_policies_in_the_kernel)
{
    if (!kernel_available())
        cr_skip_test("the kernel's decision needs root (BPF_PROG_TEST_RUN); the C paths were "
                     "compared");
    random_policies(40, true);
}

/* Names longer than the kernel keeps: the kernel programs and
 * sf_flat_decide see the same first 15 characters. */
Test(parity, long_names_in_the_kernel)
{
    if (!kernel_available())
        cr_skip_test("the kernel's decision needs root (BPF_PROG_TEST_RUN)");
    const char *text = "[long]\nmatch.program = legacy-server-with-a-long-name\nkeepidle = 9s\n"
                       "[prefix]\nmatch.program = legacy-server-w*\nkeepcnt = 2\n";
    struct sf_policy *p = parse(text);
    struct sf_flat f;
    cr_assert_eq(sf_flat_compile(p, &f), 0);
    struct kernel_decider k = {0};
    kernel_load(&f, &k);
    static const char *const names[] = {"legacy-server-with-a-long-name", "legacy-server-w",
                                        "legacy-server-x", "legacy-server"};
    struct sf_event ev = {.role = SF_ROLE_SERVER, .type = SF_TYPE_TCP, .family = SF_FAMILY_IPV4};
    for (size_t i = 0; i < 4; i++) {
        struct sf_decision flat = {0}, kern = {0};
        unsigned mf = sf_flat_decide(&f, &ev, names[i], &flat);
        char comm[SF_FLAT_NAME];
        snprintf(comm, sizeof comm, "%s", names[i]); /* what the kernel keeps */
        unsigned mk = kernel_decide(&k, &ev, comm, &kern);
        same_decision("flat and kernel", &flat, mf, &kern, mk, text, &ev, names[i]);
        cr_expect_eq(mf, i < 2 ? 2u : 0u, "%s", names[i]);
    }
    kernel_close(&k);
    sf_flat_free(&f);
    sf_policy_free(p);
}
