#include "policy_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Reads to the end, at most max + 1 bytes so that a file that grew while
 * being read is recognised as too large. A short read that ends at the size
 * fstat reported is the end: a file that did not change takes one read (in
 * the library, every start with a policy file pays for each system call). */
static ssize_t read_all(int fd, char *buf, size_t max, size_t size)
{
    size_t got = 0;
    while (got <= max) {
        size_t want = max + 1 - got;
        ssize_t n = read(fd, buf + got, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
        if ((size_t)n < want && got == size)
            break;
    }
    return (ssize_t)got;
}

static long too_large(char *err, size_t errlen, long long size)
{
    if (size >= 0)
        snprintf(err, errlen, "is too large (%lld bytes; at most %d)", size, SF_POLICY_MAX_BYTES);
    else
        snprintf(err, errlen, "is too large (more than %d bytes)", SF_POLICY_MAX_BYTES);
    return -1;
}

int sf_policy_check_owner(const struct stat *st, unsigned euid, char *err, size_t errlen)
{
    if (euid != 0)
        return 0;
    if (st->st_uid != 0) {
        snprintf(err, errlen,
                 "is owned by uid %u; a process running as root only reads a policy owned by root",
                 (unsigned)st->st_uid);
        return -1;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen,
                 "is writable by %s (mode %04o); a process running as root refuses it "
                 "(chmod go-w)",
                 (st->st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st->st_mode & 07777));
        return -1;
    }
    return 0;
}

long sf_policy_read(const char *path, unsigned euid, char *buf, size_t cap, char *err,
                    size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    long r;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        r = -1;
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s",
                 S_ISDIR(st.st_mode) ? "is a directory, not a policy file"
                                     : "is not a regular file");
        r = -1;
    } else if (sf_policy_check_owner(&st, euid, err, errlen) != 0) {
        r = -1;
    } else if (st.st_size > SF_POLICY_MAX_BYTES) {
        r = too_large(err, errlen, (long long)st.st_size);
    } else if ((size_t)st.st_size >= cap) {
        r = -2;
    } else {
        /* One byte more than a valid file can have tells growth from EOF. */
        size_t want = cap < SF_POLICY_MAX_BYTES + 1 ? cap : SF_POLICY_MAX_BYTES + 1;
        ssize_t n = read_all(fd, buf, want - 1, (size_t)st.st_size);
        if (n < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            r = -1;
        } else if ((size_t)n >= want) {
            r = want == SF_POLICY_MAX_BYTES + 1 ? too_large(err, errlen, -1) : -2;
        } else {
            r = (long)n;
        }
    }
    /* The system call, not close(): in the library close() is its own hook,
     * whose first call binds the real close with dlsym, at every start. */
    syscall(SYS_close, fd);
    return r;
}

struct sf_policy *sf_policy_load_file(const char *path)
{
    char *buf = malloc(SF_POLICY_MAX_BYTES + 1);
    if (!buf)
        return NULL;
    char err[192];
    long n =
        sf_policy_read(path, (unsigned)geteuid(), buf, SF_POLICY_MAX_BYTES + 1, err, sizeof err);
    struct sf_policy *p =
        n < 0 ? sf_policy_failed(path, err) : sf_policy_parse(buf, (size_t)n, path);
    free(buf);
    return p;
}

struct sf_policy *sf_policy_builtin(void)
{
    return sf_policy_parse(sf_builtin_policy_text, sf_builtin_policy_len, SF_BUILTIN_SOURCE);
}

const char *sf_policy_locate(const char *env_path)
{
    if (env_path && *env_path)
        return env_path;
    if (access(SF_SYSTEM_POLICY, F_OK) != 0 && errno == ENOENT)
        return NULL;
    return SF_SYSTEM_POLICY;
}

struct sf_policy *sf_policy_load_default(const char *env_path)
{
    const char *path = sf_policy_locate(env_path);
    return path ? sf_policy_load_file(path) : sf_policy_builtin();
}
