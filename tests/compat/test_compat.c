/* Real programs nobody here wrote, run the way a user runs them (their own
 * configuration in a temporary directory, loopback ports, a bounded life)
 * under `sockfix run` with a policy of unusual values, a real connection
 * open, and the kernel's view of their sockets read back with
 * `sockfix inspect` (tests/compat/inspect_kv.py turns it into key=value).
 * The Debian packages come from scripts/deps.sh; Java only runs where a JDK
 * is installed. Results and versions: docs/COMPATIBILITY.md. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../integration/run.h"

TestSuite(compat, .timeout = 120);

/* Values no program or kernel uses by default. */
static const char POLICY[] = "[servers]\nmatch.role = server\nreuseaddr = yes\nbacklog = 333\n"
                             "keepidle = 71\nkeepintvl = 13\nkeepcnt = 5\n"
                             "[clients]\nmatch.role = client\nkeepidle = 72\nkeepintvl = 14\n"
                             "keepcnt = 6\n";

static char workdir[64], policy_path[128];

static void make_workdir(const char *extra_policy)
{
    snprintf(workdir, sizeof workdir, "/tmp/sockfix-compat-XXXXXX");
    cr_assert(mkdtemp(workdir));
    chmod(workdir, 0755); /* servers that drop to nobody read their files here */
    snprintf(policy_path, sizeof policy_path, "%s/policy.ini", workdir);
    FILE *f = fopen(policy_path, "we");
    cr_assert(f);
    fprintf(f, "%s%s", extra_policy ? extra_policy : "", POLICY);
    fclose(f);
}

static void remove_workdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    cr_assert(system(cmd) == 0);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", workdir, name);
    FILE *f = fopen(path, "we");
    cr_assert(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* A program under `sockfix run`, in its own process group so that it and
 * every child it forks can be stopped, and killed if the test dies. */
struct prog {
    pid_t pid;
    int stdin_fd; /* held open: a client reading stdin stays connected */
};

static void start(const char *const *cmd, struct prog *p)
{
    const char *argv[32] = {"sockfix", "run", "-c", policy_path, "--"};
    int n = 5;
    for (int i = 0; cmd[i] && n < 31; i++)
        argv[n++] = cmd[i];
    argv[n] = NULL;
    int in[2];
    cr_assert(pipe2(in, O_CLOEXEC) == 0);
    char log[256];
    snprintf(log, sizeof log, "%s/output.log", workdir);
    p->pid = fork();
    cr_assert(p->pid >= 0);
    if (p->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out < 0 || dup2(in[0], 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
            chdir(workdir) != 0)
            _exit(126);
        const char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LANG=C", NULL};
        execve(SOCKFIX_CLI, (char *const *)argv, (char *const *)env);
        _exit(127);
    }
    setpgid(p->pid, p->pid);
    close(in[0]);
    p->stdin_fd = in[1];
}

static void stop(struct prog *p)
{
    kill(-p->pid, SIGKILL);
    close(p->stdin_fd);
    int status;
    waitpid(p->pid, &status, 0);
}

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static const char *output_log(void)
{
    static char text[4096];
    char path[256];
    snprintf(path, sizeof path, "%s/output.log", workdir);
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

/* Polls (bounded: 20 s) until something listens on 127.0.0.1:port. */
static void wait_listening(unsigned port, struct prog *p)
{
    char want[32];
    snprintf(want, sizeof want, ":%04X ", port);
    for (int i = 0; i < 1000; i++) {
        static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        for (int t = 0; t < 2; t++) {
            FILE *f = fopen(tables[t], "re");
            char line[512];
            while (f && fgets(line, sizeof line, f)) {
                char *local = strchr(line, ':'); /* after "N: "; the header has none */
                if (!local)
                    continue;
                local += 2;
                char *sp = strchr(local, ' ');
                if (sp && strncmp(sp - 5, want, 6) == 0 && strstr(sp, " 0A ")) {
                    fclose(f);
                    return;
                }
            }
            if (f)
                fclose(f);
        }
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid)
            cr_assert_fail("the program ended before listening:\n%s", output_log());
        nap();
    }
    cr_assert_fail("nothing listens on port %u:\n%s", port, output_log());
}

static int connect_loopback(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s",
              strerror(errno));
    return fd;
}

/* sockfix inspect over the program's process tree, until a socket of
 * `role` on port shows (bounded: 10 s). */
static void inspect(struct prog *p, unsigned port, const char *role, struct run_result *r)
{
    char pid[16], portbuf[16], key[32];
    snprintf(pid, sizeof pid, "%d", (int)p->pid);
    snprintf(portbuf, sizeof portbuf, "%u", port);
    snprintf(key, sizeof key, "%s.pid", role);
    const char *argv[] = {
        "python3", SOURCE_DIR "/tests/compat/inspect_kv.py", SOCKFIX_CLI, pid, portbuf, NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    for (int i = 0; i < 500; i++) {
        run_program("/usr/bin/python3", argv, env, NULL, r);
        cr_assert_eq(r->status, 0, "%s", r->err);
        if (result_get(r, key))
            return;
        nap();
    }
    cr_assert_fail("no %s socket on port %u:\n%s\n%s", role, port, r->out, output_log());
}

#define EXPECT(r, key, v) cr_expect_eq(result_num(r, key), (v), "%s", key)

/* What every server here gets from the policy: on the listener, and
 * inherited by the connection it accepted. */
static void expect_server_policy(const struct run_result *r, long accepted_keepidle,
                                 long accepted_keepcnt)
{
    EXPECT(r, "listener.reuseaddr", 1);
    EXPECT(r, "listener.backlog", 333);
    EXPECT(r, "listener.keepalive", 1);
    EXPECT(r, "listener.keepidle", 71);
    EXPECT(r, "listener.keepintvl", 13);
    EXPECT(r, "server.keepalive", 1);
    EXPECT(r, "server.keepidle", accepted_keepidle);
    EXPECT(r, "server.keepcnt", accepted_keepcnt);
}

static unsigned port_for(void)
{
    return free_tcp_port(AF_INET);
}

/* Command templates are this file's own literals, with "%u" for the port. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* Starts cmd (each "%u" replaced by the port), connects, inspects; the
 * program runs on, connected (*client), until stop. */
static void serve(const char *const *cmd_template, unsigned port, struct run_result *r,
                  struct prog *p, int *client)
{
    char args[16][512];
    const char *cmd[17];
    int n = 0;
    for (; cmd_template[n] && n < 16; n++) {
        snprintf(args[n], sizeof args[n], cmd_template[n], port, port);
        cmd[n] = args[n];
    }
    cmd[n] = NULL;
    start(cmd, p);
    wait_listening(port, p);
    *client = connect_loopback(port);
    inspect(p, port, "server", r);
}

static void run_server(const char *const *cmd_template, unsigned port, struct run_result *r)
{
    struct prog p;
    int c;
    serve(cmd_template, port, r, &p, &c);
    close(c);
    stop(&p);
}

/* sockfix apply on the program's tree (or its main process only), with a
 * policy in the work directory; stdout and stderr in r. */
static void apply_to(const struct prog *p, const char *policy, bool tree, struct run_result *r)
{
    char pid[16], path[256];
    snprintf(pid, sizeof pid, "%d", (int)p->pid);
    snprintf(path, sizeof path, "%s/%s", workdir, policy);
    run_program(SOCKFIX_CLI,
                tree ? (const char *const[]){"sockfix", "apply", "--tree", pid, "-c", path, NULL}
                     : (const char *const[]){"sockfix", "apply", pid, "-c", path, NULL},
                (const char *const[]){"PATH=/usr/bin:/bin", NULL}, NULL, r);
}

/* The policy of this file with other server timers. */
static const char CHANGED[] = "[servers]\nmatch.role = server\nreuseaddr = yes\nbacklog = 333\n"
                              "keepidle = 81\nkeepintvl = 13\nkeepcnt = 7\n";

static bool have(const char *path)
{
    return access(path, X_OK) == 0;
}

Test(compat, python3_http_server)
{
    make_workdir(NULL);
    unsigned port = port_for();
    struct run_result r;
    run_server(
        (const char *const[]){"python3", "-m", "http.server", "%u", "--bind", "127.0.0.1", NULL},
        port, &r);
    expect_server_policy(&r, 71, 5);
    remove_workdir();
}

Test(compat, perl_io_socket_inet)
{
    make_workdir(NULL);
    unsigned port = port_for();
    struct run_result r;
    run_server((const char *const[]){"perl", "-MIO::Socket::INET", "-e",
                                     "my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', "
                                     "LocalPort => %u, Listen => 5) or die $!;"
                                     "while (my $c = $s->accept) { my $l = <$c>; close $c }",
                                     NULL},
               port, &r);
    expect_server_policy(&r, 71, 5);
    remove_workdir();
}

Test(compat, socat_forking_listener)
{
    if (!have("/usr/bin/socat"))
        cr_skip_test("socat is not installed (scripts/deps.sh installs it)");
    make_workdir(NULL);
    unsigned port = port_for();
    struct run_result r;
    run_server(
        (const char *const[]){"socat", "TCP-LISTEN:%u,bind=127.0.0.1,fork", "EXEC:cat", NULL}, port,
        &r);
    expect_server_policy(&r, 71, 5);
    cr_expect_neq(result_num(&r, "server.pid"), result_num(&r, "listener.pid"),
                  "the connection is served by a forked child");
    remove_workdir();
}

Test(compat, busybox_httpd)
{
    make_workdir(NULL);
    unsigned port = port_for();
    struct run_result r;
    run_server(
        (const char *const[]){"busybox", "httpd", "-f", "-p", "127.0.0.1:%u", "-h", ".", NULL},
        port, &r);
    expect_server_policy(&r, 71, 5);
    remove_workdir();
}

Test(compat, nginx)
{
    if (!have("/usr/sbin/nginx"))
        cr_skip_test("nginx is not installed (scripts/deps.sh installs nginx-light)");
    make_workdir(NULL);
    unsigned port = port_for();
    char conf[1024];
    snprintf(conf, sizeof conf,
             "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
             "events { worker_connections 64; }\n"
             "http {\n  access_log off;\n  client_body_temp_path %s/body;\n"
             "  proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fastcgi;\n"
             "  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n"
             "  server { listen 127.0.0.1:%u; location / { return 200 \"ok\\n\"; } }\n}\n",
             workdir, workdir, workdir, workdir, workdir, workdir, workdir, port);
    write_file("nginx.conf", conf);
    struct run_result r, applied;
    struct prog p;
    int c;
    serve((const char *const[]){"nginx", "-c", "nginx.conf", "-p", ".", "-e", "error.log", NULL},
          port, &r, &p, &c);
    expect_server_policy(&r, 71, 5);
    cr_expect_neq(result_num(&r, "server.pid"), p.pid, "a worker holds the connection");
    /* a changed policy: the master alone leaves the worker's connection, and says so */
    write_file("changed.ini", CHANGED);
    apply_to(&p, "changed.ini", false, &applied);
    cr_expect_eq(applied.status, 0, "%s%s", applied.out, applied.err);
    cr_expect(strstr(applied.err, "sockfix apply: note: 1 descendant of PID "), "%s", applied.err);
    inspect(&p, port, "server", &r);
    EXPECT(&r, "listener.keepidle", 81);
    EXPECT(&r, "server.keepidle", 71);
    /* the whole tree: the worker's connection moves too, as sockfix's earlier value */
    apply_to(&p, "changed.ini", true, &applied);
    cr_expect_eq(applied.status, 0, "%s%s", applied.out, applied.err);
    cr_expect(strstr(applied.out, "keepidle 71s -> 81s (sockfix's earlier value), keepcnt 5 -> 7 "
                                  "(sockfix's earlier value) (rules servers)\n"),
              "%s", applied.out);
    inspect(&p, port, "server", &r);
    EXPECT(&r, "server.keepidle", 81);
    EXPECT(&r, "server.keepcnt", 7);
    close(c);
    stop(&p);
    remove_workdir();
}

Test(compat, lighttpd)
{
    if (!have("/usr/sbin/lighttpd"))
        cr_skip_test("lighttpd is not installed (scripts/deps.sh installs it)");
    make_workdir(NULL);
    unsigned port = port_for();
    char conf[512];
    snprintf(conf, sizeof conf,
             "server.document-root = \"%s\"\nserver.bind = \"127.0.0.1\"\nserver.port = %u\n"
             "server.pid-file = \"%s/lighttpd.pid\"\nserver.errorlog = \"%s/error.log\"\n",
             workdir, port, workdir, workdir);
    write_file("lighttpd.conf", conf);
    struct run_result r;
    run_server((const char *const[]){"lighttpd", "-D", "-f", "lighttpd.conf", NULL}, port, &r);
    expect_server_policy(&r, 71, 5);
    EXPECT(&r, "server.nodelay", 1); /* lighttpd's own */
    remove_workdir();
}

Test(compat, memcached)
{
    if (!have("/usr/bin/memcached"))
        cr_skip_test("memcached is not installed (scripts/deps.sh installs it)");
    make_workdir(NULL);
    unsigned port = port_for();
    struct run_result r;
    run_server((const char *const[]){"memcached", "-l", "127.0.0.1", "-p", "%u", "-U", "0", "-u",
                                     "nobody", NULL},
               port, &r);
    expect_server_policy(&r, 71, 5);
    remove_workdir();
}

/* redis sets keepalive on every accepted connection itself (tcp-keepalive
 * 300: TCP_KEEPIDLE 300, TCP_KEEPINTVL 100, TCP_KEEPCNT 3). */
static const char *const REDIS[] = {"redis-server", "--port", "%u", "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                                    "--dir", ".", NULL};

static void run_redis(const char *global, struct run_result *r)
{
    if (!have("/usr/bin/redis-server"))
        cr_skip_test("redis-server is not installed (scripts/deps.sh installs it)");
    make_workdir(global);
    unsigned port = port_for();
    run_server(REDIS, port, r);
    remove_workdir();
}

Test(compat, redis_under_a_changed_policy_keeps_its_own_keepalive)
{
    if (!have("/usr/bin/redis-server"))
        cr_skip_test("redis-server is not installed (scripts/deps.sh installs it)");
    make_workdir(NULL);
    unsigned port = port_for();
    struct run_result r, applied;
    struct prog p;
    int c;
    serve(REDIS, port, &r, &p, &c);
    expect_server_policy(&r, 300, 3);
    write_file("changed.ini", CHANGED);
    apply_to(&p, "changed.ini", true, &applied);
    cr_expect_eq(applied.status, 0, "%s%s", applied.out, applied.err);
    cr_expect(strstr(applied.out, "keepidle 71s -> 81s (sockfix's earlier value), keepcnt 5 -> 7 "
                                  "(sockfix's earlier value) (rules servers)\n"),
              "the listener:\n%s", applied.out);
    cr_expect(strstr(applied.out, "keepidle 300s kept (set by the program; policy 81s), keepintvl "
                                  "100s kept (set by the program; policy 13s), keepcnt 3 kept (set "
                                  "by the program; policy 7) (rules servers)\n"),
              "the accepted connection:\n%s", applied.out);
    inspect(&p, port, "server", &r);
    EXPECT(&r, "listener.keepidle", 81);
    EXPECT(&r, "server.keepidle", 300);
    EXPECT(&r, "server.keepcnt", 3);
    close(c);
    stop(&p);
    remove_workdir();
}

Test(compat, redis_keeps_its_own_keepalive_with_precedence_program)
{
    struct run_result r;
    run_redis(NULL, &r);
    expect_server_policy(&r, 300, 3);
    EXPECT(&r, "server.keepintvl", 100);
}

Test(compat, redis_gets_the_policy_with_precedence_policy)
{
    struct run_result r;
    run_redis("[sockfix]\nprecedence = policy\n", &r);
    expect_server_policy(&r, 71, 5);
    EXPECT(&r, "server.keepintvl", 13);
}

Test(compat, java_server_socket)
{
    if (!have("/usr/bin/javac") || !have("/usr/bin/java"))
        cr_skip_test("no JDK on this machine (javac): not installed by the project, too large");
    make_workdir(NULL);
    write_file("Serve.java",
               "import java.net.*;\n"
               "public class Serve {\n"
               "  public static void main(String[] a) throws Exception {\n"
               "    ServerSocket s = new ServerSocket();\n"
               "    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(),\n"
               "                                 Integer.parseInt(a[0])), 50);\n"
               "    while (true) { Socket c = s.accept(); c.getInputStream().read(); c.close(); }\n"
               "  }\n"
               "}\n");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd '%s' && javac Serve.java", workdir);
    cr_assert(system(cmd) == 0);
    unsigned port = port_for();
    struct run_result r;
    run_server((const char *const[]){"java", "-cp", ".", "Serve", "%u", NULL}, port, &r);
    expect_server_policy(&r, 71, 5);
    remove_workdir();
}

/* A Go program makes its socket system calls itself: sockfix run says so and
 * the policy does not apply, but sockfix apply reaches it. */
Test(compat, a_go_program_is_out_of_preload_reach_but_apply_reaches_it)
{
    if (!have("/usr/bin/go"))
        cr_skip_test("the Go toolchain is not installed (scripts/deps.sh installs golang-go)");
    make_workdir(NULL);
    write_file("main.go",
               "package main\n\nimport (\n\t\"net\"\n\t\"os\"\n)\n\n"
               "func main() {\n\tl, err := net.Listen(\"tcp\", \"127.0.0.1:\"+os.Args[1])\n"
               "\tif err != nil {\n\t\tos.Exit(1)\n\t}\n"
               "\tfor {\n\t\tc, err := l.Accept()\n\t\tif err != nil {\n\t\t\treturn\n"
               "\t\t}\n\t\tdefer c.Close()\n\t}\n}\n");
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && HOME='%s' GOCACHE='%s/cache' GOPATH='%s/gopath' GO111MODULE=off "
             "GOFLAGS=-mod=mod go build -o server main.go",
             workdir, workdir, workdir, workdir);
    cr_assert(system(cmd) == 0, "go build");
    unsigned port = port_for();
    char server[128], portbuf[16];
    snprintf(server, sizeof server, "%s/server", workdir);
    snprintf(portbuf, sizeof portbuf, "%u", port);
    struct prog p;
    start((const char *const[]){server, portbuf, NULL}, &p);
    wait_listening(port, &p);
    int c = connect_loopback(port);
    struct run_result r;
    inspect(&p, port, "server", &r);
    char want[512];
    snprintf(want, sizeof want,
             "sockfix run: warning: %s is a Go program: Go makes socket system calls directly, "
             "not through libc, so LD_PRELOAD cannot reach them and the policy will not apply\n",
             server);
    cr_expect(strstr(output_log(), want), "%s", output_log());
    EXPECT(&r, "listener.keepidle", 7200); /* the policy did not reach it */
    EXPECT(&r, "server.keepidle", 15);     /* Go's own keepalive on accepted connections */
    cr_expect_neq(result_num(&r, "listener.backlog"), 333, "Go's own listen backlog");
    /* sockfix apply needs no preload */
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)p.pid);
    struct run_result applied;
    run_program(SOCKFIX_CLI,
                (const char *const[]){"sockfix", "apply", pid, "-c", policy_path, NULL},
                (const char *const[]){"PATH=/usr/bin:/bin", NULL}, NULL, &applied);
    cr_expect_eq(applied.status, 0, "%s%s", applied.out, applied.err);
    inspect(&p, port, "server", &r);
    EXPECT(&r, "listener.keepidle", 71);
    EXPECT(&r, "listener.keepintvl", 13);
    close(c);
    stop(&p);
    remove_workdir();
}

/* ---- clients: connected to a listener of the test's own that never
 * answers, so they wait, connected, while they are inspected ---- */

static void run_client(const char *const *cmd_template, struct run_result *r)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0);
    cr_assert(getsockname(l, (struct sockaddr *)&a, &len) == 0);
    unsigned port = ntohs(a.sin_port);
    char args[16][256];
    const char *cmd[17];
    int n = 0;
    for (; cmd_template[n] && n < 16; n++) {
        snprintf(args[n], sizeof args[n], cmd_template[n], port);
        cmd[n] = args[n];
    }
    cmd[n] = NULL;
    struct prog p;
    start(cmd, &p);
    inspect(&p, port, "client", r);
    stop(&p);
    close(l);
}

Test(compat, curl_as_a_client)
{
    /* curl turns keepalive on itself (--keepalive-time, 60 s idle and
     * interval): with precedence = program those stay curl's, and sockfix
     * adds the probe count curl leaves alone. */
    make_workdir(NULL);
    struct run_result r;
    run_client((const char *const[]){"curl", "-s", "-m", "60", "http://127.0.0.1:%u/", NULL}, &r);
    EXPECT(&r, "client.keepalive", 1);
    EXPECT(&r, "client.keepidle", 60);
    EXPECT(&r, "client.keepintvl", 60);
    EXPECT(&r, "client.keepcnt", 6);
    /* Without curl's own keepalive the policy's timers apply. */
    run_client((const char *const[]){"curl", "-s", "--no-keepalive", "-m", "60",
                                     "http://127.0.0.1:%u/", NULL},
               &r);
    EXPECT(&r, "client.keepalive", 1);
    EXPECT(&r, "client.keepidle", 72);
    EXPECT(&r, "client.keepintvl", 14);
    EXPECT(&r, "client.keepcnt", 6);
    remove_workdir();
}

Test(compat, busybox_nc_as_a_client)
{
    make_workdir(NULL);
    struct run_result r;
    run_client((const char *const[]){"busybox", "nc", "127.0.0.1", "%u", NULL}, &r);
    EXPECT(&r, "client.keepalive", 1);
    EXPECT(&r, "client.keepidle", 72);
    EXPECT(&r, "client.keepintvl", 14);
    EXPECT(&r, "client.keepcnt", 6);
    EXPECT(&r, "client.reuseaddr", 1); /* busybox's own, on every socket it makes */
    remove_workdir();
}
