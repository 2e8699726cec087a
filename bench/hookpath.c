/* hookpath: the cost of each hooked call, measured inside one process. Run
 * it bare and under a preload library; the difference is the hook's cost.
 *
 *   hookpath ITERATIONS
 *
 * Prints "name ns_per_op" for:
 *   socket_close   socket() + close()
 *   bind_listen    socket() + bind(fixed loopback port) + listen() + close()
 *   connect        socket() + connect() to a local listener + accept() +
 *                  abortive close of both (no TIME_WAIT left behind) */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static struct sockaddr_in loopback(unsigned port)
{
    return (struct sockaddr_in){.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

static void abortive_close(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket");
        close(fd);
    }
    printf("socket_close %.1f\n", (now_ns() - t0) / (double)n);

    /* A port of our own, then bound again and again: a listener closed
     * without connections leaves nothing behind. */
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(probe, (struct sockaddr *)&a, len) != 0 ||
        getsockname(probe, (struct sockaddr *)&a, &len) != 0)
        die("probe");
    close(probe);
    long nb = n / 4 ? n / 4 : 1;
    t0 = now_ns();
    for (long i = 0; i < nb; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0 || listen(fd, 8) != 0)
            die("bind/listen");
        close(fd);
    }
    printf("bind_listen %.1f\n", (now_ns() - t0) / (double)nb);

    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in la = loopback(0);
    socklen_t llen = sizeof la;
    if (bind(l, (struct sockaddr *)&la, llen) != 0 || listen(l, 64) != 0 ||
        getsockname(l, (struct sockaddr *)&la, &llen) != 0)
        die("listener");
    long nc = n / 10 ? n / 10 : 1;
    t0 = now_ns();
    for (long i = 0; i < nc; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&la, llen) != 0)
            die("connect");
        int s = accept(l, NULL, NULL);
        if (s < 0)
            die("accept");
        abortive_close(c);
        close(s);
    }
    printf("connect %.1f\n", (now_ns() - t0) / (double)nc);
    close(l);
    return 0;
}
