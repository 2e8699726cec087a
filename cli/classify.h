/* The role of another process's socket, from what the kernel says about the
 * socket itself in its own namespace, and from the library's record when the
 * process runs under it; then the facts config/event.h turns into the event
 * the library matched (or would have matched) the socket as.
 *
 * TCP, in this order:
 * 1. listening (TCP_LISTEN)                                -> listener
 * 2. SYN_SENT                                              -> connecting (no event yet:
 *                                                             the remote address is not known)
 * 3. connected, and the library recorded accept or connect -> server or client, as recorded
 * 4. connected, and a listener in the socket's namespace
 *    accepts connections to its local address and port    -> server, accepted by it
 * 5. connected, no such listener (closed while draining,
 *    a one-connection server): the kernel keeps no other
 *    trace of how a connection began, so the ports decide:
 *    the local port outside the namespace's ephemeral range
 *    and the remote port inside it                         -> server; otherwise client
 *    (a doubt, but for a local port inside the range and a
 *    remote port outside it: the usual client)
 * 6. bound to a port                                       -> bound; else unbound
 * UDP: connected -> client; bound to a port -> bound (a UDP server); else unbound.
 *
 * A socket bound to port 0 gets no bind-time option from the library (there
 * is no restart to get past TIME_WAIT for): the library records such binds;
 * for a socket it did not see bound, a port inside the ephemeral range stands
 * for one. A bound socket (not listening, not connected) bound so is not
 * decided at all, as the library decided nothing for it. */
#ifndef SOCKFIX_CLI_CLASSIFY_H
#define SOCKFIX_CLI_CLASSIFY_H

#include <stdbool.h>

#include "../config/event.h"
#include "librecord.h"
#include "netns.h"
#include "sockinfo.h"

enum sock_role {
    ROLE_LISTENER,
    ROLE_SERVER,
    ROLE_CLIENT,
    ROLE_CONNECTING,
    ROLE_BOUND,
    ROLE_UNBOUND
};

/* How the role was told (rules above). */
enum role_source { SOURCE_KERNEL, SOURCE_RECORD, SOURCE_LISTENER, SOURCE_PORTS };

struct classification {
    enum sock_role role;
    enum role_source source;
    bool doubt;          /* told by the ports, and they do not clearly say client (rule 5) */
    bool ephemeral_bind; /* bound to port 0 (or, not seen bound, to an ephemeral port) */
    bool have_listener;  /* a server connection's listener address is known */
    struct sockaddr_storage listener;
    bool decided; /* ev holds the event (a role with an address) */
    struct sf_event ev;
};

/* rec: what the library recorded for one of the socket's descriptors, or
 * NULL; rec_listener: the listener that descriptor's entry names, or NULL. */
void classify(const struct sockinfo *si, const struct nsview *ns, const struct librecord_fd *rec,
              const struct ns_listener *rec_listener, struct classification *c);

const char *role_name(enum sock_role r);
const char *role_source_name(enum role_source s);

#endif
