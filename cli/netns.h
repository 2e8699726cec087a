/* What a socket's network namespace says around it, read once per namespace
 * and kept: its TCP listeners (address, port, backlog: one sock_diag dump),
 * its ephemeral port range, net.core.somaxconn and the options of a fresh
 * socket there. A socket's namespace is the one it was made in (SIOCGSKNS on
 * the duplicate), which may not be its process's (a sandboxed child).
 *
 * Reading inside another namespace takes setns, which needs CAP_SYS_ADMIN;
 * without it the view falls back to /proc/PID/net/tcp{,6} of the process
 * (listeners without backlogs) and to this namespace's sysctls. */
#ifndef SOCKFIX_CLI_NETNS_H
#define SOCKFIX_CLI_NETNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sockinfo.h"

struct ns_listener {
    unsigned long inode;
    struct sockaddr_storage addr; /* the address it is bound to */
    int backlog;                  /* -1: not known */
};

struct nsview {
    uint64_t dev, ino;             /* the namespace */
    bool inside;                   /* its facts were read inside it */
    struct ns_listener *listeners; /* sorted by port */
    size_t nlisteners;
    const struct ns_listener **by_inode; /* the same, sorted by inode */
    unsigned eph_lo, eph_hi;             /* net.ipv4.ip_local_port_range */
    int64_t cap[SF_OPT_COUNT];   /* the sysctl in each row's capped_by, read in the namespace; 0:
                                    none, or not readable */
    struct sockinfo fresh[2][2]; /* [UDP?][IPv6?]: a fresh socket's options */
};

struct nscache {
    struct nsview **views;
    size_t n, cap;
    int self_fd; /* this process's own namespace, to come back to */
    uint64_t self_dev, self_ino;
};

/* 0, or -1 after printing why for cmd. */
int nscache_init(struct nscache *c, const char *cmd);
void nscache_free(struct nscache *c);

/* The view of the namespace of socket dup (a local descriptor of a socket of
 * process pid); NULL when out of memory. Exits when it cannot come back to
 * its own namespace. */
const struct nsview *nscache_for(struct nscache *c, int dup, pid_t pid);

/* The listener with this inode, or NULL. */
const struct ns_listener *nsview_listener_by_inode(const struct nsview *v, unsigned long inode);

/* The listener that accepts connections to local (a socket's local address):
 * same family and port, bound to that address or to the wildcard; NULL when
 * none is left. */
const struct ns_listener *nsview_listener_for(const struct nsview *v,
                                              const struct sockaddr_storage *local);

/* The fresh-socket options for a socket of this domain and type. */
const struct sockinfo *nsview_fresh(const struct nsview *v, int domain, unsigned type);

#endif
