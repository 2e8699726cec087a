/* The interposed socket calls. Each gathers the facts of the event, asks the
 * policy what applies, applies it and calls the real function; the program
 * gets exactly the real call's result and errno. */
#include <errno.h>
#include <stdbool.h>

#include "../config/event.h"
#include "apply.h"
#include "facts.h"
#include "fdtable.h"
#include "init.h"
#include "log.h"
#include "real.h"

static void log_passed_over(const char *call, int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!log_enabled(SF_LOG_DEBUG))
        return;
    struct logbuf b;
    log_begin_event(&b, SF_LOG_DEBUG, call, fd, sa, len);
    log_str(&b, ": no rule matches");
    log_end(&b);
}

/* The options sockfix leaves alone on fd: with precedence = program, those
 * the program set itself. */
static uint32_t program_keeps(const struct sf_policy *p, int fd)
{
    return p->precedence == SF_PRECEDENCE_PROGRAM ? fdtab_program_options(fd) : 0;
}

/* Decides for the facts and applies the phases; false when no rule matched
 * (or the facts name no socket sockfix decides for). */
static bool decide_and_apply(const struct sf_policy *p, const struct sf_sock_facts *f,
                             const struct apply_event *act, unsigned phases, uint32_t keep,
                             struct sf_decision *d)
{
    struct sf_event ev;
    if (!sf_event_from_facts(f, &ev))
        return false;
    if (sf_decide(p, &ev, d) == 0 || d->set == 0) {
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
        fdtab_set(fd, facts_kind_from_args(domain, type, protocol) | FD_WHOLE_LIFE);
    return fd;
}

static void on_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sf_sock_facts f;
    struct sf_event ev;
    uint8_t kind = facts_socket_kind(fd);
    if (!facts_begin(kind, SF_SOCK_BOUND, &f))
        return;
    f.local = addr;
    f.local_len = len;
    if (!sf_event_from_facts(&f, &ev))
        return;
    if (ev.port == 0) { /* no TIME_WAIT past to get over; sockfix apply reads this */
        fdtab_add(fd, FD_EPHEMERAL_BIND);
        return;
    }
    const struct sf_policy *p = shim_policy();
    if (!p)
        return;
    struct apply_event act = {"bind", fd, facts_socket_family(kind), addr, len};
    struct sf_decision d;
    /* A UDP server never listens: its connection options (tos, priority) go on at bind. */
    unsigned phases = SF_PHASE_BIND | (f.type == SF_TYPE_UDP ? SF_PHASE_CONNECTION : 0);
    decide_and_apply(p, &f, &act, phases, program_keeps(p, fd), &d);
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
    struct sf_sock_facts f;
    struct sockaddr_storage ss;
    socklen_t len;
    uint8_t kind = facts_socket_kind(fd);
    if (!facts_begin(kind, SF_SOCK_LISTENER, &f) || f.type != SF_TYPE_TCP)
        return backlog;
    /* Accepted sockets inherit what the listener carries: nothing to do per
     * connection, whether or not a rule matches (but while start-up is under
     * way, they get the policy one by one). */
    const struct sf_policy *p = shim_policy();
    if (p || shim_ready())
        fdtab_add(fd, FD_LISTENER_DONE);
    if (!p || !facts_own_address(fd, &ss, &len))
        return backlog;
    f.local = (struct sockaddr *)&ss;
    f.local_len = len;
    struct apply_event act = {"listen", fd, facts_socket_family(kind), f.local, len};
    struct sf_decision d;
    bool matched =
        decide_and_apply(p, &f, &act, SF_PHASE_CONNECTION | SF_PHASE_LISTENER | SF_PHASE_LISTEN_ARG,
                         program_keeps(p, fd), &d);
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

/* An accepted socket is matched as its listener (config/event.h). */
static bool accepted_facts(int lfd, uint8_t lkind, struct sf_sock_facts *f,
                           struct sockaddr_storage *ss, socklen_t *len)
{
    if (!facts_begin(lkind, SF_SOCK_ACCEPTED, f) || f->type != SF_TYPE_TCP ||
        !facts_own_address(lfd, ss, len))
        return false;
    f->listener = (struct sockaddr *)ss;
    f->listener_len = *len;
    return true;
}

/* Accepted from a configured listener: only what the kernel does not pass
 * on (SO_PRIORITY) is set, and only when the policy sets such an option. */
static void on_accept_configured(int lfd, uint8_t lkind, int fd)
{
    const struct sf_policy *p = shim_policy();
    uint32_t only = sf_options_not_inherited();
    struct sf_sock_facts f;
    struct sockaddr_storage ss;
    socklen_t len;
    struct sf_event ev;
    struct sf_decision d;
    if (!p || !(p->active_set & only) || !accepted_facts(lfd, lkind, &f, &ss, &len) ||
        !sf_event_from_facts(&f, &ev) || sf_decide(p, &ev, &d) == 0 || !(d.set & only))
        return;
    d.set &= only;
    struct apply_event act = {"accept", fd, facts_socket_family(lkind), f.listener, len};
    apply_decision(p, &act, &d, SF_PHASE_CONNECTION, 0);
}

static void on_accept(int lfd, int fd)
{
    uint8_t lkind = fdtab_get(lfd);
    uint32_t inherited = sf_options_inherited();
    uint8_t kind = lkind & (FD_KIND_MASK | FD_FAMILY_MASK);
    if (lkind & FD_LISTENER_DONE) {
        fdtab_accepted(lfd, fd, kind, inherited);
        on_accept_configured(lfd, lkind, fd);
        return;
    }
    /* A listener the shim never saw listen (inherited, socket activation):
     * the policy goes on each accepted socket, but for what the program set
     * on the listener and the socket inherited. */
    lkind = facts_socket_kind(lfd);
    kind = lkind & (FD_KIND_MASK | FD_FAMILY_MASK);
    fdtab_accepted(lfd, fd, kind, inherited);
    const struct sf_policy *p = shim_policy();
    struct sf_sock_facts f;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!p || !accepted_facts(lfd, lkind, &f, &ss, &len))
        return;
    struct apply_event act = {"accept", fd, facts_socket_family(lkind), f.listener, len};
    struct sf_decision d;
    decide_and_apply(p, &f, &act, SF_PHASE_CONNECTION, program_keeps(p, fd), &d);
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
    struct sf_sock_facts f;
    uint8_t kind = facts_socket_kind(fd);
    if (!facts_begin(kind, SF_SOCK_CLIENT, &f) || (kind & FD_CLIENT_DONE))
        return;
    const struct sf_policy *p = shim_policy();
    if (p || shim_ready()) /* decided now, whether or not a rule matches */
        fdtab_add(fd, FD_CLIENT_DONE);
    if (!p || !sf_policy_may_take(p, SF_ROLE_CLIENT, f.type))
        return;
    f.peer = addr;
    f.peer_len = len;
    struct apply_event act = {"connect", fd, facts_socket_family(kind), addr, len};
    struct sf_decision d;
    decide_and_apply(p, &f, &act, SF_PHASE_CONNECTION | SF_PHASE_CLIENT, program_keeps(p, fd), &d);
}

int sf_hook_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int saved = errno;
    on_connect(fd, addr, len);
    errno = saved;
    return real_connect(fd, addr, len);
}
