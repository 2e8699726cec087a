/* torture: a helper that treats the shim the way hostile real programs do:
 * many threads, prefork servers, fork/vfork/posix_spawn/exec, a daemon that
 * closes every descriptor, socket calls from a signal handler, stderr
 * replaced by a connection. It prints "key=value" lines for the tests
 * (tests/integration/test_reliability.c), which compare them with what the
 * policy says; it never decides itself whether the shim did right. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static const char *self;

static void die(const char *what)
{
    fprintf(stderr, "torture: %s: %s\n", what, strerror(errno));
    exit(70);
}

static int getint(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    return getsockopt(fd, level, name, &v, &len) == 0 ? v : -errno;
}

static struct sockaddr_in loopback(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static unsigned port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("getsockname");
    return ntohs(a.sin_port);
}

/* A listener on a port the kernel picks and then binds again explicitly, so
 * that bind-time rules (reuseaddr) see a real port. */
static int listener(int backlog)
{
    int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(0);
    if (probe < 0 || bind(probe, (struct sockaddr *)&a, sizeof a) != 0)
        die("bind to port 0");
    a = loopback(port_of(probe));
    close(probe);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, backlog) != 0)
        die("listener");
    return l;
}

static int connect_to(unsigned port)
{
    struct sockaddr_in a = loopback(port);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0)
        die("connect");
    return c;
}

/* Closes with a reset: no TIME_WAIT, so bounded loops never run out of ports. */
static void abort_close(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* One listener, one connection: what the policy made of each socket. */
static void probe(const char *who)
{
    int l = listener(16);
    int c = connect_to(port_of(l));
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    printf("%s.listener.reuseaddr=%d\n%s.client.keepidle=%d\n%s.accepted.keepidle=%d\n", who,
           getint(l, SOL_SOCKET, SO_REUSEADDR), who, getint(c, IPPROTO_TCP, TCP_KEEPIDLE), who,
           getint(a, IPPROTO_TCP, TCP_KEEPIDLE));
    abort_close(c);
    abort_close(a);
    close(l);
}

/* ---- threads ---- */

static struct {
    int listener;
    unsigned port;
    int per_thread, client_idle, server_idle;
    atomic_long done, bad_client, bad_accepted, failed;
    atomic_int first_errno;
} load;

static void *load_thread(void *arg)
{
    (void)arg;
    for (int i = 0, resets = 0; i < load.per_thread; i++) {
        struct sockaddr_in addr = loopback(load.port);
        int c = socket(AF_INET, i % 2 ? SOCK_STREAM : SOCK_STREAM | SOCK_NONBLOCK, 0);
        int r = c < 0 ? -1 : connect(c, (struct sockaddr *)&addr, sizeof addr);
        /* Another thread may take this connection off the shared listener and
         * reset it before this blocking connect has returned: the kernel's
         * ECONNRESET, not the shim's. That connection is made again. */
        if (r != 0 && errno == ECONNRESET && resets < 1000) {
            resets++;
            close(c);
            i--;
            continue;
        }
        if (r != 0 && errno != EINPROGRESS) {
            int expected = 0;
            atomic_compare_exchange_strong(&load.first_errno, &expected, errno);
            atomic_fetch_add(&load.failed, 1);
            if (c >= 0)
                close(c);
            continue;
        }
        /* A non-blocking connect completes before its socket may be reset. */
        struct pollfd pf = {.fd = c, .events = POLLOUT};
        if (!(i % 2))
            poll(&pf, 1, 10000);
        /* Each thread queues one connection and takes one: never blocks for
         * long. An aborted connection in the queue is skipped, as servers do. */
        int a = -1;
        for (int tries = 0; a < 0 && tries < 100; tries++) {
            a = i % 2 ? accept(load.listener, NULL, NULL)
                      : accept4(load.listener, NULL, NULL, SOCK_CLOEXEC);
            if (a < 0 && errno != ECONNABORTED && errno != EINTR)
                break;
        }
        if (a < 0) {
            int expected = 0;
            atomic_compare_exchange_strong(&load.first_errno, &expected, -errno);
            atomic_fetch_add(&load.failed, 1);
            abort_close(c);
            continue;
        }
        if (getint(c, IPPROTO_TCP, TCP_KEEPIDLE) != load.client_idle)
            atomic_fetch_add(&load.bad_client, 1);
        if (getint(a, IPPROTO_TCP, TCP_KEEPIDLE) != load.server_idle ||
            getint(a, SOL_SOCKET, SO_KEEPALIVE) != 1)
            atomic_fetch_add(&load.bad_accepted, 1);
        abort_close(a);
        abort_close(c);
        atomic_fetch_add(&load.done, 1);
    }
    return NULL;
}

static int cmd_threads(int nthreads, int nconn, int client_idle, int server_idle)
{
    load.listener = listener(4096);
    load.port = port_of(load.listener);
    load.per_thread = nconn / nthreads;
    load.client_idle = client_idle;
    load.server_idle = server_idle;
    pthread_t t[64];
    if (nthreads > 64)
        return 64;
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, load_thread, NULL) != 0)
            die("pthread_create");
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    printf("connections=%ld\nbad_client=%ld\nbad_accepted=%ld\nfailed=%ld\nfirst_errno=%d\n",
           load.done, load.bad_client, load.bad_accepted, load.failed, load.first_errno);
    return 0;
}

/* ---- processes ---- */

static int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The parent listens, children accept: each child reports what its accepted
 * connections carry, through the exit status (0: all as expected). */
static int cmd_prefork(int nchildren, int nconn, int server_idle)
{
    int l = listener(1024);
    pid_t kids[32];
    if (nchildren > 32)
        return 64;
    for (int k = 0; k < nchildren; k++) {
        kids[k] = fork();
        if (kids[k] < 0)
            die("fork");
        if (kids[k] == 0) {
            int bad = 0;
            for (;;) {
                int a = accept(l, NULL, NULL);
                if (a < 0)
                    _exit(71);
                char b;
                if (recv(a, &b, 1, 0) == 1 && b == 'q') { /* the parent's "stop" */
                    close(a);
                    _exit(bad ? 1 : 0);
                }
                bad |= getint(a, IPPROTO_TCP, TCP_KEEPIDLE) != server_idle;
                abort_close(a);
            }
        }
    }
    for (int i = 0; i < nconn + nchildren; i++) {
        int c = connect_to(port_of(l));
        if (send(c, i < nconn ? "x" : "q", 1, 0) != 1)
            die("send");
        if (i < nconn) {
            char b;
            recv(c, &b, 1, 0); /* the child's reset or close: it has looked */
        }
        close(c);
    }
    int ok = 0;
    for (int k = 0; k < nchildren; k++)
        ok += wait_child(kids[k]) == 0;
    printf("children_ok=%d\n", ok);
    probe("parent");
    return 0;
}

static int cmd_fork(void)
{
    pid_t pid = fork(); /* before the process made any socket call */
    if (pid == 0) {
        probe("early_child");
        fflush(stdout);
        _exit(0);
    }
    if (wait_child(pid) != 0)
        return 1;
    probe("parent");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        probe("late_child");
        fflush(stdout);
        _exit(0);
    }
    return wait_child(pid);
}

static int run_self(const char *how, const char *who)
{
    char *argv[] = {(char *)self, "probe", (char *)who, NULL};
    fflush(stdout);
    pid_t pid;
    if (strcmp(how, "vfork") == 0) {
        pid = vfork();
        if (pid == 0) {
            execve(self, argv, environ);
            _exit(127);
        }
    } else {
        int rc = posix_spawn(&pid, self, NULL, NULL, argv, environ);
        if (rc != 0) {
            errno = rc;
            die("posix_spawn");
        }
    }
    return wait_child(pid);
}

/* The policy file is replaced (or deleted, replacement "-") between the
 * parent's start and its child's exec: the child reads what is there then,
 * the parent keeps what it read. */
static int cmd_exec_after_change(const char *policy, const char *replacement)
{
    probe("before");
    if (strcmp(replacement, "-") == 0 ? unlink(policy) != 0 : rename(replacement, policy) != 0)
        die("replacing the policy");
    int rc = run_self("spawn", "child");
    probe("after");
    return rc;
}

/* The classic daemon: double fork, setsid, every descriptor closed, then
 * sockets; it reports through a FIFO the test reads. */
static int cmd_daemon(const char *fifo)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? 70 : wait_child(pid);
    if (setsid() < 0)
        _exit(70);
    if (fork() != 0)
        _exit(0);
    if (syscall(SYS_close_range, 0, ~0U, 0) != 0)
        _exit(72);
    if (chdir("/") != 0)
        _exit(73);
    for (int i = 0; i < 3; i++)
        if (open("/dev/null", O_RDWR) != i)
            _exit(74);
    int out = open(fifo, O_WRONLY | O_CLOEXEC);
    if (out < 0 || dup2(out, 1) != 1)
        _exit(75);
    close(out);
    probe("daemon");
    fflush(stdout);
    _exit(0);
}

/* ---- signals ---- */

static volatile sig_atomic_t handler_fd = -1, handler_connect_rc = 1, handler_errno;
static unsigned signal_port;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    struct sockaddr_in a = loopback(signal_port);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    handler_connect_rc = c < 0 ? -1 : connect(c, (struct sockaddr *)&a, sizeof a);
    handler_errno = errno;
    handler_fd = c;
    errno = saved;
}

/* Whether thread tid is blocked in accept/accept4 (its current system call,
 * from /proc): the signal is sent only then. */
static bool in_accept(pid_t tid)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    long nr = strtol(buf, NULL, 10);
    return nr == SYS_accept || nr == SYS_accept4;
}

static pid_t main_tid;
static atomic_int seen_in_accept;

static void *signaller(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    /* Polls the main thread's state, bounded: at most 5 s (5000 looks 1 ms
     * apart) on a machine too busy to schedule it sooner. */
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 5000 && !seen_in_accept; i++) {
        seen_in_accept = in_accept(main_tid);
        if (!seen_in_accept)
            nanosleep(&ms, NULL);
    }
    pthread_kill(target, SIGUSR1);
    return NULL;
}

static int cmd_signal(void)
{
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    int l = listener(16);
    signal_port = port_of(l);
    main_tid = gettid();
    pthread_t me = pthread_self(), t;
    if (pthread_create(&t, NULL, signaller, &me) != 0)
        die("pthread_create");
    errno = 0;
    int a = accept(l, NULL, NULL); /* the handler's connection is what it returns */
    int accept_errno = errno;
    pthread_join(t, NULL);
    printf("signalled_in_accept=%d\naccept.ok=%d\naccept.errno=%d\nhandler.connect=%d\n"
           "handler.errno=%d\n",
           seen_in_accept, a >= 0, accept_errno, (int)handler_connect_rc, (int)handler_errno);
    if (a >= 0 && handler_fd >= 0)
        printf("handler.client.keepidle=%d\naccepted.keepidle=%d\n",
               getint(handler_fd, IPPROTO_TCP, TCP_KEEPIDLE), getint(a, IPPROTO_TCP, TCP_KEEPIDLE));
    return 0;
}

/* ---- descriptors and output ---- */

static void list_fds(char *out, size_t len)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("opendir");
    int mine = dirfd(d);
    out[0] = '\0';
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == mine)
            continue;
        char target[256] = "";
        char path[300];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        char *inode = strstr(target, ":["); /* pipe:[123]: the kind, not which one */
        if (inode)
            *inode = '\0';
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s>%s", used ? "," : "", e->d_name, target);
    }
    closedir(d);
}

/* Every descriptor the process has before its socket calls, and after they
 * are done and closed: the shim must have left nothing behind. */
static int cmd_fds(void)
{
    static char before[8192], after[8192];
    list_fds(before, sizeof before);
    probe("fds");
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (u < 0 || bind(u, (struct sockaddr *)&a6, sizeof a6) != 0)
        die("udp");
    close(u);
    int un = socket(AF_UNIX, SOCK_STREAM, 0);
    close(un);
    list_fds(after, sizeof after);
    printf("fds.before=%s\nfds.after=%s\n", before, after);
    return 0;
}

/* stderr replaced by a TCP connection, the way a daemon that closed fd 2
 * ends up: the shim's log lines must not reach the peer. Then stderr as a
 * UNIX stream (journald's way): they must. */
static int cmd_stderr_socket(void)
{
    int l = listener(16);
    int c = connect_to(port_of(l));
    int a = accept(l, NULL, NULL);
    if (a < 0 || dup2(a, 2) != 2)
        die("dup2");
    close(a);
    probe("tcp_stderr"); /* logs at debug while fd 2 is a connection */
    char buf[4096];
    ssize_t n = recv(c, buf, sizeof buf, MSG_DONTWAIT);
    int tcp_bytes = n > 0 ? (int)n : 0;
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0 || dup2(sp[0], 2) != 2)
        die("socketpair");
    probe("unix_stderr");
    n = recv(sp[1], buf, sizeof buf - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    printf("tcp_stderr.bytes=%d\nunix_stderr.has_log=%d\n", tcp_bytes,
           strstr(buf, "sockfix[") != NULL);
    return 0;
}

static int cmd_secure(void)
{
    printf("at_secure=%lu\n", getauxval(AT_SECURE));
    probe("secure");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    self = argv[0];
    if (argc < 2)
        return 64;
    const char *cmd = argv[1];
    int n[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4 && i + 2 < argc; i++)
        n[i] = atoi(argv[i + 2]);
    if (strcmp(cmd, "probe") == 0 && argc > 2)
        return probe(argv[2]), 0;
    if (strcmp(cmd, "threads") == 0 && argc > 5)
        return cmd_threads(n[0], n[1], n[2], n[3]);
    if (strcmp(cmd, "prefork") == 0 && argc > 4)
        return cmd_prefork(n[0], n[1], n[2]);
    if (strcmp(cmd, "fork") == 0)
        return cmd_fork();
    if ((strcmp(cmd, "vfork") == 0 || strcmp(cmd, "spawn") == 0) && argc > 2)
        return run_self(cmd, argv[2]);
    if (strcmp(cmd, "exec-after-change") == 0 && argc > 3)
        return cmd_exec_after_change(argv[2], argv[3]);
    if (strcmp(cmd, "daemon") == 0 && argc > 2)
        return cmd_daemon(argv[2]);
    if (strcmp(cmd, "signal") == 0)
        return cmd_signal();
    if (strcmp(cmd, "fds") == 0)
        return cmd_fds();
    if (strcmp(cmd, "stderr-socket") == 0)
        return cmd_stderr_socket();
    if (strcmp(cmd, "secure") == 0)
        return cmd_secure();
    return 64;
}
