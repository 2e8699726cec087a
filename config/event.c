#include "event.h"

#include "decide.h"

#include <netinet/in.h>
#include <string.h>

/* The address bytes and port of sa, an address of the socket's own domain. */
static bool unpack(int domain, const struct sockaddr *sa, socklen_t len, const uint8_t **ip,
                   unsigned *port)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t) || sa->sa_family != domain)
        return false;
    if (domain == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        *ip = (const uint8_t *)&in->sin_addr;
        *port = ntohs(in->sin_port);
        return true;
    }
    if (domain == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        *ip = in6->sin6_addr.s6_addr;
        *port = ntohs(in6->sin6_port);
        return true;
    }
    return false;
}

bool sf_event_set_address(int domain, const struct sockaddr *sa, socklen_t len, struct sf_event *ev)
{
    const uint8_t *ip;
    unsigned port;
    if (!unpack(domain, sa, len, &ip, &port))
        return false;
    sf_event_address(ev, domain == AF_INET6, ip, port);
    return true;
}

/* An accepted socket whose listener is out of sight (decide.h). */
static bool accepted_without_listener(const struct sf_sock_facts *f, struct sf_event *ev)
{
    const uint8_t *ip;
    unsigned port;
    if (!unpack(f->domain, f->local, f->local_len, &ip, &port))
        return false;
    sf_event_accepted_address(ev, f->domain == AF_INET6, ip, port);
    return true;
}

bool sf_event_from_facts(const struct sf_sock_facts *f, struct sf_event *ev)
{
    *ev = (struct sf_event){.type = f->type};
    if ((f->type != SF_TYPE_TCP && f->type != SF_TYPE_UDP) ||
        (f->domain != AF_INET && f->domain != AF_INET6))
        return false;
    switch (f->state) {
    case SF_SOCK_BOUND:
    case SF_SOCK_LISTENER:
        ev->role = SF_ROLE_SERVER;
        return sf_event_set_address(f->domain, f->local, f->local_len, ev);
    case SF_SOCK_ACCEPTED:
        ev->role = SF_ROLE_SERVER;
        if (f->listener)
            return sf_event_set_address(f->domain, f->listener, f->listener_len, ev);
        return accepted_without_listener(f, ev);
    case SF_SOCK_CLIENT:
        ev->role = SF_ROLE_CLIENT;
        return sf_event_set_address(f->domain, f->peer, f->peer_len, ev);
    }
    return false;
}
