/* What a program's ELF file tells of LD_PRELOAD's reach: a static program has
 * no dynamic loader to preload with, Go programs make socket system calls
 * directly, a program that imports no socket call and no dlopen (itself or
 * through its libraries) makes none the library can see, and sockets made
 * through io_uring never pass through libc. Also whether a file can be
 * preloaded into such a program at all (SOCKFIX_LIBRARY). */
#ifndef SOCKFIX_CLI_ELF_PROBE_H
#define SOCKFIX_CLI_ELF_PROBE_H

#include <stdbool.h>
#include <stddef.h>

enum reach {
    REACH_OK,         /* dynamic, socket calls imported from libc (or dlopen: may load them) */
    REACH_SCRIPT,     /* "#!": the interpreter and its children inherit LD_PRELOAD */
    REACH_UNKNOWN,    /* not an ELF file of this machine's class: no verdict */
    REACH_STATIC,     /* no ELF interpreter */
    REACH_GO,         /* a Go program */
    REACH_NO_IMPORTS, /* dynamic, but neither a socket call nor dlopen imported anywhere */
};

struct elf_facts {
    enum reach reach;
    char interp[4096];       /* its ELF interpreter; "" when none */
    char io_uring[64];       /* an io_uring_* import or "liburing" when it links it; "" when not */
    unsigned char elf_class; /* ELFCLASS32/64, 0 when not ELF */
    unsigned short machine;  /* e_machine */
};

/* The verdict and facts for the executable at path. */
void elf_probe(const char *path, struct elf_facts *f);

/* A sentence for a warning, or NULL for verdicts that need none. */
const char *reach_warning(enum reach r);

/* Whether the file at path can be preloaded into a program of this class and
 * machine (0: this command's own): an ELF shared object, not an executable.
 * 0, or -1 with the reason in why ("No such file or directory", "is not an
 * ELF file", "is a position-independent executable, not a shared object",
 * "is a 32-bit object; the program is 64-bit", ...). */
int elf_check_preloadable(const char *path, unsigned char elf_class, unsigned short machine,
                          char *why, size_t len);

#endif
