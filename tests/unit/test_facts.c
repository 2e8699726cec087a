/* What the shim takes a socket to be (shim/facts.c), from socket()'s
 * arguments and from the per-fd table; no sockets. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <unistd.h>

#include "shim/facts.h"
#include "shim/fdtable.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

Test(facts, the_kind_from_the_arguments_of_socket)
{
    const struct {
        int domain, type, protocol;
        uint8_t kind;
    } cases[] = {
        {AF_INET, SOCK_STREAM, 0, FD_KIND_TCP | FD_FAMILY_INET},
        {AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP,
         FD_KIND_TCP | FD_FAMILY_INET},
        {AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0, FD_KIND_TCP | FD_FAMILY_INET6},
        {AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP, FD_KIND_UDP | FD_FAMILY_INET6},
        {AF_INET, SOCK_DGRAM, 0, FD_KIND_UDP | FD_FAMILY_INET},
        {AF_INET, SOCK_STREAM, IPPROTO_SCTP, FD_KIND_OTHER | FD_FAMILY_INET},
        {AF_INET, SOCK_STREAM, IPPROTO_MPTCP, FD_KIND_OTHER | FD_FAMILY_INET},
        {AF_INET, SOCK_RAW, IPPROTO_TCP, FD_KIND_OTHER | FD_FAMILY_INET},
        {AF_INET6, SOCK_SEQPACKET, 0, FD_KIND_OTHER | FD_FAMILY_INET6},
        {AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, FD_KIND_OTHER | FD_FAMILY_INET},
        {AF_UNIX, SOCK_STREAM, 0, FD_KIND_OTHER},
        {AF_NETLINK, SOCK_DGRAM, 0, FD_KIND_OTHER},
        {AF_PACKET, SOCK_RAW, 0, FD_KIND_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(facts_kind_from_args(cases[i].domain, cases[i].type, cases[i].protocol),
                     cases[i].kind, "case %zu", i);
}

Test(facts, only_inet_tcp_and_udp_have_facts)
{
    struct sf_sock_facts f;
    cr_assert(facts_begin(FD_KIND_TCP | FD_FAMILY_INET6 | FD_ACCEPTED, SF_SOCK_ACCEPTED, &f));
    cr_assert_eq(f.type, SF_TYPE_TCP);
    cr_assert_eq(f.domain, AF_INET6);
    cr_assert_eq(f.state, SF_SOCK_ACCEPTED);
    cr_assert(facts_begin(FD_KIND_UDP | FD_FAMILY_INET, SF_SOCK_BOUND, &f));
    cr_assert_eq(f.type, SF_TYPE_UDP);
    cr_assert_eq(f.domain, AF_INET);
    cr_assert_not(facts_begin(FD_KIND_OTHER | FD_FAMILY_INET, SF_SOCK_BOUND, &f));
    cr_assert_not(facts_begin(FD_KIND_OTHER, SF_SOCK_BOUND, &f));
    cr_assert_not(facts_begin(FD_KIND_UNKNOWN, SF_SOCK_BOUND, &f));
    cr_assert_not(facts_begin(FD_KIND_TCP, SF_SOCK_BOUND, &f), "a kind without a family");
}

Test(facts, the_family_chooses_the_ipv6_option_names)
{
    cr_assert_eq(facts_socket_family(FD_KIND_TCP | FD_FAMILY_INET), SF_FAMILY_IPV4);
    cr_assert_eq(facts_socket_family(FD_KIND_UDP | FD_FAMILY_INET6), SF_FAMILY_IPV6);
}

Test(facts, a_kind_in_the_table_is_not_asked_of_the_kernel)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fdtab_set(p[0], FD_KIND_TCP | FD_FAMILY_INET);
    cr_assert_eq(facts_socket_kind(p[0]), FD_KIND_TCP | FD_FAMILY_INET);
    /* Unknown: the kernel says a pipe is no socket; nothing is remembered. */
    cr_assert_eq(facts_socket_kind(p[1]), FD_KIND_OTHER);
    cr_assert_eq(fdtab_get(p[1]), FD_KIND_UNKNOWN);
    cr_assert_eq(facts_socket_kind(-1), FD_KIND_OTHER);
    close(p[0]);
    close(p[1]);
}
