/* The kernel checks of a policy against given sysctl values (no /proc), and
 * the sysctl reader against this machine's /proc. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config/kernel_checks.h"
#include "config/match.h"

static const char *fake_rmem = "212992", *fake_congestion = "reno cubic";
static int reads;

static bool fake_read(const char *name, char *buf, size_t len)
{
    const char *v = strcmp(name, "net.core.rmem_max") == 0    ? fake_rmem
                    : strcmp(name, "net.core.wmem_max") == 0  ? "4194304"
                    : strcmp(name, "net.core.somaxconn") == 0 ? "4096"
                    : strcmp(name, "net.ipv4.tcp_available_congestion_control") == 0
                        ? fake_congestion
                        : NULL;
    reads++;
    if (!v)
        return false;
    snprintf(buf, len, "%s", v);
    return true;
}

static char out[4096];

static void collect(const char *line, void *arg)
{
    (void)arg;
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s\n", line);
}

static void check(const char *text)
{
    out[0] = '\0';
    reads = 0;
    struct sf_policy *p = sf_policy_parse(text, strlen(text), "p.ini");
    cr_assert(p && p->nerrors == 0);
    sf_policy_check_kernel(p, fake_read, collect, NULL);
    sf_policy_free(p);
}

Test(kernel_checks, values_above_the_capping_sysctl)
{
    check("[a]\nrcvbuf = 4m\nsndbuf = 1m\n[b]\nbacklog = 65535\n[c]\nrcvbuf = 208k\n");
    cr_assert_str_eq(out, "p.ini:5: backlog: 65535 is above net.core.somaxconn (4096); the kernel "
                          "caps it\n"
                          "p.ini:2: rcvbuf: 4m is above net.core.rmem_max (212992 bytes); the "
                          "kernel caps it\n");
}

Test(kernel_checks, names_the_kernel_does_not_offer)
{
    check("[a]\ncongestion = cubic\n[b]\ncongestion = bbr\n[c]\ncongestion = cub\n");
    cr_assert_str_eq(out, "p.ini:4: congestion: \"bbr\" is not available on this kernel "
                          "(available: reno cubic); setting it will fail\n"
                          "p.ini:6: congestion: \"cub\" is not available on this kernel "
                          "(available: reno cubic); setting it will fail\n");
}

Test(kernel_checks, reads_only_what_the_policy_sets)
{
    check("[a]\nkeepidle = 60\n");
    cr_assert_str_eq(out, "");
    cr_assert_eq(reads, 0);
    check("[a]\nrcvbuf = 4m\n");
    cr_assert_eq(reads, 1);
}

Test(kernel_checks, an_unreadable_or_odd_sysctl_checks_nothing)
{
    fake_rmem = "";
    check("[a]\nrcvbuf = 4m\n");
    cr_assert_str_eq(out, "");
    fake_rmem = "212992";
}

Test(kernel_checks, only_rules_of_the_selected_program)
{
    const char *text = "[a]\nmatch.program = nginx\nrcvbuf = 4m\n[b]\nmatch.program = redis*\n"
                       "sndbuf = 8m\n";
    struct sf_policy *p = sf_policy_parse(text, strlen(text), "p.ini");
    cr_assert(p && p->nerrors == 0);
    const char *names[] = {"redis-server"};
    cr_assert_eq(sf_policy_select_program(p, names, 1), 0);
    out[0] = '\0';
    sf_policy_check_kernel(p, fake_read, collect, NULL);
    cr_assert_str_eq(out, "p.ini:6: sndbuf: 8m is above net.core.wmem_max (4194304 bytes); the "
                          "kernel caps it\n");
    sf_policy_free(p);
}

Test(kernel_checks, reads_this_machines_sysctls)
{
    char buf[256], want[256] = "";
    cr_assert(sf_sysctl_read("net.core.somaxconn", buf, sizeof buf));
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
    cr_assert(f && fgets(want, sizeof want, f));
    fclose(f);
    want[strcspn(want, "\n")] = '\0';
    cr_assert_str_eq(buf, want);
    cr_assert_not(sf_sysctl_read("net.core.no_such_sysctl", buf, sizeof buf));
    char tiny[3];
    cr_assert(sf_sysctl_read("net.core.somaxconn", tiny, sizeof tiny));
    cr_assert_eq(strlen(tiny), strlen(want) < 2 ? strlen(want) : 2);
}
