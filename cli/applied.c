#include "applied.h"

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory, created when needed; false when there is none to use. */
static bool state_dir(char *buf, size_t len, bool create)
{
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(buf, len, "/run/sockfix/applied");
    else if (runtime && runtime[0] == '/')
        snprintf(buf, len, "%s/sockfix/applied", runtime);
    else
        return false;
    if (!create)
        return true;
    char parent[4096];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(buf, '/') - buf), buf);
    if ((mkdir(parent, 0755) != 0 && errno != EEXIST) || (mkdir(buf, 0700) != 0 && errno != EEXIST))
        return false;
    return true;
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks. */
static unsigned long long start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long t = 0;
    if (p && sscanf(p + 1,
                    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
                    "%*d %llu",
                    &t) != 1)
        t = 0;
    return t;
}

static bool file_of(pid_t pid, char *buf, size_t len, bool create)
{
    char dir[4096];
    unsigned long long t = start_time(pid);
    if (!t || !state_dir(dir, sizeof dir, create))
        return false;
    snprintf(buf, len, "%s/%d-%llu", dir, (int)pid, t);
    return true;
}

void applied_load(struct applied *a, pid_t pid)
{
    *a = (struct applied){0};
    char path[4200];
    if (!file_of(pid, path, sizeof path, false))
        return;
    FILE *f = fopen(path, "re");
    unsigned long inode;
    unsigned mask;
    while (f && fscanf(f, "%lu %x", &inode, &mask) == 2)
        if (applied_add(a, inode, mask) != 0)
            break;
    if (f)
        fclose(f);
}

uint32_t applied_mask(const struct applied *a, unsigned long inode)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->inode[i] == inode)
            return a->mask[i];
    return 0;
}

int applied_add(struct applied *a, unsigned long inode, uint32_t bits)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->inode[i] == inode) {
            a->mask[i] |= bits;
            return 0;
        }
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        unsigned long *in = reallocarray(a->inode, cap, sizeof *in);
        if (in)
            a->inode = in;
        uint32_t *m = in ? reallocarray(a->mask, cap, sizeof *m) : NULL;
        if (!m)
            return -1;
        a->mask = m;
        a->cap = cap;
    }
    a->inode[a->n] = inode;
    a->mask[a->n++] = bits;
    return 0;
}

/* Files of processes that are gone, or whose PID was reused. */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        int pid;
        unsigned long long t;
        if (!isdigit((unsigned char)e->d_name[0]) || sscanf(e->d_name, "%d-%llu", &pid, &t) != 2)
            continue;
        if (start_time(pid) != t)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d)
        closedir(d);
}

int applied_save(const struct applied *a, pid_t pid)
{
    char path[4200], tmp[4300], dir[4096];
    if (!file_of(pid, path, sizeof path, true))
        return 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -1;
    for (size_t i = 0; i < a->n; i++)
        fprintf(f, "%lu %x\n", a->inode[i], a->mask[i]);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    if (state_dir(dir, sizeof dir, false))
        remove_stale(dir);
    return 0;
}

void applied_free(struct applied *a)
{
    free(a->inode);
    free(a->mask);
    *a = (struct applied){0};
}
