#include "target.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

void target_explain(const char *cmd, pid_t pid, int err)
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

/* A "Key:\tvalue" line of /proc/PID/status into val; false when missing. */
static bool status_field(pid_t pid, const char *key, char *val, size_t len)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t klen = strlen(key);
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            const char *v = line + klen + 1;
            v += strspn(v, " \t");
            snprintf(val, len, "%.*s", (int)strcspn(v, "\n"), v);
            found = true;
        }
    }
    fclose(f);
    return found;
}

bool target_alive(pid_t pid)
{
    char tgid[32], state[64];
    return status_field(pid, "Tgid", tgid, sizeof tgid) && atoi(tgid) == (int)pid &&
           !(status_field(pid, "State", state, sizeof state) && state[0] == 'Z');
}

int target_check(const char *cmd, pid_t pid)
{
    char tgid[32], state[64];
    if (!status_field(pid, "Tgid", tgid, sizeof tgid)) {
        target_explain(cmd, pid, ESRCH);
        return EXIT_FINDINGS;
    }
    if (atoi(tgid) != (int)pid) {
        fprintf(stderr,
                "sockfix %s: %d is a thread of process %s, not a process: run sockfix %s %s\n", cmd,
                (int)pid, tgid, cmd, tgid);
        return EXIT_USAGE;
    }
    if (status_field(pid, "State", state, sizeof state) && state[0] == 'Z') {
        fprintf(stderr,
                "sockfix %s: PID %d has exited (a zombie its parent has not reaped yet): it "
                "holds no sockets\n",
                cmd, (int)pid);
        return EXIT_FINDINGS;
    }
    return EXIT_OK;
}

static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    int ppid;
    return close && sscanf(close + 1, " %*c %d", &ppid) == 1 ? (pid_t)ppid : -1;
}

struct proc {
    pid_t pid, ppid;
};

static int by_ppid(const void *a, const void *b)
{
    const struct proc *x = a, *y = b;
    return x->ppid != y->ppid ? (x->ppid < y->ppid ? -1 : 1)
                              : (x->pid > y->pid) - (x->pid < y->pid);
}

int target_tree(pid_t pid, pid_t **out, size_t *n)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct proc *all = NULL;
    size_t nall = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if (nall == cap) {
            cap = cap ? cap * 2 : 256;
            struct proc *v = reallocarray(all, cap, sizeof *v);
            if (!v) {
                free(all);
                closedir(d);
                return -1;
            }
            all = v;
        }
        pid_t p = (pid_t)atoi(e->d_name);
        all[nall++] = (struct proc){p, parent_of(p)};
    }
    closedir(d);
    if (nall)
        qsort(all, nall, sizeof *all, by_ppid);
    pid_t *tree = malloc((nall + 1) * sizeof *tree);
    if (!tree) {
        free(all);
        return -1;
    }
    size_t len = 0;
    tree[len++] = pid;
    for (size_t next = 0; next < len; next++) { /* breadth first: parents before children */
        for (size_t i = 0; i < nall; i++)
            if (all[i].ppid == tree[next] && all[i].pid != pid && len <= nall)
                tree[len++] = all[i].pid;
    }
    free(all);
    *out = tree;
    *n = len;
    return 0;
}

int target_descendants(pid_t pid, pid_t **out, size_t *n)
{
    if (target_tree(pid, out, n) != 0)
        return -1;
    memmove(*out, *out + 1, (*n - 1) * sizeof **out);
    (*n)--;
    return 0;
}

static void name_into(char out[SF_RECORD_NAME_MAX], const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strnlen(base, SF_RECORD_NAME_MAX - 1);
    static const char deleted[] = " (deleted)"; /* replaced on disk while it runs */
    if (n >= sizeof deleted &&
        memcmp(base + n - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
        n -= sizeof deleted - 1;
    memcpy(out, base, n);
    out[n] = '\0';
}

/* The file the process was executed as: AT_EXECFN points into its stack,
 * above its environment, where a rewritten title does not reach. */
static void execfn_of(pid_t pid, char out[SF_RECORD_NAME_MAX])
{
    char path[64];
    uint64_t aux[2 * 64];
    out[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t n = fread(aux, sizeof(uint64_t), sizeof aux / sizeof aux[0], f);
    fclose(f);
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (aux[i] != AT_EXECFN)
            continue;
        char file[512];
        if (librecord_peek_string(pid, aux[i + 1], file, sizeof file) == 0)
            name_into(out, file);
        return;
    }
}

int target_open(struct target *t, pid_t pid)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (t->pidfd < 0)
        return -1;
    char path[64], exe[4096];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    if (f && fgets(t->comm, sizeof t->comm, f))
        t->comm[strcspn(t->comm, "\n")] = '\0';
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    name_into(t->names[SF_NAME_EXE], exe);
    execfn_of(pid, t->names[SF_NAME_EXECFN]);
    librecord_read(pid, &t->record);
    if (t->record.present) /* what the library saw, argv[0] before any title rewrite */
        memcpy(t->names[SF_NAME_ARGV0], t->record.rec.names[SF_NAME_ARGV0], SF_RECORD_NAME_MAX);
    return 0;
}

void target_close(struct target *t)
{
    if (t->pidfd >= 0)
        close(t->pidfd);
    t->pidfd = -1;
}

bool target_exited(const struct target *t)
{
    struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
    return t->pidfd < 0 || (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP)));
}

int target_take(const struct target *t, int fd)
{
    return (int)syscall(SYS_pidfd_getfd, t->pidfd, fd, 0);
}
