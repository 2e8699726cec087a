/* What the kernel says about one socket: kind, role, addresses and the
 * options of the option table. Read through a local descriptor of the
 * socket (for another process's socket, a pidfd_getfd duplicate). */
#ifndef SOCKFIX_CLI_SOCKINFO_H
#define SOCKFIX_CLI_SOCKINFO_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../config/options.h"

/* Ports that have a TCP listener in a network namespace, to tell accepted
 * connections (server) from outgoing ones (client). */
struct listen_ports {
    unsigned char bits[65536 / 8];
};

/* Reads /proc/PID/net/tcp and tcp6: the namespace of the process itself. */
void listen_ports_load(struct listen_ports *lp, pid_t pid);

struct sockinfo {
    int fd; /* the descriptor number in its own process */
    bool tcp, udp, ipv6;
    const char *role; /* listener, server, client, bound, unbound */
    struct sockaddr_storage local, peer;
    socklen_t local_len, peer_len; /* peer_len 0: not connected */
    bool have[SF_OPT_COUNT];
    int value[SF_OPT_COUNT]; /* in the option table's units: rcvbuf and sndbuf as they were
                                set (the kernel reports double), linger -1 when off */
    char names[SF_OPT_COUNT][SF_NAME_MAX + 1]; /* bind_device, congestion ("" when none) */
};

/* Fills si from the local descriptor fd; false when it is not a TCP or UDP
 * socket of family IPv4 or IPv6. */
bool sockinfo_read(int fd, const struct listen_ports *lp, struct sockinfo *si);

/* The options of a fresh TCP and UDP socket: what the kernel gives. */
void sockinfo_defaults(struct sockinfo *tcp, struct sockinfo *udp, const struct listen_ports *lp);

/* Whether option i of si differs from the kernel's default. */
bool sockinfo_differs(const struct sockinfo *si, const struct sockinfo *defaults, int i);

/* "127.0.0.1:80" or "[::1]:80". */
void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
