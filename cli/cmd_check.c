/* sockfix check FILE...: validate policy files, report every error. */
#include "../config/policy_file.h"
#include "cli.h"

#include <stdio.h>

static void print_warning(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "%s (warning)\n", line);
}

/* Warnings leave the exit status alone: the policy is valid, the kernel
 * may differ where it runs. */
static void warn_congestion(struct sf_policy *p)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "re");
    char avail[256];
    if (f && fgets(avail, sizeof avail, f)) {
        sf_policy_select_program(p, NULL, 0); /* every rule active, whatever its program */
        sf_policy_check_congestion(p, avail, print_warning, NULL);
    }
    if (f)
        fclose(f);
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
            warn_congestion(p);
        }
        sf_policy_free(p);
    }
    return status;
}
