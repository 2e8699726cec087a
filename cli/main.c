/* sockfix: check, explain and inspect socket policies; run programs under
 * libsockfix.so. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAIN_USAGE                                                                                 \
    "usage: sockfix COMMAND [ARGS...]\n"                                                           \
    "       sockfix help COMMAND | --help | --version\n"                                           \
    "\n"                                                                                           \
    "Apply socket options from a policy file to unmodified programs (LD_PRELOAD).\n"               \
    "\n"                                                                                           \
    "commands:\n"

static int print_help(FILE *out)
{
    fputs(MAIN_USAGE, out);
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, "  %-15s %s\n", c->name, c->summary);
    fputs("\nSee sockfix(1) and the policy reference, sockfix.ini(5).\n", out);
    return EXIT_OK;
}

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int help_command(int argc, char **argv)
{
    if (argc < 2)
        return print_help(stdout);
    const struct command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "sockfix help: unknown command %s\n", quoted(argv[1]));
        return EXIT_USAGE;
    }
    fputs(c->usage, stdout);
    return EXIT_OK;
}

const struct command commands[] = {
    {"check", cmd_check, "validate policy files",
     "usage: sockfix check FILE...\n"
     "\n"
     "Validates each policy file and prints every error as FILE:LINE: message.\n"
     "Exit status: 0 when every file is clean, 1 when any has errors, 2 on usage errors.\n"},
    {"explain", cmd_explain, "show the options a policy gives one kind of socket",
     "usage: sockfix explain [-c FILE] [--program NAME] [--role server|client] [--port N]\n"
     "                       [--family ipv4|ipv6] [--type tcp|udp] [--address ADDR]\n"
     "                       [--attach]\n"
     "\n"
     "Prints the merged options for such a socket and, for each, the rule (section and\n"
     "line) that set it. Defaults: the policy a program started now would use, role\n"
     "server, family ipv4, type tcp, no program name and no port (rules with\n"
     "match.program or match.port then do not match).\n"
     "  --attach  as sockfix attach decides: the program is its process name (first 15\n"
     "            characters); for each option, whether the library and the kernel\n"
     "            programs apply it, and when\n"
     "Exit status: 0, 78 when the policy has errors, 2 on usage errors.\n"},
    {"run", cmd_run, "run a program under the policy",
     "usage: sockfix run [-c FILE] [--log LEVEL] [--strict] [--] CMD [ARG...]\n"
     "\n"
     "Validates the policy (exit 78 with the errors if it is bad), puts libsockfix.so\n"
     "in front of LD_PRELOAD, exports SOCKFIX_CONFIG as an absolute path and execs CMD:\n"
     "same PID, signals and exit status. Warns when CMD is out of LD_PRELOAD's reach\n"
     "(statically linked, a Go program, or no socket calls imported from libc).\n"
     "  -c, --config FILE  the policy (default: $SOCKFIX_CONFIG, /etc/sockfix/sockfix.ini,\n"
     "                     or the built-in default)\n"
     "  --log LEVEL        off, error, warn, info or debug (sets SOCKFIX_LOG)\n"
     "  --strict           a policy error stops the program (sets SOCKFIX_STRICT=1)\n"},
    {"inspect", cmd_inspect, "show the options on a running process's sockets",
     "usage: sockfix inspect PID [--tree] [--json]\n"
     "\n"
     "Lists every TCP and UDP socket of process PID with its role, addresses and the\n"
     "options sockfix manages, read from the kernel through pidfd_getfd (Linux 5.6+).\n"
     "  --tree   the sockets of PID's descendants too, each socket once with its holders\n"
     "  --json   the same as JSON\n"
     "Needs ptrace access to PID: root, or the same user where kernel.yama.ptrace_scope\n"
     "allows it.\n"
     "Exit status: 0, 1 when the process cannot be read, 2 on usage errors.\n"},
    {"apply", cmd_apply, "apply the policy to a running process's sockets, no restart",
     "usage: sockfix apply PID [-c FILE] [--tree] [--dry-run] [--json]\n"
     "\n"
     "Sets the policy's options on the existing TCP and UDP sockets of process PID,\n"
     "through duplicates taken with pidfd_getfd (Linux 5.6+): no restart, no\n"
     "LD_PRELOAD, so static, Go and already-running programs too. Each socket is\n"
     "classified from the kernel's view (listener, server connection, client) and\n"
     "matched with the program name of PID. A listener's options reach every\n"
     "connection it accepts from then on. reuseaddr, reuseport (before bind) and\n"
     "backlog (at listen) are reported as not applicable to existing sockets. With\n"
     "precedence = program, an option whose value differs from a fresh socket's is\n"
     "taken as the program's and kept. The process is neither stopped nor signalled.\n"
     "  -c, --config FILE  the policy (default: as for a program started now)\n"
     "  --tree             the sockets of PID's descendants too (prefork servers)\n"
     "  --dry-run          print what would change (old -> new), change nothing\n"
     "  --json             the same as JSON\n"
     "Needs ptrace access to PID: root or CAP_SYS_PTRACE, or the same user where\n"
     "kernel.yama.ptrace_scope allows it.\n"
     "Exit status: 0; 1 when the process cannot be reached or a setsockopt failed;\n"
     "78 when the policy has errors; 2 on usage errors.\n"},
    {"systemd-dropin", cmd_systemd_dropin, "run a systemd service under the policy",
     "usage: sockfix systemd-dropin UNIT [-c FILE] [--root DIR]\n"
     "\n"
     "Writes /etc/systemd/system/UNIT.d/sockfix.conf (under DIR with --root) with the\n"
     "Environment= lines that preload libsockfix.so and, with -c, name the policy; a\n"
     "UNIT without a suffix is taken as UNIT.service. Validates the policy first (exit\n"
     "78 with the errors). Then run: systemctl daemon-reload && systemctl restart UNIT.\n"
     "The drop-in's LD_PRELOAD replaces one the unit sets itself.\n"
     "Exit status: 0; 1 when the file cannot be written; 2 on usage errors.\n"},
    {"attach", cmd_attach, "the policy for every process of a cgroup, through eBPF",
     "usage: sockfix attach [-c FILE] CGROUP | --unit NAME | --pid PID\n"
     "\n"
     "Loads kernel programs that give the sockets of every process in the cgroup, and in\n"
     "the cgroups below it, the policy: static, Go, setuid and io_uring programs too, which\n"
     "LD_PRELOAD cannot reach. CGROUP is a directory of the cgroup v2 hierarchy (absolute\n"
     "path); --unit NAME names a systemd unit's cgroup, --pid PID a process's. The\n"
     "programs stay attached after sockfix exits (pinned under /sys/fs/bpf/sockfix) and\n"
     "through restarts of the services; attaching again replaces the policy atomically.\n"
     "The policy is validated first; the options the kernel does not let BPF programs set\n"
     "are named with their rule and line (sockfix explain --attach shows them), and a\n"
     "match.program glob the kernel cannot evaluate is refused. match.program is matched\n"
     "against the process name the kernel keeps (its first 15 characters).\n"
     "Needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (root), Linux 5.17 or later.\n"
     "  -c, --config FILE  the policy (default: as for a program started now)\n"
     "Exit status: 0; 1 when it cannot be attached; 2 on usage errors; 78 when the policy\n"
     "has errors or the kernel programs cannot take it.\n"},
    {"detach", cmd_detach, "remove a cgroup's attachment",
     "usage: sockfix detach CGROUP | --unit NAME | --pid PID\n"
     "\n"
     "Removes sockfix's programs from the cgroup. Sockets that exist keep their options.\n"
     "Exit status: 0; 1 when the cgroup has no attachment; 2 on usage errors.\n"},
    {"status", cmd_status, "every attachment, with its counters",
     "usage: sockfix status [--json]\n"
     "\n"
     "Lists every sockfix attachment: its cgroup, policy file, rule count and counters\n"
     "(sockets configured, options set, setsockopt calls the kernel refused by option and\n"
     "errno, values of the program replaced), and per program its runs and average cost\n"
     "when kernel.bpf_stats_enabled = 1.\n"},
    {"help", help_command, "show help for a command", "usage: sockfix help [COMMAND]\n"},
    {NULL, NULL, NULL, NULL},
};

void print_usage(const char *cmd)
{
    fputs(find_command(cmd)->usage, stdout);
}

bool help_requested(const char *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(cmd);
            return true;
        }
    }
    return false;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sockfix %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'sockfix help %s')\n", cmd);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return print_help(stdout);
    if (strcmp(argv[1], "--version") == 0) {
        printf("sockfix %s\n", SOCKFIX_VERSION);
        return EXIT_OK;
    }
    const struct command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "sockfix: unknown command %s (see 'sockfix --help')\n", quoted(argv[1]));
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
