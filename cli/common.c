#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/policy_file.h"
#include "../config/values.h"
#include "cli.h"
#include "elf_probe.h"

void print_policy_errors(FILE *out, const char *prefix, const struct sf_policy *p)
{
    char line[1024];
    for (size_t i = 0; i < p->nerrors; i++) {
        sf_error_format(p, &p->errors[i], line, sizeof line);
        fprintf(out, "%s%s\n", prefix, line);
    }
}

struct sf_policy *load_policy_for(const char *config_path)
{
    struct sf_policy *p = config_path ? sf_policy_load_file(config_path)
                                      : sf_policy_load_default(getenv("SOCKFIX_CONFIG"));
    if (!p) {
        fprintf(stderr, "sockfix: out of memory\n");
        exit(EXIT_FAILURE);
    }
    return p;
}

struct sf_policy *load_valid_policy(const char *cmd, const char *config_path,
                                    const char *consequence)
{
    struct sf_policy *p = load_policy_for(config_path);
    if (!p->nerrors)
        return p;
    print_policy_errors(stderr, "", p);
    fprintf(stderr, "sockfix %s: the policy has errors; %s\n", cmd, consequence);
    sf_policy_free(p);
    return NULL;
}

const char *quoted(const char *s)
{
    static char bufs[4][512];
    static unsigned next;
    char *b = bufs[next++ % 4];
    return sf_quote(s, b, sizeof bufs[0]);
}

int unknown_option(const char *cmd, const char *arg)
{
    return usage_error(cmd, "unknown or incomplete option %s", quoted(arg));
}

int unexpected_argument(const char *cmd, const char *arg)
{
    return usage_error(cmd, "unexpected argument %s", quoted(arg));
}

int parse_pid(const char *cmd, const char *arg, pid_t *pid)
{
    char *end;
    long v = arg ? strtol(arg, &end, 10) : 0;
    if (!arg || *end || v <= 0 || v > 0x3fffffff)
        return usage_error(cmd, "a process ID is needed");
    *pid = (pid_t)v;
    return EXIT_OK;
}

static bool usable(const char *path)
{
    return access(path, R_OK) == 0;
}

void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

const char *find_library(const char *cmd, unsigned char elf_class, unsigned short machine)
{
    static char found[PATH_MAX];
    const char *override = secure_getenv("SOCKFIX_LIBRARY");
    if (override && *override) {
        char why[128];
        if (elf_check_preloadable(override, elf_class, machine, why, sizeof why) != 0 ||
            !realpath(override, found)) {
            fprintf(stderr, "sockfix %s: SOCKFIX_LIBRARY=%s: %s\n", cmd, override, why);
            return NULL;
        }
        return found;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        /* The build tree keeps both side by side; an install has the library
         * in its library directory, relative to bin/. */
        const char *candidates[] = {"libsockfix.so", SOCKFIX_LIB_FROM_BIN "/libsockfix.so",
                                    "../lib/sockfix/libsockfix.so"};
        for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%s", exe, candidates[i]);
            if (usable(path) && realpath(path, found))
                return found;
        }
    }
    fprintf(stderr,
            "sockfix %s: libsockfix.so not found beside this program or in its library "
            "directory (set SOCKFIX_LIBRARY to its path)\n",
            cmd);
    return NULL;
}
