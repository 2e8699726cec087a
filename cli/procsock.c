#include "procsock.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int procsock_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int procsock_take(int pidfd, int fd)
{
    return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

void procsock_explain(const char *cmd, pid_t pid, int err)
{
    if (err == ESRCH)
        fprintf(stderr, "sockfix %s: no process with PID %d\n", cmd, (int)pid);
    else if (err == EPERM || err == EACCES)
        fprintf(stderr,
                "sockfix %s: not permitted to reach the sockets of PID %d: this needs ptrace "
                "access to it (PTRACE_MODE_ATTACH_REALCREDS): root or CAP_SYS_PTRACE, or the "
                "same user where kernel.yama.ptrace_scope allows it\n",
                cmd, (int)pid);
    else if (err == ENOSYS)
        fprintf(stderr,
                "sockfix %s: this kernel lacks pidfd_getfd (Linux 5.6 or later is needed)\n", cmd);
    else
        fprintf(stderr, "sockfix %s: PID %d: %s\n", cmd, (int)pid, strerror(err));
}

void procsock_comm(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    buf[0] = '\0';
    if (f && fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

static void base_name_into(const char *path, char *out)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strnlen(base, 255);
    memcpy(out, base, n);
    out[n] = '\0';
}

void procsock_program_names(pid_t pid, char exe[static 256], char argv0[static 256])
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    base_name_into(buf, exe);
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "re");
    size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[got] = '\0'; /* the first NUL ends argv[0] */
    if (f)
        fclose(f);
    base_name_into(buf, argv0);
}

static int by_number(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int procsock_list(pid_t pid, int **out, size_t *n)
{
    char path[64], link[320], target[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, "socket:", 7) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            int *v = realloc(*out, cap * sizeof **out);
            if (!v) {
                closedir(d);
                free(*out);
                *out = NULL;
                return -1;
            }
            *out = v;
        }
        (*out)[(*n)++] = atoi(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, by_number);
    return 0;
}

int procsock_begin(struct procsock_walk *w, const char *cmd, pid_t pid)
{
    *w = (struct procsock_walk){.cmd = cmd, .pid = pid, .pidfd = procsock_open(pid)};
    if (w->pidfd >= 0 && procsock_list(pid, &w->fds, &w->nfds) == 0)
        return 0;
    procsock_explain(cmd, pid, errno);
    if (w->pidfd >= 0)
        close(w->pidfd);
    w->pidfd = -1;
    return -1;
}

int procsock_next(struct procsock_walk *w, int *fd, bool *failed)
{
    *failed = false;
    while (w->next < w->nfds) {
        *fd = w->fds[w->next++];
        int dup = procsock_take(w->pidfd, *fd);
        if (dup >= 0)
            return dup;
        if (errno != EBADF) {
            procsock_explain(w->cmd, w->pid, errno);
            *failed = true;
            return -1;
        }
    }
    return -1;
}

void procsock_end(struct procsock_walk *w)
{
    if (w->pidfd >= 0)
        close(w->pidfd);
    free(w->fds);
    w->pidfd = -1;
    w->fds = NULL;
}
