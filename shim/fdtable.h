/* What the shim remembers per file descriptor: the socket's kind, recorded
 * when the hooks see it created, whether the shim already configured it,
 * for an accepted socket the descriptor of its listener, which options the
 * program set itself (for precedence = program) and which sockfix set (for
 * sockfix apply, through the record: record.h). One fixed table of
 * entries, mapped when first needed: no lock, no malloc, async-signal-safe. The descriptor
 * hooks (hooks_fd.c) keep them right when descriptors are closed or
 * duplicated. Descriptors past the table are simply not remembered: the
 * shim then asks the kernel, and an accepted socket gets the policy per
 * connection. */
#ifndef SOCKFIX_SHIM_FDTABLE_H
#define SOCKFIX_SHIM_FDTABLE_H

#include <stdint.h>

#define FDTAB_SIZE 65536

/* An entry's kind: the kind byte (fdtab_get), more flags
 * (FD_EPHEMERAL_BIND, for sockfix apply), and from bit 15 an accepted
 * socket's listener descriptor + 1 (0: not known). */
enum {
    FD_KIND_UNKNOWN = 0, /* not seen by a hook: ask the kernel */
    FD_KIND_TCP = 1,
    FD_KIND_UDP = 2,
    FD_KIND_OTHER = 3, /* not a socket sockfix handles: pass through */
    FD_KIND_MASK = 3,
    FD_FAMILY_INET = 1 << 2,
    FD_FAMILY_INET6 = 1 << 3,
    FD_FAMILY_MASK = FD_FAMILY_INET | FD_FAMILY_INET6,
    FD_LISTENER_DONE = 1 << 4, /* listen decided; accepted sockets inherit */
    FD_CLIENT_DONE = 1 << 5,   /* connect decided */
    FD_ACCEPTED = 1 << 6,      /* returned by accept: a server connection */
    /* Made under the library (socket, or accept from such a listener): every
     * option the program set on it went through the setsockopt hook. */
    FD_WHOLE_LIFE = 1 << 7,
};
enum {
    FD_EPHEMERAL_BIND = 1 << 8, /* bound to port 0: no bind-time option was decided */
};
#define FDTAB_LISTENER_SHIFT 15
_Static_assert(FDTAB_SIZE < (1u << (32 - FDTAB_LISTENER_SHIFT)), "a listener descriptor + 1 fits");

uint8_t fdtab_get(int fd);
/* Sets the kind byte and forgets what was set on an earlier descriptor of
 * that number. */
void fdtab_set(int fd, uint8_t v);
void fdtab_add(int fd, uint32_t bits);

/* fd was accepted from listener lfd: kind (FD_ACCEPTED is added, and
 * FD_WHOLE_LIFE when the listener has it), the listener, and of what the
 * program and sockfix set on the listener the options the kernel copied
 * (inherited). */
void fdtab_accepted(int lfd, int fd, uint8_t kind, uint32_t inherited);
/* An accepted socket's listener descriptor as it was at accept, or -1. */
int fdtab_listener(int fd);

/* SF_OPT_BIT set of the options the program itself set on fd. */
uint32_t fdtab_program_options(int fd);
/* The program set these: they are its own now, no longer sockfix's. */
void fdtab_add_program_options(int fd, uint32_t bits);
/* sockfix set these: they are sockfix's now, no longer the program's. */
void fdtab_add_sockfix_options(int fd, uint32_t bits);

/* The descriptor is gone (close), or now names what `from` names (dup). */
void fdtab_forget(int fd);
void fdtab_forget_range(unsigned lo, unsigned hi);
void fdtab_copy(int from, int to);

#endif
