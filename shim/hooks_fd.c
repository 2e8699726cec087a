/* Descriptor lifecycle hooks: close, dup, dup2, dup3, fcntl(F_DUPFD*) and
 * close_range keep the per-fd table true, so a reused descriptor number never
 * carries an old socket's kind or the options its program set. The table is
 * forgotten before a close (no other thread can get the number yet) and
 * copied after a successful duplication (the new number is ours by then). */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdbool.h>

#include "fdtable.h"
#include "real.h"

int sf_hook_close(int fd)
{
    fdtab_forget(fd);
    return real_close(fd);
}

static int copied(int from, int to)
{
    if (to >= 0) {
        int saved = errno;
        fdtab_copy(from, to);
        errno = saved;
    }
    return to;
}

int sf_hook_dup(int fd)
{
    return copied(fd, real_dup(fd));
}

int sf_hook_dup2(int fd, int to)
{
    int r = real_dup2(fd, to);
    return fd == to ? r : copied(fd, r);
}

int sf_hook_dup3(int fd, int to, int flags)
{
    return copied(fd, real_dup3(fd, to, flags));
}

static int fcntl_common(int fd, int cmd, unsigned long arg, bool is64)
{
    int r = is64 ? real_fcntl64(fd, cmd, arg) : real_fcntl(fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return copied(fd, r);
    return r;
}

int sf_hook_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl_common(fd, cmd, arg, false);
}

int sf_hook_fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl_common(fd, cmd, arg, true);
}

int sf_hook_close_range(unsigned lo, unsigned hi, int flags)
{
    if (!(flags & CLOSE_RANGE_CLOEXEC) && lo <= hi)
        fdtab_forget_range(lo, hi);
    return real_close_range(lo, hi, flags);
}
