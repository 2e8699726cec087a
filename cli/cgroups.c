#include "cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* Whether the mount point mount contains path. */
static size_t contains(const char *mount, const char *path)
{
    size_t n = strlen(mount);
    if (strcmp(mount, "/") == 0)
        return 1;
    return strncmp(path, mount, n) == 0 && (path[n] == '\0' || path[n] == '/') ? n : 0;
}

int cgroup_root(char root[PATH_MAX], const char *within)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    size_t best = 0;
    int found = -1;
    while (f && fgets(line, sizeof line, f)) {
        /* "36 25 0:30 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw" */
        char mount[PATH_MAX], type[64];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(sep + 3, "%63s", type) != 1 || strcmp(type, "cgroup2") != 0 ||
            sscanf(line, "%*s %*s %*s %*s %4095s", mount) != 1)
            continue;
        size_t n = within ? contains(mount, within) : 0;
        if (found != 0 || n > best) {
            snprintf(root, PATH_MAX, "%s", mount);
            best = n;
            found = 0;
        }
        if (!within)
            break;
    }
    if (f)
        fclose(f);
    return found;
}

static int no_hierarchy(const char *cmd)
{
    fprintf(stderr,
            "sockfix %s: no cgroup v2 hierarchy is mounted (none in /proc/self/mountinfo): "
            "sockfix attach needs one (mount -t cgroup2 none /sys/fs/cgroup)\n",
            cmd);
    return EXIT_FINDINGS;
}

/* The cgroup a process is in: "0::/path" in /proc/PID/cgroup. */
static int cgroup_of_pid(const char *cmd, pid_t pid, char *rel, size_t len)
{
    char path[64], line[PATH_MAX + 8];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "sockfix %s: no process with PID %d\n", cmd, (int)pid);
        return EXIT_FINDINGS;
    }
    int r = EXIT_FINDINGS;
    while (r != EXIT_OK && fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            size_t n = strnlen(line + 3, len - 1);
            memcpy(rel, line + 3, n);
            rel[n] = '\0';
            r = EXIT_OK;
        }
    }
    fclose(f);
    if (r != EXIT_OK)
        fprintf(stderr, "sockfix %s: PID %d is in no cgroup of the v2 hierarchy\n", cmd, (int)pid);
    return r;
}

/* systemd's own answer: systemctl show -P ControlGroup UNIT. */
static bool unit_from_systemd(const char *unit, char *rel, size_t len)
{
    int fd[2];
    if (access("/usr/bin/systemctl", X_OK) != 0 && access("/bin/systemctl", X_OK) != 0)
        return false;
    if (pipe2(fd, O_CLOEXEC) != 0)
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        execlp("systemctl", "systemctl", "show", "-P", "ControlGroup", "--", unit, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    ssize_t n = pid > 0 ? read(fd[0], rel, len - 1) : -1;
    close(fd[0]);
    int status = 1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (n <= 0 || status != 0)
        return false;
    rel[n] = '\0';
    rel[strcspn(rel, "\n")] = '\0';
    return rel[0] == '/';
}

/* Without systemctl: the first directory named so in the hierarchy
 * (breadth first, as systemd lays slices and units out). */
static bool unit_by_name(const char *root, const char *name, char *rel, size_t len)
{
    enum { MAX_DIRS = 20000 };
    char(*queue)[PATH_MAX] = malloc(sizeof *queue * 256);
    size_t head = 0, tail = 0, cap = 256, seen = 0;
    bool found = false;
    if (!queue)
        return false;
    snprintf(queue[tail++], PATH_MAX, "%s", "");
    while (head < tail && !found && seen++ < MAX_DIRS) {
        char dir[PATH_MAX * 2];
        snprintf(dir, sizeof dir, "%s%s", root, queue[head]);
        DIR *d = opendir(dir);
        for (struct dirent *e; d && !found && (e = readdir(d));) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.')
                continue;
            char sub[PATH_MAX];
            if (snprintf(sub, sizeof sub, "%s/%s", queue[head], e->d_name) >= (int)sizeof sub)
                continue;
            if (strcmp(e->d_name, name) == 0) {
                snprintf(rel, len, "%s", sub);
                found = true;
            } else if (tail == cap) {
                char(*bigger)[PATH_MAX] = realloc(queue, sizeof *queue * cap * 2);
                if (!bigger)
                    break;
                queue = bigger;
                cap *= 2;
            }
            if (!found && tail < cap)
                snprintf(queue[tail++], PATH_MAX, "%s", sub);
        }
        if (d)
            closedir(d);
        head++;
    }
    free(queue);
    return found;
}

static int cgroup_of_unit(const char *cmd, const char *root, const char *unit, char *rel,
                          size_t len)
{
    char name[300];
    snprintf(name, sizeof name, "%s%s", unit, strchr(unit, '.') ? "" : ".service");
    if (unit_from_systemd(name, rel, len) || unit_by_name(root, name, rel, len))
        return EXIT_OK;
    fprintf(stderr, "sockfix %s: no cgroup for the unit %s (is it running?)\n", cmd, quoted(name));
    return EXIT_FINDINGS;
}

int cgroup_resolve(const char *cmd, const struct cgroup_arg *arg, struct cgroup *out)
{
    char root[PATH_MAX], rel[PATH_MAX] = "", real[PATH_MAX];
    /* A directory names its hierarchy: in a container that mounts the
     * host's under another path, that one, not the container's own. */
    char named[PATH_MAX];
    bool have_named = arg->path && arg->path[0] == '/' && realpath(arg->path, named);
    if (cgroup_root(root, have_named ? named : NULL) != 0)
        return no_hierarchy(cmd);
    int r = EXIT_OK;
    if (arg->pid)
        r = cgroup_of_pid(cmd, arg->pid, rel, sizeof rel);
    else if (arg->unit)
        r = cgroup_of_unit(cmd, root, arg->unit, rel, sizeof rel);
    if (r != EXIT_OK)
        return r;
    char path[PATH_MAX * 2];
    if (arg->path && arg->path[0] != '/')
        return usage_error(cmd, "the cgroup is an absolute path (%s is not)", quoted(arg->path));
    snprintf(path, sizeof path, "%s", arg->path ? arg->path : root);
    if (!arg->path)
        snprintf(path, sizeof path, "%s%s", root, strcmp(rel, "/") == 0 ? "" : rel);
    if (!realpath(path, real)) {
        fprintf(stderr, "sockfix %s: no cgroup %s (%s)\n", cmd, path, strerror(errno));
        return EXIT_FINDINGS;
    }
    size_t n = strlen(root);
    char procs[PATH_MAX + 16];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", real);
    if (strncmp(real, root, n) != 0 || (real[n] != '\0' && real[n] != '/') ||
        access(procs, F_OK) != 0) {
        fprintf(stderr,
                "sockfix %s: %s is not a cgroup of the v2 hierarchy (it is mounted at %s)\n", cmd,
                real, root);
        return EXIT_FINDINGS;
    }
    struct stat st;
    if (stat(real, &st) != 0) {
        fprintf(stderr, "sockfix %s: %s: %s\n", cmd, real, strerror(errno));
        return EXIT_FINDINGS;
    }
    snprintf(out->path, sizeof out->path, "%s", real);
    out->id = (uint64_t)st.st_ino;
    return EXIT_OK;
}
