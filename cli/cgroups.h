/* The cgroup v2 hierarchy and the cgroups sockfix attach, detach and status
 * name: a directory, a systemd unit's cgroup, or a process's. */
#ifndef SOCKFIX_CLI_CGROUPS_H
#define SOCKFIX_CLI_CGROUPS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* The mount point of the cgroup v2 hierarchy (/proc/self/mountinfo: on
 * hybrid hosts /sys/fs/cgroup/unified); -1 when there is none. With
 * within, the mount that holds that path when several do (a container with
 * its own and the host's): the one with the longest mount point. */
int cgroup_root(char root[PATH_MAX], const char *within);

/* How a command named its cgroup. */
struct cgroup_arg {
    const char *path; /* a directory */
    const char *unit; /* --unit NAME */
    pid_t pid;        /* --pid PID (0: not given) */
};

struct cgroup {
    char path[PATH_MAX]; /* absolute, under the root */
    uint64_t id;         /* the cgroup's id: its directory's inode */
};

/* Resolves the argument into a cgroup of the hierarchy; EXIT_OK, or the exit
 * status after printing why for cmd. */
int cgroup_resolve(const char *cmd, const struct cgroup_arg *arg, struct cgroup *out);

#endif
