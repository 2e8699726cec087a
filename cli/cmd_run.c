/* sockfix run: validate the policy, then exec the program with
 * libsockfix.so preloaded (same PID, signals and exit status). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../config/policy_file.h"
#include "cli.h"
#include "elf_probe.h"

struct run_args {
    const char *config;
    const char *log;
    bool strict;
    char **cmd;
};

static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"log", required_argument, NULL, 'l'},
                                             {"strict", no_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *a = (struct run_args){0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'l':
            if (sf_log_level_parse(optarg) < 0)
                return usage_error("run", "--log takes off, error, warn, info or debug, not \"%s\"",
                                   optarg);
            a->log = optarg;
            break;
        case 's':
            a->strict = true;
            break;
        case 'h':
            print_usage("run");
            exit(EXIT_OK);
        default:
            return usage_error("run", "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("run", "no program given");
    a->cmd = argv + optind;
    return EXIT_OK;
}

/* The file execvp would run for name, or NULL. */
static const char *resolve_command(const char *name, char *buf, size_t len)
{
    if (strchr(name, '/'))
        return name;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, len, "%.*s/%s", (int)n, n ? p : ".", name);
        if (access(buf, X_OK) == 0)
            return buf;
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* Warns when LD_PRELOAD cannot reach the program; fills interp with its ELF
 * interpreter (empty when unknown). */
static void examine_program(const char *name, char *interp, size_t len)
{
    char buf[PATH_MAX];
    interp[0] = '\0';
    const char *file = resolve_command(name, buf, sizeof buf);
    if (!file)
        return; /* execvp reports it */
    const char *why = reach_warning(elf_reachability(file, interp, len));
    if (why)
        fprintf(stderr, "sockfix run: warning: %s %s\n", name, why);
}

static bool is_musl_loader(const char *interp)
{
    const char *base = strrchr(interp, '/');
    return strncmp(base ? base + 1 : interp, "ld-musl-", 8) == 0;
}

/* The library built for the program's C library: libsockfix-musl.so beside
 * libsockfix.so for a musl program (Alpine), else libsockfix.so. NULL when
 * the program needs a variant this installation lacks. */
static const char *library_for(const char *lib, const char *interp, char *buf, size_t len)
{
    if (!is_musl_loader(interp))
        return lib;
    const char *slash = strrchr(lib, '/');
    snprintf(buf, len, "%.*s/libsockfix-musl.so", (int)(slash - lib), lib);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

static bool is_sanitizer_runtime(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const char *const runtimes[] = {
        "libasan.so",       "libtsan.so",        "libubsan.so", "libclang_rt.asan",
        "libclang_rt.tsan", "libclang_rt.ubsan", "libhwasan.so"};
    for (size_t i = 0; i < sizeof runtimes / sizeof runtimes[0]; i++)
        if (strncmp(base, runtimes[i], strlen(runtimes[i])) == 0)
            return true;
    return false;
}

static void append_entry(char *v, size_t len, size_t *used, const char *e)
{
    *used += (size_t)snprintf(v + *used, len - *used, "%s%s", *used ? ":" : "", e);
}

static int set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (!old || !*old)
        return setenv("LD_PRELOAD", lib, 1);
    /* Already there (a nested sockfix run): keep the list as it is. */
    size_t n = strlen(lib);
    for (const char *p = old; (p = strstr(p, lib)); p += n)
        if ((p == old || p[-1] == ':' || p[-1] == ' ') &&
            (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
            return 0;
    /* Sanitizer runtimes must stay first (ASan and TSan refuse to start
     * otherwise); the library goes right after them, before anything else. */
    size_t len = strlen(lib) + 2 + strlen(old) + 1, used = 0;
    char *v = malloc(len), *copy = malloc(strlen(old) + 1);
    if (!v || !copy) {
        free(v);
        free(copy);
        return -1;
    }
    v[0] = '\0';
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) {
            append_entry(v, len, &used, lib);
            continue;
        }
        strcpy(copy, old);
        char *save = NULL;
        for (char *e = strtok_r(copy, ": ", &save); e; e = strtok_r(NULL, ": ", &save))
            if (is_sanitizer_runtime(e) == (pass == 0))
                append_entry(v, len, &used, e);
    }
    int r = setenv("LD_PRELOAD", v, 1);
    free(v);
    free(copy);
    return r;
}

static int set_config(const struct sf_policy *p)
{
    if (strcmp(p->source, SF_BUILTIN_SOURCE) == 0)
        return unsetenv("SOCKFIX_CONFIG");
    char abs[PATH_MAX];
    if (!realpath(p->source, abs))
        return -1;
    return setenv("SOCKFIX_CONFIG", abs, 1);
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    int r = parse_args(argc, argv, &a);
    if (r != EXIT_OK)
        return r;
    char consequence[PATH_MAX + 32];
    snprintf(consequence, sizeof consequence, "%s was not started", a.cmd[0]);
    struct sf_policy *p = load_valid_policy("run", a.config, consequence);
    if (!p)
        return EXIT_POLICY;
    char interp[PATH_MAX], variant[PATH_MAX];
    examine_program(a.cmd[0], interp, sizeof interp);
    const char *lib = find_library();
    if (!lib) {
        fprintf(stderr, "sockfix run: libsockfix.so not found beside this program or in its "
                        "library directory (set SOCKFIX_LIBRARY to its path)\n");
        sf_policy_free(p);
        return EXIT_FINDINGS;
    }
    lib = library_for(lib, interp, variant, sizeof variant);
    if (!lib) /* fail open: a glibc library would stop a musl program from starting */
        fprintf(stderr,
                "sockfix run: warning: %s is linked against musl (%s) and this installation has "
                "no libsockfix-musl.so: the policy will not apply\n",
                a.cmd[0], interp);
    if ((lib && set_preload(lib) != 0) || set_config(p) != 0 ||
        (a.log && setenv("SOCKFIX_LOG", a.log, 1) != 0) ||
        (a.strict && setenv("SOCKFIX_STRICT", "1", 1) != 0)) {
        fprintf(stderr, "sockfix run: cannot set up the environment: %s\n", strerror(errno));
        sf_policy_free(p);
        return EXIT_FINDINGS;
    }
    sf_policy_free(p);
    fflush(NULL);
    execvp(a.cmd[0], a.cmd);
    int err = errno;
    fprintf(stderr, "sockfix run: %s: %s\n", a.cmd[0], strerror(err));
    return err == ENOENT ? 127 : 126;
}
