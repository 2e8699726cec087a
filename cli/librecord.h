/* The record libsockfix keeps in a process it runs in (shim/record.h), read
 * from outside: the policy it loaded, the names it matched, and per
 * descriptor how the socket came to be and which options sockfix and which
 * the program set. Found through /proc/PID/maps, read with process_vm_readv
 * (the ptrace access pidfd_getfd needs too). */
#ifndef SOCKFIX_CLI_LIBRECORD_H
#define SOCKFIX_CLI_LIBRECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../shim/record.h"

struct librecord {
    bool present; /* the process runs the library */
    pid_t pid;
    struct sf_record rec; /* as read; strings NUL-terminated here */
};

/* What the library knows of one descriptor. */
struct librecord_fd {
    uint32_t kind;    /* the fd-table entry (shim/fdtable.h); 0: nothing known */
    uint32_t program; /* options the program set */
    uint32_t sockfix; /* options sockfix set */
};

/* Looks for the record in pid; r->present says whether it was found. */
void librecord_read(pid_t pid, struct librecord *r);

/* The entries of fd; false when the record has nothing for it. */
bool librecord_fd(const struct librecord *r, int fd, struct librecord_fd *out);

/* Bytes at addr in pid; 0 or -1. */
int librecord_peek(pid_t pid, uint64_t addr, void *buf, size_t len);

/* A NUL-terminated string at addr in pid, into buf (cut to len - 1); 0 or -1.
 * It may end close to the end of a mapping (AT_EXECFN ends the stack). */
int librecord_peek_string(pid_t pid, uint64_t addr, char *buf, size_t len);

#endif
