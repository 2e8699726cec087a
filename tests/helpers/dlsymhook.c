/* A preloaded library, loaded before the shim, that defines dlsym and makes
 * socket calls from inside it: the shim's hooks then run while the shim is
 * still resolving its real functions. The calls it made are reported when
 * the process exits (DLSYMHOOK_PORT names a loopback listener to connect). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int calls, inside, connect_rc = 99, connect_errno, keepidle = -1;

static void call_sockets(void)
{
    const char *port = getenv("DLSYMHOOK_PORT");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || !port)
        return;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect_rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    connect_errno = connect_rc ? errno : 0;
    socklen_t len = sizeof keepidle;
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepidle, &len);
    close(fd);
}

__attribute__((visibility("default"))) void *dlsym(void *handle, const char *name)
{
    static void *(*real_dlsym)(void *, const char *);
    if (!real_dlsym)
        real_dlsym = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!inside) {
        inside = 1;
        calls++;
        call_sockets();
        inside = 0;
    }
    return real_dlsym(handle, name);
}

__attribute__((destructor)) static void report(void)
{
    printf("dlsym.calls=%d\ndlsym.connect=%d\ndlsym.connect_errno=%d\ndlsym.keepidle=%d\n", calls,
           connect_rc, connect_errno, keepidle);
    fflush(stdout);
}
