/* The library's log lines (shim/log.c) without stdio: addresses (IPv6 in RFC
 * 5952 text, checked against inet_ntop), numbers, escaping, truncation, and
 * a line written to a file target. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/log.h"
#include "shim/real.h"

/* log.c reaches the kernel through the shim's real functions; here there is
 * no shim, so they are the plain calls. */
int real_socket(int domain, int type, int protocol)
{
    return socket(domain, type, protocol);
}

int real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    return connect(fd, addr, len);
}

int real_close(int fd)
{
    return close(fd);
}

static const char *text(struct logbuf *b)
{
    b->text[b->len] = '\0';
    return b->text;
}

static const char *addr6(const unsigned char a[16], unsigned port)
{
    static struct logbuf b;
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    memcpy(&in6.sin6_addr, a, 16);
    b.len = 0;
    log_sockaddr(&b, (struct sockaddr *)&in6, sizeof in6);
    return text(&b);
}

Test(log, ipv4_and_unknown_addresses)
{
    struct logbuf b = {.len = 0};
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};
    inet_pton(AF_INET, "10.0.255.7", &in.sin_addr);
    log_sockaddr(&b, (struct sockaddr *)&in, sizeof in);
    cr_assert_str_eq(text(&b), "10.0.255.7:8080");
    b.len = 0;
    log_sockaddr(&b, (struct sockaddr *)&in, sizeof in - 1); /* too short to be one */
    log_sockaddr(&b, NULL, 0);
    struct sockaddr un = {.sa_family = AF_UNIX};
    log_sockaddr(&b, &un, sizeof un);
    cr_assert_str_eq(text(&b), "???");
}

Test(log, ipv6_addresses_in_rfc_5952_text)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"::", "[::]:443"},
        {"::1", "[::1]:443"},
        {"2001:db8::1", "[2001:db8::1]:443"},
        {"2001:db8:0:1:1:1:1:1", "[2001:db8:0:1:1:1:1:1]:443"}, /* one zero group stays */
        {"2001:0:0:1:0:0:0:1", "[2001:0:0:1::1]:443"},          /* the longest run */
        {"2001:db8:0:0:1:0:0:1", "[2001:db8::1:0:0:1]:443"},    /* the first of equal runs */
        {"fe80::abcd:ef01:2345:6789", "[fe80::abcd:ef01:2345:6789]:443"},
        {"1:0:0:0:0:0:0:0", "[1::]:443"},
        {"ABCD:EF00::", "[abcd:ef00::]:443"},
        {"::ffff:192.0.2.1", "[::ffff:192.0.2.1]:443"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char a[16];
        cr_assert_eq(inet_pton(AF_INET6, cases[i].in, a), 1);
        cr_assert_str_eq(addr6(a, 443), cases[i].out);
    }
}

/* Addresses full of zero runs, as inet_ntop writes them. glibc writes
 * ::a.b.c.d for the deprecated IPv4-compatible form; RFC 5952 does not. */
Test(log, ipv6_text_agrees_with_inet_ntop)
{
    srand(5952);
    for (int n = 0; n < 20000; n++) {
        unsigned char a[16];
        for (int g = 0; g < 8; g++) {
            unsigned v = rand() % 3 ? 0 : (unsigned)rand() & 0xffff;
            a[2 * g] = (unsigned char)(v >> 8);
            a[2 * g + 1] = (unsigned char)v;
        }
        static const unsigned char zero[12];
        if (memcmp(a, zero, 12) == 0)
            continue;
        char want[INET6_ADDRSTRLEN + 16], ntop[INET6_ADDRSTRLEN];
        cr_assert(inet_ntop(AF_INET6, a, ntop, sizeof ntop));
        snprintf(want, sizeof want, "[%s]:%d", ntop, n % 65536);
        cr_assert_str_eq(addr6(a, (unsigned)(n % 65536)), want);
    }
}

Test(log, numbers_and_control_characters)
{
    struct logbuf b = {.len = 0};
    log_int(&b, INT64_MIN);
    log_str(&b, " ");
    log_uint(&b, UINT64_MAX);
    log_str(&b, " ");
    log_int(&b, 0);
    log_str(&b, " a\nb\x1b[2J\x7f");
    cr_assert_str_eq(text(&b), "-9223372036854775808 18446744073709551615 0 a\\x0ab\\x1b[2J\\x7f");
}

Test(log, a_long_line_is_cut_and_still_ends_in_a_newline)
{
    char path[] = "/tmp/sockfix-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    log_set_target(SF_LOG_TO_FILE, path);
    struct logbuf b;
    log_begin_event(&b, SF_LOG_WARN, "connect", 7, NULL, 0);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_str(&b, big);
    log_end(&b);
    log_msg(SF_LOG_WARN, "second");
    log_msg(SF_LOG_DEBUG, "not at this level");

    char got[4096] = "", want[64];
    FILE *f = fopen(path, "re");
    cr_assert(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    unlink(path);
    got[n] = '\0';
    int len = snprintf(want, sizeof want, "sockfix[%d]: connect fd=7 ?xxx", (int)getpid());
    cr_assert_eq(strncmp(got, want, (size_t)len), 0, "%.80s", got);
    char *nl = strchr(got, '\n');
    cr_assert(nl);
    cr_assert_eq(nl - got, (long)sizeof b.text - 1, "cut to the buffer, the newline kept");
    snprintf(want, sizeof want, "sockfix[%d]: second\n", (int)getpid());
    cr_assert_str_eq(nl + 1, want);
}
