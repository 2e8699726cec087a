#include "ratelimit.h"

#include <time.h>

bool ratelimit_allow(struct ratelimit_slot *slots, unsigned key, int64_t now_ns,
                     uint32_t *held_back)
{
    struct ratelimit_slot *s = &slots[key % RATELIMIT_SLOTS];
    int64_t last = atomic_load_explicit(&s->last_ns, memory_order_relaxed);
    if ((last == 0 || now_ns - last >= RATELIMIT_WINDOW_NS) &&
        atomic_compare_exchange_strong(&s->last_ns, &last, now_ns)) {
        *held_back = atomic_exchange(&s->suppressed, 0);
        return true;
    }
    atomic_fetch_add(&s->suppressed, 1);
    return false;
}

int64_t ratelimit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return ns ? ns : 1; /* 0 means "never" */
}
