#include "facts.h"

#include <netinet/in.h>
#include <string.h>

#include "fdtable.h"

static uint8_t family_bits(int domain)
{
    return domain == AF_INET ? FD_FAMILY_INET : domain == AF_INET6 ? FD_FAMILY_INET6 : 0;
}

static uint8_t kind_of(int domain, int type, int protocol)
{
    uint8_t fam = family_bits(domain);
    if (!fam)
        return FD_KIND_OTHER;
    if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        return FD_KIND_TCP | fam;
    if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        return FD_KIND_UDP | fam;
    return FD_KIND_OTHER | fam; /* SCTP, MPTCP, raw, ...: left alone */
}

uint8_t facts_kind_from_args(int domain, int type, int protocol)
{
    return kind_of(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol);
}

uint8_t facts_socket_kind(int fd)
{
    uint8_t k = fdtab_get(fd);
    if ((k & FD_KIND_MASK) != FD_KIND_UNKNOWN)
        return k;
    int domain, type, protocol;
    socklen_t l1 = sizeof domain, l2 = sizeof type, l3 = sizeof protocol;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l1) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l2) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &l3) != 0)
        return FD_KIND_OTHER; /* not a socket, or not open: nothing to remember */
    k = kind_of(domain, type, protocol);
    fdtab_set(fd, k);
    return k;
}

bool facts_begin(uint8_t kind, enum sf_sock_state state, struct sf_sock_facts *f)
{
    *f = (struct sf_sock_facts){.state = state};
    switch (kind & FD_KIND_MASK) {
    case FD_KIND_TCP:
        f->type = SF_TYPE_TCP;
        break;
    case FD_KIND_UDP:
        f->type = SF_TYPE_UDP;
        break;
    default:
        return false;
    }
    f->domain = (kind & FD_FAMILY_INET6) ? AF_INET6 : AF_INET;
    return (kind & FD_FAMILY_MASK) != 0;
}

bool facts_own_address(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof *ss;
    return getsockname(fd, (struct sockaddr *)ss, len) == 0;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                    : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

bool facts_listener_address(int fd, const struct sockaddr_storage *own, struct sockaddr_storage *ss,
                            socklen_t *len)
{
    int lfd = fdtab_listener(fd);
    /* The number may have been closed and reused since the accept. */
    if (lfd < 0 || !(fdtab_get(lfd) & FD_LISTENER_DONE) || !facts_own_address(lfd, ss, len))
        return false;
    return ss->ss_family == own->ss_family && port_of(ss) == port_of(own);
}

unsigned facts_socket_family(uint8_t kind)
{
    return kind & FD_FAMILY_INET6 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4;
}
