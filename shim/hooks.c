/* The interposed functions. Each gathers the facts of the event, asks the
 * policy what applies, applies it and calls the real function; the program
 * gets exactly the real call's result and errno. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../config/match.h"
#include "apply.h"
#include "facts.h"
#include "fdtable.h"
#include "init.h"
#include "log.h"
#include "real.h"

/* The libc names are bound in assembly: glibc declares them with transparent
 * unions that a C alias could not match. The version script exports them. */
#define EXPORT_AS(name, hook)                                                                      \
    __asm__(".globl " #name "\n.type " #name ", @function\n.set " #name ", " #hook)

static void log_passed_over(const char *call, int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!log_enabled(SF_LOG_DEBUG))
        return;
    struct logbuf b;
    log_begin_event(&b, SF_LOG_DEBUG, call, fd, sa, len);
    log_str(&b, ": no rule matches");
    log_end(&b);
}

static unsigned socket_family(uint8_t kind)
{
    return kind & FD_FAMILY_INET6 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4;
}

/* The options sockfix leaves alone on fd: with precedence = program, those
 * the program set itself. */
static uint32_t program_keeps(const struct sf_policy *p, int fd)
{
    return p->precedence == SF_PRECEDENCE_PROGRAM ? fdtab_program_options(fd) : 0;
}

/* Decides for ev and applies the phases; false when no rule matched. */
static bool decide_and_apply(const struct sf_policy *p, struct sf_event *ev,
                             const struct apply_event *act, unsigned phases, uint32_t keep,
                             struct sf_decision *d)
{
    if (sf_decide(p, ev, d) == 0 || d->set == 0) {
        log_passed_over(act->call, act->fd, act->addr, act->addrlen);
        return false;
    }
    apply_decision(p, act, d, phases, keep);
    return true;
}

int sf_hook_socket(int domain, int type, int protocol)
{
    int fd = real_socket(domain, type, protocol);
    if (fd >= 0)
        fdtab_set(fd, facts_kind_from_args(domain, type, protocol));
    return fd;
}

static void on_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    const struct sf_policy *p = shim_policy();
    struct sf_event ev = {.role = SF_ROLE_SERVER};
    uint8_t kind;
    if (!p || !facts_type(kind = facts_socket_kind(fd), &ev) || !facts_addr(kind, addr, len, &ev))
        return;
    if (ev.port == 0) /* an ephemeral port has no TIME_WAIT past to get over */
        return;
    struct apply_event act = {"bind", fd, socket_family(kind), addr, len};
    struct sf_decision d;
    /* A UDP server never listens: its connection options (tos, priority) go on at bind. */
    unsigned phases = SF_PHASE_BIND | (ev.type == SF_TYPE_UDP ? SF_PHASE_CONNECTION : 0);
    decide_and_apply(p, &ev, &act, phases, program_keeps(p, fd), &d);
}

int sf_hook_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int saved = errno;
    on_bind(fd, addr, len);
    errno = saved;
    return real_bind(fd, addr, len);
}

/* Returns the backlog to pass to the real listen. */
static int on_listen(int fd, int backlog)
{
    const struct sf_policy *p = shim_policy();
    struct sf_event ev = {.role = SF_ROLE_SERVER};
    struct sockaddr_storage ss;
    socklen_t len;
    uint8_t kind;
    if (!p || !facts_type(kind = facts_socket_kind(fd), &ev) || ev.type != SF_TYPE_TCP ||
        !facts_local(fd, kind, &ss, &len, &ev))
        return backlog;
    struct apply_event act = {"listen", fd, socket_family(kind), (struct sockaddr *)&ss, len};
    struct sf_decision d;
    bool matched = decide_and_apply(p, &ev, &act,
                                    SF_PHASE_CONNECTION | SF_PHASE_LISTENER | SF_PHASE_LISTEN_ARG,
                                    program_keeps(p, fd), &d);
    /* Accepted sockets inherit what the listener carries: nothing to do per
     * connection, whether or not a rule matched. */
    fdtab_add(fd, FD_LISTENER_DONE);
    if (matched && (d.set & SF_OPT_BIT(SF_OPT_BACKLOG)))
        return d.value[SF_OPT_BACKLOG];
    return backlog;
}

int sf_hook_listen(int fd, int backlog)
{
    int saved = errno;
    int b = on_listen(fd, backlog);
    errno = saved;
    return real_listen(fd, b);
}

/* Options the kernel copies from a listener to the sockets it accepts (bit
 * 31 is never an option: it marks "not computed yet", so that accept does
 * not walk the table each time). */
#define MASK_UNSET (1u << 31)
static _Atomic uint32_t inherited_mask = MASK_UNSET, not_inherited_mask = MASK_UNSET;

static void compute_masks(void)
{
    uint32_t in = 0, out = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (sf_options[i].inherited)
            in |= SF_OPT_BIT(i);
        else if (sf_options[i].phase & SF_PHASE_CONNECTION)
            out |= SF_OPT_BIT(i);
    }
    atomic_store_explicit(&inherited_mask, in, memory_order_relaxed);
    atomic_store_explicit(&not_inherited_mask, out, memory_order_relaxed);
}

static uint32_t inherited_options(void)
{
    uint32_t m = atomic_load_explicit(&inherited_mask, memory_order_relaxed);
    if (m == MASK_UNSET) {
        compute_masks();
        m = atomic_load_explicit(&inherited_mask, memory_order_relaxed);
    }
    return m;
}

/* Connection options the kernel does not copy from a listener. */
static uint32_t not_inherited_options(void)
{
    uint32_t m = atomic_load_explicit(&not_inherited_mask, memory_order_relaxed);
    if (m == MASK_UNSET) {
        compute_masks();
        m = atomic_load_explicit(&not_inherited_mask, memory_order_relaxed);
    }
    return m;
}

/* Accepted from a configured listener: only what the kernel does not pass
 * on (SO_PRIORITY) is set, and only when the policy sets such an option. */
static void on_accept_configured(int fd, uint8_t kind)
{
    const struct sf_policy *p = shim_policy();
    uint32_t only = not_inherited_options();
    if (!p || !(p->active_set & only))
        return;
    struct sf_event ev = {.role = SF_ROLE_SERVER};
    struct sockaddr_storage ss;
    socklen_t len;
    if (!facts_type(kind, &ev) || ev.type != SF_TYPE_TCP || !facts_local(fd, kind, &ss, &len, &ev))
        return;
    struct apply_event act = {"accept", fd, socket_family(kind), (struct sockaddr *)&ss, len};
    struct sf_decision d;
    if (sf_decide(p, &ev, &d) == 0 || !(d.set & only))
        return;
    d.set &= only;
    apply_decision(p, &act, &d, SF_PHASE_CONNECTION, 0);
}

static void on_accept(int lfd, int fd)
{
    uint8_t lkind = fdtab_get(lfd);
    if (lkind & FD_LISTENER_DONE) {
        fdtab_set(fd, (lkind & (FD_KIND_MASK | FD_FAMILY_MASK)) | FD_ACCEPTED);
        on_accept_configured(fd, lkind);
        return;
    }
    /* A listener the shim never saw listen (inherited, socket activation):
     * the policy goes on each accepted socket, but for what the program set
     * on the listener and the socket inherited. */
    lkind = facts_socket_kind(lfd);
    fdtab_set(fd, (lkind & (FD_KIND_MASK | FD_FAMILY_MASK)) | FD_ACCEPTED);
    const struct sf_policy *p = shim_policy();
    struct sf_event ev = {.role = SF_ROLE_SERVER};
    struct sockaddr_storage ss;
    socklen_t len;
    if (!p || !facts_type(lkind, &ev) || ev.type != SF_TYPE_TCP ||
        !facts_local(fd, lkind, &ss, &len, &ev))
        return;
    struct apply_event act = {"accept", fd, socket_family(lkind), (struct sockaddr *)&ss, len};
    struct sf_decision d;
    decide_and_apply(p, &ev, &act, SF_PHASE_CONNECTION, program_keeps(p, lfd) & inherited_options(),
                     &d);
}

static int accept_common(int fd, struct sockaddr *addr, socklen_t *len, int flags, bool four)
{
    int nfd = four ? real_accept4(fd, addr, len, flags) : real_accept(fd, addr, len);
    if (nfd < 0)
        return nfd;
    int saved = errno;
    on_accept(fd, nfd);
    errno = saved;
    return nfd;
}

int sf_hook_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return accept_common(fd, addr, len, 0, false);
}

int sf_hook_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return accept_common(fd, addr, len, flags, true);
}

static void on_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    const struct sf_policy *p = shim_policy();
    struct sf_event ev = {.role = SF_ROLE_CLIENT};
    uint8_t kind;
    if (!p || !facts_type(kind = facts_socket_kind(fd), &ev) || (kind & FD_CLIENT_DONE) ||
        !facts_addr(kind, addr, len, &ev))
        return;
    struct apply_event act = {"connect", fd, socket_family(kind), addr, len};
    struct sf_decision d;
    decide_and_apply(p, &ev, &act, SF_PHASE_CONNECTION | SF_PHASE_CLIENT, program_keeps(p, fd), &d);
    fdtab_add(fd, FD_CLIENT_DONE);
}

int sf_hook_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int saved = errno;
    on_connect(fd, addr, len);
    errno = saved;
    return real_connect(fd, addr, len);
}

/* ---- the program's own setsockopt ---- */

/* The option of the table a setsockopt names, or -1. */
static int option_id(int level, int name)
{
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        if (level != 0 && ((o->level == level && o->optname == name) ||
                           (o->optname6 && o->level6 == level && o->optname6 == name)))
            return i;
    }
    return -1;
}

/* With precedence = policy: the policy's value of option id for a socket
 * whose role is settled (a listener, an accepted or a connected socket). A
 * socket still on its way there gets the policy at its hook point anyway. */
static bool policy_value(const struct sf_policy *p, int fd, int id, int program_value,
                         int32_t *value)
{
    if (sf_options[id].phase != SF_PHASE_CONNECTION)
        return false;
    uint8_t kind = fdtab_get(fd);
    struct sf_event ev = {.role = kind & FD_CLIENT_DONE ? SF_ROLE_CLIENT : SF_ROLE_SERVER};
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!(kind & (FD_LISTENER_DONE | FD_ACCEPTED | FD_CLIENT_DONE)) || !facts_type(kind, &ev))
        return false;
    if (ev.role == SF_ROLE_CLIENT) {
        if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
            !facts_addr(kind, (struct sockaddr *)&ss, len, &ev))
            return false;
    } else if (!facts_local(fd, kind, &ss, &len, &ev)) {
        return false;
    }
    struct sf_decision d;
    if (sf_decide(p, &ev, &d) == 0 || !(d.set & SF_OPT_BIT(id)))
        return false;
    *value = d.value[id];
    if (log_enabled(SF_LOG_INFO)) {
        struct logbuf b;
        log_begin_event(&b, SF_LOG_INFO, "setsockopt", fd, (struct sockaddr *)&ss, len);
        log_str(&b, ": the program's ");
        log_str(&b, sf_options[id].optlabel);
        if (sf_options[id].kind != SF_VAL_NAME && sf_options[id].kind != SF_VAL_LINGER) {
            log_str(&b, "=");
            log_int(&b, program_value);
        }
        log_str(&b, " replaced by the policy's ");
        if (sf_options[id].kind == SF_VAL_NAME)
            log_str(&b, sf_policy_name(p, *value));
        else
            log_int(&b, *value);
        log_str(&b, " (rule ");
        log_str(&b, d.rule[id] == SF_RULE_IMPLIED ? "implied" : p->rules[d.rule[id]].name);
        log_str(&b, ", precedence = policy)");
        log_end(&b);
    }
    return true;
}

int sf_hook_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    int id = option_id(level, name);
    if (id < 0 || !val || len < 1)
        return real_setsockopt(fd, level, name, val, len);
    int saved = errno;
    const struct sf_policy *p = shim_policy();
    int32_t forced;
    bool replace =
        p && p->precedence == SF_PRECEDENCE_POLICY &&
        policy_value(p, fd, id, len >= (socklen_t)sizeof(int) ? *(const int *)val : 0, &forced);
    errno = saved;
    int r = replace ? apply_one(p, fd, &sf_options[id], socket_family(fdtab_get(fd)), forced)
                    : real_setsockopt(fd, level, name, val, len);
    if (r == 0 && !replace) {
        saved = errno;
        fdtab_add_program_options(fd, SF_OPT_BIT(id));
        errno = saved;
    }
    return r;
}

EXPORT_AS(socket, sf_hook_socket);
EXPORT_AS(bind, sf_hook_bind);
EXPORT_AS(listen, sf_hook_listen);
EXPORT_AS(accept, sf_hook_accept);
EXPORT_AS(accept4, sf_hook_accept4);
EXPORT_AS(connect, sf_hook_connect);
EXPORT_AS(setsockopt, sf_hook_setsockopt);
