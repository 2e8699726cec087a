/* walkstop.so, preloaded into the sockfix command by the tests: on its Nth
 * pidfd_getfd (WALKSTOP_AFTER), it kills WALKSTOP_PID and waits until the
 * process has exited, so that the target ends in the middle of a walk, every
 * time, with no timing involved. */
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((visibility("default"))) long syscall(long number, ...);

long syscall(long number, ...)
{
    static long (*real)(long, ...);
    static int calls;
    if (!real)
        real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    const char *after = getenv("WALKSTOP_AFTER"), *pid = getenv("WALKSTOP_PID");
    if (number == SYS_pidfd_getfd && after && pid && ++calls == atoi(after)) {
        int pidfd = (int)real(SYS_pidfd_open, atoi(pid), 0);
        kill(atoi(pid), SIGKILL);
        struct pollfd p = {.fd = pidfd, .events = POLLIN}; /* readable once it has exited */
        while (pidfd >= 0 && poll(&p, 1, -1) != 1)
            ;
        close(pidfd);
    }
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
