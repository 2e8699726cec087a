/* The shim's rate limit for repeated warnings, with a clock the test holds. */
#include <criterion/criterion.h>
#include <string.h>

#include "shim/ratelimit.h"

#define SECOND 1000000000LL

Test(ratelimit, once_a_second_per_key_and_the_count_of_the_rest)
{
    static struct ratelimit_slot slots[RATELIMIT_SLOTS];
    uint32_t held = 99;
    cr_expect(ratelimit_allow(slots, 7, 5 * SECOND, &held));
    cr_expect_eq(held, 0);
    for (int i = 1; i <= 1000; i++) /* a busy second: all held back */
        cr_expect_not(ratelimit_allow(slots, 7, 5 * SECOND + i * 900000LL, &held));
    cr_expect(ratelimit_allow(slots, 8, 5 * SECOND + 1, &held), "another key is not limited");
    cr_expect_eq(held, 0);
    cr_expect(ratelimit_allow(slots, 7, 6 * SECOND, &held), "a second later");
    cr_expect_eq(held, 1000, "the next message says how many were held back");
    cr_expect_not(ratelimit_allow(slots, 7, 6 * SECOND + 1, &held));
    cr_expect(ratelimit_allow(slots, 7, 9 * SECOND, &held));
    cr_expect_eq(held, 1);
}

Test(ratelimit, the_clock_is_monotonic_and_never_zero)
{
    int64_t a = ratelimit_now(), b = ratelimit_now();
    cr_expect_gt(a, 0);
    cr_expect_geq(b, a);
}
