/* Acting on a decision: setsockopt for each option of the phases asked for. */
#ifndef SOCKFIX_SHIM_APPLY_H
#define SOCKFIX_SHIM_APPLY_H

#include <sys/socket.h>

#include "../config/match.h"

struct apply_event {
    const char *call; /* "bind", "listen", "accept", "connect" */
    int fd;
    unsigned family; /* of the socket itself (SF_FAMILY_IPV6 for AF_INET6, v4-mapped or not):
                        it chooses IP_TOS or IPV6_TCLASS */
    const struct sockaddr *addr; /* for the log line */
    socklen_t addrlen;
};

/* Sets the options of d that belong to one of phases on ev->fd, but those in
 * keep (set by the program itself, precedence = program). Each failed
 * setsockopt is logged at warn with the option and errno; at info one line
 * tells what was set, by which rules, and what was left to the program.
 * errno may change. */
void apply_decision(const struct sf_policy *p, const struct apply_event *ev,
                    const struct sf_decision *d, unsigned phases, uint32_t keep);

/* Sets one option to v on fd, a socket of family SF_FAMILY_*; 0 or -1 with
 * errno. */
int apply_one(const struct sf_policy *p, int fd, const struct sf_option *o, unsigned family,
              int32_t v);

#endif
