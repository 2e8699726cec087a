#include "apply.h"

#include <errno.h>
#include <string.h>

#include "fdtable.h"
#include "log.h"
#include "ratelimit.h"
#include "real.h"

/* The same failure (option and errno) is logged at most once a second. */
static struct ratelimit_slot warn_limits[RATELIMIT_SLOTS];

static int set_option(const struct sf_policy *p, int fd, const struct sf_option *o, int level,
                      int name, int32_t v);

/* As the policy writes it (the one formatter, config/values.h). */
static void log_value(struct logbuf *b, const struct sf_policy *p, const struct sf_option *o,
                      int32_t v)
{
    char text[SF_NAME_MAX + 16];
    sf_policy_format_value(p, o, v, text, sizeof text);
    log_str(b, text);
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

static void warn_failure(const struct sf_policy *p, const struct apply_event *ev,
                         const struct sf_option *o, const char *label, int32_t v, int err)
{
    if (!log_enabled(SF_LOG_WARN))
        return;
    uint32_t held_back;
    if (!ratelimit_allow(warn_limits, (unsigned)(o - sf_options) * 131u + (unsigned)err,
                         ratelimit_now(), &held_back))
        return;
    struct logbuf b;
    log_begin_event(&b, SF_LOG_WARN, ev->call, ev->fd, ev->addr, ev->addrlen);
    log_str(&b, ": setsockopt ");
    log_str(&b, label);
    log_str(&b, "=");
    log_value(&b, p, o, v);
    log_str(&b, " failed: ");
    log_str(&b, errno_name(err));
    log_str(&b, " (");
    log_int(&b, err);
    log_str(&b, ")");
    int64_t value = o->kind == SF_VAL_U32 ? (int64_t)(uint32_t)v : v;
    if (err == EPERM && o->needs_cap_above >= 0 && value > o->needs_cap_above)
        log_str(&b, ", it needs CAP_NET_ADMIN");
    log_str(&b, "; the socket keeps its own value");
    if (held_back) {
        log_str(&b, " (");
        log_uint(&b, held_back);
        log_str(&b, " more like it held back in the last second)");
    }
    log_end(&b);
}

/* setsockopt with the value in the form the option takes. */
int apply_one(const struct sf_policy *p, int fd, const struct sf_option *o, unsigned family,
              int32_t v)
{
    int level, name;
    sf_option_sockopt(o, family, &level, &name, NULL);
    return set_option(p, fd, o, level, name, v);
}

static int set_option(const struct sf_policy *p, int fd, const struct sf_option *o, int level,
                      int name, int32_t v)
{
    unsigned char buf[SF_VALUE_BYTES];
    size_t n = sf_policy_encode_value(p, o, v, buf);
    return real_setsockopt(fd, level, name, buf, (socklen_t)n);
}

static void info_applied(const struct sf_policy *p, const struct apply_event *ev,
                         const struct sf_decision *d, uint32_t done, uint32_t kept)
{
    struct logbuf b;
    log_begin_event(&b, SF_LOG_INFO, ev->call, ev->fd, ev->addr, ev->addrlen);
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
        log_value(&b, p, &sf_options[i], d->value[i]);
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
        enum sf_opt_id id = sf_apply_order[k];
        const struct sf_option *o = &sf_options[id];
        if (!(d->set & SF_OPT_BIT(id)) || !(o->phase & phases))
            continue;
        if (keep & SF_OPT_BIT(id)) {
            kept |= SF_OPT_BIT(id);
            continue;
        }
        if (o->phase & SF_PHASE_LISTEN_ARG) { /* the caller passes it to listen */
            done |= SF_OPT_BIT(id);
            continue;
        }
        int level, name;
        const char *label;
        sf_option_sockopt(o, ev->family, &level, &name, &label);
        if (set_option(p, ev->fd, o, level, name, d->value[id]) != 0)
            warn_failure(p, ev, o, label, d->value[id], errno);
        else
            done |= SF_OPT_BIT(id);
    }
    fdtab_add_sockfix_options(ev->fd, done); /* for sockfix apply: these are sockfix's */
    if ((done || kept) && log_enabled(SF_LOG_INFO))
        info_applied(p, ev, d, done, kept);
}
