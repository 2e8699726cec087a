/* What the kernel says about one socket: kind, TCP state, addresses and the
 * options of the option table, read through a local descriptor of it (for
 * another process's socket, a pidfd_getfd duplicate). Roles are decided in
 * classify.h; facts that depend on the network namespace (backlogs, the
 * listeners around) in netns.h. */
#ifndef SOCKFIX_CLI_SOCKINFO_H
#define SOCKFIX_CLI_SOCKINFO_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../config/options.h"

#define TCP_STATE_LISTEN 10 /* the kernel's TCP_LISTEN, as TCP_INFO reports it */

struct sockinfo {
    int domain;    /* AF_INET or AF_INET6 */
    unsigned type; /* SF_TYPE_TCP or SF_TYPE_UDP */
    int tcp_state; /* TCP: the kernel's state (TCP_INFO); 0 for UDP */
    unsigned long inode;
    struct sockaddr_storage local, peer;
    socklen_t local_len, peer_len; /* peer_len 0: not connected */
    bool have[SF_OPT_COUNT];
    int value[SF_OPT_COUNT]; /* in the option table's units: rcvbuf and sndbuf as they were
                                set (the kernel reports double), linger -1 when off; the
                                backlog is filled in from the namespace (netns.h) */
    char names[SF_OPT_COUNT][SF_NAME_MAX + 1]; /* bind_device, congestion ("" when none) */
};

/* Fills si from the local descriptor fd; false when it is not a TCP or UDP
 * socket of family IPv4 or IPv6. */
bool sockinfo_read(int fd, struct sockinfo *si);

/* Whether option i of si differs from the same option of a fresh socket. */
bool sockinfo_differs(const struct sockinfo *si, const struct sockinfo *fresh, int i);

/* Whether option i of si already holds v, the policy's value, as setting it
 * would leave it (the option table's readback); a name option compares text. */
bool sockinfo_holds(const struct sockinfo *si, int i, int v, const char *text);

/* "127.0.0.1:80" or "[::1]:80". */
void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len);
unsigned sockaddr_port(const struct sockaddr_storage *ss);

#endif
