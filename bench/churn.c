/* churn: loopback connection churn, the load a busy server sees.
 *
 *   churn THREADS CONNECTIONS
 *
 * THREADS client threads connect to one listener and close abortively (an
 * RST, so no TIME_WAIT entries pile up between runs); THREADS server threads
 * accept and close. Prints "connections_per_second N". Bounded by count. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener;
static struct sockaddr_in addr;
static long per_thread;
static atomic_long accepted_left;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void *client(void *arg)
{
    (void)arg;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    for (long i = 0; i < per_thread; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof addr) != 0)
            die("connect");
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c);
    }
    return NULL;
}

static void *server(void *arg)
{
    (void)arg;
    while (atomic_fetch_sub(&accepted_left, 1) > 0) {
        int s = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0)
            die("accept");
        close(s);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    long total = argc > 2 ? atol(argv[2]) : 20000;
    if (threads < 1 || threads > 16)
        threads = 1;
    per_thread = total / threads;
    atomic_store(&accepted_left, per_thread * threads);
    addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 ||
        listen(listener, 4096) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        die("listener");
    pthread_t c[16], s[16];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++) {
        pthread_create(&s[i], NULL, server, NULL);
        pthread_create(&c[i], NULL, client, NULL);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(c[i], NULL);
        pthread_join(s[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("connections_per_second %.0f\n", (double)(per_thread * threads) / secs);
    return 0;
}
