/* What the shim must never do: obey the environment of a secure-execution
 * program, trust a policy others can write in a root process, leave a
 * descriptor behind, open one without O_CLOEXEC, or write anywhere but its
 * log (and never into a connection that took stderr's place). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TestSuite(security, .timeout = 60);

static const char two_roles[] = "[clients]\nmatch.role = client\nkeepidle = 31\n"
                                "[servers]\nmatch.role = server\nreuseaddr = yes\nkeepidle = 32\n";

static void run_torture(const char *path, const char *policy, const char *log,
                        const char *const *args, bool preload, struct run_result *r)
{
    char config[128], loglevel[64];
    snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", policy);
    snprintf(loglevel, sizeof loglevel, "SOCKFIX_LOG=%s", log);
    const char *env[] = {"PATH=/usr/bin:/bin", config, loglevel,
                         preload ? "LD_PRELOAD=" SHIM_PRELOAD : NULL, NULL};
    const char *argv[8] = {path};
    for (int i = 0; args[i] && i < 6; i++)
        argv[i + 1] = args[i];
    run_program(path, argv, env, NULL, r);
}

/* ---- secure execution ---- */

Test(security, a_setgid_program_ignores_the_sockfix_environment)
{
    SKIP_UNDER_QEMU("the secure execution of a setgid program (AT_SECURE)");
    if (geteuid() != 0)
        cr_skip_test("needs root to give the copy a group it can switch to");
    if (SANITIZER_PRELOAD[0])
        cr_skip_test("a sanitizer runtime cannot be loaded into a secure-execution program");
    /* A copy of the helper, linked against the shim (the loader ignores
     * LD_PRELOAD paths in secure execution), made set-group-ID nogroup: run
     * by root, its effective group differs from the real one, so the kernel
     * passes AT_SECURE and secure_getenv returns NULL. */
    char dir[] = "/tmp/sockfix-secure-XXXXXX", copy[128], policy[64], cmd[512];
    cr_assert(mkdtemp(dir));
    snprintf(copy, sizeof copy, "%s/torture", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", TORTURE_LINKED, copy);
    cr_assert(system(cmd) == 0);
    write_policy("[all]\nkeepidle = 43\n", policy);

    struct run_result r;
    run_torture(copy, policy, "debug", ARGS("secure"), false, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "at_secure"), 0);
    cr_expect_eq(result_num(&r, "secure.client.keepidle"), 43, "the control run obeys");
    cr_expect(strstr(r.err, "sockfix["), "SOCKFIX_LOG=debug is obeyed: %s", r.err);

    cr_assert(chown(copy, 0, 65534) == 0 && chmod(copy, 02755) == 0);
    run_torture(copy, policy, "debug", ARGS("secure"), false, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "at_secure"), 1, "the kernel saw a secure execution");
    struct stat st;
    if (stat("/etc/sockfix/sockfix.ini", &st) != 0) /* else the system policy applies */
        cr_expect_eq(result_num(&r, "secure.client.keepidle"), 60,
                     "SOCKFIX_CONFIG ignored: the built-in default applies");
    cr_expect_neq(result_num(&r, "secure.client.keepidle"), 43);
    cr_expect_str_eq(r.err, "", "SOCKFIX_LOG ignored: nothing logged");

    unlink(policy);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
}

/* ---- StrictModes ---- */

static void expect_refused(const char *policy, const char *reason)
{
    struct run_result r;
    run_probe(&(struct run_opts){.config_path = policy}, ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(result_num(&r, "client.keepidle"), 7200, "refused: nothing applied");
    char want[512];
    snprintf(want, sizeof want,
             "sockfix[%d]: %s: %s\nsockfix[%d]: no policy in effect; the program runs with its "
             "sockets unchanged\n",
             (int)r.pid, policy, reason, (int)r.pid);
    cr_expect_str_eq(r.err, want);
}

Test(security, a_root_process_refuses_a_policy_others_can_write)
{
    if (geteuid() != 0)
        cr_skip_test("the check is for processes running as root");
    char policy[64];
    write_policy("[all]\nkeepidle = 45\n", policy);

    cr_assert(chmod(policy, 0666) == 0);
    expect_refused(policy, "is writable by others (mode 0666); a process running as root refuses "
                           "it (chmod go-w)");
    cr_assert(chmod(policy, 0660) == 0);
    expect_refused(policy, "is writable by its group (mode 0660); a process running as root "
                           "refuses it (chmod go-w)");
    cr_assert(chmod(policy, 0644) == 0 && chown(policy, 65534, 65534) == 0);
    expect_refused(policy, "is owned by uid 65534; a process running as root only reads a policy "
                           "owned by root");

    /* The same file is fine for the user who owns it. */
    cr_assert(chmod(policy, 0666) == 0);
    char config[128];
    snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", policy);
    const char *argv[] = {
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SOCKPROBE, "pair", "4",
        NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", "LD_PRELOAD=" SHIM_PRELOAD, config, NULL};
    struct run_result r;
    run_program("/usr/bin/setpriv", argv, env, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "client.keepidle"), 45);

    /* And root takes it once it is root's and nobody else can write it. */
    cr_assert(chown(policy, 0, 0) == 0 && chmod(policy, 0644) == 0);
    run_probe(&(struct run_opts){.config_path = policy}, ARGS("pair", "4"), &r);
    cr_expect_eq(result_num(&r, "client.keepidle"), 45);
    cr_expect_str_eq(r.err, "");
    unlink(policy);
}

/* ---- descriptors and writes ---- */

Test(security, no_descriptor_is_left_behind)
{
    /* Policies that take every path through start-up: small (read in the
     * constructor), over 64 KiB (read again at the first socket call), one
     * with errors (logged), and a missing file. */
    char small[64], large[64], broken[64];
    write_policy(two_roles, small);
    char *big = malloc(70000);
    strcpy(big, two_roles);
    for (size_t n = strlen(big); n < 69990; n += 10)
        strcat(big, ";padding.\n");
    write_policy(big, large);
    free(big);
    write_policy("[r]\nkeepidle = soon\n", broken);
    const char *policies[] = {small, large, broken, "/nonexistent/sockfix.ini"};

    struct run_result bare;
    run_torture(TORTURE, small, "warn", ARGS("fds"), false, &bare);
    cr_assert_eq(bare.status, 0, "%s", bare.err);
    char want_before[8192];
    snprintf(want_before, sizeof want_before, "%s", result_get(&bare, "fds.before"));
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        struct run_result r;
        run_torture(TORTURE, policies[i], "debug", ARGS("fds"), true, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_expect_str_eq(result_get(&r, "fds.before"), want_before,
                         "%s: main starts with the descriptors it was given", policies[i]);
        cr_expect_str_eq(result_get(&r, "fds.after"), want_before,
                         "%s: the socket calls leave nothing open", policies[i]);
    }
    unlink(small);
    unlink(large);
    unlink(broken);
}

/* Every open(2) of the process carries O_CLOEXEC, and every write goes to
 * stdout (the helper's own) or stderr (the log), traced by strace. */
Test(security, every_open_is_cloexec_and_writes_go_only_to_the_log)
{
    SKIP_UNDER_QEMU("system calls as strace sees them: it traces qemu's own");
    if (SANITIZER_PRELOAD[0])
        cr_skip_test("the sanitizer runtime opens /proc files without O_CLOEXEC itself");
    if (access("/usr/bin/strace", X_OK) != 0)
        cr_skip_test("strace is not installed (scripts/deps.sh installs it)");
    char large[64], trace[64];
    char *big = malloc(70000);
    strcpy(big, two_roles);
    for (size_t n = strlen(big); n < 69990; n += 10)
        strcat(big, ";padding.\n");
    write_policy(big, large); /* read twice: in the constructor and at the first call */
    free(big);
    snprintf(trace, sizeof trace, "/tmp/sockfix-strace-%d.txt", (int)getpid());
    char config[128];
    snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", large);
    const char *argv[] = {"strace",
                          "-f",
                          "-qq",
                          "-o",
                          trace,
                          "-E",
                          "LD_PRELOAD=" SHIM_PRELOAD,
                          "-e",
                          "trace=open,openat,openat2,creat,write,writev,pwrite64,sendto,sendmsg",
                          TORTURE,
                          "probe",
                          "traced",
                          NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", config, "SOCKFIX_LOG=debug", NULL};
    struct run_result r;
    run_program("/usr/bin/strace", argv, env, NULL, &r);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(result_num(&r, "traced.client.keepidle"), 31);

    FILE *f = fopen(trace, "re");
    cr_assert(f);
    char line[4096];
    int opens = 0, policy_opens = 0, writes = 0;
    while (fgets(line, sizeof line, f)) {
        const char *call = strchr(line, ' '); /* after "PID", padded to five digits */
        if (!call)
            continue;
        call += strspn(call, " ");
        if (strncmp(call, "open", 4) == 0 || strncmp(call, "creat", 5) == 0) {
            opens++;
            policy_opens += strstr(call, large) != NULL;
            cr_expect(strstr(call, "O_CLOEXEC"), "opened without O_CLOEXEC: %s", line);
        } else if (strncmp(call, "write(", 6) == 0 || strncmp(call, "writev(", 7) == 0 ||
                   strncmp(call, "pwrite64(", 9) == 0 || strncmp(call, "send", 4) == 0) {
            writes++;
            int fd = atoi(strchr(call, '(') + 1);
            cr_expect(fd == 1 || fd == 2, "a write to fd %d: %s", fd, line);
        }
    }
    fclose(f);
    cr_expect_geq(policy_opens, 1, "the policy file was traced");
    cr_expect_gt(opens, policy_opens);
    cr_expect_gt(writes, 1, "the log and the helper's output were traced");
    unlink(trace);
    unlink(large);
}

Test(security, never_writes_into_a_connection_that_took_the_place_of_stderr)
{
    char policy[64];
    write_policy(two_roles, policy);
    struct run_result r;
    run_torture(TORTURE, policy, "debug", ARGS("stderr-socket"), true, &r);
    unlink(policy);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "tcp_stderr.client.keepidle"), 31);
    cr_expect_eq(result_num(&r, "tcp_stderr.bytes"), 0, "nothing reached the peer");
    cr_expect_eq(result_num(&r, "unix_stderr.has_log"), 1, "a UNIX stream (journald) gets it");
}
