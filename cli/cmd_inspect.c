/* sockfix inspect PID: the options on a running process's sockets, read
 * from the kernel through pidfd_getfd duplicates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/values.h"
#include "cli.h"
#include "procsock.h"
#include "sockinfo.h"

static void print_value(char *buf, size_t len, const struct sockinfo *si, int i)
{
    if (!si->have[i])
        snprintf(buf, len, "-");
    else if (sf_options[i].kind == SF_VAL_NAME)
        snprintf(buf, len, "%s", si->names[i][0] ? si->names[i] : "-");
    else
        sf_format_option_value(&sf_options[i], si->value[i], buf, len);
}

/* The table shows the keepalive-era options as columns; any other option
 * appears under "other" when it differs from what the kernel gives a fresh
 * socket (--json has every option, always). */
#define TABLE_COLUMNS (SF_OPT_BACKLOG + 1)

/* On a connection the kernel tunes these itself (buffer autotuning, the
 * effective MSS): a difference from a fresh socket says nothing there. */
static bool kernel_tuned(int i)
{
    return i == SF_OPT_RCVBUF || i == SF_OPT_SNDBUF || i == SF_OPT_MAXSEG;
}

static void print_text(const struct sockinfo *s, size_t n, const struct sockinfo *tcp_defaults,
                       const struct sockinfo *udp_defaults)
{
    printf("%-4s %-4s %-8s %-24s %-24s", "FD", "TYPE", "ROLE", "LOCAL", "REMOTE");
    for (int i = 0; i < TABLE_COLUMNS; i++)
        printf(" %s", sf_options[i].key);
    printf(" other\n");
    for (size_t k = 0; k < n; k++) {
        char local[64], remote[64] = "-";
        sockaddr_text(&s[k].local, local, sizeof local);
        if (s[k].peer_len)
            sockaddr_text(&s[k].peer, remote, sizeof remote);
        printf("%-4d %-4s %-8s %-24s %-24s", s[k].fd, s[k].tcp ? "tcp" : "udp", s[k].role, local,
               remote);
        for (int i = 0; i < TABLE_COLUMNS; i++) {
            char v[32];
            print_value(v, sizeof v, &s[k], i);
            printf(" %-*s", (int)strlen(sf_options[i].key), v);
        }
        const struct sockinfo *d = s[k].tcp ? tcp_defaults : udp_defaults;
        const char *sep = " ";
        for (int i = TABLE_COLUMNS; i < SF_OPT_COUNT; i++) {
            if (!sockinfo_differs(&s[k], d, i) || (s[k].peer_len && kernel_tuned(i)))
                continue;
            char v[32];
            print_value(v, sizeof v, &s[k], i);
            printf("%s%s=%s", sep, sf_options[i].key, v);
            sep = ",";
        }
        if (*sep == ' ')
            printf(" -");
        printf("\n");
    }
}

static void print_json(pid_t pid, const char *program, const struct sockinfo *s, size_t n)
{
    printf("{\"pid\": %d, \"program\": ", (int)pid);
    print_json_string(program);
    printf(", \"sockets\": [");
    for (size_t k = 0; k < n; k++) {
        char local[64], remote[64];
        sockaddr_text(&s[k].local, local, sizeof local);
        printf("%s\n  {\"fd\": %d, \"type\": \"%s\", \"family\": \"%s\", \"role\": \"%s\", "
               "\"local\": \"%s\", \"remote\": ",
               k ? "," : "", s[k].fd, s[k].tcp ? "tcp" : "udp", s[k].ipv6 ? "ipv6" : "ipv4",
               s[k].role, local);
        if (s[k].peer_len) {
            sockaddr_text(&s[k].peer, remote, sizeof remote);
            printf("\"%s\"", remote);
        } else {
            printf("null");
        }
        printf(", \"options\": {");
        bool first = true;
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            if (!s[k].have[i])
                continue;
            printf("%s\"%s\": ", first ? "" : ", ", sf_options[i].key);
            if (sf_options[i].kind == SF_VAL_BOOL)
                printf("%s", s[k].value[i] ? "true" : "false");
            else if (sf_options[i].kind == SF_VAL_NAME)
                print_json_string(s[k].names[i]);
            else if (sf_options[i].kind == SF_VAL_U32)
                printf("%u", (unsigned)s[k].value[i]);
            else
                printf("%d", s[k].value[i]);
            first = false;
        }
        printf("}}");
    }
    printf("%s]}\n", n ? "\n" : "");
}

int cmd_inspect(int argc, char **argv)
{
    if (help_requested("inspect", argc, argv))
        return EXIT_OK;
    bool json = false;
    const char *pid_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-')
            return usage_error("inspect", "unknown option \"%s\"", argv[i]);
        else if (pid_arg)
            return usage_error("inspect", "unexpected argument \"%s\"", argv[i]);
        else
            pid_arg = argv[i];
    }
    pid_t pid;
    int r = parse_pid("inspect", pid_arg, &pid);
    if (r != EXIT_OK)
        return r;

    struct procsock_walk w;
    if (procsock_begin(&w, "inspect", pid) != 0)
        return EXIT_FINDINGS;
    struct listen_ports *lp = malloc(sizeof *lp);
    struct sockinfo *socks = calloc(w.nfds ? w.nfds : 1, sizeof *socks);
    if (!lp || !socks) {
        fprintf(stderr, "sockfix inspect: out of memory\n");
        free(lp);
        free(socks);
        procsock_end(&w);
        return EXIT_FINDINGS;
    }
    listen_ports_load(lp, pid);
    size_t n = 0;
    int status = EXIT_OK, fd, dup;
    bool failed;
    while ((dup = procsock_next(&w, &fd, &failed)) >= 0) {
        if (sockinfo_read(dup, lp, &socks[n]))
            socks[n++].fd = fd;
        close(dup);
    }
    if (failed)
        status = EXIT_FINDINGS;
    procsock_end(&w);
    if (status == EXIT_OK) {
        char program[64];
        procsock_comm(pid, program, sizeof program);
        if (json)
            print_json(pid, program, socks, n);
        else if (n == 0)
            printf("PID %d (%s) has no TCP or UDP socket\n", (int)pid, program);
        else {
            struct sockinfo tcp_defaults, udp_defaults;
            sockinfo_defaults(&tcp_defaults, &udp_defaults, lp);
            printf("PID %d (%s)\n", (int)pid, program);
            print_text(socks, n, &tcp_defaults, &udp_defaults);
        }
    }
    free(lp);
    free(socks);
    return status;
}
