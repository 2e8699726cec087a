/* Start-up: binds the real functions, reads the policy once per process and
 * publishes it. Runs from the library constructor, or from the first hook
 * when another library's constructor opens a socket before ours ran. */
#ifndef SOCKFIX_SHIM_INIT_H
#define SOCKFIX_SHIM_INIT_H

#include <stdbool.h>

#include "../config/policy.h"

#define SF_STRICT_EXIT 78

/* The policy in force, or NULL while start-up is under way on this path
 * (re-entered) or when no rule can apply. Lock-free after start-up. */
const struct sf_policy *shim_policy(void);

/* Whether start-up is over: a NULL from shim_policy then means no rule can
 * apply in this process, for good (not a hook re-entered while starting). */
bool shim_ready(void);

#endif
