/* peer: a plain server or client, linked statically (LD_PRELOAD cannot reach
 * it), for the tests of sockfix attach; tests/helpers/peer.go speaks the
 * same protocol as a Go program.
 *
 *   peer serve 4|6 PORT [--udp] [--keepidle N]
 *       a listener on the loopback address (a bound UDP socket with --udp);
 *       prints "listener.fd=N" (or "udp.fd=N"), "port=N" and "ready"; then,
 *       for each line "accept" on stdin, accepts one connection, sets
 *       TCP_KEEPIDLE N on it when asked (as Go does) and prints
 *       "accepted.fd=N" and "done"
 *   peer connect 4|6 PORT [--keepidle N]
 *       a connected client, with TCP_KEEPIDLE N after the connect when asked;
 *       prints "client.fd=N" and "ready"
 * Either waits for stdin's end, then exits 0; on a failure it prints
 * "error=WHAT: ERRNO-NAME" and exits 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
    printf("error=%s: %s\n", what, strerrorname_np(errno));
    exit(2);
}

static socklen_t loopback(int family, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    in6->sin6_addr = in6addr_loopback;
    return sizeof *in6;
}

static void keepidle(int fd, int seconds)
{
    if (seconds && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds) != 0)
        die("setsockopt");
}

static void wait_for_eof(void)
{
    char line[64];
    while (fgets(line, sizeof line, stdin))
        ;
}

static int serve(int family, unsigned port, int udp, int idle)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(family, port, &ss);
    int s = socket(family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (s < 0)
        die("socket");
    if (bind(s, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    if (!udp && listen(s, 16) != 0)
        die("listen");
    printf("%s.fd=%d\nport=%u\nready\n", udp ? "udp" : "listener", s, port);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (udp || strncmp(line, "accept", 6) != 0)
            continue;
        int a = accept(s, NULL, NULL);
        if (a < 0)
            die("accept");
        keepidle(a, idle);
        printf("accepted.fd=%d\ndone\n", a);
    }
    return 0;
}

static int client(int family, unsigned port, int idle)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(family, port, &ss);
    int c = socket(family, SOCK_STREAM, 0);
    if (c < 0)
        die("socket");
    if (connect(c, (struct sockaddr *)&ss, len) != 0)
        die("connect");
    keepidle(c, idle);
    printf("client.fd=%d\nready\n", c);
    wait_for_eof();
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 4) {
        fprintf(stderr, "usage: peer serve|connect 4|6 PORT [--udp] [--keepidle N]\n");
        return 64;
    }
    int family = strcmp(argv[2], "4") == 0 ? AF_INET : AF_INET6;
    unsigned port = (unsigned)atoi(argv[3]);
    int udp = 0, idle = 0;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--udp") == 0)
            udp = 1;
        else if (strcmp(argv[i], "--keepidle") == 0 && i + 1 < argc)
            idle = atoi(argv[++i]);
        else
            return 64;
    }
    if (strcmp(argv[1], "serve") == 0)
        return serve(family, port, udp, idle);
    if (strcmp(argv[1], "connect") == 0)
        return client(family, port, idle);
    return 64;
}
