/* Every TCP and UDP socket of a process, or of a process and its
 * descendants (--tree), each socket once however many descriptors and
 * processes hold it: read through one pidfd_getfd duplicate, with its
 * namespace's view and its role (classify.h). Shared by sockfix inspect and
 * sockfix apply. A target that exits during the walk makes the result
 * incomplete, and the command says so and fails. */
#ifndef SOCKFIX_CLI_WALK_H
#define SOCKFIX_CLI_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "classify.h"
#include "netns.h"
#include "sockinfo.h"
#include "target.h"

struct holder {
    size_t target; /* index into walk.targets */
    int fd;
};

struct tsock {
    unsigned long inode;
    struct holder *holders; /* in target order, then by descriptor */
    size_t nholders;
    struct sockinfo si;
    const struct nsview *ns;
    struct classification cls;
    bool recorded; /* the library's record knows one of its descriptors */
    struct librecord_fd rec;
};

struct fdref { /* a socket descriptor of a target, from /proc/PID/fd */
    int fd;
    unsigned long inode;
};

struct walk {
    const char *cmd;
    bool tree;
    struct target *targets;
    size_t ntargets;
    struct fdref **fds; /* per target, sorted by descriptor */
    size_t *nfds;
    struct tsock *socks; /* sorted by first holder */
    size_t nsocks;
    struct holder *holders; /* every tsock's holders, one block */
    struct nscache ns;
    int status; /* EXIT_OK, or the status of an error already printed */
};

/* Opens pid (and its descendants with tree) and lists their sockets;
 * EXIT_OK, or the exit status after printing why. walk_close ends it either
 * way. */
int walk_open(struct walk *w, const char *cmd, pid_t pid, bool tree);

/* Reads every socket that is still there and calls fn with a duplicate of it
 * (closed afterwards); sockets that are not TCP or UDP are skipped. Stops at
 * an error that concerns the whole walk (permission), leaving w->status. */
void walk_sockets(struct walk *w, void (*fn)(struct walk *w, struct tsock *s, int dup, void *arg),
                  void *arg);

/* Ends the walk: a target that exited meanwhile makes it incomplete (said on
 * stderr); without tree, descendants holding TCP sockets of their own are
 * named. Returns the exit status. */
int walk_close(struct walk *w);

/* "3" or "3,7": the descriptors of s in its first holder's process. */
void walk_fds_text(const struct tsock *s, char *buf, size_t len);

#endif
