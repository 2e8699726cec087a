#include "facts.h"

#include <string.h>

#include <netinet/in.h>

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

bool facts_type(uint8_t kind, struct sf_event *ev)
{
    switch (kind & FD_KIND_MASK) {
    case FD_KIND_TCP:
        ev->type = SF_TYPE_TCP;
        return true;
    case FD_KIND_UDP:
        ev->type = SF_TYPE_UDP;
        return true;
    default:
        return false;
    }
}

bool facts_addr(uint8_t kind, const struct sockaddr *sa, socklen_t len, struct sf_event *ev)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t))
        return false;
    if (sa->sa_family == AF_INET && (kind & FD_FAMILY_INET) &&
        len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        ev->family = SF_FAMILY_IPV4;
        ev->port = ntohs(in->sin_port);
        memcpy(ev->addr, &in->sin_addr, 4);
        ev->have_addr = true;
        return true;
    }
    if (sa->sa_family == AF_INET6 && (kind & FD_FAMILY_INET6) &&
        len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
        ev->family = mapped ? SF_FAMILY_IPV4 : SF_FAMILY_IPV6;
        ev->port = ntohs(in6->sin6_port);
        if (mapped)
            memcpy(ev->addr, in6->sin6_addr.s6_addr + 12, 4);
        else
            memcpy(ev->addr, in6->sin6_addr.s6_addr, 16);
        ev->have_addr = true;
        return true;
    }
    return false;
}

bool facts_local(int fd, uint8_t kind, struct sockaddr_storage *ss, socklen_t *len,
                 struct sf_event *ev)
{
    *len = sizeof *ss;
    if (getsockname(fd, (struct sockaddr *)ss, len) != 0)
        return false;
    return facts_addr(kind, (const struct sockaddr *)ss, *len, ev);
}
