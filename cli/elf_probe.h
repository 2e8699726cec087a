/* Whether LD_PRELOAD can reach a program's socket calls, read from its ELF
 * file: a static program has no dynamic loader to preload with, Go programs
 * make socket system calls directly, and a program that imports no socket
 * call from libc (itself or through its libraries) makes none we can see. */
#ifndef SOCKFIX_CLI_ELF_PROBE_H
#define SOCKFIX_CLI_ELF_PROBE_H

#include <stddef.h>

enum reach {
    REACH_OK,         /* dynamic, socket calls imported from libc */
    REACH_SCRIPT,     /* "#!": the interpreter and its children inherit LD_PRELOAD */
    REACH_UNKNOWN,    /* not an ELF file of this machine's class: no verdict */
    REACH_STATIC,     /* no ELF interpreter */
    REACH_GO,         /* a Go program */
    REACH_NO_IMPORTS, /* dynamic, but no socket call imported anywhere */
};

/* The verdict for the executable at path; interp receives its ELF
 * interpreter (empty when there is none). */
enum reach elf_reachability(const char *path, char *interp, size_t len);

/* A sentence for a warning, or NULL for verdicts that need none. */
const char *reach_warning(enum reach r);

#endif
