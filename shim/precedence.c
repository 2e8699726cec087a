/* The program's own setsockopt: with precedence = program, an option the
 * program sets is its own, and sockfix leaves it alone from then on (the
 * per-fd table remembers it); with precedence = policy, the policy's value
 * replaces the program's on a socket whose role is settled. */
#include <errno.h>
#include <stdbool.h>

#include "../config/event.h"
#include "../config/values.h"
#include "apply.h"
#include "facts.h"
#include "fdtable.h"
#include "init.h"
#include "log.h"
#include "real.h"

/* The facts of a socket whose role is settled: a listener, an accepted or a
 * connected socket. A socket still on its way there gets the policy at its
 * hook point anyway. */
static bool settled_facts(int fd, struct sf_sock_facts *f, struct sockaddr_storage *own,
                          struct sockaddr_storage *other, socklen_t *len)
{
    uint8_t kind = fdtab_get(fd);
    enum sf_sock_state state = kind & FD_CLIENT_DONE     ? SF_SOCK_CLIENT
                               : kind & FD_ACCEPTED      ? SF_SOCK_ACCEPTED
                               : kind & FD_LISTENER_DONE ? SF_SOCK_LISTENER
                                                         : SF_SOCK_BOUND;
    if (state == SF_SOCK_BOUND || !facts_begin(kind, state, f))
        return false;
    socklen_t olen;
    if (state == SF_SOCK_CLIENT) {
        *len = sizeof *other;
        if (getpeername(fd, (struct sockaddr *)other, len) != 0)
            return false;
        f->peer = (struct sockaddr *)other;
        f->peer_len = *len;
        return true;
    }
    if (!facts_own_address(fd, own, &olen))
        return false;
    f->local = (struct sockaddr *)own;
    f->local_len = *len = olen;
    if (state == SF_SOCK_ACCEPTED && facts_listener_address(fd, own, other, len)) {
        f->listener = (struct sockaddr *)other;
        f->listener_len = *len;
    }
    return true;
}

static void log_replaced(const struct sf_policy *p, int fd, const struct sf_sock_facts *f,
                         const struct sf_decision *d, int id, const void *val, socklen_t vlen)
{
    const struct sf_option *o = &sf_options[id];
    char text[SF_NAME_MAX + 16];
    struct logbuf b;
    const struct sockaddr *sa = f->peer ? f->peer : f->local;
    log_begin_event(&b, SF_LOG_INFO, "setsockopt", fd, sa, f->peer ? f->peer_len : f->local_len);
    log_str(&b, ": the program's ");
    log_str(&b, o->key);
    if (o->kind != SF_VAL_NAME && o->kind != SF_VAL_LINGER && vlen >= (socklen_t)sizeof(int)) {
        sf_format_option_value(o, *(const int *)val, text, sizeof text);
        log_str(&b, " ");
        log_str(&b, text);
    }
    log_str(&b, " replaced by the policy's ");
    sf_policy_format_value(p, o, d->value[id], text, sizeof text);
    log_str(&b, text);
    log_str(&b, " (rule ");
    log_str(&b, d->rule[id] == SF_RULE_IMPLIED ? "implied" : p->rules[d->rule[id]].name);
    log_str(&b, ", precedence = policy)");
    log_end(&b);
}

/* With precedence = policy: the policy's value of option id for fd. */
static bool policy_value(const struct sf_policy *p, int fd, int id, const void *val, socklen_t vlen,
                         int32_t *value)
{
    if (sf_options[id].phase != SF_PHASE_CONNECTION)
        return false;
    struct sf_sock_facts f;
    struct sockaddr_storage own, other;
    socklen_t len;
    struct sf_event ev;
    struct sf_decision d;
    if (!settled_facts(fd, &f, &own, &other, &len) || !sf_event_from_facts(&f, &ev) ||
        sf_decide(p, &ev, &d) == 0 || !(d.set & SF_OPT_BIT(id)))
        return false;
    *value = d.value[id];
    if (log_enabled(SF_LOG_INFO))
        log_replaced(p, fd, &f, &d, id, val, vlen);
    return true;
}

int sf_hook_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    int id = sf_option_of_sockopt(level, name);
    if (id < 0 || !val || len < 1)
        return real_setsockopt(fd, level, name, val, len);
    int saved = errno;
    const struct sf_policy *p = shim_policy();
    int32_t forced;
    bool replace =
        p && p->precedence == SF_PRECEDENCE_POLICY && policy_value(p, fd, id, val, len, &forced);
    errno = saved;
    int r = replace ? apply_one(p, fd, &sf_options[id], facts_socket_family(fdtab_get(fd)), forced)
                    : real_setsockopt(fd, level, name, val, len);
    if (r == 0) {
        saved = errno;
        if (replace)
            fdtab_add_sockfix_options(fd, SF_OPT_BIT(id));
        else
            fdtab_add_program_options(fd, SF_OPT_BIT(id));
        errno = saved;
    }
    return r;
}
