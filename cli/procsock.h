/* Another process's sockets, reached through pidfd_getfd (Linux 5.6+):
 * finding them, taking a duplicate of one, and saying why it failed. Shared
 * by sockfix inspect and sockfix apply. */
#ifndef SOCKFIX_CLI_PROCSOCK_H
#define SOCKFIX_CLI_PROCSOCK_H

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

/* "sockfix CMD: ..." on stderr for an errno of the calls above. */
void procsock_explain(const char *cmd, pid_t pid, int err);

#endif
