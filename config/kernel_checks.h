/* What the kernel where a policy runs will refuse or cap, named when the
 * policy loads rather than by every setsockopt that runs into it: a name the
 * kernel does not offer (an option row's choices_from), a value above the
 * sysctl that caps it (its capped_by). The library and `sockfix check` read
 * the sysctls with sf_sysctl_read; the unit tests pass their own reader. */
#ifndef SOCKFIX_CONFIG_KERNEL_CHECKS_H
#define SOCKFIX_CONFIG_KERNEL_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* Reads a sysctl into buf ("net.core.rmem_max": /proc/sys/net/core/rmem_max),
 * without its trailing newline. No stdio and no allocation (the library calls
 * it before main); the descriptor is O_CLOEXEC and closed before returning. */
bool sf_sysctl_read(const char *name, char *buf, size_t len);

typedef bool sf_sysctl_reader(const char *name, char *buf, size_t len);

/* For each value of the active rules the kernel would refuse or cap, a
 * warning with emit:
 *   FILE:LINE: congestion: "bbr2" is not available on this kernel (available:
 *     reno cubic); setting it will fail
 *   FILE:LINE: rcvbuf: 4m is above net.core.rmem_max (212992 bytes); the kernel caps it
 * A sysctl that cannot be read checks nothing. */
void sf_policy_check_kernel(const struct sf_policy *p, sf_sysctl_reader *read,
                            void (*emit)(const char *line, void *arg), void *arg);

#endif
