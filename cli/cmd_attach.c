/* sockfix attach, detach and status: the policy for every process of a
 * cgroup (and the cgroups below it) through kernel programs (attach_bpf.h):
 * static, Go, setuid and io_uring programs too, which LD_PRELOAD cannot
 * reach. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../config/flat.h"
#include "../config/policy_file.h"
#include "attach_bpf.h"
#include "cli.h"

struct attach_args {
    const char *config;
    struct cgroup_arg cg;
    bool json;
};

/* [-c FILE] (CGROUP | --unit NAME | --pid PID), or --json for status. */
static int parse_args(const char *cmd, int argc, char **argv, struct attach_args *a)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"unit", required_argument, NULL, 'u'},
                                             {"pid", required_argument, NULL, 'p'},
                                             {"json", no_argument, NULL, 'j'},
                                             {NULL, 0, NULL, 0}};
    bool status = strcmp(cmd, "status") == 0, config = strcmp(cmd, "attach") == 0;
    *a = (struct attach_args){0};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, config ? "c:" : "", longopts, NULL)) != -1;) {
        if (c == 'c' && config) {
            a->config = optarg;
        } else if (c == 'u' && !status) {
            a->cg.unit = optarg;
        } else if (c == 'p' && !status) {
            int r = parse_pid(cmd, optarg, &a->cg.pid);
            if (r != EXIT_OK)
                return r;
        } else if (c == 'j' && status) {
            a->json = true;
        } else {
            return unknown_option(cmd, argv[optind - 1]);
        }
    }
    if (status)
        return optind < argc ? unexpected_argument(cmd, argv[optind]) : EXIT_OK;
    if (optind < argc)
        a->cg.path = argv[optind++];
    if (optind < argc)
        return unexpected_argument(cmd, argv[optind]);
    int given = (a->cg.path != NULL) + (a->cg.unit != NULL) + (a->cg.pid != 0);
    if (given != 1)
        return usage_error(cmd, "name one cgroup: a directory, --unit NAME or --pid PID");
    return EXIT_OK;
}

static void print_issues(const struct sf_flat *f, bool errors)
{
    for (uint32_t i = 0; i < f->nissues; i++)
        if (f->issues[i].error == errors)
            fprintf(stderr, "%s%s\n", f->issues[i].message, errors ? "" : " (note)");
}

static void fill_meta(const struct sf_policy *p, const struct sf_flat *f, const struct cgroup *cg,
                      struct sf_attach_meta *m)
{
    memset(m, 0, sizeof *m);
    m->version = SF_ATTACH_VERSION;
    m->nrules = f->nrules;
    m->precedence = p->precedence;
    for (int i = 0; i < SF_OPT_COUNT; i++)
        if ((f->config.set_anywhere & SF_OPT_BIT(i)) && !sf_options[i].attachable)
            m->not_attachable |= SF_OPT_BIT(i);
    char real[PATH_MAX];
    bool builtin = strcmp(p->source, SF_BUILTIN_SOURCE) == 0;
    const char *policy = builtin ? p->source : realpath(p->source, real) ? real : p->source;
    memcpy(m->policy, policy, strnlen(policy, sizeof m->policy - 1));
    memcpy(m->cgroup, cg->path, strnlen(cg->path, sizeof m->cgroup - 1));
}

int cmd_attach(int argc, char **argv)
{
    if (help_requested("attach", argc, argv))
        return EXIT_OK;
    struct attach_args a;
    int r = parse_args("attach", argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    struct sf_policy *p = load_valid_policy("attach", a.config, "nothing was attached");
    if (!p)
        return EXIT_POLICY;
    struct sf_flat flat;
    if (sf_flat_compile(p, &flat) != 0) {
        fprintf(stderr, "sockfix attach: out of memory\n");
        sf_policy_free(p);
        return EXIT_FINDINGS;
    }
    if (flat.nerrors) {
        print_issues(&flat, true);
        fprintf(stderr, "sockfix attach: the kernel programs cannot take this policy; nothing was "
                        "attached\n");
        r = EXIT_POLICY;
        goto out;
    }
    struct cgroup cg;
    if ((r = cgroup_resolve("attach", &a.cg, &cg)) != EXIT_OK)
        goto out;
    struct sf_attach_meta meta;
    fill_meta(p, &flat, &cg, &meta);
    bool replaced;
    if ((r = attach_to("attach", &cg, &flat, &meta, &replaced)) != EXIT_OK)
        goto out;
    print_issues(&flat, false);
    printf("%s %s (cgroup %llu): policy %s, %u rule%s, precedence = %s\n",
           replaced ? "replaced the policy on" : "attached to", cg.path, (unsigned long long)cg.id,
           meta.policy, meta.nrules, meta.nrules == 1 ? "" : "s",
           p->precedence == SF_PRECEDENCE_POLICY ? "policy" : "program");
    printf("sockets made from now on by its processes and those of the cgroups below it get the "
           "policy; for those that exist: sockfix apply --tree PID\n");
out:
    sf_flat_free(&flat);
    sf_policy_free(p);
    return r;
}

/* A cgroup removed while attached: the kernel dropped the programs with it,
 * the pins that named them remain until detached by the path recorded. */
static int detach_gone(const char *path)
{
    struct attachment *v;
    size_t n;
    if (attachments_read("detach", &v, &n) != 0)
        return EXIT_FINDINGS;
    int r = EXIT_FINDINGS;
    size_t i = 0;
    while (i < n && (v[i].cgroup_exists || strcmp(v[i].meta.cgroup, path) != 0))
        i++;
    if (i == n) {
        fprintf(stderr, "sockfix detach: no cgroup %s, and no attachment recorded for it\n", path);
    } else {
        struct cgroup cg = {.id = v[i].cgroup_id};
        snprintf(cg.path, sizeof cg.path, "%s", path);
        r = detach_from("detach", &cg);
        if (r == EXIT_OK)
            printf("removed the attachment of %s (cgroup %llu), a cgroup that is gone\n", path,
                   (unsigned long long)cg.id);
    }
    free(v);
    return r;
}

int cmd_detach(int argc, char **argv)
{
    if (help_requested("detach", argc, argv))
        return EXIT_OK;
    struct attach_args a;
    int r = parse_args("detach", argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    struct cgroup cg;
    if (a.cg.path && a.cg.path[0] == '/' && access(a.cg.path, F_OK) != 0)
        return detach_gone(a.cg.path);
    if ((r = cgroup_resolve("detach", &a.cg, &cg)) != EXIT_OK)
        return r;
    if ((r = detach_from("detach", &cg)) != EXIT_OK)
        return r;
    printf("detached from %s (cgroup %llu): its new sockets get no policy from sockfix; those "
           "that exist keep their options\n",
           cg.path, (unsigned long long)cg.id);
    return EXIT_OK;
}

static const char *errno_text(int err)
{
#ifdef __GLIBC__
    const char *s = strerrorname_np(err);
    if (s)
        return s;
#endif
    static char buf[16];
    snprintf(buf, sizeof buf, "errno %d", err);
    return buf;
}

static void print_status_text(const struct attachment *v, size_t n)
{
    if (n == 0) {
        printf("no sockfix attachment\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct attachment *a = &v[i];
        char when[64];
        time_t t = (time_t)a->meta.attached_at;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
        printf("%s (cgroup %llu)%s\n", a->meta.cgroup, (unsigned long long)a->cgroup_id,
               a->cgroup_exists ? ""
                                : " [the cgroup is gone: sockfix detach with its path "
                                  "removes this entry]");
        printf("  policy %s, %u rule%s, precedence = %s, attached %s\n", a->meta.policy,
               a->meta.nrules, a->meta.nrules == 1 ? "" : "s",
               a->meta.precedence == SF_PRECEDENCE_POLICY ? "policy" : "program", when);
        printf("  sockets configured %llu, options set %llu, program values replaced %llu, "
               "setsockopt refused %llu\n",
               (unsigned long long)a->counters[SF_COUNT_SOCKETS],
               (unsigned long long)a->counters[SF_COUNT_OPTIONS],
               (unsigned long long)a->counters[SF_COUNT_REPLACED],
               (unsigned long long)a->counters[SF_COUNT_FAILED]);
        for (size_t f = 0; f < a->nfailures; f++)
            printf("    %s: %s %llu\n",
                   a->failures[f].option < SF_OPT_COUNT ? sf_options[a->failures[f].option].key
                                                        : "?",
                   errno_text(a->failures[f].err), (unsigned long long)a->failures[f].count);
        if (a->meta.not_attachable) {
            printf("  not applied here (the kernel does not let BPF set them):");
            for (int o = 0; o < SF_OPT_COUNT; o++)
                if (a->meta.not_attachable & SF_OPT_BIT(o))
                    printf(" %s", sf_options[o].key);
            printf("\n");
        }
        printf("  programs:");
        for (size_t p = 0; p < ATTACH_PROGRAMS; p++) {
            const struct attach_program_stats *s = &a->programs[p];
            if (!s->present)
                printf(" %s missing", s->name);
            else if (s->run_ns)
                printf(" %s %llu runs %.0f ns", s->name, (unsigned long long)s->runs,
                       (double)s->run_ns / (double)(s->runs ? s->runs : 1));
            else
                printf(" %s", s->name);
            printf("%s", p + 1 < ATTACH_PROGRAMS ? "," : "\n");
        }
    }
}

static void print_status_json(const struct attachment *v, size_t n)
{
    static const char *const counters[SF_COUNTERS] = {"decisions", "sockets", "options", "failed",
                                                      "replaced"};
    printf("[");
    for (size_t i = 0; i < n; i++) {
        const struct attachment *a = &v[i];
        printf("%s\n  {\"cgroup\": ", i ? "," : "");
        print_json_string(a->meta.cgroup);
        printf(", \"id\": %llu, \"exists\": %s, \"policy\": ", (unsigned long long)a->cgroup_id,
               a->cgroup_exists ? "true" : "false");
        print_json_string(a->meta.policy);
        printf(", \"rules\": %u, \"precedence\": \"%s\", \"attached_at\": %llu, \"counters\": {",
               a->meta.nrules, a->meta.precedence == SF_PRECEDENCE_POLICY ? "policy" : "program",
               (unsigned long long)a->meta.attached_at);
        for (int c = 0; c < SF_COUNTERS; c++)
            printf("%s\"%s\": %llu", c ? ", " : "", counters[c],
                   (unsigned long long)a->counters[c]);
        printf("}, \"failures\": [");
        for (size_t f = 0; f < a->nfailures; f++)
            printf("%s{\"option\": \"%s\", \"errno\": \"%s\", \"count\": %llu}", f ? ", " : "",
                   a->failures[f].option < SF_OPT_COUNT ? sf_options[a->failures[f].option].key
                                                        : "?",
                   errno_text(a->failures[f].err), (unsigned long long)a->failures[f].count);
        printf("], \"programs\": [");
        for (size_t p = 0; p < ATTACH_PROGRAMS; p++)
            printf("%s{\"name\": \"%s\", \"present\": %s, \"runs\": %llu, \"run_ns\": %llu, "
                   "\"verified_insns\": %u}",
                   p ? ", " : "", a->programs[p].name, a->programs[p].present ? "true" : "false",
                   (unsigned long long)a->programs[p].runs,
                   (unsigned long long)a->programs[p].run_ns, a->programs[p].verified_insns);
        printf("]}");
    }
    printf("%s]\n", n ? "\n" : "");
}

int cmd_status(int argc, char **argv)
{
    if (help_requested("status", argc, argv))
        return EXIT_OK;
    struct attach_args a;
    int r = parse_args("status", argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    struct attachment *v;
    size_t n;
    if (attachments_read("status", &v, &n) != 0)
        return EXIT_FINDINGS;
    if (a.json)
        print_status_json(v, n);
    else
        print_status_text(v, n);
    free(v);
    return EXIT_OK;
}
