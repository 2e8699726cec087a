#include "event.h"

#include <netinet/in.h>
#include <string.h>

bool sf_event_set_address(int domain, const struct sockaddr *sa, socklen_t len, struct sf_event *ev)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t) || sa->sa_family != domain)
        return false;
    if (domain == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        ev->family = SF_FAMILY_IPV4;
        ev->port = ntohs(in->sin_port);
        memset(ev->addr, 0, sizeof ev->addr);
        memcpy(ev->addr, &in->sin_addr, 4);
        ev->have_addr = true;
        return true;
    }
    if (domain == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
        ev->family = mapped ? SF_FAMILY_IPV4 : SF_FAMILY_IPV6;
        ev->port = ntohs(in6->sin6_port);
        memset(ev->addr, 0, sizeof ev->addr);
        memcpy(ev->addr, in6->sin6_addr.s6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
        ev->have_addr = true;
        return true;
    }
    return false;
}

/* An accepted socket whose listener is out of sight. */
static bool accepted_without_listener(const struct sf_sock_facts *f, struct sf_event *ev)
{
    if (!sf_event_set_address(f->domain, f->local, f->local_len, ev))
        return false;
    if (f->domain == AF_INET6 && ev->family == SF_FAMILY_IPV4) { /* from a listener on :: */
        ev->family = SF_FAMILY_IPV6;
        memset(ev->addr, 0, sizeof ev->addr);
    }
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
