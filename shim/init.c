#define SOCKFIX_SHIM
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../config/kernel_checks.h"
#include "../config/match.h"
#include "../config/policy_file.h"
#include "log.h"
#include "real.h"
#include "record.h"

#define MAX_ERRORS_LOGGED 20

/* Start-up is split so that a process that never binds, listens or
 * connects pays almost nothing (benchmarks: start-up tax): the constructor
 * only locates and reads the policy file; parsing waits for the first socket
 * event, unless strict mode may be asked for (SOCKFIX_STRICT, or the word
 * "strict" anywhere in the file), in which case everything happens at start
 * so that a bad policy stops the program before main.
 *
 * The state word holds the stage and, while starting, the PID of the
 * process doing it, so that a child forked mid-start does not wait for a
 * thread it does not have. */
enum stage { NOT_STARTED, PREPARED, STARTING, READY };
#define STAGE(w) ((int)((w)&3))
#define OWNER(w) ((pid_t)((w) >> 2))
#define WORD(stage, pid) (((long)(pid) << 2) | (stage))

static _Atomic long init_word = NOT_STARTED;
static const struct sf_policy *_Atomic current_policy;
/* The thread running start-up, to tell re-entry (a signal handler, dlsym
 * calling back) from another thread that must wait. */
static _Atomic pid_t starting_tid;

/* What the constructor found: the policy file and, when it fit, its text.
 * A policy of up to PREREAD_SMALL bytes (the shipped one and the examples)
 * is read into the library's data segment, the page the constructor writes
 * anyway (zero-initialised data is stored in the file: cmake/shim-layout.ld);
 * a larger one into pages mapped for it until the policy is parsed (a
 * mapping is two system calls and a fault, at every start). */
#define PREREAD_SMALL 1024
#define PREREAD_BYTES 65536
static char preread_small[PREREAD_SMALL];
static struct {
    const char *path; /* NULL: the built-in default */
    char *text;       /* NULL: not read yet; else preread_small or PREREAD_BYTES mapped */
    size_t len;
} preread;

/* What every start runs calls as little of libc as it can: the first call
 * of each libc function through the PLT is a symbol lookup (some 700
 * instructions), paid by every process the library is loaded into, sockets
 * or not. These loops stay loops (no_loop_patterns). */
#define NO_LOOP_PATTERNS __attribute__((optimize("no-tree-loop-distribute-patterns")))

/* s into out (at most max - 1 bytes and a NUL); returns the length. */
static NO_LOOP_PATTERNS size_t copy_bounded(char *out, const char *s, size_t max)
{
    size_t n = 0;
    for (; n + 1 < max && s[n]; n++)
        out[n] = s[n];
    out[n] = '\0';
    return n;
}

/* Whether text holds word (anywhere: a quick test, the parser decides). */
static NO_LOOP_PATTERNS bool contains(const char *text, size_t len, const char *word, size_t n)
{
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && text[i + k] == word[k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

/* The base name of path into a record name; " (deleted)" (an executable
 * replaced on disk while it runs) is not part of the name. */
static NO_LOOP_PATTERNS void name_into(char out[SF_RECORD_NAME_MAX], const char *path)
{
    const char *base = path ? path : "";
    for (const char *q = base; *q; q++)
        if (*q == '/')
            base = q + 1;
    size_t n = copy_bounded(out, base, SF_RECORD_NAME_MAX);
    static const char deleted[] = " (deleted)";
    size_t d = sizeof deleted - 1;
    bool replaced = n > d;
    for (size_t k = 0; replaced && k < d; k++)
        replaced = out[n - d + k] == deleted[k];
    if (replaced)
        out[n - d] = '\0';
}

/* The names a rule's match.program globs are tried against: the base names
 * of the executable, of the file that was executed (AT_EXECFN: a script's
 * own name, a symlink's name) and of argv[0] as the program was started
 * (kept by prepare(), before main can rewrite its title). They are kept in
 * the record, so that sockfix apply matches what the library matched. */
static void select_program(struct sf_policy *p)
{
    bool any = false;
    for (size_t i = 0; i < p->nactive && !any; i++)
        any = p->rules[p->active[i]].nprograms > 0;
    if (!any) { /* no name needed; this still builds the matching index */
        sf_policy_select_program(p, NULL, 0);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    name_into(sf_record.names[SF_NAME_EXE], exe);
    name_into(sf_record.names[SF_NAME_EXECFN], (const char *)getauxval(AT_EXECFN));
    const char *names[SF_NAMES];
    for (int i = 0; i < SF_NAMES; i++)
        names[i] = sf_record.names[i];
    sf_policy_select_program(p, names, SF_NAMES);
}

static void apply_environment(const struct sf_policy *p, bool *strict)
{
    log_set_level(p && p->log_set ? p->log_level : SF_LOG_WARN);
    if (p && p->log_target_set && !p->nerrors)
        log_set_target(p->log_target, p->log_path);
    const char *target = secure_getenv("SOCKFIX_LOG_TARGET");
    if (target && *target) {
        enum sf_log_target t;
        char path[SF_LOG_PATH_MAX], err[256];
        if (sf_log_target_parse(target, &t, path, err, sizeof err) == 0)
            log_set_target(t, path);
        else
            log_msg(SF_LOG_WARN, "SOCKFIX_LOG_TARGET: not stderr, syslog, syslog:/SOCKET or "
                                 "file:/PATH; ignored");
    }
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

static void log_line_warn(const char *line, void *arg)
{
    (void)arg;
    log_msg(SF_LOG_WARN, line);
}

/* At start-up, not in the hooks: the policy's own warnings, and a few reads
 * of /proc to name what the kernel will refuse or cap (a congestion control
 * it does not offer, a buffer above its maximum) before every setsockopt
 * runs into it. */
static void warn_about_the_policy(const struct sf_policy *p)
{
    if (!log_enabled(SF_LOG_WARN))
        return;
    sf_policy_emit_warnings(p, true, log_line_warn, NULL);
    sf_policy_check_kernel(p, sf_sysctl_read, log_line_warn, NULL);
}

static void policy_path_into_record(const char *path)
{
    copy_bounded(sf_record.policy, path ? path : "", SF_RECORD_PATH_MAX);
}

static struct sf_policy *parse_policy(void)
{
    if (preread.text)
        return sf_policy_parse(preread.text, preread.len, preread.path);
    if (preread.path)
        return sf_policy_load_file(preread.path);
    return sf_policy_builtin();
}

/* Whether the environment holds any SOCKFIX_ variable: a scan of memory the
 * process already has, so that the common case calls nothing in libc. The
 * values themselves are read with secure_getenv. */
static NO_LOOP_PATTERNS bool sockfix_variables_present(void)
{
    static const char prefix[] = "SOCKFIX_";
    for (char **e = environ; e && *e; e++) {
        size_t k = 0;
        while (k < sizeof prefix - 1 && (*e)[k] == prefix[k])
            k++;
        if (k == sizeof prefix - 1)
            return true;
    }
    return false;
}

/* The policy file's text into preread_small, or into pages mapped for it;
 * its length, or a negative number (unreadable, too large: parse_policy
 * reads it again and reports why). The effective user is the one the
 * program was started as, from the auxiliary vector (no system call). */
static long read_policy_text(const char *path, char **text)
{
    char err[8];
    unsigned euid = (unsigned)getauxval(AT_EUID);
    long n = sf_policy_read(path, euid, preread_small, sizeof preread_small, err, sizeof err);
    *text = n >= 0 ? preread_small : NULL;
    if (n != -2)
        return n;
    char *buf = mmap(NULL, PREREAD_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (buf == MAP_FAILED)
        return -1;
    n = sf_policy_read(path, euid, buf, PREREAD_BYTES, err, sizeof err);
    if (n < 0)
        munmap(buf, PREREAD_BYTES);
    else
        *text = buf;
    return n;
}

/* Finds the policy file and reads it; returns whether strict mode may be
 * asked for, which makes the rest of start-up happen now. */
static bool prepare(void)
{
    bool env_present = sockfix_variables_present();
    name_into(sf_record.names[SF_NAME_ARGV0], program_invocation_short_name);
    preread.path = sf_policy_locate(env_present ? secure_getenv("SOCKFIX_CONFIG") : NULL);
    policy_path_into_record(preread.path);
    const char *strict = env_present ? secure_getenv("SOCKFIX_STRICT") : NULL;
    bool maybe_strict = strict && *strict;
    if (preread.path) {
        long n = read_policy_text(preread.path, &preread.text);
        if (n < 0) /* unreadable or large: load it whole now, errors and all */
            return true;
        preread.len = (size_t)n;
        maybe_strict |= contains(preread.text, preread.len, "strict", 6);
    }
    return maybe_strict;
}

static void initialise(void)
{
    real_bind_all();
    struct sf_policy *p = parse_policy();
    if (preread.text && preread.text != preread_small) /* the policy keeps its own copies */
        munmap(preread.text, PREREAD_BYTES);
    preread.text = NULL;
    bool strict;
    apply_environment(p, &strict);
    sf_record.state = !p || p->nerrors ? SF_RECORD_NO_POLICY : SF_RECORD_IN_FORCE;
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
    warn_about_the_policy(p);
    if (log_enabled(SF_LOG_DEBUG)) {
        struct logbuf b;
        log_begin_at(&b, SF_LOG_DEBUG);
        log_str(&b, "policy ");
        log_str(&b, p->source);
        log_str(&b, ": ");
        log_uint(&b, p->nactive);
        log_str(&b, " of ");
        log_uint(&b, p->nrules);
        log_str(&b, " rules apply to ");
        log_str(&b, sf_record.names[SF_NAME_ARGV0]);
        log_end(&b);
    }
    /* The policy stays for the life of the process: hooks may read it from
     * any thread at any time, so it is never freed. */
    atomic_store_explicit(&current_policy, p, memory_order_release);
}

/* Runs the start-up stages from `from` on; the caller owns the state word. */
static void start_from(long from)
{
    int saved = errno;
    atomic_store(&starting_tid, gettid());
    if (STAGE(from) == NOT_STARTED)
        prepare();
    initialise();
    atomic_store(&starting_tid, 0);
    errno = saved;
    atomic_store_explicit(&init_word, READY, memory_order_release);
}

static void ensure_started(void)
{
    for (;;) {
        long w = atomic_load_explicit(&init_word, memory_order_acquire);
        if (STAGE(w) == READY)
            return;
        if (STAGE(w) == STARTING) {
            pid_t tid = gettid();
            if (atomic_load(&starting_tid) == tid || OWNER(w) == 0)
                return; /* re-entered (a signal handler, dlsym, the constructor): pass through */
            if (OWNER(w) != getpid()) { /* forked while another thread started */
                atomic_compare_exchange_strong(&init_word, &w, NOT_STARTED);
                continue;
            }
            sched_yield();
            continue;
        }
        if (atomic_compare_exchange_strong(&init_word, &w, WORD(STARTING, getpid()))) {
            start_from(w);
            return;
        }
    }
}

const struct sf_policy *shim_policy(void)
{
    if (STAGE(atomic_load_explicit(&init_word, memory_order_acquire)) != READY)
        ensure_started();
    const struct sf_policy *p = atomic_load_explicit(&current_policy, memory_order_acquire);
    return p && p->nactive ? p : NULL;
}

bool shim_ready(void)
{
    return STAGE(atomic_load_explicit(&init_word, memory_order_acquire)) == READY;
}

/* Kept small: every process that inherits LD_PRELOAD runs it, sockets or
 * not. Owner 0 marks the constructor's own short STARTING stage, during
 * which hooks pass through rather than wait (only the thread running
 * constructors can get there). */
__attribute__((constructor)) static void sockfix_start(void)
{
    long w = NOT_STARTED;
    if (!atomic_compare_exchange_strong(&init_word, &w, WORD(STARTING, 0)))
        return; /* a hook got here first */
    int saved = errno;
    bool now = prepare();
    errno = saved;
    if (now)
        start_from(PREPARED);
    else
        atomic_store_explicit(&init_word, PREPARED, memory_order_release);
}
