/* sockfix check FILE...: validate policy files, report every error. */
#include "../config/policy_file.h"
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static void print_warning(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "%s (warning)\n", line);
}

static bool read_proc(const char *path, char *buf, int len)
{
    FILE *f = fopen(path, "re");
    bool ok = f && fgets(buf, len, f);
    if (f)
        fclose(f);
    return ok;
}

/* Warnings leave the exit status alone: the policy is valid, the kernel
 * may differ where it runs. */
static void warn_about_the_kernel(struct sf_policy *p)
{
    char buf[256];
    sf_policy_select_program(p, NULL, 0); /* every rule active, whatever its program */
    if (read_proc("/proc/sys/net/ipv4/tcp_available_congestion_control", buf, sizeof buf))
        sf_policy_check_congestion(p, buf, print_warning, NULL);
    long rmem = read_proc("/proc/sys/net/core/rmem_max", buf, sizeof buf) ? atol(buf) : 0;
    long wmem = read_proc("/proc/sys/net/core/wmem_max", buf, sizeof buf) ? atol(buf) : 0;
    sf_policy_check_buffers(p, rmem, wmem, print_warning, NULL);
}

int cmd_check(int argc, char **argv)
{
    if (help_requested("check", argc, argv))
        return EXIT_OK;
    if (argc < 2)
        return usage_error("check", "no policy file given");
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("check", "unknown option \"%s\"", argv[i]);
    int status = EXIT_OK;
    for (int i = 1; i < argc; i++) {
        struct sf_policy *p = load_policy_for(argv[i]);
        if (p->nerrors) {
            print_policy_errors(stderr, "", p);
            status = EXIT_FINDINGS;
        } else {
            printf("%s: ok, %zu rule%s\n", argv[i], p->nrules, p->nrules == 1 ? "" : "s");
            warn_about_the_kernel(p);
        }
        sf_policy_free(p);
    }
    return status;
}
