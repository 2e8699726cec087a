/* What the library keeps for sockfix apply and inspect to read from outside:
 * the policy it loaded, the names match.program was tried against, and where
 * its per-descriptor tables are (fdtable.h), so that apply knows which
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
#define SF_RECORD_VERSION 2                  /* 2: table entries at sf_record_slot(fd) */
#define SF_RECORD_NAME_MAX 64
#define SF_RECORD_PATH_MAX 256

enum sf_record_state {
    SF_RECORD_WAITING = 0,   /* no socket event yet: the policy is not parsed */
    SF_RECORD_IN_FORCE = 1,  /* the policy is in force */
    SF_RECORD_NO_POLICY = 2, /* the policy had errors: nothing is applied */
};

/* Where descriptor fd's entry is in each per-descriptor table: the two
 * nibbles of its low byte swapped. Neighbouring descriptors (two threads
 * accepting and connecting at once get neighbouring numbers) then sit in
 * different cache lines and their writes do not contend, while the 256
 * descriptors of a 1 KB block stay in it: a table touches as many pages as
 * before. */
static inline uint32_t sf_record_slot(uint32_t fd)
{
    return (fd & ~255u) | (fd & 15u) << 4 | (fd >> 4 & 15u);
}

/* The names match.program globs are tried against (base names). */
enum { SF_NAME_EXE, SF_NAME_EXECFN, SF_NAME_ARGV0, SF_NAMES };

struct sf_record {
    char magic[16];
    uint32_t version;
    uint32_t size; /* sizeof(struct sf_record) */
    uint32_t state;
    uint32_t fdtab_size;      /* entries in each table */
    uint64_t kinds;           /* address of uint32_t[fdtab_size] (fdtable.h), 0 until mapped */
    uint64_t program_options; /* address of uint32_t[fdtab_size]: options the program set */
    uint64_t sockfix_options; /* address of uint32_t[fdtab_size]: options sockfix set */
    char policy[SF_RECORD_PATH_MAX]; /* the policy file; "" for the built-in default */
    char names[SF_NAMES][SF_RECORD_NAME_MAX];
};

#ifdef SOCKFIX_SHIM
/* The library's own record. */
extern struct sf_record sf_record;
#endif

#endif
