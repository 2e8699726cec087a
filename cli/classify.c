#include "classify.h"

#include <netinet/tcp.h>
#include <string.h>

#include "../shim/fdtable.h"

const char *role_name(enum sock_role r)
{
    static const char *const names[] = {"listener",   "server", "client",
                                        "connecting", "bound",  "unbound"};
    return names[r];
}

const char *role_source_name(enum role_source s)
{
    static const char *const names[] = {"kernel", "record", "listener", "ports"};
    return names[s];
}

static bool ephemeral(const struct nsview *ns, unsigned port)
{
    return port >= ns->eph_lo && port <= ns->eph_hi;
}

static void connection_role(const struct sockinfo *si, const struct nsview *ns,
                            const struct librecord_fd *rec, const struct ns_listener *rec_listener,
                            struct classification *c)
{
    const struct ns_listener *l = NULL;
    if (rec && (rec->kind & (FD_ACCEPTED | FD_CLIENT_DONE))) {
        c->source = SOURCE_RECORD;
        c->role = (rec->kind & FD_ACCEPTED) ? ROLE_SERVER : ROLE_CLIENT;
        if (c->role == ROLE_SERVER) /* the recorded listener, if it is still that one */
            l = rec_listener && rec_listener->addr.ss_family == si->local.ss_family &&
                        sockaddr_port(&rec_listener->addr) == sockaddr_port(&si->local)
                    ? rec_listener
                    : nsview_listener_for(ns, &si->local);
    } else if ((l = nsview_listener_for(ns, &si->local))) {
        c->source = SOURCE_LISTENER;
        c->role = ROLE_SERVER;
    } else {
        bool local = ephemeral(ns, sockaddr_port(&si->local));
        bool remote = ephemeral(ns, sockaddr_port(&si->peer));
        c->source = SOURCE_PORTS;
        c->role = !local && remote ? ROLE_SERVER : ROLE_CLIENT;
        c->doubt = !(local && !remote);
    }
    if (l) {
        c->have_listener = true;
        c->listener = l->addr;
    }
}

static void find_role(const struct sockinfo *si, const struct nsview *ns,
                      const struct librecord_fd *rec, const struct ns_listener *rec_listener,
                      struct classification *c)
{
    c->source = SOURCE_KERNEL;
    bool bound = sockaddr_port(&si->local) != 0;
    if (si->type == SF_TYPE_UDP)
        c->role = si->peer_len ? ROLE_CLIENT : bound ? ROLE_BOUND : ROLE_UNBOUND;
    else if (si->tcp_state == TCP_STATE_LISTEN)
        c->role = ROLE_LISTENER;
    else if (si->tcp_state == TCP_SYN_SENT)
        c->role = ROLE_CONNECTING;
    else if (si->peer_len)
        connection_role(si, ns, rec, rec_listener, c);
    else
        c->role = bound ? ROLE_BOUND : ROLE_UNBOUND;
}

static bool ephemeral_bind(const struct sockinfo *si, const struct nsview *ns,
                           const struct librecord_fd *rec)
{
    if (rec && (rec->kind & FD_WHOLE_LIFE)) /* the library saw the bind */
        return (rec->kind & FD_EPHEMERAL_BIND) != 0;
    return ephemeral(ns, sockaddr_port(&si->local));
}

void classify(const struct sockinfo *si, const struct nsview *ns, const struct librecord_fd *rec,
              const struct ns_listener *rec_listener, struct classification *c)
{
    memset(c, 0, sizeof *c);
    find_role(si, ns, rec, rec_listener, c);
    if (c->role == ROLE_LISTENER || c->role == ROLE_BOUND)
        c->ephemeral_bind = ephemeral_bind(si, ns, rec);
    if (c->role == ROLE_BOUND && c->ephemeral_bind)
        return; /* nothing was decided for it */
    struct sf_sock_facts f = {.domain = si->domain, .type = si->type};
    switch (c->role) {
    case ROLE_LISTENER:
    case ROLE_BOUND:
        f.state = c->role == ROLE_LISTENER ? SF_SOCK_LISTENER : SF_SOCK_BOUND;
        f.local = (const struct sockaddr *)&si->local;
        f.local_len = si->local_len;
        break;
    case ROLE_SERVER:
        f.state = SF_SOCK_ACCEPTED;
        f.local = (const struct sockaddr *)&si->local;
        f.local_len = si->local_len;
        if (c->have_listener) {
            f.listener = (const struct sockaddr *)&c->listener;
            f.listener_len = si->local_len;
        }
        break;
    case ROLE_CLIENT:
        f.state = SF_SOCK_CLIENT;
        f.peer = (const struct sockaddr *)&si->peer;
        f.peer_len = si->peer_len;
        break;
    default:
        return;
    }
    c->decided = sf_event_from_facts(&f, &c->ev);
}
