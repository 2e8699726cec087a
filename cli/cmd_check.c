/* sockfix check FILE...: validate policy files ("-": standard input), report
 * every error, and warn about what is valid but probably not meant. */
#include "../config/kernel_checks.h"
#include "../config/policy_file.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDIN_SOURCE "(standard input)"

static void print_warning(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "%s (warning)\n", line);
}

/* Warnings leave the exit status alone: the policy is valid, the kernel
 * may differ where it runs. Every rule is considered, whatever its program. */
static void warn(const struct sf_policy *p)
{
    sf_policy_emit_warnings(p, false, print_warning, NULL);
    sf_policy_check_kernel(p, sf_sysctl_read, print_warning, NULL);
}

/* The policy on standard input, read to its end (at most the size a policy
 * file may have). */
static struct sf_policy *load_stdin(void)
{
    size_t cap = SF_POLICY_MAX_BYTES + 1, len = 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    for (ssize_t n; len < cap && (n = read(STDIN_FILENO, text + len, cap - len)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s", strerror(errno));
            free(text);
            return sf_policy_failed(STDIN_SOURCE, msg);
        }
        len += (size_t)n;
    }
    struct sf_policy *p = len >= cap ? sf_policy_failed(STDIN_SOURCE, "is too large")
                                     : sf_policy_parse(text, len, STDIN_SOURCE);
    free(text);
    return p;
}

/* The files to check are argv[first..argc); "-" (standard input) at most once. */
static int parse_args(int argc, char **argv, int *first)
{
    static const struct option longopts[] = {{NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;)
        return unknown_option("check", argv[optind - 1]);
    if (optind >= argc)
        return usage_error("check", "no policy file given");
    int stdin_uses = 0;
    for (int i = optind; i < argc; i++)
        stdin_uses += strcmp(argv[i], "-") == 0;
    if (stdin_uses > 1)
        return usage_error("check", "\"-\" (standard input) is given more than once");
    *first = optind;
    return EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
    if (help_requested("check", argc, argv))
        return EXIT_OK;
    int first = 1;
    int r = parse_args(argc, argv, &first);
    if (r != EXIT_OK)
        return r;
    int status = EXIT_OK;
    for (int i = first; i < argc; i++) {
        bool from_stdin = strcmp(argv[i], "-") == 0;
        struct sf_policy *p = from_stdin ? load_stdin() : load_policy_for(argv[i]);
        if (!p) {
            fprintf(stderr, "sockfix check: out of memory\n");
            return EXIT_FINDINGS;
        }
        if (p->nerrors) {
            print_policy_errors(stderr, "", p);
            status = EXIT_FINDINGS;
        } else {
            printf("%s: ok, %zu rule%s\n", from_stdin ? STDIN_SOURCE : argv[i], p->nrules,
                   p->nrules == 1 ? "" : "s");
            warn(p);
        }
        sf_policy_free(p);
    }
    return status;
}
