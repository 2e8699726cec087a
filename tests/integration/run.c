#include "run.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

char *write_policy(const char *text, char path[static 64])
{
    strcpy(path, "/tmp/sockfix-test-XXXXXX.ini");
    int fd = mkstemps(path, 4);
    cr_assert(fd >= 0, "mkstemps: %s", strerror(errno));
    size_t len = strlen(text);
    cr_assert(write(fd, text, len) == (ssize_t)len);
    close(fd);
    return path;
}

static void drain(int out, int err, struct run_result *r)
{
    size_t lens[2] = {0, 0};
    char *bufs[2] = {r->out, r->err};
    struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            cr_assert_fail("poll: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            size_t room = sizeof r->out - 1 - lens[i];
            char scratch[256];
            ssize_t n = room ? read(p[i].fd, bufs[i] + lens[i], room)
                             : read(p[i].fd, scratch, sizeof scratch);
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            } else if (room) {
                lens[i] += (size_t)n;
            }
        }
    }
    r->out[lens[0]] = '\0';
    r->err[lens[1]] = '\0';
}

static void spawn_and_collect(const char *path, char *const argv[], char *const envp[],
                              const char *cwd, struct run_result *r)
{
    int out[2], err[2];
    cr_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    int rc = posix_spawn(&r->pid, path, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert(rc == 0, "posix_spawn %s: %s", path, strerror(rc));
    close(out[1]);
    close(err[1]);
    drain(out[0], err[0], r);
    int status;
    cr_assert(waitpid(r->pid, &status, 0) == r->pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void run_program(const char *path, const char *const *argv, const char *const *envp,
                 const char *cwd, struct run_result *r)
{
    spawn_and_collect(path, (char *const *)argv, (char *const *)envp, cwd, r);
}

void run_probe(const struct run_opts *o, const char *const *args, struct run_result *r)
{
    char *env[16];
    int n = 0;
    char preload[512], config[512], log[64];
    env[n++] = "PATH=/usr/bin:/bin";
    if (!o->bare) {
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", SHIM_PRELOAD);
        env[n++] = preload;
    }
    char *policy_path = NULL, policy_buf[64];
    if (o->policy)
        policy_path = write_policy(o->policy, policy_buf);
    const char *cfg = policy_path ? policy_path : o->config_path;
    if (cfg) {
        snprintf(config, sizeof config, "SOCKFIX_CONFIG=%s", cfg);
        env[n++] = config;
    }
    if (o->log) {
        snprintf(log, sizeof log, "SOCKFIX_LOG=%s", o->log);
        env[n++] = log;
    }
    for (int i = 0; i < 4 && o->extra_env[i]; i++)
        env[n++] = (char *)o->extra_env[i];
    env[n] = NULL;

    char *argv[16];
    int a = 0;
    argv[a++] = (char *)(o->argv0 ? o->argv0 : SOCKPROBE);
    for (; args[a - 1] && a < 15; a++)
        argv[a] = (char *)args[a - 1];
    argv[a] = NULL;
    spawn_and_collect(SOCKPROBE, argv, env, NULL, r);
    if (policy_path)
        unlink(policy_path);
}

static void held_env(bool preload, const char *policy_path, char *env_preload, char *env_config,
                     const char *env[4])
{
    int n = 0;
    env[n++] = "PATH=/usr/bin:/bin";
    if (preload) {
        snprintf(env_preload, 512, "LD_PRELOAD=%s", SHIM_PRELOAD);
        env[n++] = env_preload;
    }
    if (policy_path) {
        snprintf(env_config, 512, "SOCKFIX_CONFIG=%s", policy_path);
        env[n++] = env_config;
    }
    env[n] = NULL;
}

void start_held_with(bool preload, const char *policy_path, const char *const *args, struct held *h)
{
    char env_preload[512], env_config[512];
    const char *env[4], *argv[16] = {SOCKPROBE, "hold"};
    held_env(preload, policy_path, env_preload, env_config, env);
    int n = 2;
    for (; args[n - 2] && n < 15; n++)
        argv[n] = args[n - 2];
    argv[n] = NULL;
    start_held_argv(SOCKPROBE, argv, env, h);
}

void start_held(bool preload, const char *policy_path, const char *family, struct held *h)
{
    start_held_with(preload, policy_path, (const char *const[]){family, NULL}, h);
}

void start_held_program(const char *path, const char *family, struct held *h)
{
    const char *argv[] = {path, "hold", family, NULL};
    start_held_argv(path, argv, (const char *const[]){"PATH=/usr/bin:/bin", NULL}, h);
}

/* Reads from fd until buf holds `end`; asserts it comes. */
static void read_until(int fd, char *buf, size_t cap, const char *end)
{
    size_t len = 0;
    buf[0] = '\0';
    while (len < cap - 1) {
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        cr_assert(k > 0, "the held helper ended early: %.*s", (int)len, buf);
        len += (size_t)k;
        buf[len] = '\0';
        if (strstr(buf, end))
            return;
    }
}

void held_ask(struct held *h, const char *request, struct run_result *r)
{
    size_t n = strlen(request);
    cr_assert(write(h->stdin_fd, request, n) == (ssize_t)n && write(h->stdin_fd, "\n", 1) == 1);
    read_until(h->stdout_fd, r->out, sizeof r->out, "done\n");
    r->err[0] = '\0';
    r->pid = h->pid;
}

void start_held_argv(const char *path, const char *const *argv, const char *const *envp,
                     struct held *h)
{
    int in[2], out[2];
    cr_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    int rc = posix_spawn(&h->pid, path, &fa, NULL, (char *const *)argv, (char *const *)envp);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert(rc == 0, "posix_spawn %s: %s", path, strerror(rc));
    close(in[0]);
    close(out[1]);
    h->stdin_fd = in[1];
    /* Read until the helper says it is ready: its sockets then exist. */
    read_until(out[0], h->result.out, sizeof h->result.out, "ready\n");
    h->stdout_fd = out[0];
    h->result.err[0] = '\0';
    h->result.pid = h->pid;
}

void stop_held(struct held *h)
{
    close(h->stdin_fd);
    close(h->stdout_fd);
    int status;
    cr_assert(waitpid(h->pid, &status, 0) == h->pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void read_command(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen %s", cmd);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s failed:\n%s", cmd, out);
}

const char *result_get(const struct run_result *r, const char *key)
{
    static char value[256];
    size_t klen = strlen(key);
    for (const char *p = r->out; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1;
            if (vlen >= sizeof value)
                vlen = sizeof value - 1;
            memcpy(value, p + klen + 1, vlen);
            value[vlen] = '\0';
            return value;
        }
        p += len + (eol ? 1 : 0);
    }
    return NULL;
}

long result_num(const struct run_result *r, const char *key)
{
    const char *v = result_get(r, key);
    cr_assert(v, "%s missing from the helper's output:\n%s\nstderr:\n%s", key, r->out, r->err);
    return strtol(v, NULL, 10);
}

unsigned free_low_port(int family)
{
    struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    static unsigned calls; /* each call starts further on: two calls give two ports */
    unsigned start = 20000 + ((unsigned)getpid() * 7 + calls++ * 101) % 12000;
    for (unsigned i = 0; i < 12768; i++) {
        unsigned port = 20000 + (start - 20000 + i) % 12768;
        /* the wildcard address: free for every local address (and for
         * IPv6, dual-stack: for IPv4 too) */
        if (family == AF_INET) {
            ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        } else {
            ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        }
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert(fd >= 0);
        int ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
        close(fd);
        if (ok)
            return port;
    }
    cr_assert_fail("no free port below 32768");
    return 0;
}

int remote_getsockopt(pid_t pid, int fd, int level, int name)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    cr_assert(pidfd >= 0, "pidfd_open %d: %s", (int)pid, strerror(errno));
    int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    cr_assert(dup >= 0, "pidfd_getfd %d/%d: %s", (int)pid, fd, strerror(errno));
    int v = -1;
    socklen_t vlen = sizeof v;
    cr_assert(getsockopt(dup, level, name, &v, &vlen) == 0, "getsockopt: %s", strerror(errno));
    close(dup);
    close(pidfd);
    return v;
}

unsigned free_tcp_port(int family)
{
    struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == 0);
    cr_assert(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
    close(fd);
    return family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                             : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

const char *log_line(const struct run_result *r, const char *text)
{
    static char line[1024];
    snprintf(line, sizeof line, "sockfix[%d]: %s\n", (int)r->pid, text);
    return line;
}
