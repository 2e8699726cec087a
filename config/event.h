/* The event a socket is matched as, built from the facts of the socket:
 * one function for the library's hooks, sockfix explain and sockfix apply,
 * so that all of them decide the same thing for the same socket. Pure: the
 * callers gather the facts (a hook's arguments, getsockname, the kernel's
 * view of another process's socket). */
#ifndef SOCKFIX_CONFIG_EVENT_H
#define SOCKFIX_CONFIG_EVENT_H

#include <stdbool.h>
#include <sys/socket.h>

#include "match.h"

/* Where a socket is in its life when it is decided. */
enum sf_sock_state {
    SF_SOCK_BOUND,    /* bound to a port, neither listening nor connected (a UDP server) */
    SF_SOCK_LISTENER, /* listening, or being bound/listened by a server */
    SF_SOCK_ACCEPTED, /* returned by accept */
    SF_SOCK_CLIENT,   /* connecting or connected */
};

struct sf_sock_facts {
    int domain;    /* AF_INET or AF_INET6: the socket's own family */
    unsigned type; /* SF_TYPE_TCP or SF_TYPE_UDP */
    enum sf_sock_state state;
    /* BOUND, LISTENER: the socket's own address (bind's argument, getsockname).
     * ACCEPTED: its own local address (used only when the listener's is not known). */
    const struct sockaddr *local;
    socklen_t local_len;
    /* ACCEPTED: the address its listener is bound to; NULL when not known (the
     * listener is closed or out of sight). */
    const struct sockaddr *listener;
    socklen_t listener_len;
    /* CLIENT: the remote address (connect's argument, getpeername). */
    const struct sockaddr *peer;
    socklen_t peer_len;
};

/* The event for a socket:
 * - role: server for BOUND, LISTENER and ACCEPTED sockets, client for CLIENT;
 * - the address match.address and match.port see: a server's local address,
 *   and for an accepted socket its listener's (a connection accepted on
 *   0.0.0.0 is matched as 0.0.0.0), a client's remote address;
 * - family: the family of that address, where a v4-mapped address
 *   (::ffff:a.b.c.d) counts as IPv4, since such a socket speaks IPv4 on the
 *   wire; so a dual-stack listener on :: is IPv6, and so are the connections
 *   it accepts, IPv4 peers included.
 * When an accepted socket's listener is not known, its own local address
 * stands in for the listener's, but for an IPv6 socket with a v4-mapped local
 * address: only a dual-stack listener on :: accepts those, so it is matched
 * as that listener (IPv6, address ::).
 * False when the facts do not describe a TCP or UDP socket of family IPv4 or
 * IPv6 with an address of its own family. */
bool sf_event_from_facts(const struct sf_sock_facts *f, struct sf_event *ev);

/* Sets ev's family, port and address from sa, with the v4-mapped rule above;
 * false when sa is not an AF_INET or AF_INET6 address of the socket's domain. */
bool sf_event_set_address(int domain, const struct sockaddr *sa, socklen_t len,
                          struct sf_event *ev);

#endif
