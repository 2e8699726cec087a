#include "options.h"

#include <limits.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define TCP_ONLY SF_TYPE_TCP
#define ANY_TYPE (SF_TYPE_TCP | SF_TYPE_UDP)
#define ANY_ROLE (SF_ROLE_SERVER | SF_ROLE_CLIENT)

/* "inherited" is what the running kernel does (tests/integration/test_options.c
 * checks every row): SO_PRIORITY is the one connection option a listener does
 * not pass on, so the shim sets it on each accepted socket too. */
/* A row: key, socket option, value kind, range, phases, types and roles;
 * the rest is designated where it differs from the usual (inherited,
 * reported as set, both families, no capability needed). */
#define OPT(k, lvl, name, kd, lo, hi, ph, ty, ro, ...)                                             \
    {                                                                                              \
        .key = k, .level = lvl, .optname = name, .optlabel = #name, .kind = kd, .min = lo,         \
        .max = hi, .phase = ph, .types = ty, .roles = ro, .inherited = true, .level6 = 0,          \
        .optname6 = 0, .optlabel6 = "", .families = 0, .readback = SF_READS_AS_SET,                \
        .autotuned = false, .needs_cap_above = -1, .attachable = true, .capped_by = "",            \
        .choices_from = "", .column = false, __VA_ARGS__                                           \
    }
#define SIX(lvl, name) .level6 = (lvl), .optname6 = (name), .optlabel6 = #name

/* "inherited" is what the running kernel does (tests/integration/test_options.c
 * checks every row): SO_PRIORITY is the one connection option a listener does
 * not pass on, so the shim sets it on each accepted socket too. A row's
 * designated fields override OPT's defaults, on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#ifdef __clang__
#pragma clang diagnostic ignored "-Winitializer-overrides"
#endif
const struct sf_option sf_options[SF_OPT_COUNT] = {
    [SF_OPT_REUSEADDR] = OPT("reuseaddr", SOL_SOCKET, SO_REUSEADDR, SF_VAL_BOOL, 0, 1,
                             SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, .column = true),
    [SF_OPT_REUSEPORT] = OPT("reuseport", SOL_SOCKET, SO_REUSEPORT, SF_VAL_BOOL, 0, 1,
                             SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, .column = true),
    [SF_OPT_KEEPALIVE] = OPT("keepalive", SOL_SOCKET, SO_KEEPALIVE, SF_VAL_BOOL, 0, 1,
                             SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .column = true),
    [SF_OPT_KEEPIDLE] = OPT("keepidle", IPPROTO_TCP, TCP_KEEPIDLE, SF_VAL_SECONDS, 1, 32767,
                            SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .column = true),
    [SF_OPT_KEEPINTVL] = OPT("keepintvl", IPPROTO_TCP, TCP_KEEPINTVL, SF_VAL_SECONDS, 1, 32767,
                             SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .column = true),
    [SF_OPT_KEEPCNT] = OPT("keepcnt", IPPROTO_TCP, TCP_KEEPCNT, SF_VAL_COUNT, 1, 127,
                           SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .column = true),
    [SF_OPT_USER_TIMEOUT] = OPT("user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT, SF_VAL_MILLIS, 0,
                                INT_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .column = true),
    [SF_OPT_NODELAY] = OPT("nodelay", IPPROTO_TCP, TCP_NODELAY, SF_VAL_BOOL, 0, 1,
                           SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .column = true),
    [SF_OPT_BACKLOG] = OPT("backlog", 0, 0, SF_VAL_COUNT, 1, 65535, SF_PHASE_LISTEN_ARG, TCP_ONLY,
                           SF_ROLE_SERVER, .optlabel = "listen backlog", .inherited = false,
                           .attachable = false, .capped_by = "net.core.somaxconn", .column = true),
    /* IPV6_V6ONLY fails with EINVAL once the socket is bound: before bind only. */
    [SF_OPT_V6ONLY] =
        OPT("v6only", IPPROTO_IPV6, IPV6_V6ONLY, SF_VAL_BOOL, 0, 1, SF_PHASE_BIND, ANY_TYPE,
            SF_ROLE_SERVER, .families = SF_FAMILY_IPV6, .attachable = false),
    [SF_OPT_FREEBIND] =
        OPT("freebind", IPPROTO_IP, IP_FREEBIND, SF_VAL_BOOL, 0, 1, SF_PHASE_BIND, ANY_TYPE,
            SF_ROLE_SERVER, SIX(IPPROTO_IPV6, IPV6_FREEBIND), .attachable = false),
    [SF_OPT_TRANSPARENT] =
        OPT("transparent", IPPROTO_IP, IP_TRANSPARENT, SF_VAL_BOOL, 0, 1, SF_PHASE_BIND, ANY_TYPE,
            SF_ROLE_SERVER, SIX(IPPROTO_IPV6, IPV6_TRANSPARENT), .needs_cap_above = 0,
            .attachable = false),
    [SF_OPT_BIND_DEVICE] = OPT("bind_device", SOL_SOCKET, SO_BINDTODEVICE, SF_VAL_NAME, 1,
                               SF_NAME_MAX, SF_PHASE_BIND | SF_PHASE_CLIENT, ANY_TYPE, ANY_ROLE),
    [SF_OPT_RCVBUF] = OPT("rcvbuf", SOL_SOCKET, SO_RCVBUF, SF_VAL_SIZE, 1024, 536870912,
                          SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .readback = SF_READS_DOUBLED,
                          .autotuned = true, .capped_by = "net.core.rmem_max"),
    [SF_OPT_SNDBUF] = OPT("sndbuf", SOL_SOCKET, SO_SNDBUF, SF_VAL_SIZE, 1024, 536870912,
                          SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .readback = SF_READS_DOUBLED,
                          .autotuned = true, .capped_by = "net.core.wmem_max"),
    [SF_OPT_LINGER] = OPT("linger", SOL_SOCKET, SO_LINGER, SF_VAL_LINGER, -1, 32767,
                          SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, .attachable = false),
    [SF_OPT_DEFER_ACCEPT] =
        OPT("defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT, SF_VAL_SECONDS, 0, 32767,
            SF_PHASE_LISTENER, TCP_ONLY, SF_ROLE_SERVER, .inherited = false,
            .readback = SF_READS_RETRANS_ROUNDED, .attachable = false),
    [SF_OPT_FASTOPEN] =
        OPT("fastopen", IPPROTO_TCP, TCP_FASTOPEN, SF_VAL_COUNT, 0, 65535, SF_PHASE_LISTENER,
            TCP_ONLY, SF_ROLE_SERVER, .inherited = false, .attachable = false),
    [SF_OPT_MAXSEG] =
        OPT("maxseg", IPPROTO_TCP, TCP_MAXSEG, SF_VAL_COUNT, 88, 32767, SF_PHASE_CONNECTION,
            TCP_ONLY, ANY_ROLE, .readback = SF_READS_CLAMP_ON_CONNECTIONS, .autotuned = true),
    [SF_OPT_CONGESTION] = OPT("congestion", IPPROTO_TCP, TCP_CONGESTION, SF_VAL_NAME, 1,
                              SF_NAME_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE,
                              .choices_from = "net.ipv4.tcp_available_congestion_control"),
    [SF_OPT_TOS] = OPT("tos", IPPROTO_IP, IP_TOS, SF_VAL_COUNT, 0, 255, SF_PHASE_CONNECTION,
                       ANY_TYPE, ANY_ROLE, SIX(IPPROTO_IPV6, IPV6_TCLASS)),
    [SF_OPT_MARK] = OPT("mark", SOL_SOCKET, SO_MARK, SF_VAL_U32, 0, UINT32_MAX,
                        SF_PHASE_BIND | SF_PHASE_CLIENT, ANY_TYPE, ANY_ROLE, .needs_cap_above = 0),
    [SF_OPT_PRIORITY] =
        OPT("priority", SOL_SOCKET, SO_PRIORITY, SF_VAL_COUNT, 0, INT_MAX, SF_PHASE_CONNECTION,
            ANY_TYPE, ANY_ROLE, .inherited = false, .needs_cap_above = 6),
    [SF_OPT_NOTSENT_LOWAT] = OPT("notsent_lowat", IPPROTO_TCP, TCP_NOTSENT_LOWAT, SF_VAL_SIZE, 1,
                                 INT_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE),
};
#pragma GCC diagnostic pop

const enum sf_opt_id sf_apply_order[SF_OPT_COUNT] = {
    SF_OPT_REUSEADDR,   SF_OPT_REUSEPORT,    SF_OPT_V6ONLY,        SF_OPT_FREEBIND,
    SF_OPT_TRANSPARENT, SF_OPT_BIND_DEVICE,  SF_OPT_MARK,          SF_OPT_RCVBUF,
    SF_OPT_SNDBUF,      SF_OPT_MAXSEG,       SF_OPT_LINGER,        SF_OPT_TOS,
    SF_OPT_PRIORITY,    SF_OPT_CONGESTION,   SF_OPT_NOTSENT_LOWAT, SF_OPT_DEFER_ACCEPT,
    SF_OPT_FASTOPEN,    SF_OPT_KEEPIDLE,     SF_OPT_KEEPINTVL,     SF_OPT_KEEPCNT,
    SF_OPT_KEEPALIVE,   SF_OPT_USER_TIMEOUT, SF_OPT_NODELAY,       SF_OPT_BACKLOG};

const struct sf_option *sf_option_by_key(const char *key)
{
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if (strcmp(sf_options[i].key, key) == 0)
            return &sf_options[i];
    return NULL;
}

void sf_option_sockopt(const struct sf_option *opt, unsigned family, int *level, int *name,
                       const char **label)
{
    bool six = family == SF_FAMILY_IPV6 && opt->optname6;
    *level = six ? opt->level6 : opt->level;
    *name = six ? opt->optname6 : opt->optname;
    if (label)
        *label = six ? opt->optlabel6 : opt->optlabel;
}

/* What the table implies for each kind of socket, computed once: the
 * hooks ask for these on every event (a loop over the table each time was
 * a fifth of the library's instructions per connection). */
#define SOCKOPT_LEVELS 4
#define SOCKOPT_NAMES 128
struct derived {
    uint32_t inherited, not_inherited;
    uint32_t family[2];        /* [ipv6?]: options that exist for the family */
    uint32_t applicable[2][2]; /* [udp?][client?]: options for a type and role */
    int8_t by_sockopt[SOCKOPT_LEVELS][SOCKOPT_NAMES]; /* [level_slot][name]: id + 1, 0: none */
};

/* The levels the table's socket options are at; -1 for any other. */
static int level_slot(int level)
{
    switch (level) {
    case SOL_SOCKET:
        return 0;
    case IPPROTO_IP:
        return 1;
    case IPPROTO_TCP:
        return 2;
    case IPPROTO_IPV6:
        return 3;
    default:
        return -1;
    }
}

static void index_sockopt(struct derived *m, int level, int name, int id)
{
    int slot = level_slot(level);
    if (slot >= 0 && name > 0 && name < SOCKOPT_NAMES) /* tests/unit/test_options.c: every row */
        m->by_sockopt[slot][name] = (int8_t)(id + 1);
}

static void derive(struct derived *m)
{
    *m = (struct derived){0};
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        uint32_t bit = SF_OPT_BIT(i);
        if (o->optname) { /* 0: no socket option (the backlog) */
            index_sockopt(m, o->level, o->optname, i);
            if (o->optname6)
                index_sockopt(m, o->level6, o->optname6, i);
        }
        if (o->inherited)
            m->inherited |= bit;
        else if (o->phase & SF_PHASE_CONNECTION)
            m->not_inherited |= bit;
        for (int six = 0; six < 2; six++)
            if (!o->families || (o->families & (six ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4)))
                m->family[six] |= bit;
        for (int udp = 0; udp < 2; udp++)
            for (int client = 0; client < 2; client++)
                if ((o->types & (udp ? SF_TYPE_UDP : SF_TYPE_TCP)) &&
                    (o->roles & (client ? SF_ROLE_CLIENT : SF_ROLE_SERVER)))
                    m->applicable[udp][client] |= bit;
    }
}

static struct {
    _Atomic int ready; /* 1: m holds them; 2: being written */
    struct derived m;
} derived;

/* Racing first callers compute the same values; readers that find them not
 * published yet compute their own into scratch. Lock-free and
 * async-signal-safe. */
static const struct derived *masks(struct derived *scratch)
{
    if (atomic_load_explicit(&derived.ready, memory_order_acquire) == 1)
        return &derived.m;
    derive(scratch);
    int expected = 0;
    if (atomic_compare_exchange_strong(&derived.ready, &expected, 2)) {
        derived.m = *scratch;
        atomic_store_explicit(&derived.ready, 1, memory_order_release);
    }
    return scratch;
}

uint32_t sf_options_for_family(unsigned family)
{
    struct derived s;
    return masks(&s)->family[family == SF_FAMILY_IPV6];
}

uint32_t sf_options_applicable(unsigned type, unsigned role)
{
    struct derived s;
    return masks(&s)->applicable[type == SF_TYPE_UDP][role == SF_ROLE_CLIENT];
}

uint32_t sf_options_inherited(void)
{
    struct derived s;
    return masks(&s)->inherited;
}

uint32_t sf_options_not_inherited(void)
{
    struct derived s;
    return masks(&s)->not_inherited;
}

int sf_option_of_sockopt(int level, int name)
{
    int slot = level_slot(level);
    if (slot < 0 || name <= 0 || name >= SOCKOPT_NAMES)
        return -1;
    struct derived s;
    return masks(&s)->by_sockopt[slot][name] - 1;
}

int32_t sf_option_from_kernel(const struct sf_option *opt, int32_t raw)
{
    return opt->readback == SF_READS_DOUBLED ? raw / 2 : raw;
}

/* TCP_DEFER_ACCEPT is kept as a count of SYN-ACK retransmissions (initial
 * timeout 1 s, doubling, at most 120 s) and reported back as their total. */
static int32_t retrans_rounded(int32_t seconds)
{
    if (seconds <= 0)
        return 0;
    int32_t timeout = 1, period = 1;
    for (int retrans = 1; seconds > period && retrans < 255; retrans++) {
        timeout = timeout * 2 > 120 ? 120 : timeout * 2;
        period += timeout;
    }
    return period;
}

bool sf_option_holds(const struct sf_option *opt, int32_t current, int32_t v, bool connected)
{
    switch (opt->readback) {
    case SF_READS_RETRANS_ROUNDED:
        return current == retrans_rounded(v);
    case SF_READS_CLAMP_ON_CONNECTIONS:
        return connected ? current <= v : current == v;
    default:
        return current == v;
    }
}
