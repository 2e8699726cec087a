/* The sockfix command: every subcommand and exit status, with its exact
 * messages, and the container entrypoint. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ENV(...) ((const char *const[]){"PATH=/usr/bin:/bin", __VA_ARGS__, NULL})
#define PLAIN_ENV ((const char *const[]){"PATH=/usr/bin:/bin", NULL})

TestSuite(cli, .timeout = 60);

static void sockfix(const char *const *argv, const char *const *env, struct run_result *r)
{
    run_program(SOCKFIX_CLI, argv, env, NULL, r);
}

/* ---- top level ---- */

Test(cli, version_and_help)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "--version"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out, "sockfix " SOCKFIX_VERSION "\n");
    sockfix(ARGS("sockfix", "--help"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    for (const char *c = "check\0explain\0run\0inspect\0"; *c; c += strlen(c) + 1)
        cr_expect(strstr(r.out, c), "--help lacks %s", c);
    sockfix(ARGS("sockfix", "help", "run"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "usage: sockfix run [-c FILE]", 28) == 0, "%s", r.out);
    sockfix(ARGS("sockfix", "check", "--help"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "usage: sockfix check FILE...", 28) == 0, "%s", r.out);
}

Test(cli, usage_errors_exit_2)
{
    struct run_result r;
    sockfix(ARGS("sockfix"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(ARGS("sockfix", "frobnicate"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix: unknown command \"frobnicate\" (see 'sockfix --help')\n");
    sockfix(ARGS("sockfix", "help", "frobnicate"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(ARGS("sockfix", "check"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix check: no policy file given\n(see 'sockfix help check')\n");
    sockfix(ARGS("sockfix", "check", "-x"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(ARGS("sockfix", "explain", "--role", "both"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix explain: --role takes server or client, not \"both\"\n"
                            "(see 'sockfix help explain')\n");
    sockfix(ARGS("sockfix", "explain", "--port", "0"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(ARGS("sockfix", "run"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix run: no program given\n(see 'sockfix help run')\n");
    sockfix(ARGS("sockfix", "run", "--log", "loud", "true"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(ARGS("sockfix", "inspect"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(ARGS("sockfix", "inspect", "12x"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
}

/* ---- check ---- */

Test(cli, check_clean_files)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "check", SOURCE_DIR "/config/sockfix.ini",
                 SOURCE_DIR "/config/examples/nat-clients.ini"),
            PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, SOURCE_DIR "/config/sockfix.ini: ok, 2 rules\n" SOURCE_DIR
                                       "/config/examples/nat-clients.ini: ok, 1 rule\n");
    cr_expect_str_empty(r.err);
}

Test(cli, check_reports_every_error_of_every_file)
{
    char a[64], b[64], want[1024];
    write_policy("[r]\nkeepidle = 5x\nbogus\n[r]\n", a);
    write_policy("[sockfix]\nlog = loud\n", b);
    struct run_result r;
    sockfix(ARGS("sockfix", "check", a, SOURCE_DIR "/config/sockfix.ini", b, "/nonexistent.ini"),
            PLAIN_ENV, &r);
    cr_expect_eq(r.status, 1);
    snprintf(want, sizeof want,
             "%s:2: keepidle: \"5x\" is not a duration (use 45, 45s, 500ms, 2m or 1h)\n"
             "%s:3: expected \"key = value\" or \"[section]\"\n"
             "%s:4: duplicate section [r] (first on line 1)\n"
             "%s:2: log: \"loud\" is not a log level (use off, error, warn, info, debug)\n"
             "/nonexistent.ini: No such file or directory\n",
             a, a, a, b);
    cr_expect_str_eq(r.err, want);
    cr_expect_str_eq(r.out, SOURCE_DIR "/config/sockfix.ini: ok, 2 rules\n");
    unlink(a);
    unlink(b);
}

/* ---- explain ---- */

static const char EXPLAIN_POLICY[] = "[base]\n"              /* 1 */
                                     "keepidle = 50\n"       /* 2 */
                                     "keepcnt = 4\n"         /* 3 */
                                     "\n"                    /* 4 */
                                     "[web]\n"               /* 5 */
                                     "match.port = 8080\n"   /* 6 */
                                     "match.role = server\n" /* 7 */
                                     "reuseaddr = yes\n"     /* 8 */
                                     "keepidle = 30s\n"      /* 9 */
                                     "backlog = 512\n"       /* 10 */
                                     "[py]\n"                /* 11 */
                                     "match.program = python3*\n"
                                     "nodelay = yes\n"
                                     "user_timeout = 1500ms\n";

Test(cli, explain_a_server_socket)
{
    char path[64], want[2048];
    write_policy(EXPLAIN_POLICY, path);
    struct run_result r;
    sockfix(ARGS("sockfix", "explain", "-c", path, "--port", "8080", "--program", "python3.11"),
            PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(want, sizeof want,
             "policy:  %s\n"
             "socket:  tcp ipv4 server, local port 8080, program python3.11\n"
             "rules:   [base] line 1, [web] line 5, [py] line 11\n"
             "\n"
             "option        value    socket option     set by\n"
             "reuseaddr     yes      SO_REUSEADDR      [web] line 8, before bind\n"
             "keepalive     yes      SO_KEEPALIVE      implied by keepidle ([web] line 9), at "
             "listen; accepted sockets inherit it\n"
             "keepidle      30s      TCP_KEEPIDLE      [web] line 9, at listen; accepted sockets "
             "inherit it\n"
             "keepcnt       4        TCP_KEEPCNT       [base] line 3, at listen; accepted sockets "
             "inherit it\n"
             "user_timeout  1500ms   TCP_USER_TIMEOUT  [py] line 14, at listen; accepted sockets "
             "inherit it\n"
             "nodelay       yes      TCP_NODELAY       [py] line 13, at listen; accepted sockets "
             "inherit it\n"
             "backlog       512      listen backlog    [web] line 10, replaces the listen() "
             "backlog\n",
             path);
    cr_expect_str_eq(r.out, want);
    unlink(path);
}

Test(cli, explain_a_client_without_port_or_program)
{
    char path[64], want[1024];
    write_policy(EXPLAIN_POLICY, path);
    struct run_result r;
    sockfix(ARGS("sockfix", "explain", "--config", path, "--role", "client", "--family", "ipv6"),
            PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(want, sizeof want,
             "policy:  %s\n"
             "socket:  tcp ipv6 client, any port (rules with match.port not considered), any "
             "program (rules with match.program not considered)\n"
             "rules:   [base] line 1\n"
             "\n"
             "option        value    socket option     set by\n"
             "keepalive     yes      SO_KEEPALIVE      implied by keepidle ([base] line 2), "
             "before connect\n"
             "keepidle      50s      TCP_KEEPIDLE      [base] line 2, before connect\n"
             "keepcnt       4        TCP_KEEPCNT       [base] line 3, before connect\n",
             path);
    cr_expect_str_eq(r.out, want);
    sockfix(ARGS("sockfix", "explain", "-c", path, "--type", "udp"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "rules:   none match\n\nNo option is set on such a socket.\n"), "%s",
              r.out);
    unlink(path);
}

Test(cli, explain_by_address)
{
    char path[64];
    write_policy("[db]\nmatch.role = client\nmatch.address = 10.1.0.0/16\nkeepidle = 30s\n", path);
    struct run_result r;
    sockfix(ARGS("sockfix", "explain", "-c", path, "--role", "client", "--address", "10.1.2.3"),
            PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "address: 10.1.2.3 (remote)\nrules:   [db] line 1\n"), "%s", r.out);
    cr_expect(
        strstr(r.out, "\nkeepidle      30s      TCP_KEEPIDLE      [db] line 4, before connect\n"),
        "%s", r.out);
    sockfix(
        ARGS("sockfix", "explain", "-c", path, "--role", "client", "--address", "::ffff:10.2.0.1"),
        PLAIN_ENV, &r);
    cr_expect(strstr(r.out, "rules:   none match\n"), "%s", r.out);
    sockfix(ARGS("sockfix", "explain", "-c", path, "--role", "client"), PLAIN_ENV, &r);
    cr_expect(strstr(r.out, "address: any (rules with match.address not considered; see "
                            "--address)\n"),
              "%s", r.out);
    sockfix(ARGS("sockfix", "explain", "-c", path, "--address", "10.1"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    unlink(path);
}

Test(cli, explain_refuses_a_broken_policy)
{
    char path[64], want[256];
    write_policy("[r]\nkeepcnt = 0\n", path);
    struct run_result r;
    sockfix(ARGS("sockfix", "explain", "-c", path), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 78);
    snprintf(want, sizeof want,
             "%s:2: keepcnt: \"0\" is out of range (1..127)\n"
             "sockfix explain: the policy has errors; no rule would apply\n",
             path);
    cr_expect_str_eq(r.err, want);
    unlink(path);
}

/* ---- run ---- */

Test(cli, run_keeps_pid_argv_exit_status_and_existing_preload)
{
    char path[64], preload[256];
    write_policy("[r]\nkeepidle = 9\n", path);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", EMPTY_LIB);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "-c", path, "--log", "info", "--strict", "--", SOCKPROBE, "self",
                 "a b", "--help", ""),
            ENV(preload, "SOCKPROBE_EXIT=42"), &r);
    cr_assert_eq(r.status, 42, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "pid"), r.pid, "exec keeps the PID");
    cr_expect_str_eq(result_get(&r, "argv0"), SOCKPROBE);
    cr_expect_str_eq(result_get(&r, "argv1"), "self");
    cr_expect_str_eq(result_get(&r, "argv2"), "a b");
    cr_expect_str_eq(result_get(&r, "argv3"), "--help");
    cr_expect_str_eq(result_get(&r, "argv4"), "");
    cr_expect_null(result_get(&r, "argv5"));
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), SOCKFIX_LIB ":" EMPTY_LIB);
    cr_expect_str_eq(result_get(&r, "SOCKFIX_CONFIG"), path);
    cr_expect_str_eq(result_get(&r, "SOCKFIX_LOG"), "info");
    cr_expect_str_eq(result_get(&r, "SOCKFIX_STRICT"), "1");
    cr_expect_str_empty(r.err);
    unlink(path);
}

Test(cli, run_applies_the_policy)
{
    char path[64];
    write_policy("[r]\nkeepidle = 9\nkeepcnt = 2\n", path);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "-c", path, SOCKPROBE, "pair", "4"), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "listener.keepidle"), 9);
    cr_expect_eq(result_num(&r, "accepted.keepcnt"), 2);
    cr_expect_eq(result_num(&r, "client.keepidle"), 9);
    unlink(path);
}

Test(cli, socket_activation_listener_gets_the_policy)
{
    /* A launcher binds, sets LISTEN_FDS/LISTEN_PID and execs `sockfix run`,
     * which execs the service: same PID, the listener never passes through
     * socket, bind or listen under the shim. */
    char path[64];
    write_policy("[srv]\nmatch.role = server\nkeepidle = 61\n"
                 "[cli]\nmatch.role = client\nkeepidle = 62\n",
                 path);
    struct run_result r;
    const char *argv[] = {SOCKPROBE, "activate", SOCKFIX_CLI, "run",       "-c",
                          path,      "--",       SOCKPROBE,   "activated", NULL};
    run_program(SOCKPROBE, argv, PLAIN_ENV, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "activated.pid"), r.pid, "exec kept the PID");
    cr_expect_eq(result_num(&r, "listener.keepidle"), 7200, "never listened under the shim");
    cr_expect_eq(result_num(&r, "accepted.keepidle"), 61);
    cr_expect_eq(result_num(&r, "accepted.keepalive"), 1);
    cr_expect_eq(result_num(&r, "client.keepidle"), 62);
    unlink(path);
}

static const char MUSL_POLICY[] = "[c]\nmatch.role = client\nkeepidle = 31\n"
                                  "[s]\nmatch.role = server\nreuseaddr = yes\nkeepidle = 32\n";

Test(cli, run_picks_the_musl_library_for_a_musl_program)
{
    if (!TORTURE_MUSL[0])
        cr_skip_test("musl-gcc is not installed (scripts/deps.sh installs musl-tools)");
    char path[64];
    write_policy(MUSL_POLICY, path);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "-c", path, TORTURE_MUSL, "probe", "musl"), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "musl.listener.reuseaddr"), 1);
    cr_expect_eq(result_num(&r, "musl.client.keepidle"), 31);
    cr_expect_eq(result_num(&r, "musl.accepted.keepidle"), 32);
    cr_expect_str_empty(r.err);
    /* threads and fork under musl too */
    sockfix(ARGS("sockfix", "run", "-c", path, TORTURE_MUSL, "threads", "16", "2000", "31", "32"),
            PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "connections"), 2000);
    cr_expect_eq(result_num(&r, "bad_client") + result_num(&r, "bad_accepted"), 0);
    sockfix(ARGS("sockfix", "run", "-c", path, TORTURE_MUSL, "fork"), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "early_child.client.keepidle"), 31);
    cr_expect_eq(result_num(&r, "late_child.accepted.keepidle"), 32);
    unlink(path);
}

Test(cli, run_without_a_musl_library_starts_a_musl_program_unchanged)
{
    if (!TORTURE_MUSL[0])
        cr_skip_test("musl-gcc is not installed (scripts/deps.sh installs musl-tools)");
    char dir[] = "/tmp/sockfix-nomusl-XXXXXX", lib[128], env_lib[160], path[64], cmd[512];
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/libsockfix.so", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SOCKFIX_LIB, lib);
    cr_assert(system(cmd) == 0);
    snprintf(env_lib, sizeof env_lib, "SOCKFIX_LIBRARY=%s", lib);
    write_policy(MUSL_POLICY, path);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "-c", path, TORTURE_MUSL, "probe", "musl"),
            ((const char *const[]){"PATH=/usr/bin:/bin", env_lib, NULL}), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "musl.client.keepidle"), 7200);
    cr_expect_str_eq(r.err, "sockfix run: warning: " TORTURE_MUSL
                            " is linked against musl (/lib/ld-musl-x86_64.so.1) and this "
                            "installation has no libsockfix-musl.so: the policy will not apply\n");
    unlink(path);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

Test(cli, systemd_dropin_writes_the_environment_of_a_unit)
{
    char root[] = "/tmp/sockfix-systemd-XXXXXX", policy[256], cmd[512];
    cr_assert(mkdtemp(root));
    /* a policy path systemd must not read as specifiers or quotes */
    snprintf(policy, sizeof policy, "%s/my 100%% \"policy\".ini", root);
    FILE *f = fopen(policy, "we");
    fputs("[r]\nkeepidle = 30s\n", f);
    fclose(f);
    struct run_result r;
    sockfix(ARGS("sockfix", "systemd-dropin", "legacy", "-c", policy, "--root", root), PLAIN_ENV,
            &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char file[512], want[2048];
    snprintf(file, sizeof file, "%s/etc/systemd/system/legacy.service.d/sockfix.conf", root);
    snprintf(want, sizeof want,
             "wrote %s\nnow run: systemctl daemon-reload && systemctl restart legacy.service\n",
             file);
    cr_expect_str_eq(r.out, want);
    char text[2048] = "";
    f = fopen(file, "re");
    cr_assert(f);
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    snprintf(want, sizeof want,
             "# Written by sockfix systemd-dropin: legacy.service runs with libsockfix.so "
             "preloaded.\n"
             "# To undo: remove this file, then systemctl daemon-reload and restart the unit.\n"
             "[Service]\n"
             "Environment=\"LD_PRELOAD=%s\"\n"
             "Environment=\"SOCKFIX_CONFIG=%s/my 100%%%% \\\"policy\\\".ini\"\n",
             SOCKFIX_LIB, root);
    cr_expect_str_eq(text, want);

    /* a unit with its own suffix keeps it; bad names and policies are refused */
    sockfix(ARGS("sockfix", "systemd-dropin", "worker@1.service", "--root", root), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0, "%s", r.err);
    snprintf(file, sizeof file, "%s/etc/systemd/system/worker@1.service.d/sockfix.conf", root);
    cr_expect(access(file, R_OK) == 0);
    sockfix(ARGS("sockfix", "systemd-dropin", "../evil", "--root", root), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix systemd-dropin: \"../evil\" is not a unit name\n"
                            "(see 'sockfix help systemd-dropin')\n");
    char bad[128];
    write_policy("[r]\nkeepidle = soon\n", bad);
    sockfix(ARGS("sockfix", "systemd-dropin", "legacy2", "-c", bad, "--root", root), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 78);
    snprintf(file, sizeof file, "%s/etc/systemd/system/legacy2.service.d", root);
    cr_expect_neq(access(file, F_OK), 0, "nothing written");
    unlink(bad);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert(system(cmd) == 0);
}

Test(cli, run_keeps_a_sanitizer_runtime_first)
{
    /* An ASan-built service refuses to start unless libasan comes first. */
    char dir[] = "/tmp/sockfix-asan-XXXXXX", asan[128], env[200], cmd[512], want[512];
    cr_assert(mkdtemp(dir));
    snprintf(asan, sizeof asan, "%s/libasan.so.8", dir); /* a stand-in with the name */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", EMPTY_LIB, asan);
    cr_assert(system(cmd) == 0);
    snprintf(env, sizeof env, "LD_PRELOAD=%s:%s", EMPTY_LIB, asan);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", SOCKPROBE, "self"),
            ((const char *const[]){"PATH=/usr/bin:/bin", env, NULL}), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    snprintf(want, sizeof want, "%s:%s:%s", asan, SOCKFIX_LIB, EMPTY_LIB);
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), want);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

Test(cli, run_exports_an_absolute_policy_path)
{
    char dir[] = "/tmp/sockfix-run-XXXXXX";
    cr_assert(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof file, "%s/p.ini", dir);
    FILE *f = fopen(file, "w");
    fputs("[r]\nkeepcnt = 3\n", f);
    fclose(f);
    struct run_result r;
    run_program(SOCKFIX_CLI, ARGS("sockfix", "run", "-c", "p.ini", "--", SOCKPROBE, "self"),
                PLAIN_ENV, dir, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_eq(result_get(&r, "SOCKFIX_CONFIG"), file);
    unlink(file);
    rmdir(dir);
}

Test(cli, run_does_not_preload_twice)
{
    char preload[256];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", SOCKFIX_LIB);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", SOCKPROBE, "self"), ENV(preload), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), SOCKFIX_LIB);
}

Test(cli, run_refuses_a_broken_policy_with_78)
{
    char path[64], want[256];
    write_policy("[r]\nnodelay = maybe\n", path);
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "-c", path, "--", SOCKPROBE, "self"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 78);
    cr_expect_str_empty(r.out, "the program must not start");
    snprintf(want, sizeof want,
             "%s:2: nodelay: \"maybe\" is not a boolean (use yes/no, on/off, true/false, 1/0)\n"
             "sockfix run: the policy has errors; %s was not started\n",
             path, SOCKPROBE);
    cr_expect_str_eq(r.err, want);
    unlink(path);
}

Test(cli, run_warns_about_a_static_program)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "--", SOCKPROBE_STATIC, "self"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.err, "sockfix run: warning: " SOCKPROBE_STATIC
                            " is statically linked (no ELF interpreter): LD_PRELOAD cannot "
                            "reach it, so the policy will not apply\n");
    cr_expect(result_get(&r, "pid"), "the program still runs");
}

Test(cli, run_warns_about_a_program_without_socket_calls)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "true"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.err, "sockfix run: warning: true imports neither a socket call nor dlopen "
                            "from libc, itself or through its libraries: the policy applies only "
                            "to sockets made by programs it starts\n");
    /* a program that reaches socket calls through a library is fine */
    sockfix(ARGS("sockfix", "run", SOCKPROBE, "self"), PLAIN_ENV, &r);
    cr_expect_str_empty(r.err);
}

Test(cli, run_reports_a_missing_program_with_127)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "--", "/nonexistent/prog"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 127);
    cr_expect_str_eq(r.err, "sockfix run: /nonexistent/prog: No such file or directory\n");
}

/* ---- inspect ---- */

Test(cli, inspect_shows_what_the_kernel_holds)
{
    struct held h;
    start_held(false, NULL, "4", &h);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    struct run_result r;
    sockfix(ARGS("sockfix", "inspect", pid), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char line[256];
    snprintf(line, sizeof line, "PID %d (sockprobe)\n", (int)h.pid);
    cr_expect(strncmp(r.out, line, strlen(line)) == 0, "%s", r.out);
    /* both ports are ephemeral and no listener has the client's: a doubt, marked */
    snprintf(line, sizeof line,
             "\n%-4ld tcp  client*  127.0.0.1:", result_num(&h.result, "client.fd"));
    const char *client = strstr(r.out, line);
    cr_assert(client, "%s", r.out);
    cr_expect(
        strstr(client,
               " no        no        yes       123s     17s       4       6s           no     "),
        "%s", r.out);
    snprintf(line, sizeof line, "\n%-4ld tcp  listener 127.0.0.1:%ld",
             result_num(&h.result, "listener.fd"), result_num(&h.result, "port"));
    cr_expect(strstr(r.out, line), "%s", r.out);
    snprintf(line, sizeof line, "\n%-4ld tcp  server   127.0.0.1:%ld",
             result_num(&h.result, "accepted.fd"), result_num(&h.result, "port"));
    cr_expect(strstr(r.out, line), "%s", r.out);
    snprintf(line, sizeof line, "\n%-4ld udp  bound    127.0.0.1:%ld",
             result_num(&h.result, "udp.fd"), result_num(&h.result, "udp.port"));
    cr_expect(strstr(r.out, line), "%s", r.out);
    stop_held(&h);
}

Test(cli, inspect_lists_other_options_that_differ_from_a_fresh_socket)
{
    char policy[64], pid[16];
    write_policy("[servers]\nmatch.role = server\ndscp = af21\nlinger = 5s\n", policy);
    struct held h;
    start_held(true, policy, "4", &h);
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    struct run_result r;
    sockfix(ARGS("sockfix", "inspect", pid), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char line[128];
    snprintf(line, sizeof line, "\n%-4ld tcp  listener ", result_num(&h.result, "listener.fd"));
    const char *listener = strstr(r.out, line);
    cr_assert(listener, "%s", r.out);
    const char *eol = strchr(listener + 1, '\n');
    cr_assert(eol);
    /* SO_PRIORITY follows the TOS on Linux (af21 -> priority 2) */
    static const char other[] = " linger=5s,tos=72,priority=2";
    cr_expect(eol - listener > (long)sizeof other &&
                  memcmp(eol - (sizeof other - 1), other, sizeof other - 1) == 0,
              "%.*s", (int)(eol - listener), listener);
    stop_held(&h);
    unlink(policy);
}

Test(cli, inspect_json_parses_back)
{
    char policy[64];
    write_policy("[srv]\nmatch.role = server\nkeepidle = 71\nbacklog = 300\n", policy);
    struct held h;
    start_held(true, policy, "6", &h);
    char pid[16], cmd[1024];
    snprintf(pid, sizeof pid, "%d", (int)h.pid);
    struct run_result r;
    sockfix(ARGS("sockfix", "inspect", pid, "--json"), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char json[64];
    write_policy(r.out, json); /* any file will do */
    /* python3 parses it and prints facts we compare */
    snprintf(
        cmd, sizeof cmd,
        "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
        "s={x[\"role\"]: x for x in d[\"sockets\"]}; "
        "print(d[\"pid\"], d[\"program\"], len(d[\"sockets\"]), "
        "s[\"listener\"][\"options\"][\"keepidle\"], s[\"listener\"][\"options\"][\"backlog\"], "
        "s[\"listener\"][\"family\"], s[\"listener\"][\"remote\"], "
        "s[\"server\"][\"options\"][\"keepidle\"], s[\"server\"][\"options\"][\"nodelay\"], "
        "s[\"client\"][\"options\"][\"keepidle\"], s[\"client\"][\"options\"][\"user_timeout\"], "
        "s[\"bound\"][\"type\"], \"keepidle\" in s[\"bound\"][\"options\"])' %s",
        json);
    FILE *p = popen(cmd, "r");
    char got[256] = "", want[256];
    cr_assert(fgets(got, sizeof got, p), "python3 could not parse:\n%s", r.out);
    cr_assert_eq(pclose(p), 0, "%s", r.out);
    snprintf(want, sizeof want, "%d sockprobe 4 71 300 ipv6 None 71 True 123 6000 udp False\n",
             (int)h.pid);
    cr_expect_str_eq(got, want, "%s", r.out);
    stop_held(&h);
    unlink(json);
    unlink(policy);
}

Test(cli, inspect_a_missing_process)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "inspect", "1073741823"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "sockfix inspect: no process with PID 1073741823\n");
}

Test(cli, inspect_without_permission)
{
    if (getuid() != 0)
        cr_skip_test("needs root to run the inspector as another user");
    /* The inspector runs as nobody; the target (this test's helper) as root. */
    struct held h;
    start_held(false, NULL, "4", &h);
    char cmd[512], out[512] = "";
    snprintf(
        cmd, sizeof cmd,
        "setpriv --reuid=65534 --regid=65534 --clear-groups %s inspect %d 2>&1; echo status=$?",
        SOCKFIX_CLI, (int)h.pid);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    stop_held(&h);
    char want[512];
    snprintf(want, sizeof want,
             "sockfix inspect: not permitted to reach the sockets of PID %d: this needs ptrace "
             "access to it (PTRACE_MODE_ATTACH_REALCREDS): root or CAP_SYS_PTRACE, or the same "
             "user where kernel.yama.ptrace_scope allows it\n"
             "status=1\n",
             (int)h.pid);
    cr_expect_str_eq(out, want);
}

/* ---- telling the truth ---- */

Test(cli, run_says_nothing_it_cannot_know_about_dlopened_socket_code)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "--", DLSOCK), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_eq(result_get(&r, "socket"), "1");
    cr_expect_str_empty(r.err);
    if (access("/usr/bin/java", X_OK) == 0) { /* a real one: the JVM loads its socket code */
        sockfix(ARGS("sockfix", "run", "--", "/usr/bin/java", "-version"), PLAIN_ENV, &r);
        cr_expect_null(strstr(r.err, "sockfix run: warning"), "%s", r.err);
    }
}

Test(cli, run_warns_about_io_uring)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "--", URING), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_str_eq(r.err, "sockfix run: warning: " URING " uses io_uring (io_uring_queue_init): "
                            "sockets it makes through io_uring do not pass through libc, and the "
                            "policy does not reach them (sockfix apply reaches them once they "
                            "exist)\n");
}

/* A copy of sockprobe in a directory anyone can reach. */
static void public_copy(char dir[64], char file[128])
{
    strcpy(dir, "/tmp/sockfix-secure-XXXXXX");
    cr_assert(mkdtemp(dir));
    cr_assert(chmod(dir, 0755) == 0);
    snprintf(file, 128, "%s/sockprobe", dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SOCKPROBE, file);
    cr_assert(system(cmd) == 0);
}

static void run_as_nobody(const char *file, struct run_result *r)
{
    run_program("/usr/bin/setpriv",
                ARGS("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SOCKFIX_CLI,
                     "run", "--", file, "self"),
                PLAIN_ENV, NULL, r);
}

Test(cli, run_warns_about_setuid_and_file_capabilities)
{
    if (geteuid() != 0)
        cr_skip_test("needs root, to make a set-user-ID copy and run it as another user");
    char dir[64], file[128], want[512], cmd[256];
    public_copy(dir, file);
    struct run_result r;
    run_as_nobody(file, &r);
    cr_expect_str_empty(r.err, "a plain copy: no warning");
    cr_assert(chmod(file, 04755) == 0);
    run_as_nobody(file, &r);
    snprintf(want, sizeof want,
             "sockfix run: warning: %s is set-user-ID (owner uid 0): run by this user, the loader "
             "ignores LD_PRELOAD for it, so the policy will not apply (sockfix apply reaches its "
             "sockets once it runs)\n",
             file);
    cr_expect_str_eq(r.err, want);
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), "(unset)", "the loader dropped it indeed");
    cr_assert(chmod(file, 0755) == 0);
    if (access("/usr/sbin/setcap", X_OK) == 0) {
        snprintf(cmd, sizeof cmd, "/usr/sbin/setcap cap_net_bind_service+ep '%s'", file);
        cr_assert(system(cmd) == 0);
        run_as_nobody(file, &r);
        snprintf(want, sizeof want,
                 "sockfix run: warning: %s has file capabilities: run by this user, the loader "
                 "ignores LD_PRELOAD for it, so the policy will not apply (sockfix apply reaches "
                 "its sockets once it runs)\n",
                 file);
        cr_expect_str_eq(r.err, want);
    }
    /* root runs a set-user-ID-root program with its own uid: LD_PRELOAD works */
    cr_assert(chmod(file, 04755) == 0);
    sockfix(ARGS("sockfix", "run", "--", file, "self"), PLAIN_ENV, &r);
    cr_expect_str_empty(r.err);
    unlink(file);
    rmdir(dir);
}

Test(cli, sockfix_library_must_name_a_shared_object)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "run", "--", SOCKPROBE, "self"),
            ENV("SOCKFIX_LIBRARY=/nonexistent/libsockfix.so"), &r);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "sockfix run: SOCKFIX_LIBRARY=/nonexistent/libsockfix.so: No such "
                            "file or directory\n");
    sockfix(ARGS("sockfix", "run", "--", SOCKPROBE, "self"), ENV("SOCKFIX_LIBRARY=/etc/passwd"),
            &r);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "sockfix run: SOCKFIX_LIBRARY=/etc/passwd: is not an ELF file\n");
    sockfix(ARGS("sockfix", "run", "--", SOCKPROBE, "self"), ENV("SOCKFIX_LIBRARY=" SOCKPROBE), &r);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "sockfix run: SOCKFIX_LIBRARY=" SOCKPROBE
                            ": is a position-independent executable, not a shared object\n");
    sockfix(ARGS("sockfix", "systemd-dropin", "x", "--root", "/nonexistent"),
            ENV("SOCKFIX_LIBRARY=/etc/passwd"), &r);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err,
                     "sockfix systemd-dropin: SOCKFIX_LIBRARY=/etc/passwd: is not an ELF file\n");
}

Test(cli, check_reads_standard_input)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "printf '[r]\\nkeepidle = 30\\n' | %s check -", SOCKFIX_CLI);
    struct run_result r;
    run_program("/bin/sh", ARGS("sh", "-c", cmd), PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "(standard input): ok, 1 rule\n");
    snprintf(cmd, sizeof cmd, "printf '[r]\\nkeepidle = soon\\n' | %s check -", SOCKFIX_CLI);
    run_program("/bin/sh", ARGS("sh", "-c", cmd), PLAIN_ENV, NULL, &r);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "(standard input):2: keepidle: \"soon\" is not a duration (use 45, "
                            "45s, 500ms, 2m or 1h)\n");
    sockfix(ARGS("sockfix", "check", "-", "-"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
}

Test(cli, check_takes_files_after_double_dash)
{
    char path[64];
    write_policy("[r]\nkeepidle = 30\n", path);
    struct run_result r;
    sockfix(ARGS("sockfix", "check", "--", path), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0, "%s", r.err);
    char want[128];
    snprintf(want, sizeof want, "%s: ok, 1 rule\n", path);
    cr_expect_str_eq(r.out, want);
    sockfix(ARGS("sockfix", "check", path, "--quiet"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix check: unknown or incomplete option \"--quiet\"\n"
                            "(see 'sockfix help check')\n");
}

/* The sysctl each option row names as its cap, read on this machine. */
Test(cli, a_backlog_above_somaxconn_is_warned_about)
{
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
    long somaxconn = 0;
    cr_assert(f && fscanf(f, "%ld", &somaxconn) == 1);
    fclose(f);
    if (somaxconn >= 65535)
        cr_skip_test("net.core.somaxconn is at the largest backlog a policy may ask for");
    char path[64], text[128], want[512];
    snprintf(text, sizeof text, "[r]\nbacklog = %ld\n[s]\nbacklog = %ld\n", somaxconn,
             somaxconn + 1);
    write_policy(text, path);
    struct run_result r;
    sockfix(ARGS("sockfix", "check", path), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    snprintf(want, sizeof want,
             "%s:4: backlog: %ld is above net.core.somaxconn (%ld); the kernel caps it (warning)\n",
             path, somaxconn + 1, somaxconn);
    cr_expect_str_eq(r.err, want);
}

Test(cli, timers_with_keepalive_off_are_warned_about)
{
    char path[64], want[512];
    static const char policy[] = "[off]\nkeepalive = no\nkeepidle = 5\nkeepcnt = 3\n";
    write_policy(policy, path);
    struct run_result r;
    sockfix(ARGS("sockfix", "check", path), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 0);
    snprintf(want, sizeof want,
             "%s:2: keepalive = no switches keepalive off and drops the timers this rule also sets "
             "(keepidle line 3, keepcnt line 4): they have no effect (warning)\n",
             path);
    cr_expect_str_eq(r.err, want);
    /* the library says it too, when it loads the policy */
    run_probe(&(struct run_opts){.config_path = path}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(want, sizeof want,
             "%s:2: keepalive = no switches keepalive off and drops the timers this rule also sets "
             "(keepidle line 3, keepcnt line 4): they have no effect",
             path);
    cr_expect_str_eq(r.err, log_line(&r, want));
    cr_expect_eq(result_num(&r, "listener.keepalive"), 0);
    unlink(path);
}

Test(cli, messages_quote_what_they_repeat)
{
    struct run_result r;
    sockfix(ARGS("sockfix", "explain", "--role", "a\"b"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix explain: --role takes server or client, not \"a\\x22b\"\n"
                            "(see 'sockfix help explain')\n");
    sockfix(ARGS("sockfix", "inspect", "--x\"y"), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix inspect: unknown or incomplete option \"--x\\x22y\"\n"
                            "(see 'sockfix help inspect')\n");
    sockfix(ARGS("sockfix", "no\"such"), PLAIN_ENV, &r);
    cr_expect_str_eq(r.err, "sockfix: unknown command \"no\\x22such\" (see 'sockfix --help')\n");
}

Test(cli, explain_address_and_family_agree_with_the_readme)
{
    char path[64];
    write_policy("[v6]\nmatch.family = ipv6\nkeepidle = 61\n[v4]\nmatch.family = ipv4\n"
                 "keepidle = 41\n",
                 path);
    struct run_result r;
    /* a connection accepted by a dual-stack listener is matched as the listener: :: */
    sockfix(ARGS("sockfix", "explain", "-c", path, "--address", "::"), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "socket:  tcp ipv6 server, "), "%s", r.out);
    cr_expect(strstr(r.out, "keepidle      61s "), "%s", r.out);
    /* a socket bound to a v4-mapped address speaks IPv4 */
    sockfix(ARGS("sockfix", "explain", "-c", path, "--address", "::ffff:127.0.0.1"), PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "address: ::ffff:127.0.0.1 (local; v4-mapped: matched as IPv4 "
                            "127.0.0.1)\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "keepidle      41s "), "%s", r.out);
    sockfix(ARGS("sockfix", "explain", "-c", path, "--family", "ipv6", "--address", "127.0.0.1"),
            PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "sockfix explain: --family ipv6 does not fit --address 127.0.0.1, an "
                            "IPv4 address\n(see 'sockfix help explain')\n");
    sockfix(ARGS("sockfix", "explain", "-c", path, "--family", "ipv4", "--address", "::1"),
            PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    sockfix(
        ARGS("sockfix", "explain", "-c", path, "--family", "ipv6", "--address", "::ffff:127.0.0.1"),
        PLAIN_ENV, &r);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "a socket bound to a v4-mapped address counts as ipv4 (see "
                            "match.family); a connection accepted by a dual-stack listener on :: "
                            "is matched as that listener: --address ::\n"),
              "%s", r.err);
    unlink(path);
}

/* explain --attach: the decision of the kernel programs (the same as the
 * library's), and for each option whether attach applies it and where. */
Test(cli, explain_attach_says_what_each_mode_applies)
{
    char path[64];
    write_policy("[s]\nmatch.role = server\nmatch.program = legacy-server-with-long-name\n"
                 "keepidle = 30s\nbacklog = 512\nreuseaddr = yes\npriority = 3\n",
                 path);
    struct run_result r;
    sockfix(ARGS("sockfix", "explain", "--attach", "-c", path, "--role", "server", "--port", "80",
                 "--program", "legacy-server-with-long-name"),
            PLAIN_ENV, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "reuseaddr     yes      SO_REUSEADDR      [s] line 6, library and "
                            "attach: before bind (cgroup/bind)\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "keepidle      30s      TCP_KEEPIDLE      [s] line 4, library and "
                            "attach: at listen (sockops); accepted sockets inherit it\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "backlog       512      listen backlog    [s] line 5, library only: "
                            "the kernel does not let BPF programs set it\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "note:    the kernel keeps the first 15 characters of a process "
                            "name: matched as \"legacy-server-w\"\n"),
              "%s", r.out);
    /* Without --attach: the library, which sees the whole name. */
    sockfix(ARGS("sockfix", "explain", "-c", path, "--role", "server", "--port", "80", "--program",
                 "legacy-server-with-long-name"),
            PLAIN_ENV, &r);
    cr_expect(strstr(r.out, "backlog       512      listen backlog    [s] line 5, replaces the "
                            "listen() backlog\n"),
              "%s", r.out);
    cr_expect_null(strstr(r.out, "attach"), "%s", r.out);

    /* A glob the kernel cannot evaluate: refused, with its line. */
    write_policy("[s]\nmatch.program = *x\nkeepidle = 3s\n", path);
    sockfix(ARGS("sockfix", "explain", "--attach", "-c", path), PLAIN_ENV, &r);
    cr_expect_eq(r.status, 78);
    char want[512];
    snprintf(want, sizeof want,
             "%s:2: match.program: \"*x\" is a glob the kernel cannot evaluate: sockfix attach "
             "takes a name, or a name followed by * (the library takes it)\n"
             "sockfix explain: sockfix attach cannot take this policy\n",
             path);
    cr_expect_str_eq(r.err, want);
}
