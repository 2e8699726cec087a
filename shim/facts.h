/* Gathering the facts of a socket event for config/event.h: the socket's
 * kind (from the fd table, else from the kernel) and its addresses. */
#ifndef SOCKFIX_SHIM_FACTS_H
#define SOCKFIX_SHIM_FACTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../config/event.h"

/* The fd-table byte for socket(domain, type, protocol); type flags such as
 * SOCK_NONBLOCK are masked before the type is tested. */
uint8_t facts_kind_from_args(int domain, int type, int protocol);

/* The kind byte of fd: from the table, else asked of the kernel and kept. */
uint8_t facts_socket_kind(int fd);

/* Starts the facts of a socket of this kind (domain, type, state); false for
 * a socket sockfix leaves alone (UNIX, netlink, raw, SCTP, ...). */
bool facts_begin(uint8_t kind, enum sf_sock_state state, struct sf_sock_facts *f);

/* The socket's own address (getsockname) into ss; false when it has none. */
bool facts_own_address(int fd, struct sockaddr_storage *ss, socklen_t *len);

/* The address an accepted socket fd's listener is bound to, when the table
 * still names that listener (same local port); false otherwise. */
bool facts_listener_address(int fd, const struct sockaddr_storage *own, struct sockaddr_storage *ss,
                            socklen_t *len);

/* AF_INET6 or AF_INET for a kind byte: it chooses IP_TOS or IPV6_TCLASS. */
unsigned facts_socket_family(uint8_t kind);

#endif
