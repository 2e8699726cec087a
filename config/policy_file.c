#include "policy_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sf_policy *failed_errno(const char *path, int err)
{
    return sf_policy_failed(path, strerror(err));
}

/* Reads at most max + 1 bytes so that an oversized file is recognised even
 * when it grows while being read. */
static ssize_t read_all(int fd, char *buf, size_t max)
{
    size_t got = 0;
    while (got <= max) {
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

struct sf_policy *sf_policy_load_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return failed_errno(path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return failed_errno(path, err);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sf_policy_failed(path, S_ISDIR(st.st_mode) ? "is a directory, not a policy file"
                                                          : "is not a regular file");
    }
    char msg[96];
    if (st.st_size > SF_POLICY_MAX_BYTES) {
        close(fd);
        snprintf(msg, sizeof msg, "is too large (%lld bytes; at most %d)", (long long)st.st_size,
                 SF_POLICY_MAX_BYTES);
        return sf_policy_failed(path, msg);
    }
    char *buf = malloc(SF_POLICY_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        return NULL;
    }
    ssize_t n = read_all(fd, buf, SF_POLICY_MAX_BYTES);
    int err = errno;
    close(fd);
    struct sf_policy *p;
    if (n < 0) {
        p = failed_errno(path, err);
    } else if (n > SF_POLICY_MAX_BYTES) {
        snprintf(msg, sizeof msg, "is too large (more than %d bytes)", SF_POLICY_MAX_BYTES);
        p = sf_policy_failed(path, msg);
    } else {
        p = sf_policy_parse(buf, (size_t)n, path);
    }
    free(buf);
    return p;
}

struct sf_policy *sf_policy_builtin(void)
{
    return sf_policy_parse(sf_builtin_policy_text, sf_builtin_policy_len, SF_BUILTIN_SOURCE);
}

struct sf_policy *sf_policy_load_default(const char *env_path)
{
    if (env_path && *env_path)
        return sf_policy_load_file(env_path);
    if (access(SF_SYSTEM_POLICY, F_OK) != 0 && errno == ENOENT)
        return sf_policy_builtin();
    return sf_policy_load_file(SF_SYSTEM_POLICY);
}
