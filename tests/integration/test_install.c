/* The install layout, the Debian package, and the container entrypoint. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PLAIN_ENV ((const char *const[]){"PATH=/usr/bin:/bin", NULL})

TestSuite(install, .timeout = 240);

static void shell(const char *cmd)
{
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "failed (%d): %s", rc, cmd);
}

static void expect_file(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    cr_expect(access(path, R_OK) == 0, "missing %s", path);
}

static void make_temp_dir(char *dir)
{
    strcpy(dir, "/tmp/sockfix-install-XXXXXX");
    cr_assert(mkdtemp(dir));
}

/* The installed sockfix runs a program with the installed library. */
static void expect_working_install(const char *sockfix_path, const char *lib_path)
{
    struct run_result r;
    run_program(sockfix_path, ARGS("sockfix", "run", "--", SOCKPROBE, "self"), PLAIN_ENV, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char real[512];
    cr_assert(realpath(lib_path, real));
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), real);
    run_program(sockfix_path, ARGS("sockfix", "run", "--", SOCKPROBE, "pair", "4"), PLAIN_ENV, NULL,
                &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(result_num(&r, "accepted.keepidle"), 60);
}

Test(install, cmake_install_lays_out_a_working_tree)
{
    char dir[64], cmd[512];
    make_temp_dir(dir);
    snprintf(cmd, sizeof cmd, "cmake --install %s --prefix %s >/dev/null", BUILD_DIR, dir);
    shell(cmd);
    expect_file(dir, "lib/sockfix/libsockfix.so");
    expect_file(dir, "bin/sockfix");
    expect_file(dir, "bin/sockfix-entrypoint");
    expect_file(dir, "etc/sockfix/sockfix.ini");
    expect_file(dir, "share/sockfix/sockfix.ini");
    expect_file(dir, "share/sockfix/examples/legacy-http.ini");
    expect_file(dir, "share/man/man1/sockfix.1.gz");
    expect_file(dir, "share/man/man1/sockfix-entrypoint.1.gz");
    expect_file(dir, "share/man/man5/sockfix.ini.5.gz");
    expect_file(dir, "share/doc/sockfix/copyright");
    expect_file(dir, "share/doc/sockfix/changelog.gz");
    char bin[128], lib[128];
    snprintf(bin, sizeof bin, "%s/bin/sockfix", dir);
    snprintf(lib, sizeof lib, "%s/lib/sockfix/libsockfix.so", dir);
    expect_working_install(bin, lib);

    /* the entrypoint finds the installed library by itself */
    char entry[128];
    snprintf(entry, sizeof entry, "%s/bin/sockfix-entrypoint", dir);
    struct run_result r;
    run_program("/bin/sh", ARGS("sh", entry, SOCKPROBE, "self"), PLAIN_ENV, NULL, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char real[512];
    cr_assert(realpath(lib, real));
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), real);

    /* The musl variant is installed beside it; the installed sockfix picks
     * it for a musl program, and the entrypoint on a musl system. */
    if (TORTURE_MUSL[0]) {
        expect_file(dir, "lib/sockfix/libsockfix-musl.so");
        run_program(bin, ARGS("sockfix", "run", "--", TORTURE_MUSL, "probe", "musl"), PLAIN_ENV,
                    NULL, &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_eq(result_num(&r, "musl.accepted.keepidle"), 60);
        run_program("/bin/sh", ARGS("sh", entry, TORTURE_MUSL, "probe", "musl"),
                    ((const char *const[]){"PATH=/usr/bin:/bin", "SOCKFIX_LIBC=musl", NULL}), NULL,
                    &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_eq(result_num(&r, "musl.accepted.keepidle"), 60);
        cr_expect_eq(result_num(&r, "musl.client.keepidle"), 60);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    shell(cmd);
}

Test(install, debian_package_installs_and_runs)
{
    char dir[64], cmd[1024];
    make_temp_dir(dir);
    snprintf(cmd, sizeof cmd,
             "%s/scripts/package.sh %s/pkg >%s/log 2>&1 || { cat %s/log; exit 1; }", SOURCE_DIR,
             dir, dir, dir);
    shell(cmd);
    snprintf(cmd, sizeof cmd, "ls %s/pkg/sockfix_*.deb >/dev/null", dir);
    shell(cmd);
    snprintf(cmd, sizeof cmd,
             "dpkg-deb -f %s/pkg/sockfix_*.deb Depends | grep -Eqx "
             "'(libbpf1 \\(>= [^)]+\\), )?libc6 \\(>= [^)]+\\)'",
             dir); /* libbpf1: sockfix attach, when built; nothing else */
    shell(cmd);
    snprintf(cmd, sizeof cmd,
             "dpkg-deb --ctrl-tarfile %s/pkg/sockfix_*.deb | tar -xO ./conffiles | grep -qx "
             "/etc/sockfix/sockfix.ini",
             dir);
    shell(cmd);
    snprintf(cmd, sizeof cmd, "dpkg -x %s/pkg/sockfix_*.deb %s/root", dir, dir);
    shell(cmd);
    char root[128];
    snprintf(root, sizeof root, "%s/root", dir);
    expect_file(root, "usr/bin/sockfix");
    expect_file(root, "usr/bin/sockfix-entrypoint");
    expect_file(root, "etc/sockfix/sockfix.ini");
    expect_file(root, "usr/share/man/man1/sockfix.1.gz");
    expect_file(root, "usr/share/man/man5/sockfix.ini.5.gz");
    expect_file(root, "usr/share/doc/sockfix/copyright");
    char bin[192], lib[192], pattern[512];
    snprintf(bin, sizeof bin, "%s/usr/bin/sockfix", root);
    snprintf(pattern, sizeof pattern,
             "ls %s/usr/lib/*/sockfix/libsockfix.so %s/usr/lib/sockfix/libsockfix.so 2>/dev/null | "
             "head -n 1",
             root, root);
    FILE *p = popen(pattern, "r");
    cr_assert(fgets(lib, sizeof lib, p), "no libsockfix.so in the package");
    pclose(p);
    lib[strcspn(lib, "\n")] = '\0';
    struct run_result r;
    run_program(bin, ARGS("sockfix", "--version"), PLAIN_ENV, NULL, &r);
    cr_expect_str_eq(r.out, "sockfix " SOCKFIX_VERSION "\n");
    expect_working_install(bin, lib);
    /* Debian's own checks: no error and no warning. lintian is in the test
     * group of scripts/deps.sh, which CI installs; a developer's machine may
     * lack it. */
    bool have_lintian = access("/usr/bin/lintian", X_OK) == 0;
    if (have_lintian) {
        snprintf(cmd, sizeof cmd,
                 "lintian --fail-on error,warning %s/pkg/sockfix_*.deb >%s/lintian 2>&1 || "
                 "{ cat %s/lintian; exit 1; }",
                 dir, dir, dir);
        shell(cmd);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    shell(cmd);
    if (!have_lintian)
        cr_skip_test("lintian is not installed (scripts/deps.sh test installs it): the package "
                     "was checked but for lintian");
}

/* ---- the entrypoint, under every POSIX shell the machine has ---- */

static const char *const shells[] = {"/bin/sh", "/bin/dash", "/bin/bash", "/bin/busybox"};

static void entrypoint(const char *sh, const char *const *env, struct run_result *r,
                       const char *const *args)
{
    const char *argv[12] = {sh};
    int n = 1;
    if (strstr(sh, "busybox"))
        argv[n++] = "sh";
    else if (strstr(sh, "bash"))
        argv[n++] = "--posix";
    argv[n++] = SOURCE_DIR "/scripts/sockfix-entrypoint";
    for (int i = 0; args[i] && n < 11; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    run_program(sh, argv, env, NULL, r);
}

Test(install, entrypoint_execs_the_service_under_every_shell)
{
    char policy[64], config_env[128];
    write_policy("[r]\nkeepcnt = 2\n", policy);
    snprintf(config_env, sizeof config_env, "SOCKFIX_CONFIG=%s", policy);
    int tried = 0;
    for (size_t s = 0; s < sizeof shells / sizeof shells[0]; s++) {
        if (access(shells[s], X_OK) != 0)
            continue;
        tried++;
        struct run_result r;
        const char *env[] = {"PATH=/usr/bin:/bin", "SOCKFIX_LIBRARY=" SOCKFIX_LIB,
                             config_env,           "LD_PRELOAD=" EMPTY_LIB,
                             "SOCKPROBE_EXIT=3",   NULL};
        entrypoint(shells[s], env, &r, ARGS(SOCKPROBE, "self", "x y"));
        cr_expect_eq(r.status, 3, "%s: exit status passes through", shells[s]);
        cr_expect_eq(result_num(&r, "pid"), r.pid, "%s: exec keeps the PID", shells[s]);
        cr_expect_str_eq(result_get(&r, "argv2"), "x y", "%s", shells[s]);
        cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), SOCKFIX_LIB ":" EMPTY_LIB, "%s", shells[s]);
        cr_expect_str_eq(result_get(&r, "SOCKFIX_CONFIG"), policy, "%s", shells[s]);
        cr_expect_str_empty(r.err, "%s: %s", shells[s], r.err);

        const char *again[] = {"PATH=/usr/bin:/bin", "SOCKFIX_LIBRARY=" SOCKFIX_LIB,
                               "LD_PRELOAD=" SOCKFIX_LIB, NULL};
        entrypoint(shells[s], again, &r, ARGS(SOCKPROBE, "self"));
        cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), SOCKFIX_LIB, "%s: preloaded once",
                         shells[s]);

        entrypoint(shells[s], PLAIN_ENV, &r, ARGS(NULL));
        cr_expect_eq(r.status, 2, "%s", shells[s]);
        cr_expect_str_eq(r.err, "sockfix-entrypoint: no command given (set the image's CMD)\n");
    }
    cr_assert_geq(tried, 2, "fewer than two shells to try");
    unlink(policy);
}

Test(install, entrypoint_makes_a_relative_policy_path_absolute)
{
    char dir[64], file[128], config_env[] = "SOCKFIX_CONFIG=p.ini";
    make_temp_dir(dir);
    snprintf(file, sizeof file, "%s/p.ini", dir);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs("[r]\nkeepcnt = 2\n", f);
    fclose(f);
    struct run_result r;
    const char *env[] = {"PATH=/usr/bin:/bin", "SOCKFIX_LIBRARY=" SOCKFIX_LIB, config_env, NULL};
    run_program("/bin/sh", ARGS("sh", SOURCE_DIR "/scripts/sockfix-entrypoint", SOCKPROBE, "self"),
                env, dir, &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    char real[512];
    cr_assert(realpath(file, real));
    cr_expect_str_eq(result_get(&r, "SOCKFIX_CONFIG"), real);
    unlink(file);
    rmdir(dir);
}

Test(install, entrypoint_fails_open_without_the_library)
{
    struct run_result r;
    const char *env[] = {"PATH=/usr/bin:/bin", "SOCKFIX_LIBRARY=/nonexistent/libsockfix.so", NULL};
    entrypoint("/bin/sh", env, &r, ARGS(SOCKPROBE, "self"));
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(result_get(&r, "LD_PRELOAD"), "(unset)");
    cr_expect_str_eq(r.err, "sockfix-entrypoint: libsockfix.so not found; starting " SOCKPROBE
                            " without it\n");
}

Test(install, demo_runs_end_to_end)
{
    char dir[64], cmd[512];
    make_temp_dir(dir);
    snprintf(cmd, sizeof cmd, "SOCKFIX_BUILD_DIR=%s/build %s/scripts/demo.sh >%s/out 2>&1", dir,
             SOURCE_DIR, dir);
    int rc = system(cmd);
    char path[128];
    snprintf(path, sizeof path, "%s/out", dir);
    FILE *f = fopen(path, "r");
    static char out[65536];
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, ": Address already in use\nexit status 1:"), "%s", out);
    cr_expect(strstr(out, "the restart succeeded at once"), "%s", out);
    cr_expect(strstr(out, "rules=servers: reuseaddr=yes"), "%s", out);
    const char *inspect = strstr(out, "tcp  server ");
    cr_assert(inspect, "no accepted connection in the inspect output:\n%s", out);
    cr_expect(strstr(inspect, " yes       no        yes       60s      10s       6 "), "%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
}
