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
const struct sf_option sf_options[SF_OPT_COUNT] = {
    [SF_OPT_REUSEADDR] = {"reuseaddr", SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", SF_VAL_BOOL, 0, 1,
                          SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true, 0, 0, NULL, 0},
    [SF_OPT_REUSEPORT] = {"reuseport", SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", SF_VAL_BOOL, 0, 1,
                          SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true, 0, 0, NULL, 0},
    [SF_OPT_KEEPALIVE] = {"keepalive", SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", SF_VAL_BOOL, 0, 1,
                          SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_KEEPIDLE] = {"keepidle", IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", SF_VAL_SECONDS, 1,
                         32767, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_KEEPINTVL] = {"keepintvl", IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", SF_VAL_SECONDS,
                          1, 32767, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_KEEPCNT] = {"keepcnt", IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", SF_VAL_COUNT, 1, 127,
                        SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_USER_TIMEOUT] = {"user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT",
                             SF_VAL_MILLIS, 0, INT_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE,
                             true, 0, 0, NULL, 0},
    [SF_OPT_NODELAY] = {"nodelay", IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", SF_VAL_BOOL, 0, 1,
                        SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_BACKLOG] = {"backlog", 0, 0, "listen backlog", SF_VAL_COUNT, 1, 65535,
                        SF_PHASE_LISTEN_ARG, TCP_ONLY, SF_ROLE_SERVER, false, 0, 0, NULL, 0},
    /* IPV6_V6ONLY fails with EINVAL once the socket is bound: before bind only. */
    [SF_OPT_V6ONLY] = {"v6only", IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", SF_VAL_BOOL, 0, 1,
                       SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true, 0, 0, NULL, SF_FAMILY_IPV6},
    [SF_OPT_FREEBIND] = {"freebind", IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", SF_VAL_BOOL, 0, 1,
                         SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true, IPPROTO_IPV6, IPV6_FREEBIND,
                         "IPV6_FREEBIND", 0},
    [SF_OPT_TRANSPARENT] = {"transparent", IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT",
                            SF_VAL_BOOL, 0, 1, SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true,
                            IPPROTO_IPV6, IPV6_TRANSPARENT, "IPV6_TRANSPARENT", 0},
    [SF_OPT_BIND_DEVICE] = {"bind_device", SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE",
                            SF_VAL_NAME, 1, SF_NAME_MAX, SF_PHASE_BIND | SF_PHASE_CLIENT, ANY_TYPE,
                            ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_RCVBUF] = {"rcvbuf", SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", SF_VAL_SIZE, 1024, 536870912,
                       SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_SNDBUF] = {"sndbuf", SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", SF_VAL_SIZE, 1024, 536870912,
                       SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_LINGER] = {"linger", SOL_SOCKET, SO_LINGER, "SO_LINGER", SF_VAL_LINGER, -1, 32767,
                       SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_DEFER_ACCEPT] = {"defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT",
                             SF_VAL_SECONDS, 0, 32767, SF_PHASE_LISTENER, TCP_ONLY, SF_ROLE_SERVER,
                             false, 0, 0, NULL, 0},
    [SF_OPT_FASTOPEN] = {"fastopen", IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", SF_VAL_COUNT, 0,
                         65535, SF_PHASE_LISTENER, TCP_ONLY, SF_ROLE_SERVER, false, 0, 0, NULL, 0},
    [SF_OPT_MAXSEG] = {"maxseg", IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", SF_VAL_COUNT, 88, 32767,
                       SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_CONGESTION] = {"congestion", IPPROTO_TCP, TCP_CONGESTION, "TCP_CONGESTION", SF_VAL_NAME,
                           1, SF_NAME_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true, 0, 0,
                           NULL, 0},
    [SF_OPT_TOS] = {"tos", IPPROTO_IP, IP_TOS, "IP_TOS", SF_VAL_COUNT, 0, 255, SF_PHASE_CONNECTION,
                    ANY_TYPE, ANY_ROLE, true, IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS", 0},
    [SF_OPT_MARK] = {"mark", SOL_SOCKET, SO_MARK, "SO_MARK", SF_VAL_U32, 0, UINT32_MAX,
                     SF_PHASE_BIND | SF_PHASE_CLIENT, ANY_TYPE, ANY_ROLE, true, 0, 0, NULL, 0},
    [SF_OPT_PRIORITY] = {"priority", SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", SF_VAL_COUNT, 0,
                         INT_MAX, SF_PHASE_CONNECTION, ANY_TYPE, ANY_ROLE, false, 0, 0, NULL, 0},
    [SF_OPT_NOTSENT_LOWAT] = {"notsent_lowat", IPPROTO_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT",
                              SF_VAL_SIZE, 1, INT_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE,
                              true, 0, 0, NULL, 0},
};

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

uint32_t sf_options_applicable(unsigned type, unsigned role)
{
    uint32_t set = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if ((sf_options[i].types & type) && (sf_options[i].roles & role))
            set |= SF_OPT_BIT(i);
    return set;
}

static struct {
    _Atomic int ready;
    uint32_t inherited, not_inherited;
} masks;

/* Racing first callers compute the same values; readers that find them not
 * published yet compute their own. */
static void option_masks(uint32_t *inherited, uint32_t *not_inherited)
{
    if (atomic_load_explicit(&masks.ready, memory_order_acquire) == 1) { /* 2: being written */
        *inherited = masks.inherited;
        *not_inherited = masks.not_inherited;
        return;
    }
    uint32_t in = 0, out = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (sf_options[i].inherited)
            in |= SF_OPT_BIT(i);
        else if (sf_options[i].phase & SF_PHASE_CONNECTION)
            out |= SF_OPT_BIT(i);
    }
    *inherited = in;
    *not_inherited = out;
    int expected = 0;
    if (atomic_compare_exchange_strong(&masks.ready, &expected, 2)) {
        masks.inherited = in;
        masks.not_inherited = out;
        atomic_store_explicit(&masks.ready, 1, memory_order_release);
    }
}

uint32_t sf_options_inherited(void)
{
    uint32_t in, out;
    option_masks(&in, &out);
    return in;
}

uint32_t sf_options_not_inherited(void)
{
    uint32_t in, out;
    option_masks(&in, &out);
    return out;
}
