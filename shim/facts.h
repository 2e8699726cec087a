/* Gathering the facts of a socket event for the matcher: socket kind,
 * family (v4-mapped counts as IPv4), port. */
#ifndef SOCKFIX_SHIM_FACTS_H
#define SOCKFIX_SHIM_FACTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../config/match.h"

/* The fd-table byte for socket(domain, type, protocol); type flags such as
 * SOCK_NONBLOCK are masked before the type is tested. */
uint8_t facts_kind_from_args(int domain, int type, int protocol);

/* The kind byte of fd: from the table, else asked of the kernel and kept. */
uint8_t facts_socket_kind(int fd);

/* Sets ev->type from a kind byte; false for a socket sockfix leaves alone. */
bool facts_type(uint8_t kind, struct sf_event *ev);

/* Sets ev->family and ev->port from an IPv4 or IPv6 address whose family
 * is the socket's own; false for anything else. */
bool facts_addr(uint8_t kind, const struct sockaddr *sa, socklen_t len, struct sf_event *ev);

/* The same from the socket's local address (getsockname). */
bool facts_local(int fd, uint8_t kind, struct sockaddr_storage *ss, socklen_t *len,
                 struct sf_event *ev);

#endif
