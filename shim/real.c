#include "real.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

enum real_id {
#define SF_HOOK(name, params, args) R_##name,
#include "hooks.def"
    R_COUNT
};

/* Names and hook addresses without pointers in data: nothing here needs a
 * relocation at load (every process pays for those, sockets or not). */
static const char real_names[R_COUNT][12] = {
#define SF_HOOK(name, params, args) [R_##name] = #name,
#include "hooks.def"
};

static void *own_hook(int id)
{
    switch (id) {
#define SF_HOOK(name, params, args)                                                                \
    case R_##name:                                                                                 \
        return (void *)sf_hook_##name;
#include "hooks.def"
    }
    return NULL;
}

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
    if (f == own_hook(i))
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

/* The raw system call for each name, used when the symbol is unbound. Only
 * calls every architecture has: aarch64 and riscv64 have no dup2 system call. */
static int sys_socket(int domain, int type, int protocol)
{
    return (int)syscall(SYS_socket, domain, type, protocol);
}

static int sys_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    return (int)syscall(SYS_bind, fd, addr, len);
}

static int sys_listen(int fd, int backlog)
{
    return (int)syscall(SYS_listen, fd, backlog);
}

static int sys_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return (int)syscall(SYS_accept4, fd, addr, len, flags);
}

static int sys_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return sys_accept4(fd, addr, len, 0);
}

static int sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    return (int)syscall(SYS_connect, fd, addr, len);
}

static int sys_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

static int sys_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

static int sys_dup(int fd)
{
    return (int)syscall(SYS_dup, fd);
}

static int sys_fcntl(int fd, int cmd, unsigned long arg)
{
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static int sys_fcntl64(int fd, int cmd, unsigned long arg)
{
    return sys_fcntl(fd, cmd, arg);
}

static int sys_dup3(int fd, int to, int flags)
{
    return (int)syscall(SYS_dup3, fd, to, flags);
}

/* dup2 onto itself returns the descriptor if it is open; dup3 would refuse. */
static int sys_dup2(int fd, int to)
{
    if (fd == to)
        return sys_fcntl(fd, F_GETFD, 0) < 0 ? -1 : to;
    return sys_dup3(fd, to, 0);
}

static int sys_close_range(unsigned lo, unsigned hi, int flags)
{
    return (int)syscall(SYS_close_range, lo, hi, flags);
}

#define SF_HOOK(name, params, args)                                                                \
    int real_##name params                                                                         \
    {                                                                                              \
        int(*f) params = (int(*) params)real(R_##name);                                            \
        return f ? f args : sys_##name args;                                                       \
    }
#include "hooks.def"
