/* What earlier sockfix apply runs set on a process's sockets, so that a later
 * apply knows those values are sockfix's and moves them to a changed policy,
 * as the library's record tells of what the library set (librecord.h); it
 * also covers programs the library cannot reach. One file per process,
 * /run/sockfix/applied/PID-STARTTIME as root, else under $XDG_RUNTIME_DIR:
 * "INODE MASK" lines (the socket's inode, the SF_OPT_BIT set). The start time
 * keeps a reused PID from inheriting it; files of processes that are gone are
 * removed by the next apply. Without a writable directory nothing is kept. */
#ifndef SOCKFIX_CLI_APPLIED_H
#define SOCKFIX_CLI_APPLIED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct applied {
    unsigned long *inode;
    uint32_t *mask;
    size_t n, cap;
};

/* What earlier runs set in pid (empty when nothing is kept). */
void applied_load(struct applied *a, pid_t pid);
uint32_t applied_mask(const struct applied *a, unsigned long inode);
/* Adds bits for the socket; 0 or -1 when out of memory. */
int applied_add(struct applied *a, unsigned long inode, uint32_t bits);
/* Writes pid's file (atomically); removes files of processes that are gone.
 * 0, or -1 with errno (no directory to keep it in is not an error). */
int applied_save(const struct applied *a, pid_t pid);
void applied_free(struct applied *a);

#endif
