#include "options.h"

#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define TCP_ONLY SF_TYPE_TCP
#define ANY_TYPE (SF_TYPE_TCP | SF_TYPE_UDP)
#define ANY_ROLE (SF_ROLE_SERVER | SF_ROLE_CLIENT)

const struct sf_option sf_options[SF_OPT_COUNT] = {
    [SF_OPT_REUSEADDR] = {"reuseaddr", SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", SF_VAL_BOOL, 0, 1,
                          SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true},
    [SF_OPT_REUSEPORT] = {"reuseport", SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", SF_VAL_BOOL, 0, 1,
                          SF_PHASE_BIND, ANY_TYPE, SF_ROLE_SERVER, true},
    [SF_OPT_KEEPALIVE] = {"keepalive", SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", SF_VAL_BOOL, 0, 1,
                          SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true},
    [SF_OPT_KEEPIDLE] = {"keepidle", IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", SF_VAL_SECONDS, 1,
                         32767, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true},
    [SF_OPT_KEEPINTVL] = {"keepintvl", IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", SF_VAL_SECONDS,
                          1, 32767, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true},
    [SF_OPT_KEEPCNT] = {"keepcnt", IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", SF_VAL_COUNT, 1, 127,
                        SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true},
    [SF_OPT_USER_TIMEOUT] = {"user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT",
                             SF_VAL_MILLIS, 0, INT_MAX, SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE,
                             true},
    [SF_OPT_NODELAY] = {"nodelay", IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", SF_VAL_BOOL, 0, 1,
                        SF_PHASE_CONNECTION, TCP_ONLY, ANY_ROLE, true},
    [SF_OPT_BACKLOG] = {"backlog", 0, 0, "listen backlog", SF_VAL_COUNT, 1, 65535,
                        SF_PHASE_LISTEN_ARG, TCP_ONLY, SF_ROLE_SERVER, false},
};

const struct sf_option *sf_option_by_key(const char *key)
{
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if (strcmp(sf_options[i].key, key) == 0)
            return &sf_options[i];
    return NULL;
}

uint32_t sf_options_applicable(unsigned type, unsigned role)
{
    uint32_t set = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if ((sf_options[i].types & type) && (sf_options[i].roles & role))
            set |= SF_OPT_BIT(i);
    return set;
}
