/* sockfix apply's report: per socket, each option the policy sets with its
 * old and new value, who set the old one and how that is known; as text or
 * as JSON. */
#include <stdio.h>
#include <string.h>

#include "../config/values.h"
#include "apply_run.h"

static bool shown(const struct socket_result *res, int i)
{
    return res->decided && (res->d.set & SF_OPT_BIT(i)) &&
           (sf_options[i].types & res->s->si.type) && res->opt[i].outcome != UNCHANGED;
}

/* "servers, keepalive": the rules behind the options of a decision. */
static void rules_text(const struct sf_policy *p, const struct sf_decision *d, char *buf,
                       size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    uint32_t named[SF_OPT_COUNT] = {0};
    int nnamed = 0;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        if (!(d->set & SF_OPT_BIT(i)) || d->rule[i] == SF_RULE_IMPLIED)
            continue;
        bool seen = false;
        for (int k = 0; k < nnamed; k++)
            seen |= named[k] == d->rule[i];
        if (seen)
            continue;
        named[nnamed++] = d->rule[i];
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                 nnamed > 1 ? ", " : "", p->rules[d->rule[i]].name);
    }
}

static const char *not_applicable_reason(const struct sf_option *o)
{
    return (o->phase & SF_PHASE_BIND) ? "only before bind" : "fixed when listen was called";
}

static void value_text(const struct sf_policy *p, const struct tsock *s, int i, int v, bool current,
                       char *buf, size_t len)
{
    if (current && sf_options[i].kind == SF_VAL_NAME)
        snprintf(buf, len, "%s", s->si.names[i][0] ? s->si.names[i] : "none");
    else
        sf_policy_format_value(p, &sf_options[i], v, buf, len);
}

static void print_option(const struct apply_run *run, const struct socket_result *res, int i)
{
    const struct sf_option *o = &sf_options[i];
    const struct option_result *r = &res->opt[i];
    char from[32], to[32];
    value_text(run->p, res->s, i, r->from, true, from, sizeof from);
    value_text(run->p, res->s, i, r->to, false, to, sizeof to);
    switch (r->outcome) {
    case CHANGED:
        printf("%s %s -> %s", o->key, from, to);
        if (r->owner == OWNER_SOCKFIX)
            printf(" (sockfix's earlier value)");
        else if (r->owner == OWNER_PROGRAM)
            printf(" (the program's value; precedence = policy)");
        break;
    case KEPT:
        printf("%s %s kept (set by the program%s; policy %s)", o->key, from,
               r->source == GUESSED_FROM_FRESH ? ", as it differs from a fresh socket" : "", to);
        break;
    case NOT_APPLICABLE:
        printf("%s %s, policy %s: not applicable to an existing socket (%s)", o->key, from, to,
               not_applicable_reason(o));
        break;
    case FAILED:
        printf("%s %s -> %s failed: %s", o->key, from, to, strerror(r->err));
        break;
    case UNCHANGED:
        break;
    }
}

static void print_socket_head(const struct walk *w, const struct socket_result *res)
{
    const struct tsock *s = res->s;
    char local[64], remote[64] = "", fds[64];
    sockaddr_text(&s->si.local, local, sizeof local);
    if (s->si.peer_len)
        sockaddr_text(&s->si.peer, remote, sizeof remote);
    walk_fds_text(s, fds, sizeof fds);
    if (w->tree)
        printf("PID %d ", (int)w->targets[s->holders[0].target].pid);
    printf("fd%s %s %s %s%s %s%s%s: ", strchr(fds, ',') ? "s" : "", fds,
           s->si.type == SF_TYPE_TCP ? "tcp" : "udp", role_name(s->cls.role),
           s->cls.doubt ? "*" : "", local, s->si.peer_len ? " -> " : "", remote);
}

void apply_print_text(const struct walk *w, const struct apply_run *run)
{
    const struct target *t = &w->targets[0];
    printf("PID %d (%s)%s, policy %s%s\n", (int)t->pid, t->comm,
           w->tree ? " and its descendants" : "", run->p->source,
           run->a->dry_run ? " (dry run: nothing is changed)" : "");
    if (t->record.present)
        printf("PID %d runs libsockfix with policy %s: the values it set are sockfix's and move "
               "to this policy's\n",
               (int)t->pid, t->record.rec.policy[0] ? t->record.rec.policy : "(built-in default)");
    bool guessed = false;
    for (size_t k = 0; k < run->n; k++) {
        const struct socket_result *res = &run->res[k];
        print_socket_head(w, res);
        guessed |= res->s->cls.doubt;
        if (res->s->cls.role == ROLE_CONNECTING) {
            printf("connecting: the remote address is not known yet\n");
            continue;
        }
        if (res->s->cls.role == ROLE_BOUND && res->s->cls.ephemeral_bind) {
            printf("bound to an ephemeral port: nothing is decided for it (as the library "
                   "decides nothing at a bind to port 0)\n");
            continue;
        }
        if (!res->decided) {
            printf("no rule applies\n");
            continue;
        }
        char rules[256];
        rules_text(run->p, &res->d, rules, sizeof rules);
        int n = 0;
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            if (!shown(res, i))
                continue;
            printf("%s", n++ ? ", " : "");
            print_option(run, res, i);
        }
        printf("%s (rules %s)\n", n ? "" : "already as the policy says", rules);
    }
    if (guessed)
        printf("* no listener accepts connections to this local port (any more): the role is "
               "told by the ports (see sockfix(1))\n");
    printf("%zu socket%s: %u option%s %s, %u kept as the program set them, %u not applicable, "
           "%u failed\n",
           run->n, run->n == 1 ? "" : "s", run->counts[CHANGED],
           run->counts[CHANGED] == 1 ? "" : "s", run->a->dry_run ? "to change" : "changed",
           run->counts[KEPT], run->counts[NOT_APPLICABLE], run->counts[FAILED]);
}

static const char *outcome_name(enum outcome o)
{
    static const char *const names[] = {"changed", "unchanged", "kept", "not_applicable", "failed"};
    return names[o];
}

static void print_json_option(const struct apply_run *run, const struct socket_result *res, int i)
{
    static const char *const owners[] = {"none", "program", "sockfix"};
    static const char *const sources[] = {"record", "applied", "fresh-socket", "default"};
    const struct option_result *r = &res->opt[i];
    printf("{\"option\": \"%s\", \"result\": \"%s\", ", sf_options[i].key,
           outcome_name(r->outcome));
    if (sf_options[i].kind == SF_VAL_NAME) {
        printf("\"from\": ");
        print_json_string(res->s->si.names[i]);
        printf(", \"to\": ");
        print_json_string(sf_policy_name(run->p, r->to));
    } else {
        printf("\"from\": %d, \"to\": %d", r->from, r->to);
    }
    printf(", \"rule\": ");
    print_json_string(res->d.rule[i] == SF_RULE_IMPLIED ? "(implied)"
                                                        : run->p->rules[res->d.rule[i]].name);
    if (r->outcome != UNCHANGED)
        printf(", \"owner\": \"%s\", \"owner_source\": \"%s\"", owners[r->owner],
               sources[r->source]);
    if (r->outcome == FAILED)
        printf(", \"error\": \"%s\"", strerror(r->err));
    printf("}");
}

void apply_print_json(const struct walk *w, const struct apply_run *run)
{
    const struct target *t = &w->targets[0];
    printf("{\"pid\": %d, \"program\": ", (int)t->pid);
    print_json_string(t->comm);
    printf(", \"policy\": ");
    print_json_string(run->p->source);
    printf(", \"dry_run\": %s, \"library_policy\": ", run->a->dry_run ? "true" : "false");
    if (t->record.present)
        print_json_string(t->record.rec.policy[0] ? t->record.rec.policy : "(built-in default)");
    else
        printf("null");
    printf(", \"sockets\": [");
    for (size_t k = 0; k < run->n; k++) {
        const struct socket_result *res = &run->res[k];
        const struct tsock *s = res->s;
        char local[64], remote[64];
        sockaddr_text(&s->si.local, local, sizeof local);
        printf(
            "%s\n  {\"pid\": %d, \"fd\": %d, \"type\": \"%s\", \"role\": \"%s\", \"role_source\": "
            "\"%s\", \"local\": \"%s\", \"remote\": ",
            k ? "," : "", (int)w->targets[s->holders[0].target].pid, s->holders[0].fd,
            s->si.type == SF_TYPE_TCP ? "tcp" : "udp", role_name(s->cls.role),
            role_source_name(s->cls.source), local);
        if (s->si.peer_len) {
            sockaddr_text(&s->si.peer, remote, sizeof remote);
            printf("\"%s\"", remote);
        } else {
            printf("null");
        }
        printf(", \"options\": [");
        bool first = true;
        for (int i = 0; res->decided && i < SF_OPT_COUNT; i++) {
            if (!(res->d.set & SF_OPT_BIT(i)) || !(sf_options[i].types & s->si.type))
                continue;
            printf("%s", first ? "" : ", ");
            print_json_option(run, res, i);
            first = false;
        }
        printf("]}");
    }
    printf("%s]}\n", run->n ? "\n" : "");
}
