/* At most one message per key per second, so a failing setsockopt on a busy
 * server cannot flood its log; the next message that gets through says how
 * many were held back. Lock-free and async-signal-safe (the hooks call it). */
#ifndef SOCKFIX_SHIM_RATELIMIT_H
#define SOCKFIX_SHIM_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 64
#define RATELIMIT_WINDOW_NS 1000000000LL

struct ratelimit_slot {
    _Atomic int64_t last_ns; /* 0: never */
    _Atomic uint32_t suppressed;
};

/* Whether a message with this key may be written at now_ns (a monotonic
 * clock); when it may, *held_back receives how many were dropped since the
 * last one. Keys that share a slot share the limit. */
bool ratelimit_allow(struct ratelimit_slot *slots, unsigned key, int64_t now_ns,
                     uint32_t *held_back);

/* The monotonic clock in nanoseconds (clock_gettime is async-signal-safe). */
int64_t ratelimit_now(void);

#endif
