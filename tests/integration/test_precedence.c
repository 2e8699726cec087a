/* When the program sets an option itself: [sockfix] precedence = program
 * (default) leaves it the program's, policy overrides it, also later; and
 * the per-fd state follows descriptors through close, dup2, dup3,
 * fcntl(F_DUPFD) and close_range. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EXPECT(r, key, v) cr_expect_eq(result_num(r, key), (v), "%s", key)

TestSuite(precedence, .timeout = 30);

/* Every value differs from what the program sets (see sockprobe own). */
static const char RULES[] = "[servers]\nmatch.role = server\nreuseaddr = yes\n"
                            "[keepalive]\nkeepidle = 50\nkeepintvl = 5\nkeepcnt = 4\n";

static void run_own(const char *global, const char *family, struct run_result *r)
{
    char policy[512];
    snprintf(policy, sizeof policy, "%s%s", global, RULES);
    run_probe(&(struct run_opts){.policy = policy, .log = "info"}, ARGS("own", family), r);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
}

Test(precedence, the_program_keeps_what_it_set_and_sockfix_fills_in_the_rest)
{
    static const char *const spellings[] = {"", "[sockfix]\nprecedence = program\n"};
    for (int i = 0; i < 2; i++) {
        struct run_result r;
        run_own(spellings[i], "4", &r);
        EXPECT(&r, "listener.reuseaddr", 0); /* the program's SO_REUSEADDR=0 before bind */
        EXPECT(&r, "listener.keepidle", 99); /* set before listen */
        EXPECT(&r, "listener.keepintvl", 5); /* left alone: the policy's */
        EXPECT(&r, "listener.keepalive", 1);
        EXPECT(&r, "accepted.keepidle", 300); /* set after accept */
        EXPECT(&r, "accepted.keepcnt", 4);
        EXPECT(&r, "client.keepintvl", 33); /* set before connect */
        EXPECT(&r, "client.keepidle", 50);
        char line[256];
        snprintf(line, sizeof line, "sockfix[%d]: listen fd=", (int)r.pid);
        const char *listen = strstr(r.err, line);
        cr_assert(listen, "%s", r.err);
        cr_expect(strstr(listen, "rules=keepalive: keepalive=yes keepintvl=5s keepcnt=4; left as "
                                 "the program set them: keepidle\n"),
                  "%s", r.err);
        cr_expect(strstr(r.err, "rules=servers: left as the program set them: reuseaddr\n"), "%s",
                  r.err);
    }
}

Test(precedence, the_policy_wins_also_over_later_calls_and_says_so)
{
    struct run_result r;
    run_own("[sockfix]\nprecedence = policy\n", "6", &r);
    EXPECT(&r, "listener.reuseaddr", 1);
    EXPECT(&r, "listener.keepidle", 50);
    EXPECT(&r, "accepted.keepidle", 50); /* the program's 300 after accept was replaced */
    EXPECT(&r, "client.keepintvl", 5);
    EXPECT(&r, "client.keepidle", 50);
    cr_expect(strstr(r.err, ": the program's keepidle 300s replaced by the policy's 50s (rule "
                            "keepalive, precedence = policy)\n"),
              "%s", r.err);
}

Test(precedence, options_the_policy_does_not_name_stay_the_programs)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[sockfix]\nprecedence = policy\n[k]\nkeepcnt = 4\n"},
              ARGS("own", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    EXPECT(&r, "accepted.keepidle", 300);
    EXPECT(&r, "client.keepintvl", 33);
    EXPECT(&r, "listener.reuseaddr", 0);
    EXPECT(&r, "accepted.keepcnt", 4);
}

/* IP_TOS is an option of level 0 (IPPROTO_IP): the program's own value is
 * known as its own like any other (it was taken for "no option" once). */
Test(precedence, an_ip_level_option_the_program_set_stays_its_own)
{
    for (int six = 0; six < 2; six++) {
        struct run_result r;
        run_probe(&(struct run_opts){.policy = "[c]\nmatch.role = client\ntos = 32\n"},
                  ARGS("own", six ? "6" : "4"), &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        EXPECT(&r, "client.tos", 0x10);
        run_probe(&(struct run_opts){.policy = "[sockfix]\nprecedence = policy\n"
                                               "[c]\nmatch.role = client\ntos = 32\n"},
                  ARGS("own", six ? "6" : "4"), &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        EXPECT(&r, "client.tos", 32);
    }
}

Test(precedence, descriptor_state_follows_close_dup_and_close_range)
{
    /* Each case leaves a descriptor number whose earlier socket had keepidle
     * set by the program; a fresh socket there must get the policy. */
    struct run_result r;
    run_probe(&(struct run_opts){.policy = RULES, .log = "info"}, ARGS("fdlife", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    EXPECT(&r, "dup2.listener.keepidle", 50);
    EXPECT(&r, "close.client.keepidle", 50);
    EXPECT(&r, "close_range.client.keepidle", 50);
    /* A configured listener used through fcntl(F_DUPFD) and dup3 copies:
     * its connections inherit, nothing is set per connection. */
    EXPECT(&r, "dup.accepted.keepidle", 50);
    cr_expect_null(strstr(r.err, "]: accept fd="), "%s", r.err);
}
