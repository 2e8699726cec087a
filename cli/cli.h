/* The sockfix command: one file per subcommand, sharing these helpers. */
#ifndef SOCKFIX_CLI_H
#define SOCKFIX_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "../config/policy.h"

/* Exit statuses. */
enum {
    EXIT_OK = 0,
    EXIT_FINDINGS = 1, /* check found errors; inspect/apply failed */
    EXIT_USAGE = 2,
    EXIT_POLICY = 78, /* EX_CONFIG: the policy is bad */
};

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
    const char *usage; /* full help text */
};

extern const struct command commands[];

int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_systemd_dropin(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Prints the command's help on stdout. */
void print_usage(const char *cmd);

/* Prints the command's help when argv holds --help or -h. */
bool help_requested(const char *cmd, int argc, char **argv);

/* "sockfix CMD: ..." on stderr, then returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Usage errors about one argument, quoted as messages quote text. */
int unknown_option(const char *cmd, const char *arg);
int unexpected_argument(const char *cmd, const char *arg);

/* s in double quotes with '"', '\\' and control bytes escaped (sf_quote), in one
 * of a few rotating buffers: for messages. */
const char *quoted(const char *s);

/* Prints every error of p as "FILE:LINE: message" (prefix before each). */
void print_policy_errors(FILE *out, const char *prefix, const struct sf_policy *p);

/* The policy named by -c FILE, or the one a program started now would use. */
struct sf_policy *load_policy_for(const char *config_path);

/* The same, or NULL after printing its errors and "sockfix CMD: the policy
 * has errors; CONSEQUENCE" (the caller then exits EXIT_POLICY). */
struct sf_policy *load_valid_policy(const char *cmd, const char *config_path,
                                    const char *consequence);

/* A process ID argument; EXIT_OK, or a usage error for cmd. */
int parse_pid(const char *cmd, const char *arg, pid_t *pid);

/* s as a JSON string literal on stdout. */
void print_json_string(const char *s);

/* Absolute path of libsockfix.so: $SOCKFIX_LIBRARY, else next to this program
 * (build tree) or in its install location. SOCKFIX_LIBRARY must name an ELF
 * shared object that can be preloaded into a program of this ELF class and
 * machine (0, 0: this command's own). NULL after printing why for cmd. */
const char *find_library(const char *cmd, unsigned char elf_class, unsigned short machine);

#endif
