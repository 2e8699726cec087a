/* sockfix run: validate the policy, then exec the program with
 * libsockfix.so preloaded (same PID, signals and exit status). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
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
                return usage_error("run", "--log takes off, error, warn, info or debug, not %s",
                                   quoted(optarg));
            a->log = optarg;
            break;
        case 's':
            a->strict = true;
            break;
        case 'h':
            print_usage("run");
            exit(EXIT_OK);
        default:
            return unknown_option("run", argv[optind - 1]);
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

/* The loader ignores LD_PRELOAD paths in secure-execution mode: a set-user-ID
 * or set-group-ID program run by another user, or one with file capabilities
 * run by anyone but root. */
static void warn_secure_execution(const char *name, const char *file)
{
    struct stat st;
    struct statvfs vfs;
    if (stat(file, &st) != 0 || (statvfs(file, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)))
        return; /* on a nosuid mount the bits do nothing */
    char why[128] = "";
    if ((st.st_mode & S_ISUID) && st.st_uid != getuid())
        snprintf(why, sizeof why, "is set-user-ID (owner uid %u)", (unsigned)st.st_uid);
    else if ((st.st_mode & S_ISGID) && st.st_gid != getgid())
        snprintf(why, sizeof why, "is set-group-ID (group gid %u)", (unsigned)st.st_gid);
    else if (getuid() != 0 && getxattr(file, "security.capability", NULL, 0) > 0)
        snprintf(why, sizeof why, "has file capabilities");
    if (why[0])
        fprintf(stderr,
                "sockfix run: warning: %s %s: run by this user, the loader ignores LD_PRELOAD "
                "for it, so the policy will not apply (sockfix apply reaches its sockets once it "
                "runs)\n",
                name, why);
}

/* Warns when LD_PRELOAD cannot reach the program, or not all of it. */
static void examine_program(const char *name, struct elf_facts *f)
{
    char buf[PATH_MAX];
    memset(f, 0, sizeof *f);
    const char *file = resolve_command(name, buf, sizeof buf);
    if (!file)
        return; /* execvp reports it */
    elf_probe(file, f);
    const char *why = reach_warning(f->reach);
    if (why)
        fprintf(stderr, "sockfix run: warning: %s %s\n", name, why);
    if (f->io_uring[0])
        fprintf(stderr,
                "sockfix run: warning: %s uses io_uring (%s): sockets it makes through io_uring "
                "do not pass through libc, and the policy does not reach them (sockfix apply "
                "reaches them once they exist)\n",
                name, f->io_uring);
    warn_secure_execution(name, file);
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
    char variant[PATH_MAX];
    struct elf_facts facts;
    examine_program(a.cmd[0], &facts);
    const char *interp = facts.interp;
    const char *lib = find_library("run", facts.elf_class, facts.machine);
    if (!lib) {
        sf_policy_free(p);
        return EXIT_FINDINGS;
    }
    lib = library_for(lib, interp, variant, sizeof variant);
    char why[128];
    if (lib && facts.elf_class &&
        elf_check_preloadable(lib, facts.elf_class, facts.machine, why, sizeof why) != 0) {
        /* fail open: the loader would only complain and go on without it */
        fprintf(stderr,
                "sockfix run: warning: %s cannot be preloaded into %s: it %s; the policy "
                "will not apply\n",
                lib, a.cmd[0], why);
        lib = NULL;
    } else if (!lib) { /* fail open: a glibc library would stop a musl program from starting */
        fprintf(stderr,
                "sockfix run: warning: %s is linked against musl (%s) and this installation has "
                "no libsockfix-musl.so: the policy will not apply\n",
                a.cmd[0], interp);
    }
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
