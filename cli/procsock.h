/* Another process's sockets, reached through pidfd_getfd (Linux 5.6+):
 * finding them, taking a duplicate of one, and saying why it failed. Shared
 * by sockfix inspect and sockfix apply. */
#ifndef SOCKFIX_CLI_PROCSOCK_H
#define SOCKFIX_CLI_PROCSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A pidfd for pid, or -1 with errno. */
int procsock_open(pid_t pid);

/* A duplicate, in this process, of descriptor fd of the pidfd's process
 * (O_CLOEXEC), or -1 with errno. */
int procsock_take(int pidfd, int fd);

/* The descriptor numbers of pid that are sockets, sorted (malloc'ed). */
int procsock_list(pid_t pid, int **fds, size_t *n);

/* The names a policy's match.program globs are tried against, as the shim
 * would see them in that process: its executable's and argv[0]'s base names. */
void procsock_program_names(pid_t pid, char exe[static 256], char argv0[static 256]);

/* /proc/PID/comm. */
void procsock_comm(pid_t pid, char *buf, size_t len);

/* A walk over every socket of a process, as inspect and apply make it. */
struct procsock_walk {
    const char *cmd; /* for messages */
    pid_t pid;
    int pidfd;
    int *fds;
    size_t nfds, next;
};

/* Opens the process and lists its sockets (w->nfds of them); -1 after
 * printing why for cmd. */
int procsock_begin(struct procsock_walk *w, const char *cmd, pid_t pid);

/* A duplicate of the next socket (the caller closes it) and its number in the
 * target; -1 at the end, with *failed set when an error was printed. A socket
 * closed since it was listed is skipped. */
int procsock_next(struct procsock_walk *w, int *fd, bool *failed);

void procsock_end(struct procsock_walk *w);

/* "sockfix CMD: ..." on stderr for an errno of the calls above. */
void procsock_explain(const char *cmd, pid_t pid, int err);

#endif
