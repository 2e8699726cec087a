/* The processes sockfix inspect and apply look at: checking that a PID names
 * a live process, its descendants (--tree), and what the library would match
 * it as (match.program names). */
#ifndef SOCKFIX_CLI_TARGET_H
#define SOCKFIX_CLI_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "librecord.h"

struct target {
    pid_t pid;
    int pidfd; /* -1: not opened */
    char comm[64];
    /* What match.program globs are tried against, as the library does: the
     * executable's base name, the executed file's (AT_EXECFN), and argv[0]
     * as the program was started ("" when not known: only the library's
     * record keeps it, since a program may rewrite its title). */
    char names[SF_NAMES][SF_RECORD_NAME_MAX];
    struct librecord record;
};

/* EXIT_OK when pid names a live process; otherwise prints why ("no process
 * with PID N", "N is a thread of process M", "PID N has exited (a zombie)")
 * and returns the exit status. */
int target_check(const char *cmd, pid_t pid);

/* Whether pid is a live process (not a thread, not a zombie), quietly. */
bool target_alive(pid_t pid);

/* pid and its descendants, pid first, parents before children (malloc'ed);
 * -1 when /proc cannot be read. */
int target_tree(pid_t pid, pid_t **out, size_t *n);

/* The descendants of pid, without pid. */
int target_descendants(pid_t pid, pid_t **out, size_t *n);

/* Opens pid: a pidfd, its names and the library's record; -1 with errno. */
int target_open(struct target *t, pid_t pid);
void target_close(struct target *t);

/* Whether the process has exited since it was opened (zombies included). */
bool target_exited(const struct target *t);

/* "sockfix CMD: ..." on stderr for an errno of pidfd_open or pidfd_getfd. */
void target_explain(const char *cmd, pid_t pid, int err);

/* A pidfd_getfd duplicate of fd in t (O_CLOEXEC), or -1 with errno. */
int target_take(const struct target *t, int fd);

#endif
