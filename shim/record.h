/* What the library keeps for sockfix apply and inspect to read from outside:
 * the policy it loaded, the names match.program was tried against, and where
 * its per-descriptor table is (fdtable.h), so that apply knows which
 * options sockfix set and which the program set itself, and how each socket
 * came to be (accepted from which listener, or connected).
 *
 * A struct in the library's .data, found by its magic in the library's
 * writable mapping (/proc/PID/maps) and read with process_vm_readv, which
 * needs the same ptrace access as pidfd_getfd: no descriptor, no exported
 * symbol, no system call on the hot path. Readers check magic, version and
 * size, and treat every field as untrusted. This header is the format shared
 * by the library (writer) and the sockfix command (reader). */
#ifndef SOCKFIX_SHIM_RECORD_H
#define SOCKFIX_SHIM_RECORD_H

#include <stdint.h>

#define SF_RECORD_MAGIC "\x7fsockfix-record" /* 16 bytes with its NUL */
#define SF_RECORD_VERSION 3 /* 3: one table of entries; 2: three tables of uint32_t */
#define SF_RECORD_NAME_MAX 64
#define SF_RECORD_PATH_MAX 256

enum sf_record_state {
    SF_RECORD_WAITING = 0,   /* no socket event yet: the policy is not parsed */
    SF_RECORD_IN_FORCE = 1,  /* the policy is in force */
    SF_RECORD_NO_POLICY = 2, /* the policy had errors: nothing is applied */
};

/* Where descriptor fd's entry is in the per-descriptor table: the two
 * nibbles of its low byte swapped. Neighbouring descriptors (two threads
 * accepting and connecting at once get neighbouring numbers) then sit in
 * different cache lines and their writes do not contend, while the 256
 * descriptors of a 4 KiB page stay in it. */
static inline uint32_t sf_record_slot(uint32_t fd)
{
    return (fd & ~255u) | (fd & 15u) << 4 | (fd >> 4 & 15u);
}

/* The names match.program globs are tried against (base names). */
enum { SF_NAME_EXE, SF_NAME_EXECFN, SF_NAME_ARGV0, SF_NAMES };

/* One descriptor's entry: everything about it in one cache line, which the
 * hooks of one connection touch once (three tables had it in three). */
struct sf_fd_entry {
    uint32_t kind;    /* FD_* of fdtable.h, the listener from FDTAB_LISTENER_SHIFT */
    uint32_t program; /* SF_OPT_BIT set of the options the program set itself */
    uint32_t sockfix; /* SF_OPT_BIT set of the options sockfix set */
    uint32_t spare;
};

struct sf_record {
    char magic[16];
    uint32_t version;
    uint32_t size; /* sizeof(struct sf_record) */
    uint32_t state;
    uint32_t fdtab_size; /* entries in the table */
    uint32_t entry_size; /* sizeof(struct sf_fd_entry) */
    uint32_t spare;
    uint64_t entries; /* address of struct sf_fd_entry[fdtab_size], fd's at sf_record_slot(fd);
                         0 until mapped */
    char policy[SF_RECORD_PATH_MAX]; /* the policy file; "" for the built-in default */
    char names[SF_NAMES][SF_RECORD_NAME_MAX];
};

#ifdef SOCKFIX_SHIM
/* The library's own record. */
extern struct sf_record sf_record;
#endif

#endif
