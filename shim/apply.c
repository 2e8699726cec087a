#include "apply.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "real.h"

/* Timers go in before SO_KEEPALIVE arms the keepalive timer. */
static const enum sf_opt_id apply_order[SF_OPT_COUNT] = {
    SF_OPT_REUSEADDR, SF_OPT_REUSEPORT,    SF_OPT_KEEPIDLE, SF_OPT_KEEPINTVL, SF_OPT_KEEPCNT,
    SF_OPT_KEEPALIVE, SF_OPT_USER_TIMEOUT, SF_OPT_NODELAY,  SF_OPT_BACKLOG};

static void log_value(struct logbuf *b, const struct sf_option *o, int32_t v)
{
    switch (o->kind) {
    case SF_VAL_BOOL:
        log_str(b, v ? "yes" : "no");
        break;
    case SF_VAL_SECONDS:
        log_int(b, v);
        log_str(b, "s");
        break;
    case SF_VAL_MILLIS:
        log_int(b, v);
        log_str(b, "ms");
        break;
    case SF_VAL_COUNT:
        log_int(b, v);
        break;
    }
}

static const char *errno_name(int err)
{
#ifdef __GLIBC__
    const char *s = strerrorname_np(err);
    return s ? s : "unknown error";
#else
    (void)err;
    return "errno";
#endif
}

static void warn_failure(const struct apply_event *ev, const struct sf_option *o, int32_t v,
                         int err)
{
    if (!log_enabled(SF_LOG_WARN))
        return;
    struct logbuf b;
    log_begin_event(&b, ev->call, ev->fd, ev->addr, ev->addrlen);
    log_str(&b, ": setsockopt ");
    log_str(&b, o->optlabel);
    log_str(&b, "=");
    log_int(&b, v);
    log_str(&b, " failed: ");
    log_str(&b, errno_name(err));
    log_str(&b, " (");
    log_int(&b, err);
    log_str(&b, "); the socket keeps its own value");
    log_end(&b);
}

static void info_applied(const struct sf_policy *p, const struct apply_event *ev,
                         const struct sf_decision *d, uint32_t done, uint32_t kept)
{
    struct logbuf b;
    log_begin_event(&b, ev->call, ev->fd, ev->addr, ev->addrlen);
    log_str(&b, " rules=");
    uint32_t named[SF_OPT_COUNT] = {0};
    int nnamed = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (!((done | kept) & SF_OPT_BIT(i)) || d->rule[i] == SF_RULE_IMPLIED)
            continue;
        bool seen = false;
        for (int k = 0; k < nnamed; k++)
            seen |= named[k] == d->rule[i];
        if (seen)
            continue;
        if (nnamed)
            log_str(&b, ",");
        named[nnamed++] = d->rule[i];
        log_str(&b, p->rules[d->rule[i]].name);
    }
    log_str(&b, ":");
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (!(done & SF_OPT_BIT(i)))
            continue;
        log_str(&b, " ");
        log_str(&b, sf_options[i].key);
        log_str(&b, "=");
        log_value(&b, &sf_options[i], d->value[i]);
    }
    if (kept) {
        log_str(&b, done ? "; " : " ");
        log_str(&b, "left as the program set them:");
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            if (kept & SF_OPT_BIT(i)) {
                log_str(&b, " ");
                log_str(&b, sf_options[i].key);
            }
        }
    }
    log_end(&b);
}

void apply_decision(const struct sf_policy *p, const struct apply_event *ev,
                    const struct sf_decision *d, unsigned phases, uint32_t keep)
{
    uint32_t done = 0, kept = 0;
    for (int k = 0; k < SF_OPT_COUNT; k++) {
        enum sf_opt_id id = apply_order[k];
        const struct sf_option *o = &sf_options[id];
        if (!(d->set & SF_OPT_BIT(id)) || !(o->phase & phases))
            continue;
        if (keep & SF_OPT_BIT(id)) {
            kept |= SF_OPT_BIT(id);
            continue;
        }
        if (o->phase == SF_PHASE_LISTEN_ARG) { /* the caller passes it to listen */
            done |= SF_OPT_BIT(id);
            continue;
        }
        int v = d->value[id];
        if (real_setsockopt(ev->fd, o->level, o->optname, &v, sizeof v) != 0)
            warn_failure(ev, o, v, errno);
        else
            done |= SF_OPT_BIT(id);
    }
    if ((done || kept) && log_enabled(SF_LOG_INFO))
        info_applied(p, ev, d, done, kept);
}
