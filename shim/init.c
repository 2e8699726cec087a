#include "init.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/policy_file.h"
#include "log.h"
#include "real.h"

#define MAX_ERRORS_LOGGED 20

enum { NOT_STARTED, STARTING, READY };
static _Atomic int init_state = NOT_STARTED;
static const struct sf_policy *_Atomic current_policy;

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The program name a rule's match.program globs are tried against: the
 * executable's and argv[0]'s base names. */
static void select_program(struct sf_policy *p)
{
    bool any = false;
    for (size_t i = 0; i < p->nactive && !any; i++)
        any = p->rules[p->active[i]].nprograms > 0;
    if (!any)
        return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    const char *names[2] = {basename_of(exe), program_invocation_short_name};
    sf_policy_select_program(p, names, 2);
}

static void apply_environment(const struct sf_policy *p, bool *strict)
{
    log_set_level(p && p->log_set ? p->log_level : SF_LOG_WARN);
    *strict = p && p->strict;
    const char *s = secure_getenv("SOCKFIX_STRICT");
    if (s && *s)
        *strict = strcmp(s, "0") != 0 && strcmp(s, "no") != 0;
    const char *level = secure_getenv("SOCKFIX_LOG");
    if (level && *level) {
        int l = sf_log_level_parse(level);
        if (l >= 0)
            log_set_level((enum sf_log_level)l);
        else
            log_msg(SF_LOG_WARN, "SOCKFIX_LOG: not a log level (use off, error, warn, info, "
                                 "debug); ignored");
    }
}

static void report_errors(const struct sf_policy *p, bool strict)
{
    if (!log_enabled(SF_LOG_ERROR) && !strict)
        return;
    char line[512];
    struct logbuf b;
    for (size_t i = 0; i < p->nerrors && i < MAX_ERRORS_LOGGED; i++) {
        sf_error_format(p, &p->errors[i], line, sizeof line);
        log_begin(&b);
        log_str(&b, line);
        log_end(&b);
    }
    log_begin(&b);
    if (p->nerrors > MAX_ERRORS_LOGGED) {
        log_uint(&b, p->nerrors - MAX_ERRORS_LOGGED);
        log_str(&b, " more errors; ");
    }
    if (strict)
        log_str(&b, "strict mode: the program is stopped (exit status 78)");
    else
        log_str(&b, "no policy in effect; the program runs with its sockets unchanged");
    log_end(&b);
}

static void initialise(void)
{
    real_bind_all();
    struct sf_policy *p = sf_policy_load_default(secure_getenv("SOCKFIX_CONFIG"));
    bool strict;
    apply_environment(p, &strict);
    if (!p) {
        log_msg(SF_LOG_ERROR, "out of memory while loading the policy; no policy in effect");
        if (strict)
            _exit(SF_STRICT_EXIT);
        return;
    }
    if (p->nerrors) {
        report_errors(p, strict);
        if (strict)
            _exit(SF_STRICT_EXIT);
    }
    select_program(p);
    if (log_enabled(SF_LOG_DEBUG)) {
        struct logbuf b;
        log_begin(&b);
        log_str(&b, "policy ");
        log_str(&b, p->source);
        log_str(&b, ": ");
        log_uint(&b, p->nactive);
        log_str(&b, " of ");
        log_uint(&b, p->nrules);
        log_str(&b, " rules apply to ");
        log_str(&b, program_invocation_short_name);
        log_end(&b);
    }
    /* The policy stays for the life of the process: hooks may read it from
     * any thread at any time, so it is never freed. */
    atomic_store_explicit(&current_policy, p, memory_order_release);
}

static void ensure_started(void)
{
    int expected = NOT_STARTED;
    if (!atomic_compare_exchange_strong(&init_state, &expected, STARTING))
        return;
    int saved = errno;
    initialise();
    errno = saved;
    atomic_store_explicit(&init_state, READY, memory_order_release);
}

const struct sf_policy *shim_policy(void)
{
    if (atomic_load_explicit(&init_state, memory_order_acquire) != READY)
        ensure_started();
    const struct sf_policy *p = atomic_load_explicit(&current_policy, memory_order_acquire);
    return p && p->nactive ? p : NULL;
}

__attribute__((constructor)) static void sockfix_start(void)
{
    ensure_started();
}
