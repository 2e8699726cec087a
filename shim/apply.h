/* Acting on a decision: setsockopt for each option of the phases asked for. */
#ifndef SOCKFIX_SHIM_APPLY_H
#define SOCKFIX_SHIM_APPLY_H

#include <sys/socket.h>

#include "../config/match.h"

struct apply_event {
    const char *call; /* "bind", "listen", "accept", "connect" */
    int fd;
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

#endif
