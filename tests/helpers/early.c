/* A preloaded library whose constructor uses sockets before libsockfix's
 * constructor has run, as some libraries' constructors do. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, level, name, &v, &len);
    return v;
}

__attribute__((constructor)) static void early_sockets(void)
{
    struct sockaddr_in in = {
        .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&in, len) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&in, &len) != 0)
        return;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&in, len) != 0)
        return;
    int a = accept(l, NULL, NULL);
    printf("early.listener.keepidle=%d\nearly.accepted.keepidle=%d\n"
           "early.client.keepidle=%d\nearly.client.keepcnt=%d\n",
           opt(l, IPPROTO_TCP, TCP_KEEPIDLE), opt(a, IPPROTO_TCP, TCP_KEEPIDLE),
           opt(c, IPPROTO_TCP, TCP_KEEPIDLE), opt(c, IPPROTO_TCP, TCP_KEEPCNT));
    fflush(stdout);
    close(a);
    close(c);
    close(l);
}
