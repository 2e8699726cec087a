/* Running a helper program under the shim with an explicit environment and
 * reading back what it printed. The test runner itself is never preloaded. */
#ifndef SOCKFIX_TESTS_RUN_H
#define SOCKFIX_TESTS_RUN_H

#include <stdbool.h>
#include <sys/types.h>

/* The arm64 build runs under qemu-user (scripts/cross.sh), which does not
 * emulate everything the kernel offers: seccomp filters, sock_diag netlink,
 * IP_TRANSPARENT, SO_MARK and reading SO_BINDTODEVICE back, the secure
 * execution of a setgid program, a signal landing inside a blocking call.
 * What depends on those is not checked there, and says so. */
#ifdef SOCKFIX_TEST_UNDER_QEMU
#define UNDER_QEMU true
#else
#define UNDER_QEMU false
#endif
#define SKIP_UNDER_QEMU(what)                                                                      \
    do {                                                                                           \
        if (UNDER_QEMU)                                                                            \
            cr_skip_test("qemu-user does not emulate " what);                                      \
    } while (0)

/* LD_PRELOAD's value for the shim: the sanitizer runtime comes first in
 * sanitizer builds (SANITIZER_PRELOAD is "" otherwise). */
#define SHIM_PRELOAD SANITIZER_PRELOAD SOCKFIX_LIB

struct run_opts {
    const char *policy;      /* text written to a temporary policy file */
    const char *config_path; /* SOCKFIX_CONFIG as given (instead of policy) */
    const char *log;         /* SOCKFIX_LOG */
    bool bare;               /* no LD_PRELOAD */
    const char *argv0;       /* argv[0] if not the helper's path */
    const char *extra_env[4];
    int keep_fd; /* inherited by the helper when > 2 */
};

struct run_result {
    pid_t pid;
    int status; /* exit status, or 128 + signal */
    char out[32768];
    char err[32768];
};

/* Runs SOCKPROBE with args (NULL-terminated); asserts it could be started. */
void run_probe(const struct run_opts *o, const char *const *args, struct run_result *r);

/* Runs path with argv and envp (NULL-terminated), in cwd when not NULL,
 * stdin from /dev/null, and collects its output and exit status. */
void run_program(const char *path, const char *const *argv, const char *const *envp,
                 const char *cwd, struct run_result *r);

/* A helper left running: "sockprobe hold" until stop_held closes its stdin. */
struct held {
    pid_t pid;
    int stdin_fd, stdout_fd;
    struct run_result result; /* what it printed up to "ready" */
};
void start_held(bool preload, const char *policy_path, const char *family, struct held *h);
/* Starts `sockprobe hold` from path (a copy, a static build) without preload. */
void start_held_program(const char *path, const char *family, struct held *h);
/* Any program that prints "ready" when its sockets exist and ends at stdin's
 * EOF, with argv (argv[0] included) and envp; stderr is inherited. */
void start_held_argv(const char *path, const char *const *argv, const char *const *envp,
                     struct held *h);
/* `sockprobe hold` under the shim or not, with more arguments (NULL-terminated). */
void start_held_with(bool preload, const char *policy_path, const char *const *args,
                     struct held *h);
/* Sends a request line ("report", "new") and collects the answer up to "done". */
void held_ask(struct held *h, const char *request, struct run_result *r);
void stop_held(struct held *h);

/* The standard output of the shell command cmd in out (len bytes at most);
 * the test fails when it cannot run or exits non-zero. */
void read_command(const char *cmd, char *out, size_t len);

/* The value printed as "key=value", or NULL. */
const char *result_get(const struct run_result *r, const char *key);
/* The same as a number; the test fails when the key is missing. */
long result_num(const struct run_result *r, const char *key);

/* Writes text to a new /tmp/sockfix-test-*.ini file; returns path. */
char *write_policy(const char *text, char path[static 64]);

/* A free loopback TCP port (bound once to port 0 and closed unconnected). */
unsigned free_tcp_port(int family);
/* A free loopback TCP port below the ephemeral range (20000..32767), as a
 * service's configured port would be. */
unsigned free_low_port(int family);

/* getsockopt of descriptor fd of process pid, from outside (pidfd_getfd);
 * the test fails when it cannot be read. */
int remote_getsockopt(pid_t pid, int fd, int level, int name);

/* "sockfix[PID]: " + text + "\n" for r's process. */
const char *log_line(const struct run_result *r, const char *text);

#endif
