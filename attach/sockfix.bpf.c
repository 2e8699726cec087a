/* The kernel side of sockfix attach: programs attached to a cgroup that give
 * the sockets of its processes the policy, as the library would:
 *
 *   cgroup/bind4, bind6       a server's bind: bind-time options (and a UDP
 *                             server's connection options), before the bind
 *   sockops, TCP_LISTEN_CB    a listener: connection and listener options,
 *                             which accepted sockets inherit
 *   sockops, PASSIVE_ESTAB.   an accepted socket: what it does not inherit
 *                             (sockets from listeners made before the attach
 *                             are existing sockets: sockfix apply sets those)
 *   cgroup/connect4, 6        a client: connection and client options,
 *                             before the connect
 *   cgroup/setsockopt         the program's own options: kept as its own
 *                             (precedence = program), or replaced by the
 *                             policy's on a settled socket (policy)
 *   syscall                   the decision alone, for the parity test
 *
 * The policy is in maps (config/flat.h), written by sockfix attach; the
 * decision is made with the core the library uses (config/decide.h). Every
 * program returns 1: a socket call is never refused. */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define SF_DECIDE_MAX_PORTS SF_FLAT_MAX_PORTS
#define SF_DECIDE_MAX_ADDRS SF_FLAT_MAX_ADDRS
#define SF_DECIDE_MAX_GLOB SF_FLAT_NAME
#include "../config/flat.h"
#include "attach.h"

/* No helper these programs call is restricted to GPL programs. */
char LICENSE[] SEC("license") = "sockfix: see its copyright file";

/* The kernel's constants these programs need (its UAPI headers in this
 * target have no libc to lean on). */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define PROTO_TCP 6
#define PROTO_UDP 17

/* A context field, read at its own offset: the verifier refuses a context
 * read through a computed pointer, which clang makes of neighbouring reads. */
#define CTX_READ(field) (*(volatile const __u32 *)&(field))

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sf_flat_config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SF_FLAT_MAX_RULES); /* sockfix attach sizes it to the policy */
    __type(key, __u32);
    __type(value, struct sf_flat_rule);
} rules SEC(".maps");

/* Per socket: its event, and the options the program set itself. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct sf_attach_sockstate);
} sockstate SEC(".maps");

/* A listener's event, cloned by the kernel to every socket it accepts; kept
 * only when accepted sockets need more than they inherit (accepted_need):
 * each clone is an allocation on the accept path. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
    __type(key, int);
    __type(value, struct sf_attach_sockstate);
} inherited SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, SF_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct sf_attach_failure);
    __type(value, __u64);
} failures SEC(".maps");

/* The workspace of the test program (one test at a time). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sf_attach_decision);
} testwork SEC(".maps");

/* Written and read by sockfix attach and status only. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sf_attach_meta);
} meta SEC(".maps");

/* Where a decision is made: one per socket for the time of an event (the
 * stack is too small for it, and a per-CPU scratch could be interrupted by
 * a softirq's program on the same CPU). */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct sf_attach_decision);
} workspace SEC(".maps");

static void count(__u32 which, __u64 n)
{
    __u64 *c = bpf_map_lookup_elem(&counters, &which);
    if (c)
        *c += n;
}

#define decision sf_attach_decision

/* bpf_loop's context must be on the stack: it points at the decision. */
struct loop {
    struct decision *c;
};

/* One rule against the decision in c: a global function, so that the
 * verifier checks it once, on its own, rather than in every program that
 * decides and at every call (its loops over ports, networks and names made
 * programs that decide twice, or after a branch, pass the kernel's limit of
 * a million instructions verified). 1 when the rule held. */
__noinline int sf_bpf_rule_step(const struct sf_flat_rule *r, struct decision *c)
{
    if (!r || !c)
        return 0;
    return sf_flat_rule_step(r, &c->ev, c->have_comm, c->comm, c->applicable, &c->d);
}

static long take_rule(__u64 i, void *arg)
{
    struct decision *c = ((struct loop *)arg)->c;
    __u32 k = (__u32)i;
    const struct sf_flat_rule *r = bpf_map_lookup_elem(&rules, &k);
    if (!r)
        return 1;
    c->matched += sf_bpf_rule_step(r, c);
    return 0;
}

/* sf_flat_decide, over the rules in the map: every rule in file order. */
static __u32 decide(const struct sf_flat_config *cfg, struct decision *c)
{
    struct loop l = {c};
    c->applicable = sf_flat_applicable(cfg, &c->ev);
    c->matched = 0;
    c->d.set = 0;
    if (sf_flat_may_hold(cfg, &c->ev))
        bpf_loop(cfg->nrules < SF_FLAT_MAX_RULES ? cfg->nrules : SF_FLAT_MAX_RULES, take_rule, &l,
                 0);
    sf_finish(&c->d, sf_flat_family_options(cfg, &c->ev));
    count(SF_COUNT_DECISIONS, 1);
    return c->matched;
}

static const struct sf_flat_config *policy(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&config, &zero);
}

static void fail(__u32 opt, long err)
{
    struct sf_attach_failure key = {.option = opt, .err = (__s32)-err};
    __u64 one = 1, *n = bpf_map_lookup_elem(&failures, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&failures, &key, &one, BPF_NOEXIST);
    count(SF_COUNT_FAILED, 1);
}

/* setsockopt of the options of d that belong to phases, but those in keep
 * (the program's own, precedence = program), in the table's order. */
static __always_inline void apply(void *ctx, int six, const struct sf_flat_config *cfg,
                                  const struct sf_decision *d, __u32 phases, __u32 keep)
{
    __u32 done = 0, n = 0;
    for (int k = 0; k < SF_OPT_COUNT; k++) {
        __u32 id = cfg->apply_order[k];
        if (id >= SF_OPT_COUNT)
            continue;
        const struct sf_flat_option *o = &cfg->options[id];
        __u32 bit = SF_OPT_BIT(id);
        if (!(d->set & bit) || !(o->phase & phases) || !o->attachable || (keep & bit))
            continue;
        int level = six ? o->level6 : o->level, name = six ? o->name6 : o->name;
        int v = d->value[id];
        long r;
        if (o->kind == SF_VAL_NAME)
            r = bpf_setsockopt(ctx, level, name, (void *)cfg->names[v & (SF_FLAT_MAX_NAMES - 1)],
                               SF_FLAT_NAME - 1);
        else
            r = bpf_setsockopt(ctx, level, name, &v, sizeof v);
        if (r) {
            fail(id, r);
        } else {
            done |= bit;
            n++;
        }
    }
    if (done) {
        count(SF_COUNT_SOCKETS, 1);
        count(SF_COUNT_OPTIONS, n);
    }
}

static struct sf_attach_sockstate *state(struct bpf_sock *sk, int create)
{
    if (!sk)
        return 0;
    return bpf_sk_storage_get(&sockstate, sk, 0, create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
}

static __u32 program_keeps(const struct sf_flat_config *cfg, struct bpf_sock *sk)
{
    struct sf_attach_sockstate *st = state(sk, 0);
    return st && cfg->precedence == SF_PRECEDENCE_PROGRAM ? st->program_set : 0;
}

/* What a later setsockopt of the program is measured against (in map
 * sockstate), or what a listener passes on (inherited). */
static void remember_in(void *map, struct bpf_sock *sk, const struct decision *c)
{
    struct sf_attach_sockstate *st = bpf_sk_storage_get(map, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!st)
        return;
    st->ev = c->ev;
    __builtin_memcpy(st->comm, c->comm, sizeof st->comm);
    st->have_comm = c->have_comm;
    st->settled = 1;
}

static int socket_type(__u32 type, __u32 protocol)
{
    if (type == SOCK_STREAM && (protocol == 0 || protocol == PROTO_TCP))
        return SF_TYPE_TCP;
    if (type == SOCK_DGRAM && (protocol == 0 || protocol == PROTO_UDP))
        return SF_TYPE_UDP;
    return 0;
}

/* The address of a bind or connect, in network order. Inlined into each
 * program with six a constant: an IPv4 hook may not read user_ip6. */
static __always_inline void address_of(const struct bpf_sock_addr *a, int six, __u8 ip[16])
{
    __u32 w[4] = {0, 0, 0, 0};
    if (six) {
        w[0] = CTX_READ(a->user_ip6[0]);
        w[1] = CTX_READ(a->user_ip6[1]);
        w[2] = CTX_READ(a->user_ip6[2]);
        w[3] = CTX_READ(a->user_ip6[3]);
    } else {
        w[0] = CTX_READ(a->user_ip4);
    }
    __builtin_memcpy(ip, w, 16);
}

/* A fresh workspace on sk for the event ev; NULL when none can be had.
 * Callers ask sf_flat_may_hold first: a socket no rule can take costs no
 * storage. */
static struct decision *start(struct bpf_sock *sk, const struct sf_event *ev, int with_comm)
{
    struct decision *c =
        sk ? bpf_sk_storage_get(&workspace, sk, 0, BPF_SK_STORAGE_GET_F_CREATE) : 0;
    if (!c)
        return 0;
    __builtin_memset(c, 0, sizeof *c);
    c->ev = *ev;
    if (with_comm && bpf_get_current_comm(c->comm, sizeof c->comm) == 0)
        c->have_comm = 1;
    return c;
}

/* A workspace for the event a socket was decided as, with the process name
 * it was decided for (st: its own state, or the listener's it inherited). */
static struct decision *start_as(struct bpf_sock *sk, const struct sf_attach_sockstate *st)
{
    struct decision *c = start(sk, &st->ev, 0);
    if (c) {
        __builtin_memcpy(c->comm, st->comm, sizeof c->comm);
        c->have_comm = st->have_comm;
    }
    return c;
}

static void done_with(struct bpf_sock *sk)
{
    bpf_sk_storage_delete(&workspace, sk);
}

static __always_inline void on_bind(struct bpf_sock_addr *a, int six)
{
    const struct sf_flat_config *cfg = policy();
    struct bpf_sock *sk = a->sk;
    int type = socket_type(a->type, a->protocol);
    unsigned port = bpf_ntohs((__u16)a->user_port);
    if (!cfg || !sk || !type || port == 0) /* port 0: no TIME_WAIT past to get over */
        return;
    struct sf_event ev = {.role = SF_ROLE_SERVER, .type = type};
    __u8 ip[16];
    address_of(a, six, ip);
    sf_event_address(&ev, six, ip, port);
    struct decision *c = sf_flat_may_hold(cfg, &ev) ? start(sk, &ev, 1) : 0;
    if (!c)
        return;
    if (decide(cfg, c)) {
        /* A UDP server never listens: its connection options go on at bind. */
        __u32 phases = SF_PHASE_BIND | (type == SF_TYPE_UDP ? SF_PHASE_CONNECTION : 0);
        apply(a, six, cfg, &c->d, phases, program_keeps(cfg, sk));
        if (type == SF_TYPE_UDP)
            remember_in(&sockstate, sk, c);
    }
    done_with(sk);
}

SEC("cgroup/bind4")
int sf_bind4(struct bpf_sock_addr *a)
{
    on_bind(a, 0);
    return 1;
}

SEC("cgroup/bind6")
int sf_bind6(struct bpf_sock_addr *a)
{
    on_bind(a, 1);
    return 1;
}

static __always_inline void on_connect(struct bpf_sock_addr *a, int six)
{
    const struct sf_flat_config *cfg = policy();
    struct bpf_sock *sk = a->sk;
    int type = socket_type(a->type, a->protocol);
    if (!cfg || !sk || !type)
        return;
    struct sf_event ev = {.role = SF_ROLE_CLIENT, .type = type};
    __u8 ip[16];
    address_of(a, six, ip);
    sf_event_address(&ev, six, ip, bpf_ntohs((__u16)a->user_port));
    if (!sf_flat_may_hold(cfg, &ev))
        return; /* no rule can take it: not even a storage lookup */
    struct sf_attach_sockstate *st = state(sk, 0);
    if (st && st->settled && st->ev.role == SF_ROLE_CLIENT)
        return; /* once per socket, as the library */
    struct decision *c = start(sk, &ev, 1);
    if (!c)
        return;
    if (decide(cfg, c))
        apply(a, six, cfg, &c->d, SF_PHASE_CONNECTION | SF_PHASE_CLIENT, program_keeps(cfg, sk));
    remember_in(&sockstate, sk, c);
    done_with(sk);
}

SEC("cgroup/connect4")
int sf_connect4(struct bpf_sock_addr *a)
{
    on_connect(a, 0);
    return 1;
}

SEC("cgroup/connect6")
int sf_connect6(struct bpf_sock_addr *a)
{
    on_connect(a, 1);
    return 1;
}

/* Every field read whatever the family, then chosen. */
static void local_address(const struct bpf_sock_ops *s, int six, __u8 ip[16])
{
    __u32 v4 = CTX_READ(s->local_ip4), a = CTX_READ(s->local_ip6[0]), b = CTX_READ(s->local_ip6[1]),
          c = CTX_READ(s->local_ip6[2]), d = CTX_READ(s->local_ip6[3]);
    __u32 w[4] = {six ? a : v4, six ? b : 0, six ? c : 0, six ? d : 0};
    __builtin_memcpy(ip, w, 16);
}

/* A listener: what it carries, its connections inherit. */
/* Whether accepted sockets need their listener's event: for options a
 * listener does not pass on, or to meet the program's own setsockopt with
 * the policy's values. */
static int accepted_need(const struct sf_flat_config *cfg)
{
    return (cfg->not_inherited & cfg->set_anywhere) || cfg->precedence == SF_PRECEDENCE_POLICY;
}

static void on_listen(struct bpf_sock_ops *s)
{
    const struct sf_flat_config *cfg = policy();
    struct bpf_sock *sk = s->sk;
    if (!cfg || !sk)
        return;
    int six = s->family == AF_INET6;
    struct sf_event ev = {.role = SF_ROLE_SERVER, .type = SF_TYPE_TCP};
    __u8 ip[16];
    local_address(s, six, ip);
    sf_event_address(&ev, six, ip, s->local_port);
    struct decision *c = sf_flat_may_hold(cfg, &ev) ? start(sk, &ev, 1) : 0;
    if (!c)
        return;
    if (decide(cfg, c))
        apply(s, six, cfg, &c->d, SF_PHASE_CONNECTION | SF_PHASE_LISTENER, program_keeps(cfg, sk));
    remember_in(&sockstate, sk, c);
    if (accepted_need(cfg))
        remember_in(&inherited, sk, c); /* cloned to every accepted socket */
    done_with(sk);
}

/* An accepted socket, decided as its listener (the event it cloned). */
static void on_accepted(struct bpf_sock_ops *s)
{
    const struct sf_flat_config *cfg = policy();
    struct bpf_sock *sk = s->sk;
    if (!cfg || !sk)
        return;
    int six = s->family == AF_INET6;
    struct sf_attach_sockstate *from = bpf_sk_storage_get(&inherited, sk, 0, 0);
    if (!from)
        return; /* it inherited everything */
    struct decision *c = sf_flat_may_hold(cfg, &from->ev) ? start_as(sk, from) : 0;
    if (c) {
        if (decide(cfg, c) && (c->d.set & cfg->not_inherited)) {
            c->d.set &= cfg->not_inherited;
            apply(s, six, cfg, &c->d, SF_PHASE_CONNECTION, 0);
        }
        if (cfg->precedence == SF_PRECEDENCE_POLICY)
            remember_in(&sockstate, sk, c);
        done_with(sk);
    }
    bpf_sk_storage_delete(&inherited, sk);
}

SEC("sockops")
int sf_sockops(struct bpf_sock_ops *s)
{
    if (s->op == BPF_SOCK_OPS_TCP_LISTEN_CB)
        on_listen(s);
    else if (s->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
        on_accepted(s);
    return 1;
}

/* The option of the table a setsockopt names, or SF_OPT_COUNT. */
static __u32 option_of(const struct sf_flat_config *cfg, int level, int name)
{
    for (__u32 i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_flat_option *o = &cfg->options[i];
        if (o->name && /* 0: no socket option (the backlog); IPPROTO_IP is level 0 */
            ((o->level == level && o->name == name) || (o->level6 == level && o->name6 == name)))
            return i;
    }
    return SF_OPT_COUNT;
}

SEC("cgroup/setsockopt")
int sf_setsockopt(struct bpf_sockopt *o)
{
    const struct sf_flat_config *cfg = policy();
    struct bpf_sock *sk = o->sk;
    __u32 id = cfg && sk ? option_of(cfg, o->level, o->optname) : SF_OPT_COUNT;
    /* Only options the policy sets are worth keeping track of. */
    struct sf_attach_sockstate *st =
        id < SF_OPT_COUNT && (cfg->set_anywhere & SF_OPT_BIT(id)) ? state(sk, 1) : 0;
    if (!st || !sk)
        return 1;
    __u32 bit = SF_OPT_BIT(id);
    int *value = o->optval;
    if (cfg->precedence == SF_PRECEDENCE_POLICY && st->settled &&
        cfg->options[id].phase == SF_PHASE_CONNECTION && cfg->options[id].kind != SF_VAL_NAME &&
        cfg->options[id].kind != SF_VAL_LINGER && (void *)(value + 1) <= o->optval_end &&
        o->optlen >= (int)sizeof(int)) {
        struct decision *c = start_as(sk, st);
        if (c) {
            int replaced = decide(cfg, c) && (c->d.set & bit);
            int policy_value = c->d.value[id];
            done_with(sk);
            if (replaced) {
                *value = policy_value;
                o->optlen = sizeof(int);
                count(SF_COUNT_REPLACED, 1);
                return 1;
            }
        }
    }
    st->program_set |= bit;
    return 1;
}

/* The decision for one event, for the parity test (BPF_PROG_TEST_RUN). */
SEC("syscall")
int sf_decide_test(struct sf_attach_test *t)
{
    const struct sf_flat_config *cfg = policy();
    if (!cfg)
        return 1;
    __u32 zero = 0;
    struct decision *c = bpf_map_lookup_elem(&testwork, &zero); /* no socket to keep it on */
    if (!c)
        return 1;
    c->ev = t->ev;
    __builtin_memcpy(c->comm, t->comm, sizeof c->comm);
    c->have_comm = t->have_comm;
    t->matched = decide(cfg, c);
    t->d = c->d;
    return 0;
}
