/* sockfix systemd-dropin UNIT: a drop-in that runs a systemd service under
 * libsockfix.so, the way most legacy services are started. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct dropin_args {
    const char *unit, *config, *root;
};

static int parse_args(int argc, char **argv, struct dropin_args *a)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"root", required_argument, NULL, 'r'},
                                             {NULL, 0, NULL, 0}};
    *a = (struct dropin_args){0};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1;) {
        if (c == 'c')
            a->config = optarg;
        else if (c == 'r')
            a->root = optarg;
        else
            return unknown_option("systemd-dropin", argv[optind - 1]);
    }
    if (optind >= argc)
        return usage_error("systemd-dropin", "a unit name is needed (legacy.service)");
    if (optind + 1 < argc)
        return unexpected_argument("systemd-dropin", argv[optind + 1]);
    a->unit = argv[optind];
    return EXIT_OK;
}

/* systemd unit names: letters, digits and ":-_.\@", at most 255 characters. */
static bool valid_unit(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > 255 || u[0] == '.')
        return false;
    for (const char *p = u; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(":-_.\\@", *p)))
            return false;
    return true;
}

/* A value inside Environment="...": quotes and backslashes escaped, and %
 * doubled (systemd expands %-specifiers there). */
static void put_quoted(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '%')
            fputc('%', f);
        fputc(*s, f);
    }
}

static int make_dirs(char *path) /* mkdir -p of path's parent directories and path */
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(path, 0755);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int cmd_systemd_dropin(int argc, char **argv)
{
    if (help_requested("systemd-dropin", argc, argv))
        return EXIT_OK;
    struct dropin_args a;
    int r = parse_args(argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    char unit[300];
    snprintf(unit, sizeof unit, "%s%s", a.unit, strchr(a.unit, '.') ? "" : ".service");
    if (!valid_unit(unit))
        return usage_error("systemd-dropin", "%s is not a unit name", quoted(a.unit));
    struct sf_policy *p = load_valid_policy("systemd-dropin", a.config, "nothing was written");
    if (!p)
        return EXIT_POLICY;
    sf_policy_free(p);
    const char *lib = find_library("systemd-dropin", 0, 0);
    if (!lib)
        return EXIT_FINDINGS;
    char config[PATH_MAX] = "";
    if (a.config && !realpath(a.config, config)) {
        fprintf(stderr, "sockfix systemd-dropin: %s: %s\n", a.config, strerror(errno));
        return EXIT_FINDINGS;
    }
    char dir[PATH_MAX], file[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/etc/systemd/system/%s.d", a.root ? a.root : "", unit);
    snprintf(file, sizeof file, "%s/sockfix.conf", dir);
    FILE *f = NULL;
    if (make_dirs(dir) != 0 || !(f = fopen(file, "we"))) {
        fprintf(stderr, "sockfix systemd-dropin: cannot write %s: %s\n", file, strerror(errno));
        return EXIT_FINDINGS;
    }
    fprintf(f,
            "# Written by sockfix systemd-dropin: %s runs with libsockfix.so preloaded.\n"
            "# To undo: remove this file, then systemctl daemon-reload and restart the unit.\n"
            "[Service]\nEnvironment=\"LD_PRELOAD=",
            unit);
    put_quoted(f, lib);
    fputs("\"\n", f);
    if (config[0]) {
        fputs("Environment=\"SOCKFIX_CONFIG=", f);
        put_quoted(f, config);
        fputs("\"\n", f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "sockfix systemd-dropin: cannot write %s: %s\n", file, strerror(errno));
        return EXIT_FINDINGS;
    }
    printf("wrote %s\nnow run: systemctl daemon-reload && systemctl restart %s\n", file, unit);
    return EXIT_OK;
}
