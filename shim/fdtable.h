/* What the shim remembers per file descriptor: the socket's kind, recorded
 * when the hooks see it created, and whether the shim already configured it.
 * One byte per fd in a fixed table, mapped at the first socket: no lock, no
 * malloc, async-signal-safe.
 * Descriptors past the table are simply not remembered: the shim then asks
 * the kernel, and an accepted socket gets the policy per connection. */
#ifndef SOCKFIX_SHIM_FDTABLE_H
#define SOCKFIX_SHIM_FDTABLE_H

#include <stdint.h>

#define FDTAB_SIZE 65536

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
};

uint8_t fdtab_get(int fd);
void fdtab_set(int fd, uint8_t v);
void fdtab_add(int fd, uint8_t bits);

#endif
