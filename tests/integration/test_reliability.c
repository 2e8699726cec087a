/* The shim inside hostile hosts: load from many threads, every way of making
 * processes, signal handlers, re-entry while the shim resolves its symbols,
 * and hostile policy files. Each test reads the kernel's view of the sockets
 * from inside the helper (tests/helpers/torture.c, sockprobe.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TestSuite(reliability, .timeout = 180);

/* Clients get keepidle 31, servers 32: every socket shows which rule it got. */
static const char two_roles[] = "[clients]\nmatch.role = client\nkeepidle = 31\n"
                                "[servers]\nmatch.role = server\nreuseaddr = yes\nkeepidle = 32\n";

/* Runs TORTURE under the shim with the policy in file `policy`. */
static void torture(const char *policy, const char *log, const char *const *args,
                    struct run_result *r)
{
    char config[128], loglevel[64];
    snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", policy);
    snprintf(loglevel, sizeof loglevel, "SOCKFIX_LOG=%s", log ? log : "warn");
    const char *env[] = {"PATH=/usr/bin:/bin", "LD_PRELOAD=" SHIM_PRELOAD, config, loglevel, NULL};
    const char *argv[16] = {TORTURE};
    for (int i = 0; args[i] && i < 14; i++)
        argv[i + 1] = args[i];
    run_program(TORTURE, argv, env, NULL, r);
}

static void expect_probe(const struct run_result *r, const char *who)
{
    char key[96];
    snprintf(key, sizeof key, "%s.listener.reuseaddr", who);
    cr_expect_eq(result_num(r, key), 1, "%s", key);
    snprintf(key, sizeof key, "%s.client.keepidle", who);
    cr_expect_eq(result_num(r, key), 31, "%s", key);
    snprintf(key, sizeof key, "%s.accepted.keepidle", who);
    cr_expect_eq(result_num(r, key), 32, "%s", key);
}

Test(reliability, sixteen_threads_twenty_thousand_connections)
{
    char path[64], n[16];
    write_policy(two_roles, path);
    snprintf(n, sizeof n, "%d", LOAD_CONNECTIONS);
    struct run_result r;
    torture(path, NULL, ARGS("threads", "16", n, "31", "32"), &r);
    unlink(path);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "connections"), LOAD_CONNECTIONS);
    cr_expect_eq(result_num(&r, "bad_client"), 0);
    cr_expect_eq(result_num(&r, "bad_accepted"), 0);
    cr_expect_eq(result_num(&r, "failed"), 0, "first errno %ld", result_num(&r, "first_errno"));
    cr_expect_str_eq(r.err, "");
}

Test(reliability, prefork_server_children_accept_with_the_policy)
{
    char path[64];
    write_policy(two_roles, path);
    struct run_result r;
    torture(path, NULL, ARGS("prefork", "4", "200", "32"), &r);
    unlink(path);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "children_ok"), 4);
    expect_probe(&r, "parent");
}

Test(reliability, fork_before_and_after_the_first_socket_call)
{
    char path[64];
    write_policy(two_roles, path);
    struct run_result r;
    torture(path, NULL, ARGS("fork"), &r);
    unlink(path);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_probe(&r, "early_child");
    expect_probe(&r, "parent");
    expect_probe(&r, "late_child");
}

Test(reliability, vfork_and_posix_spawn_children)
{
    char path[64];
    write_policy(two_roles, path);
    struct run_result r;
    torture(path, NULL, ARGS("vfork", "vforked"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_probe(&r, "vforked");
    torture(path, NULL, ARGS("spawn", "spawned"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_probe(&r, "spawned");
    unlink(path);
}

Test(reliability, an_exec_reads_the_policy_again_the_parent_keeps_its_own)
{
    char path[64], next[64];
    write_policy("[all]\nkeepidle = 41\n", path);
    write_policy("[all]\nkeepidle = 42\n", next);
    struct run_result r;
    torture(path, NULL, ARGS("exec-after-change", path, next), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "before.client.keepidle"), 41);
    cr_expect_eq(result_num(&r, "child.client.keepidle"), 42);
    cr_expect_eq(result_num(&r, "child.accepted.keepidle"), 42);
    cr_expect_eq(result_num(&r, "after.client.keepidle"), 41, "read once, at start");
    unlink(path);
}

Test(reliability, a_policy_deleted_after_start_still_applies_to_the_process)
{
    char path[64];
    write_policy("[all]\nkeepidle = 41\n", path);
    struct run_result r;
    torture(path, NULL, ARGS("exec-after-change", path, "-"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "after.client.keepidle"), 41);
    /* The child finds no file: it runs, unchanged, and says why. */
    cr_expect_eq(result_num(&r, "child.client.keepidle"), 7200);
    char want[256];
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    cr_expect(strstr(r.err, want), "%s", r.err);
}

Test(reliability, a_daemon_that_closes_every_descriptor)
{
    char path[64], fifo[64];
    write_policy(two_roles, path);
    snprintf(fifo, sizeof fifo, "/tmp/sockfix-fifo-%d", (int)getpid());
    unlink(fifo);
    cr_assert(mkfifo(fifo, 0600) == 0);
    struct run_result r;
    torture(path, NULL, ARGS("daemon", fifo), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    /* The daemon blocks opening the FIFO until this end opens it. */
    int fd = open(fifo, O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0);
    struct run_result d = {.pid = 0};
    size_t len = 0;
    for (ssize_t n; (n = read(fd, d.out + len, sizeof d.out - 1 - len)) > 0;)
        len += (size_t)n;
    d.out[len] = '\0';
    close(fd);
    unlink(fifo);
    unlink(path);
    expect_probe(&d, "daemon");
}

Test(reliability, socket_calls_from_a_signal_handler_during_a_hooked_call)
{
    SKIP_UNDER_QEMU("a signal landing inside a blocking accept");
    char path[64];
    write_policy(two_roles, path);
    struct run_result r;
    torture(path, NULL, ARGS("signal"), &r);
    unlink(path);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "signalled_in_accept"), 1, "the signal came during accept");
    cr_expect_eq(result_num(&r, "handler.connect"), 0);
    cr_expect_eq(result_num(&r, "accept.ok"), 1);
    cr_expect_eq(result_num(&r, "accept.errno"), 0);
    cr_expect_eq(result_num(&r, "handler.client.keepidle"), 31);
    cr_expect_eq(result_num(&r, "accepted.keepidle"), 32);
}

Test(reliability, hooks_run_while_the_shim_resolves_its_symbols)
{
    /* libdlsymhook defines dlsym and connects from inside it; the shim's
     * first lookup of its real functions therefore re-enters its hooks. */
    if (SANITIZER_PRELOAD[0])
        cr_skip_test("the sanitizer runtime resolves its own interceptors through dlsym "
                     "before it is initialised, so the hook library cannot run there");
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 64) == 0);
    cr_assert(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
    char port[32];
    snprintf(port, sizeof port, "DLSYMHOOK_PORT=%u", ntohs(a.sin_port));
    static const char policy[] = "[all]\nkeepidle = 44\n";
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy,
                                 .bare = true,
                                 .extra_env = {"LD_PRELOAD=" SHIM_PRELOAD ":" DLSYMHOOK_LIB, port}},
              ARGS("pair", "4"), &r);
    close(l);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_geq(result_num(&r, "dlsym.calls"), 1, "the shim looked its functions up");
    cr_expect_eq(result_num(&r, "dlsym.connect"), 0, "errno %ld",
                 result_num(&r, "dlsym.connect_errno"));
    cr_expect_eq(result_num(&r, "listener.keepidle"), 44);
    cr_expect_eq(result_num(&r, "accepted.keepidle"), 44);
    cr_expect_eq(result_num(&r, "client.keepidle"), 44);
}

/* ---- hostile policy files: the program runs, unchanged, told why ---- */

struct hostile {
    const char *name;
    const char *path; /* NULL: made by the test */
    const char *message;
};

static void expect_fail_open(const char *path, const char *message)
{
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = path}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s: %s%s", path, r.out, r.err);
    cr_expect_eq(result_num(&r, "client.keepidle"), 7200, "%s: unchanged", path);
    cr_expect_eq(result_num(&r, "accepted.keepalive"), 0, "%s: unchanged", path);
    char want[1024];
    snprintf(want, sizeof want,
             "sockfix[%d]: %s\nsockfix[%d]: no policy in effect; the program runs with its "
             "sockets unchanged\n",
             (int)r.pid, message, (int)r.pid);
    cr_expect_str_eq(r.err, want);
}

static void write_file(const char *path, const char *head, size_t repeat, const char *body)
{
    FILE *f = fopen(path, "we");
    cr_assert(f);
    fputs(head, f);
    for (size_t i = 0; i < repeat; i++)
        fputs(body, f);
    cr_assert(fclose(f) == 0);
}

Test(reliability, hostile_policy_files_fail_open_with_the_reason, .timeout = 120)
{
    char dir[] = "/tmp/sockfix-hostile-XXXXXX", p[128], msg[512];
    cr_assert(mkdtemp(dir));
    chmod(dir, 0755);

    snprintf(p, sizeof p, "%s/dir.ini", dir);
    cr_assert(mkdir(p, 0755) == 0);
    snprintf(msg, sizeof msg, "%s: is a directory, not a policy file", p);
    expect_fail_open(p, msg);

    snprintf(p, sizeof p, "%s/fifo.ini", dir); /* must not block */
    cr_assert(mkfifo(p, 0644) == 0);
    snprintf(msg, sizeof msg, "%s: is not a regular file", p);
    expect_fail_open(p, msg);

    expect_fail_open("/dev/zero", "/dev/zero: is not a regular file");

    snprintf(p, sizeof p, "%s/100mb.ini", dir);
    write_file(p, "", 0, "");
    cr_assert(truncate(p, 100L * 1000 * 1000) == 0);
    snprintf(msg, sizeof msg, "%s: is too large (100000000 bytes; at most 1048576)", p);
    expect_fail_open(p, msg);

    snprintf(p, sizeof p, "%s/million-sections.ini", dir);
    FILE *f = fopen(p, "we");
    for (int i = 0; i < 1000000; i++)
        fprintf(f, "[s%d]\n", i);
    fclose(f);
    snprintf(msg, sizeof msg, "%s: is too large (9888890 bytes; at most 1048576)", p);
    expect_fail_open(p, msg);

    snprintf(p, sizeof p, "%s/longline.ini", dir);
    write_file(p, "[r]\nkeepidle = ", 1000000 - 11, "x");
    snprintf(msg, sizeof msg, "%s:2: line is too long (1000000 characters; at most 197)", p);
    expect_fail_open(p, msg);

    snprintf(p, sizeof p, "%s/nul.ini", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    cr_assert(write(fd, "[r]\nkeepidle = 5\0\n", 18) == 18);
    close(fd);
    snprintf(msg, sizeof msg, "%s:2: NUL byte in line", p);
    expect_fail_open(p, msg);

    snprintf(p, sizeof p, "%s/utf8.ini", dir);
    write_file(p, "[r]\nkeepidle = \xc3\x28\x1b[2J\n", 0, "");
    snprintf(msg, sizeof msg,
             "%s:2: keepidle: \"\\xc3(\\x1b[2J\" is not a duration (use 45, 45s, 500ms, 2m or 1h)",
             p);
    expect_fail_open(p, msg);

    snprintf(p, sizeof p, "%s/\x1b[31mred.ini", dir); /* the name itself is hostile */
    write_file(p, "[r]\nkeepcnt = 0\n", 0, "");
    snprintf(msg, sizeof msg, "%s/\\x1b[31mred.ini:2: keepcnt: \"0\" is out of range (1..127)",
             dir);
    expect_fail_open(p, msg);

    /* Past 100 errors the parser stops: 20 lines are logged, then a count. */
    snprintf(p, sizeof p, "%s/errors.ini", dir);
    write_file(p, "[r]\n", 500000, "x\n");
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = p}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0);
    cr_expect_eq(result_num(&r, "client.keepidle"), 7200);
    snprintf(msg, sizeof msg, "sockfix[%d]: 81 more errors; no policy in effect", (int)r.pid);
    cr_expect(strstr(r.err, msg), "%s", r.err);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

Test(reliability, crlf_and_an_empty_file_are_policies_too)
{
    struct run_result r;
    run_probe(&(struct run_opts){.policy = "[r]\r\nmatch.role = client\r\nkeepidle = 33\r\n"},
              ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(result_num(&r, "client.keepidle"), 33);
    cr_expect_str_eq(r.err, "");
    run_probe(&(struct run_opts){.policy = ""}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(result_num(&r, "client.keepidle"), 7200, "an empty policy sets nothing");
    cr_expect_eq(result_num(&r, "listener.reuseaddr"), 0);
    cr_expect_str_eq(r.err, "");
}
