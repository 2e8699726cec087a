/* naive-server: a deliberately naive TCP server, as many legacy services are.
 * It sets no socket option at all: no SO_REUSEADDR, no keepalive.
 *
 *   naive-server PORT
 *
 * It listens on 127.0.0.1:PORT, answers each line a client sends with
 * "hello" and then closes the connection itself (so the server side keeps
 * the TIME_WAIT entries, as HTTP/1.0 servers do). Connections that send
 * nothing stay open. SIGTERM or SIGINT stop it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 64

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: naive-server PORT\n");
        return 2;
    }
    int port = atoi(argv[1]);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "naive-server: bind 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    if (listen(l, 16) != 0) {
        fprintf(stderr, "naive-server: listen: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("naive-server: pid %d listening on 127.0.0.1:%d\n", (int)getpid(), port);
    fflush(stdout);

    struct pollfd fds[1 + MAX_CLIENTS] = {{.fd = l, .events = POLLIN}};
    nfds_t n = 1;
    while (!stopping) {
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (nfds_t i = n; i-- > 1;) {
            if (!fds[i].revents)
                continue;
            char buf[256];
            if (read(fds[i].fd, buf, sizeof buf) > 0 && write(fds[i].fd, "hello\n", 6) < 0)
                perror("naive-server: write");
            close(fds[i].fd); /* the server closes first */
            fds[i] = fds[--n];
        }
        if ((fds[0].revents & POLLIN) && n < 1 + MAX_CLIENTS) {
            int c = accept(l, NULL, NULL);
            if (c >= 0)
                fds[n++] = (struct pollfd){.fd = c, .events = POLLIN};
        }
    }
    for (nfds_t i = 0; i < n; i++)
        close(fds[i].fd);
    return 0;
}
