/* One decision, everywhere: helpers run under the library with a policy that
 * uses every match key (port, role, family with dual stack and v4-mapped
 * addresses, type, address, program with a rewritten title) and every phase
 * (bind, connection, listener, listen argument, client, accept), setting all
 * 24 options; then `sockfix apply --dry-run` with the same policy must find
 * nothing to change on any socket. The same helpers without the library show
 * that the policy does act on them (the check is not vacuous). */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PLAIN_ENV ((const char *const[]){"PATH=/usr/bin:/bin", NULL})

TestSuite(parity, .timeout = 120);

/* Ports: the TCP listener of each helper kind, and one idle listener. */
struct ports {
    unsigned v4, v6, any6, idle;
};

static void pick_ports(struct ports *p)
{
    p->v4 = free_low_port(AF_INET);
    p->v6 = free_low_port(AF_INET6);
    p->any6 = free_low_port(AF_INET6);
    p->idle = free_low_port(AF_INET);
    cr_assert(p->v4 != p->v6 && p->v4 != p->any6 && p->v6 != p->any6 && p->idle != p->v4 &&
              p->idle != p->v6 && p->idle != p->any6);
}

static void write_parity_policy(const struct ports *p, const char *precedence, char path[64])
{
    char text[4096];
    snprintf(text, sizeof text,
             "[sockfix]\nprecedence = %s\n"
             /* bind phase, servers */
             "[bind]\nmatch.role = server\nreuseaddr = yes\nreuseport = yes\nfreebind = yes\n"
             "transparent = yes\nbind_device = lo\nmark = 7\n"
             /* connection, listener and listen-argument phases, by port */
             "[listen]\nmatch.role = server\nmatch.port = %u, %u, %u\nkeepidle = 31\n"
             "keepintvl = 11\nuser_timeout = 9s\nnodelay = yes\nrcvbuf = 64k\nsndbuf = 64k\n"
             "maxseg = 1400\ncongestion = reno\ntos = 32\npriority = 3\nfastopen = 16\n"
             "backlog = 200\n"
             "[idle]\nmatch.port = %u\nmatch.role = server\ndefer_accept = 5s\n"
             /* client phase */
             "[client]\nmatch.role = client\nmatch.port = %u, %u, %u\nkeepidle = 41\n"
             "bind_device = lo\nmark = 9\n"
             /* families: the dual-stack listener and its IPv4 connections are ipv6 */
             "[v4]\nmatch.family = ipv4\nkeepcnt = 3\n"
             "[v6]\nmatch.family = ipv6\nkeepcnt = 7\n"
             /* addresses: IPv4, IPv6 (v6only before bind), v4-mapped as IPv4 */
             "[lo4]\nmatch.address = 127.0.0.0/8\nnotsent_lowat = 128k\n"
             "[lo6]\nmatch.role = server\nmatch.address = ::1/128\nv6only = yes\n"
             "[mapped]\nmatch.address = ::ffff:127.0.0.0/104\nmatch.role = client\n"
             "user_timeout = 8s\n"
             /* UDP servers (bind) and clients (connect) */
             "[udp]\nmatch.type = udp\nmatch.role = server\nreuseaddr = yes\ntos = 16\n"
             "priority = 2\n"
             "[udpc]\nmatch.type = udp\nmatch.role = client\ntos = 8\n"
             /* a program known by the name it was started as, title rewritten since */
             "[prog]\nmatch.program = legacy-server\nlinger = 3s\n",
             precedence, p->v4, p->v6, p->any6, p->idle, p->v4, p->v6, p->any6);
    write_policy(text, path);
}

/* One helper kind under the library (or not), its argv[0] and title. */
static void start(bool preload, const char *policy, const char *family, unsigned port,
                  unsigned idle, const char *argv0, struct held *h)
{
    char env_preload[512], env_config[512], p[16], i[16];
    snprintf(env_preload, sizeof env_preload, "LD_PRELOAD=%s", SHIM_PRELOAD);
    snprintf(env_config, sizeof env_config, "SOCKFIX_CONFIG=%s", policy);
    snprintf(p, sizeof p, "%u", port);
    snprintf(i, sizeof i, "%u", idle);
    const char *env[] = {"PATH=/usr/bin:/bin", preload ? env_preload : env_config,
                         preload ? env_config : NULL, NULL};
    start_held_argv(SOCKPROBE,
                    ARGS(argv0 ? argv0 : SOCKPROBE, "hold", family, "--port", p, "--udp-client",
                         "--idle-listener", i, "--title", "parity: worker"),
                    env, h);
}

static void dry_run(pid_t pid, const char *policy, struct run_result *r)
{
    char p[16];
    snprintf(p, sizeof p, "%d", (int)pid);
    run_program(SOCKFIX_CLI, ARGS("sockfix", "apply", p, "-c", policy, "--dry-run"), PLAIN_ENV,
                NULL, r);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
}

static unsigned count(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

struct kind {
    const char *family;
    const char *argv0;
};

static void parity(const char *precedence)
{
    if (geteuid() != 0)
        cr_skip_test("the policy sets mark and transparent, which need CAP_NET_ADMIN: run as root");
    struct ports ports;
    pick_ports(&ports);
    char policy[64];
    write_parity_policy(&ports, precedence, policy);
    static const struct kind kinds[] = {
        {"4", NULL}, {"6", NULL}, {"any6", NULL}, {"4", "/opt/legacy/legacy-server"}};
    unsigned sockets = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const char *fam = kinds[k].family;
        unsigned port = strcmp(fam, "4") == 0   ? ports.v4
                        : strcmp(fam, "6") == 0 ? ports.v6
                                                : ports.any6;
        unsigned idle = ports.idle;
        struct held h;
        start(true, policy, fam, port, idle, kinds[k].argv0, &h);
        struct run_result r, bare;
        dry_run(h.pid, policy, &r);
        /* every socket was decided, and nothing is left to change */
        const char *summary = strstr(r.out, "6 sockets: 0 options to change, ");
        cr_expect(summary && strstr(summary, " kept as the program set them, 0 not applicable, 0 "
                                             "failed\n"),
                  "%s %s:\n%s%s", fam, kinds[k].argv0 ? kinds[k].argv0 : "", r.out, r.err);
        cr_expect_eq(count(r.out, "no rule applies"), 0, "%s", r.out);
        cr_expect_eq(count(r.out, "(rules "), 6, "%s", r.out);
        if (kinds[k].argv0)
            cr_expect_geq(count(r.out, "prog"), 1, "the program rule matched:\n%s", r.out);
        /* the library did set them: read from outside on the listener */
        long lfd = result_num(&h.result, "listener.fd");
        cr_expect_eq(remote_getsockopt(h.pid, (int)lfd, IPPROTO_TCP, TCP_KEEPIDLE), 31);
        stop_held(&h);
        sockets += 6;
        /* the same without the library: the policy acts (other ports: the
         * first run's connections may hold its ports in TIME_WAIT) */
        start(false, policy, fam, free_low_port(strcmp(fam, "4") == 0 ? AF_INET : AF_INET6),
              free_low_port(AF_INET), kinds[k].argv0, &h);
        dry_run(h.pid, policy, &bare);
        cr_expect_null(strstr(bare.out, ": 0 options to change, "), "%s", bare.out);
        stop_held(&h);
    }
    cr_expect_eq(sockets, 24);
    unlink(policy);
}

Test(parity, apply_agrees_with_the_library_precedence_program)
{
    parity("program");
}

Test(parity, apply_agrees_with_the_library_precedence_policy)
{
    parity("policy");
}
