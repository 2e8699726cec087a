/* Logs that survive daemons: log_target = file:/path and syslog[:/socket]
 * (SOCKFIX_LOG_TARGET overrides), one write per line, and a rate limit on
 * repeated warnings. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TestSuite(logging, .timeout = 60);

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/sockfix-log-XXXXXX");
    cr_assert(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    cr_assert(f, "%s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

/* Every line "sockfix[PID]: ..."; returns the number of lines and of PIDs. */
static void count_lines(const char *text, int *lines, int *pids)
{
    int seen[64], nseen = 0;
    *lines = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        cr_assert(eol, "a line without its end: %s", p);
        cr_assert(strncmp(p, "sockfix[", 8) == 0, "not a log line: %.*s", (int)(eol - p), p);
        int pid = atoi(p + 8);
        bool known = false;
        for (int i = 0; i < nseen; i++)
            known |= seen[i] == pid;
        if (!known && nseen < 64)
            seen[nseen++] = pid;
        (*lines)++;
        p = eol + 1;
    }
    *pids = nseen;
}

Test(logging, a_file_target_gets_every_process_line_by_line)
{
    make_dir();
    char policy[512], log[128], policy_path[128];
    snprintf(log, sizeof log, "%s/sockfix.log", dir);
    snprintf(policy, sizeof policy,
             "[sockfix]\nlog = info\nlog_target = file:%s\n[all]\nkeepidle = 44\n", log);
    snprintf(policy_path, sizeof policy_path, "%s/policy.ini", dir);
    FILE *f = fopen(policy_path, "we");
    fputs(policy, f);
    fclose(f);
    char config[256];
    snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", policy_path);
    const char *env[] = {"PATH=/usr/bin:/bin", "LD_PRELOAD=" SHIM_PRELOAD, config, NULL};
    struct run_result r;
    run_program(TORTURE, ARGS(TORTURE, "fork"), env, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_empty(r.err, "nothing on stderr");
    static char text[65536];
    slurp(log, text, sizeof text);
    int lines, pids;
    count_lines(text, &lines, &pids);
    cr_expect_eq(pids, 3, "parent and two children:\n%s", text);
    cr_expect_eq(lines, 3 * 2, "listen and connect (nothing per accepted socket), thrice:\n%s",
                 text);
    struct stat st;
    cr_assert(stat(log, &st) == 0);
    cr_expect_eq(st.st_mode & 0777, 0640);

    /* A daemon that closed every descriptor (stderr is /dev/null) still logs. */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert(mkfifo(fifo, 0600) == 0);
    cr_assert(truncate(log, 0) == 0);
    run_program(TORTURE, ARGS(TORTURE, "daemon", fifo), env, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    int fd = open(fifo, O_RDONLY | O_CLOEXEC);
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    slurp(log, text, sizeof text);
    cr_expect(strstr(text, "]: listen fd="), "the daemon's lines:\n%s", text);
    cr_expect(strstr(text, "]: connect fd="), "%s", text);
    remove_dir();
}

static int bind_syslog(const char *path)
{
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    cr_assert(strlen(path) < sizeof un.sun_path);
    memcpy(un.sun_path, path, strlen(path) + 1);
    cr_assert(bind(s, (struct sockaddr *)&un, sizeof un) == 0);
    return s;
}

Test(logging, syslog_datagrams_with_priority_and_no_newline)
{
    SKIP_UNDER_QEMU("seccomp filters (the helper's --deny-setsockopt)");
    make_dir();
    char sock[128], target[160];
    snprintf(sock, sizeof sock, "%s/log", dir);
    snprintf(target, sizeof target, "SOCKFIX_LOG_TARGET=syslog:%s", sock);
    int s = bind_syslog(sock);
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[sockfix]\nlog_target = stderr\n[r]\nkeepidle = 33\n",
                                 .log = "info",
                                 .extra_env = {target}},
              ARGS("--deny-setsockopt", "pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_empty(r.err, "the environment overrides the policy's stderr");
    char msg[2048], want[256];
    int warnings = 0, infos = 0;
    for (ssize_t n; (n = recv(s, msg, sizeof msg - 1, MSG_DONTWAIT)) > 0;) {
        msg[n] = '\0';
        cr_expect_null(strchr(msg, '\n'), "%s", msg);
        snprintf(want, sizeof want, "<28>sockfix[%d]: ", (int)r.pid); /* daemon.warning */
        warnings += strncmp(msg, want, strlen(want)) == 0;
        snprintf(want, sizeof want, "<30>sockfix[%d]: ", (int)r.pid); /* daemon.info */
        infos += strncmp(msg, want, strlen(want)) == 0;
    }
    cr_expect_geq(warnings, 2, "the failed setsockopt calls");
    close(s);
    remove_dir();
    (void)infos;
}

Test(logging, without_the_syslog_socket_lines_go_to_stderr)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[sockfix]\nlog_target = syslog:/nonexistent/log\n"
                                           "[r]\nkeepidle = 33\n",
                                 .log = "info"},
              ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.err, "]: listen fd="), "%s", r.err);
}

Test(logging, a_bad_target_is_a_policy_error)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[sockfix]\nlog_target = file:relative.log\n"},
              ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0);
    cr_expect(strstr(r.err, ":2: log_target: \"file:relative.log\" needs an absolute path (at "
                            "most 199 characters)\n"),
              "%s", r.err);
}

Test(logging, repeated_failures_are_rate_limited)
{
    SKIP_UNDER_QEMU("seccomp filters (the helper's --deny-setsockopt)");
    /* 16 threads connect at once, every setsockopt fails the same way: far
     * fewer lines than failures (one per option and errno per second). */
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[c]\nmatch.role = client\nkeepidle = 19\n"},
              ARGS("--deny-setsockopt", "race", "16"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    int lines = 0;
    for (const char *p = r.err; (p = strstr(p, "setsockopt TCP_KEEPIDLE=19s failed")); p++)
        lines++;
    cr_expect_geq(lines, 1);
    cr_expect_lt(lines, 16, "16 failures, %d lines:\n%s", lines, r.err);
}
