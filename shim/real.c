#include "real.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

enum real_id {
    R_SOCKET,
    R_BIND,
    R_LISTEN,
    R_ACCEPT,
    R_ACCEPT4,
    R_CONNECT,
    R_SETSOCKOPT,
    R_CLOSE,
    R_DUP,
    R_DUP2,
    R_DUP3,
    R_FCNTL,
    R_FCNTL64,
    R_CLOSE_RANGE,
    R_COUNT
};

static const char *const real_names[R_COUNT] = {
    "socket", "bind", "listen", "accept", "accept4", "connect", "setsockopt",
    "close",  "dup",  "dup2",   "dup3",   "fcntl",   "fcntl64", "close_range"};

static void *const own_hooks[R_COUNT] = {
    (void *)sf_hook_socket,     (void *)sf_hook_bind,       (void *)sf_hook_listen,
    (void *)sf_hook_accept,     (void *)sf_hook_accept4,    (void *)sf_hook_connect,
    (void *)sf_hook_setsockopt, (void *)sf_hook_close,      (void *)sf_hook_dup,
    (void *)sf_hook_dup2,       (void *)sf_hook_dup3,       (void *)sf_hook_fcntl,
    (void *)sf_hook_fcntl64,    (void *)sf_hook_close_range};

static _Atomic(void *) real_fn[R_COUNT];

/* Each symbol is bound on its first use, not all at once: the constructor
 * closes the policy file through the close hook, and a process that never
 * makes a socket call should pay for one lookup, not fourteen. */
enum { UNBOUND, BINDING, BOUND };
static _Atomic int bind_state[R_COUNT];

static void bind_one(int i)
{
    int expected = UNBOUND;
    if (!atomic_compare_exchange_strong(&bind_state[i], &expected, BINDING))
        return; /* bound, or being bound (by us, re-entered, or by another thread) */
    void *f = dlsym(RTLD_NEXT, real_names[i]);
    if (f == own_hooks[i])
        f = NULL;
    atomic_store_explicit(&real_fn[i], f, memory_order_release);
    atomic_store_explicit(&bind_state[i], BOUND, memory_order_release);
}

void real_bind_all(void)
{
    for (int i = 0; i < R_COUNT; i++)
        bind_one(i);
}

/* The bound function, or NULL when the caller must use the system call (the
 * symbol is being bound: dlsym re-entered a hook, or another thread binds). */
static void *real(enum real_id id)
{
    if (atomic_load_explicit(&bind_state[id], memory_order_acquire) != BOUND)
        bind_one(id);
    return atomic_load_explicit(&real_fn[id], memory_order_acquire);
}

int real_socket(int domain, int type, int protocol)
{
    int (*f)(int, int, int) = (int (*)(int, int, int))real(R_SOCKET);
    return f ? f(domain, type, protocol) : (int)syscall(SYS_socket, domain, type, protocol);
}

int real_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int (*f)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))real(R_BIND);
    return f ? f(fd, addr, len) : (int)syscall(SYS_bind, fd, addr, len);
}

int real_listen(int fd, int backlog)
{
    int (*f)(int, int) = (int (*)(int, int))real(R_LISTEN);
    return f ? f(fd, backlog) : (int)syscall(SYS_listen, fd, backlog);
}

int real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int (*f)(int, struct sockaddr *, socklen_t *) =
        (int (*)(int, struct sockaddr *, socklen_t *))real(R_ACCEPT);
    return f ? f(fd, addr, len) : (int)syscall(SYS_accept4, fd, addr, len, 0);
}

int real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    int (*f)(int, struct sockaddr *, socklen_t *, int) =
        (int (*)(int, struct sockaddr *, socklen_t *, int))real(R_ACCEPT4);
    return f ? f(fd, addr, len, flags) : (int)syscall(SYS_accept4, fd, addr, len, flags);
}

int real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int (*f)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))real(R_CONNECT);
    return f ? f(fd, addr, len) : (int)syscall(SYS_connect, fd, addr, len);
}

int real_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    int (*f)(int, int, int, const void *, socklen_t) =
        (int (*)(int, int, int, const void *, socklen_t))real(R_SETSOCKOPT);
    return f ? f(fd, level, name, val, len)
             : (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

int real_close(int fd)
{
    int (*f)(int) = (int (*)(int))real(R_CLOSE);
    return f ? f(fd) : (int)syscall(SYS_close, fd);
}

int real_dup(int fd)
{
    int (*f)(int) = (int (*)(int))real(R_DUP);
    return f ? f(fd) : (int)syscall(SYS_dup, fd);
}

int real_dup2(int fd, int to)
{
    int (*f)(int, int) = (int (*)(int, int))real(R_DUP2);
    return f ? f(fd, to) : (int)syscall(SYS_dup2, fd, to);
}

int real_dup3(int fd, int to, int flags)
{
    int (*f)(int, int, int) = (int (*)(int, int, int))real(R_DUP3);
    return f ? f(fd, to, flags) : (int)syscall(SYS_dup3, fd, to, flags);
}

/* fcntl's third argument is read by libc as one machine word, whatever cmd. */
int real_fcntl(int fd, int cmd, unsigned long arg, bool is64)
{
    int (*f)(int, int, unsigned long) =
        (int (*)(int, int, unsigned long))real(is64 ? R_FCNTL64 : R_FCNTL);
    return f ? f(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
}

int real_close_range(unsigned lo, unsigned hi, int flags)
{
    int (*f)(unsigned, unsigned, int) = (int (*)(unsigned, unsigned, int))real(R_CLOSE_RANGE);
    return f ? f(lo, hi, flags) : (int)syscall(SYS_close_range, lo, hi, flags);
}
