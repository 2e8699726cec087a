/* launch: runs a program in the conditions a test of sockfix attach needs.
 *
 *   launch [--cgroup DIR] [--uid N] [--no-bpf] -- PROG [ARG...]
 *
 *   --cgroup DIR  joins the cgroup DIR first (its sockets then belong to it)
 *   --uid N       drops to user and group N, with no supplementary group and
 *                 so no capability
 *   --no-bpf      bpf(2) fails with ENOSYS, as on a kernel built without BPF
 * Exits 127 when it cannot.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "launch: add this architecture's AUDIT_ARCH"
#endif

static int join(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int ok = write(fd, "0", 1) == 1; /* "0": the writer itself */
    close(fd);
    return ok ? 0 : -1;
}

static int deny_bpf(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc) {
            if (join(argv[++i]) != 0) {
                perror("launch: joining the cgroup");
                return 127;
            }
        } else if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc) {
            unsigned id = (unsigned)atoi(argv[++i]);
            if (setgroups(0, NULL) != 0 || setgid(id) != 0 || setuid(id) != 0) {
                perror("launch: dropping to the user");
                return 127;
            }
        } else if (strcmp(argv[i], "--no-bpf") == 0) {
            if (deny_bpf() != 0) {
                perror("launch: seccomp");
                return 127;
            }
        } else {
            fprintf(stderr, "launch: unknown argument %s\n", argv[i]);
            return 127;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: launch [--cgroup DIR] [--uid N] [--no-bpf] -- PROG [ARG...]\n");
        return 127;
    }
    execv(argv[i + 1], argv + i + 1);
    perror("launch: exec");
    return 127;
}
