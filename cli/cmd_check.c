/* sockfix check FILE...: validate policy files, report every error. */
#include "../config/policy_file.h"
#include "cli.h"

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
        }
        sf_policy_free(p);
    }
    return status;
}
