/* sockprobe: a small program the integration tests run under LD_PRELOAD.
 * It makes sockets the way servers and clients do and prints what the kernel
 * says about them, one "key=value" per line. It sets no option itself, but
 * for "hold", which sets known options so that inspection can be checked.
 *
 *   sockprobe pair 4|6|4in6 [PORT [accept4]]  listener, client and accepted socket
 *                                      (PORT 0: pick a free one)
 *   sockprobe timewait 4|6 PORT        bind PORT (0: pick one), leave a TIME_WAIT
 *   sockprobe inuse 4|6                bind a port twice while the first listens
 *   sockprobe udp 4|6                  bound and connected UDP sockets
 *   sockprobe unix                     a UNIX stream listener, client and accepted
 *   sockprobe inherit FD               accept on an inherited listener FD
 *   sockprobe nonblock 4|6             non-blocking connect and accept4 flags
 *   sockprobe errno 4|6                errno after hooked calls
 *   sockprobe hold 4|6|any6 [--port N] [--drain] [--unshare-net] [--dup] [--prefork N]
 *                  [--title T] [--udp-client] [--idle-listener PORT]
 *                                      listener, client, accepted and UDP sockets with
 *                                      known options; prints "ready", waits for stdin EOF
 *                                      (any6: a dual-stack [::] listener, an IPv4 client)
 *   sockprobe race N                   N threads make their first connect at once, to a
 *                                      listener made behind the shim's back (raw syscalls)
 *   sockprobe self [ARG...]            prints its pid, argv and environment; exits
 *                                      with $SOCKPROBE_EXIT
 * With "--deny-setsockopt" first, a seccomp filter makes every setsockopt
 * fail with EPERM before any socket is made (the shim must fail open).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/seccomp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define BACKLOG 7

#if defined(__x86_64__)
#define AUDIT_ARCH_CURRENT AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_CURRENT AUDIT_ARCH_AARCH64
#else
#error "sockprobe: add this architecture's AUDIT_ARCH"
#endif

static void die(const char *what)
{
    printf("error=%s: %s\n", what, strerror(errno));
    exit(2);
}

static int family_of(const char *arg)
{
    return strcmp(arg, "4") == 0 ? AF_INET : AF_INET6;
}

static socklen_t loopback(const char *arg, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (strcmp(arg, "4") == 0) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    if (strcmp(arg, "4in6") == 0)
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6->sin6_addr);
    else
        in6->sin6_addr = in6addr_loopback;
    return sizeof *in6;
}

static unsigned port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        die("getsockname");
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int getint(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0)
        return -errno;
    return v;
}

static void print_opts(const char *who, int fd)
{
    static const struct {
        const char *key;
        int level, name;
    } opts[] = {
        {"reuseaddr", SOL_SOCKET, SO_REUSEADDR},         {"reuseport", SOL_SOCKET, SO_REUSEPORT},
        {"keepalive", SOL_SOCKET, SO_KEEPALIVE},         {"keepidle", IPPROTO_TCP, TCP_KEEPIDLE},
        {"keepintvl", IPPROTO_TCP, TCP_KEEPINTVL},       {"keepcnt", IPPROTO_TCP, TCP_KEEPCNT},
        {"user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT}, {"nodelay", IPPROTO_TCP, TCP_NODELAY},
    };
    int type = getint(fd, SOL_SOCKET, SO_TYPE);
    int domain = getint(fd, SOL_SOCKET, SO_DOMAIN);
    bool tcp_level = type == SOCK_STREAM && domain != AF_UNIX;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (opts[i].level == IPPROTO_TCP && !tcp_level)
            continue;
        printf("%s.%s=%d\n", who, opts[i].key, getint(fd, opts[i].level, opts[i].name));
    }
    if (domain == AF_UNIX)
        return;
    /* the options of issue 8, in the kernel's units */
    bool six = domain == AF_INET6;
    static const struct {
        const char *key;
        int level, name, level6, name6;
        bool tcp;
    } more[] = {
        {"rcvbuf", SOL_SOCKET, SO_RCVBUF, 0, 0, false},
        {"sndbuf", SOL_SOCKET, SO_SNDBUF, 0, 0, false},
        {"mark", SOL_SOCKET, SO_MARK, 0, 0, false},
        {"priority", SOL_SOCKET, SO_PRIORITY, 0, 0, false},
        {"tos", IPPROTO_IP, IP_TOS, IPPROTO_IPV6, IPV6_TCLASS, false},
        {"freebind", IPPROTO_IP, IP_FREEBIND, IPPROTO_IPV6, IPV6_FREEBIND, false},
        {"transparent", IPPROTO_IP, IP_TRANSPARENT, IPPROTO_IPV6, IPV6_TRANSPARENT, false},
        {"maxseg", IPPROTO_TCP, TCP_MAXSEG, 0, 0, true},
        {"notsent_lowat", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0, 0, true},
        {"defer_accept", IPPROTO_TCP, TCP_DEFER_ACCEPT, 0, 0, true},
        {"fastopen", IPPROTO_TCP, TCP_FASTOPEN, 0, 0, true},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        if (more[i].tcp && !tcp_level)
            continue;
        int level = six && more[i].level6 ? more[i].level6 : more[i].level;
        int name = six && more[i].level6 ? more[i].name6 : more[i].name;
        printf("%s.%s=%d\n", who, more[i].key, getint(fd, level, name));
    }
    if (six)
        printf("%s.v6only=%d\n", who, getint(fd, IPPROTO_IPV6, IPV6_V6ONLY));
    struct linger lg = {0, 0};
    socklen_t len = sizeof lg;
    getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
    printf("%s.linger=%d\n", who, lg.l_onoff ? lg.l_linger : -1);
    char name[32] = "";
    len = sizeof name - 1;
    if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len) != 0)
        len = 0;
    name[len] = '\0';
    printf("%s.bind_device=%s\n", who, name);
    if (tcp_level) {
        len = sizeof name - 1;
        if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) != 0)
            len = 0;
        name[strnlen(name, len)] = '\0';
        printf("%s.congestion=%s\n", who, name);
    }
}

/* The listener's backlog as the kernel keeps it (sk_max_ack_backlog), found
 * by inode through sock_diag. */
static long listen_backlog(int fd, int family)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req = {.nlh = {.nlmsg_len = sizeof req,
                     .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                     .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
             .r = {.sdiag_family = (uint8_t)family,
                   .sdiag_protocol = IPPROTO_TCP,
                   .idiag_states = 1u << 10 /* TCP_LISTEN */}};
    long found = -1;
    if (send(nl, &req, sizeof req, 0) < 0) {
        close(nl);
        return -1;
    }
    static char buf[1 << 16];
    for (bool done = false; !done;) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            struct inet_diag_msg *m = NLMSG_DATA(h);
            if (m->idiag_inode == st.st_ino)
                found = m->idiag_wqueue;
        }
    }
    close(nl);
    return found;
}

/* A port free at this moment: bound to port 0 without ever connecting, so
 * closing it leaves nothing behind. */
/* "any6": free on [::], so for IPv4 and IPv6 alike (a dual-stack listener
 * needs both). */
static unsigned free_port(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(strcmp(fam, "any6") == 0 ? "6" : fam, 0, &ss);
    if (strcmp(fam, "any6") == 0)
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0)
        die("free port");
    unsigned port = port_of(fd);
    close(fd);
    return port;
}

static int listener(const char *fam, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = loopback(fam, port, ss);
    int fd = socket(ss->ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (bind(fd, (struct sockaddr *)ss, *len) != 0)
        return -1;
    if (listen(fd, BACKLOG) != 0)
        die("listen");
    return fd;
}

static int connect_to(const char *fam, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(fam, port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&ss, len) != 0)
        die("connect");
    return fd;
}

static int cmd_pair(const char *fam, unsigned port, bool four)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *lfam = strcmp(fam, "4in6") == 0 ? "6any" : fam;
    int l;
    if (strcmp(lfam, "6any") == 0) { /* dual-stack listener on :: for v4-mapped clients */
        struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
        l = socket(AF_INET6, SOCK_STREAM, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&any, sizeof any) != 0 || listen(l, BACKLOG) != 0)
            die("listen");
    } else {
        l = listener(fam, port ? port : free_port(fam), &ss, &len);
        if (l < 0)
            die("bind");
    }
    port = port_of(l);
    int c = connect_to(fam, port);
    int a = four ? accept4(l, NULL, NULL, SOCK_CLOEXEC) : accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    printf("port=%u\nlistener.fd=%d\nclient.fd=%d\naccepted.fd=%d\n", port, l, c, a);
    printf("listener.backlog=%ld\n",
           listen_backlog(l, AF_INET6 == family_of(fam) ? AF_INET6 : AF_INET));
    print_opts("listener", l);
    print_opts("accepted", a);
    print_opts("client", c);
    if (four)
        printf("accepted.cloexec=%d\n", (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);
    return 0;
}

/* Whether /proc/net/tcp{,6} holds a TIME_WAIT entry with local port port. */
static bool time_wait_on(const char *fam, unsigned port)
{
    FILE *f = fopen(strcmp(fam, "4") == 0 ? "/proc/net/tcp" : "/proc/net/tcp6", "re");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        char local[128];
        unsigned st;
        if (sscanf(line, " %*d: %127s %*s %x", local, &st) != 2)
            continue;
        char *colon = strrchr(local, ':');
        if (colon && strtoul(colon + 1, NULL, 16) == port && st == 6)
            found = true;
    }
    fclose(f);
    return found;
}

static int cmd_timewait(const char *fam, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (port == 0)
        port = free_port(fam);
    printf("port=%u\n", port);
    int l = listener(fam, port, &ss, &len);
    if (l < 0) {
        printf("bind=%s\n", strerrorname_np(errno));
        return 1;
    }
    printf("bind=ok\n");
    int c = connect_to(fam, port);
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    printf("accepted.reuseaddr=%d\n", getint(a, SOL_SOCKET, SO_REUSEADDR));
    close(a); /* the server closes first: its side goes to TIME_WAIT */
    char byte;
    if (read(c, &byte, 1) != 0)
        die("read EOF");
    close(c);
    close(l);
    /* The peer's FIN is processed in softirq right after close; wait for the
     * state itself, never for a time. */
    bool tw = false;
    for (int i = 0; i < 100000 && !(tw = time_wait_on(fam, port)); i++)
        sched_yield();
    printf("timewait=%d\n", tw);
    return 0;
}

static int cmd_inuse(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len;
    unsigned port = free_port(fam);
    int l = listener(fam, port, &ss, &len);
    if (l < 0)
        die("bind");
    int s = socket(ss.ss_family, SOCK_STREAM, 0);
    errno = 0;
    int r = bind(s, (struct sockaddr *)&ss, len);
    printf("second.bind=%d\nsecond.errno=%s\n", r, r ? strerrorname_np(errno) : "0");
    print_opts("listener", l);
    print_opts("second", s);
    return 0;
}

static int cmd_udp(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(fam, 0, &ss);
    int probe = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (probe < 0 || bind(probe, (struct sockaddr *)&ss, len) != 0)
        die("udp probe");
    unsigned port = port_of(probe);
    close(probe);
    len = loopback(fam, port, &ss);
    int s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (s < 0 || bind(s, (struct sockaddr *)&ss, len) != 0)
        die("udp bind");
    int c = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0)
        die("udp connect");
    printf("port=%u\n", port);
    print_opts("bound", s);
    print_opts("connected", c);
    return 0;
}

static int cmd_unix(void)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "sockprobe-%d", (int)getpid());
    socklen_t len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&un, len) != 0 || listen(l, BACKLOG) != 0)
        die("unix listen");
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&un, len) != 0)
        die("unix connect");
    int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (a < 0)
        die("unix accept");
    print_opts("listener", l);
    print_opts("accepted", a);
    print_opts("client", c);
    return 0;
}

static int cmd_inherit(int l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(l, (struct sockaddr *)&ss, &len) != 0)
        die("inherited listener");
    int c = socket(ss.ss_family, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0)
        die("connect");
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    print_opts("listener", l);
    print_opts("accepted", a);
    print_opts("client", c);
    return 0;
}

static int cmd_nonblock(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int l = listener(fam, free_port(fam), &ss, &len);
    if (l < 0)
        die("bind");
    int c = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c < 0)
        die("socket");
    errno = 0;
    int r = connect(c, (struct sockaddr *)&ss, len);
    printf("connect=%d\nconnect.errno=%s\n", r, r ? strerrorname_np(errno) : "0");
    struct pollfd p = {.fd = l, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1)
        die("poll");
    int a = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (a < 0)
        die("accept4");
    printf("accepted.nonblock=%d\n", (fcntl(a, F_GETFL) & O_NONBLOCK) != 0);
    printf("accepted.cloexec=%d\n", (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);
    printf("client.nonblock=%d\n", (fcntl(c, F_GETFL) & O_NONBLOCK) != 0);
    print_opts("accepted", a);
    print_opts("client", c);
    return 0;
}

/* errno must come back from every hook as the real call left it. */
static int cmd_errno(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(fam, free_port(fam), &ss);
    int kept = 1;
    errno = EDOM;
    int l = socket(ss.ss_family, SOCK_STREAM, 0);
    kept &= errno == EDOM;
    errno = EDOM;
    kept &= bind(l, (struct sockaddr *)&ss, len) == 0 && errno == EDOM;
    errno = EDOM;
    kept &= listen(l, BACKLOG) == 0 && errno == EDOM;
    int c = socket(ss.ss_family, SOCK_STREAM, 0);
    errno = EDOM;
    kept &= connect(c, (struct sockaddr *)&ss, len) == 0 && errno == EDOM;
    errno = EDOM;
    kept &= accept(l, NULL, NULL) >= 0 && errno == EDOM;
    printf("errno.kept=%d\n", kept);
    errno = 0;
    int bad = bind(-1, (struct sockaddr *)&ss, len);
    printf("badfd.bind=%d\nbadfd.errno=%s\n", bad, strerrorname_np(errno));
    errno = 0;
    bad = connect(l, (struct sockaddr *)&ss, len); /* a listener cannot connect */
    printf("listener.connect=%d\nlistener.connect.errno=%s\n", bad, strerrorname_np(errno));
    return 0;
}

static void setint(int fd, int level, int name, int v)
{
    if (setsockopt(fd, level, name, &v, sizeof v) != 0)
        die("setsockopt");
}

struct hold_opts {
    unsigned port;     /* --port N: the listener's port (0: a free one) */
    bool drain;        /* --drain: close the listener once the connection is accepted */
    bool unshare_net;  /* --unshare-net: move to a new network namespace afterwards */
    bool dup;          /* --dup: the listener also under descriptor 20 */
    int prefork;       /* --prefork N: N children each accept and hold one connection */
    const char *title; /* --title T: rewrite argv[0] first, as setproctitle does */
    bool udp_client;   /* --udp-client: a UDP socket connected to the UDP one */
    unsigned idle;     /* --idle-listener PORT: a second listener nobody connects to */
};

static int parse_hold(int argc, char **argv, struct hold_opts *o)
{
    *o = (struct hold_opts){0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            o->port = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--drain") == 0)
            o->drain = true;
        else if (strcmp(argv[i], "--unshare-net") == 0)
            o->unshare_net = true;
        else if (strcmp(argv[i], "--dup") == 0)
            o->dup = true;
        else if (strcmp(argv[i], "--prefork") == 0 && i + 1 < argc)
            o->prefork = atoi(argv[++i]);
        else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc)
            o->title = argv[++i];
        else if (strcmp(argv[i], "--udp-client") == 0)
            o->udp_client = true;
        else if (strcmp(argv[i], "--idle-listener") == 0 && i + 1 < argc)
            o->idle = (unsigned)atoi(argv[++i]);
        else
            return -1;
    }
    return 0;
}

/* Overwrites the argument area with title, as perl's $0, ruby's
 * setproctitle, postgres and nginx do: /proc/PID/cmdline shows it after. */
static void set_title(char **argv, int argc, const char *title)
{
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
    size_t room = (size_t)(end - start);
    memset(start, 0, room);
    memcpy(start, title, strlen(title) < room ? strlen(title) : room);
    prctl(PR_SET_NAME, title, 0, 0, 0);
}

/* The listener of "hold": dual-stack on [::] for "any6" (its client then
 * connects over IPv4), else on the loopback address of the family. */
static int hold_listener(const char *fam, unsigned port)
{
    if (strcmp(fam, "any6") != 0) {
        struct sockaddr_storage ss;
        socklen_t len;
        return listener(fam, port ? port : free_port(fam), &ss, &len);
    }
    struct sockaddr_in6 any = {.sin6_family = AF_INET6,
                               .sin6_addr = IN6ADDR_ANY_INIT,
                               .sin6_port = htons((uint16_t)(port ? port : free_port("any6")))};
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&any, sizeof any) != 0 || listen(l, BACKLOG) != 0)
        return -1;
    return l;
}

/* --prefork: each child accepts one connection (its descriptor 100 + i) and
 * holds it until the parent ends (the hold pipe closes); the parent goes on
 * once every child has accepted. */
static void prefork(int n, int l, const char *fam, unsigned port, int hold[2])
{
    int accepted[2];
    if (pipe(accepted) != 0)
        die("pipe");
    for (int i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            close(hold[1]);
            close(accepted[0]);
            int a = accept(l, NULL, NULL);
            if (a < 0 || dup2(a, 100 + i) != 100 + i)
                _exit(3);
            close(a);
            char byte = 'a';
            if (write(accepted[1], &byte, 1) != 1)
                _exit(3);
            while (read(hold[0], &byte, 1) > 0)
                ;
            _exit(0);
        }
        int c = connect_to(fam, port); /* kept open by the parent */
        printf("child%d.pid=%d\nchild%d.accepted.fd=%d\nchild%d.client.fd=%d\n", i, (int)child, i,
               100 + i, i, c);
    }
    close(accepted[1]);
    for (int i = 0; i < n; i++) {
        char byte;
        if (read(accepted[0], &byte, 1) != 1)
            die("a child did not accept");
    }
    close(accepted[0]);
}

static int cmd_hold(int argc, char **argv, const char *fam, char **all, int nall)
{
    struct hold_opts o;
    if (parse_hold(argc, argv, &o) != 0)
        return 64;
    char fam_copy[8], title[64]; /* the rewrite below overwrites every argument string */
    snprintf(fam_copy, sizeof fam_copy, "%s", fam);
    fam = fam_copy;
    if (o.title) {
        snprintf(title, sizeof title, "%s", o.title);
        set_title(all, nall, title);
    }
    const char *cfam = strcmp(fam, "any6") == 0 ? "4" : fam;
    int l = hold_listener(fam, o.port);
    if (l < 0)
        die("listen");
    unsigned port = port_of(l);
    int c = connect_to(cfam, port);
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    setint(c, SOL_SOCKET, SO_KEEPALIVE, 1);
    setint(c, IPPROTO_TCP, TCP_KEEPIDLE, 123);
    setint(c, IPPROTO_TCP, TCP_KEEPINTVL, 17);
    setint(c, IPPROTO_TCP, TCP_KEEPCNT, 4);
    setint(c, IPPROTO_TCP, TCP_USER_TIMEOUT, 6000);
    setint(a, IPPROTO_TCP, TCP_NODELAY, 1);
    struct sockaddr_storage ss;
    socklen_t len = loopback(cfam, 0, &ss);
    int probe = socket(family_of(cfam), SOCK_DGRAM, 0); /* a free UDP port, bound explicitly */
    if (probe < 0 || bind(probe, (struct sockaddr *)&ss, len) != 0)
        die("udp probe");
    len = loopback(cfam, port_of(probe), &ss);
    close(probe);
    int u = socket(family_of(cfam), SOCK_DGRAM, 0);
    setint(u, SOL_SOCKET, SO_REUSEADDR, 1);
    if (bind(u, (struct sockaddr *)&ss, len) != 0)
        die("udp bind");
    printf("port=%u\nudp.port=%u\nlistener.fd=%d\nclient.fd=%d\naccepted.fd=%d\nudp.fd=%d\n", port,
           port_of(u), l, c, a, u);
    if (o.udp_client) {
        int uc = socket(family_of(cfam), SOCK_DGRAM, 0);
        if (uc < 0 || connect(uc, (struct sockaddr *)&ss, len) != 0)
            die("udp connect");
        printf("udp_client.fd=%d\n", uc);
    }
    if (o.idle) {
        int idle = hold_listener(strcmp(fam, "any6") == 0 ? "6" : fam, o.idle);
        if (idle < 0)
            die("idle listener");
        printf("idle.fd=%d\nidle.port=%u\n", idle, port_of(idle));
    }
    int hold[2] = {-1, -1};
    if (o.prefork) {
        if (pipe(hold) != 0)
            die("pipe");
        prefork(o.prefork, l, cfam, port, hold);
        close(hold[0]);
    }
    if (o.dup && dup2(l, 20) != 20)
        die("dup2");
    print_opts("listener", l);
    if (o.drain) { /* a server closing its listener while its connections drain */
        close(l);
        l = -1;
    }
    if (o.unshare_net && unshare(CLONE_NEWNET) != 0) /* as vsftpd's sandboxed child does */
        die("unshare");
    printf("ready\n");
    /* Requests on stdin, one per line, each answered and ended by "done":
     * "report" prints the options of the sockets above as the process sees
     * them; "new" accepts one more connection and prints its options. */
    char line[64];
    FILE *in = fdopen(0, "r");
    while (in && fgets(line, sizeof line, in)) {
        if (strncmp(line, "report", 6) == 0) {
            if (l >= 0)
                print_opts("now.listener", l);
            print_opts("now.accepted", a);
            print_opts("now.client", c);
            print_opts("now.udp", u);
        } else if (strncmp(line, "new", 3) == 0 && l >= 0) {
            int c2 = connect_to(cfam, port);
            int a2 = accept(l, NULL, NULL);
            if (a2 < 0)
                die("accept");
            print_opts("new.accepted", a2);
            print_opts("new.client", c2);
            close(a2);
            close(c2);
        }
        printf("done\n");
    }
    if (o.prefork) {
        close(hold[1]);
        for (int i = 0; i < o.prefork; i++)
            wait(NULL);
    }
    return 0;
}

/* A program that sets options itself, before and after sockfix's hook
 * points: SO_REUSEADDR=0 and TCP_KEEPIDLE=99 on the listener before bind and
 * listen, TCP_KEEPINTVL=33 and an IP-level option (IP_TOS or IPV6_TCLASS
 * 0x10, level 0 on IPv4) on the client before connect, TCP_KEEPIDLE=300 on
 * each accepted socket (as redis does). */
static int cmd_own(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(fam, free_port(fam), &ss);
    int l = socket(ss.ss_family, SOCK_STREAM, 0);
    setint(l, SOL_SOCKET, SO_REUSEADDR, 0);
    setint(l, IPPROTO_TCP, TCP_KEEPIDLE, 99);
    if (bind(l, (struct sockaddr *)&ss, len) != 0 || listen(l, BACKLOG) != 0)
        die("listener");
    struct sockaddr_storage to;
    socklen_t tolen = loopback(fam, port_of(l), &to);
    int c = socket(ss.ss_family, SOCK_STREAM, 0);
    setint(c, IPPROTO_TCP, TCP_KEEPINTVL, 33);
    if (ss.ss_family == AF_INET6)
        setint(c, IPPROTO_IPV6, IPV6_TCLASS, 0x10);
    else
        setint(c, IPPROTO_IP, IP_TOS, 0x10);
    if (connect(c, (struct sockaddr *)&to, tolen) != 0)
        die("connect");
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    setint(a, IPPROTO_TCP, TCP_KEEPIDLE, 300);
    print_opts("listener", l);
    print_opts("accepted", a);
    print_opts("client", c);
    return 0;
}

/* Descriptor numbers reused through every path the shim must follow: each
 * case leaves a number whose earlier socket had options set by the program,
 * then puts a fresh socket there. */
static int cmd_fdlife(const char *fam)
{
    struct sockaddr_storage ss;
    socklen_t len = loopback(fam, free_port(fam), &ss);
    int family = ss.ss_family;

    /* dup2 over a socket the program had configured */
    int old = socket(family, SOCK_STREAM, 0), fresh = socket(family, SOCK_STREAM, 0);
    setint(old, IPPROTO_TCP, TCP_KEEPIDLE, 99);
    if (dup2(fresh, old) != old)
        die("dup2");
    close(fresh);
    if (bind(old, (struct sockaddr *)&ss, len) != 0 || listen(old, BACKLOG) != 0)
        die("listener");
    int l = old;
    unsigned port = port_of(l);
    print_opts("dup2.listener", l);

    /* close, and close_range, then a socket the shim never sees created */
    static const char *const how[] = {"close", "close_range"};
    for (int i = 0; i < 2; i++) {
        int s = socket(family, SOCK_STREAM, 0);
        setint(s, IPPROTO_TCP, TCP_KEEPIDLE, 98);
        if (i == 0 ? close(s) != 0 : close_range((unsigned)s, (unsigned)s, 0) != 0)
            die(how[i]);
        int raw = (int)syscall(SYS_socket, family, SOCK_STREAM, 0); /* same number */
        if (raw != s)
            die("the descriptor number was not reused");
        struct sockaddr_storage to;
        socklen_t tolen = loopback(fam, port, &to);
        if (connect(raw, (struct sockaddr *)&to, tolen) != 0)
            die("connect");
        char who[32];
        snprintf(who, sizeof who, "%s.client", how[i]);
        print_opts(who, raw);
        int a = accept(l, NULL, NULL);
        close(a);
        close(raw);
    }

    /* a configured listener used through fcntl(F_DUPFD) and dup3 copies */
    int dl = fcntl(l, F_DUPFD_CLOEXEC, 100);
    int d3 = dup3(dl, 150, O_CLOEXEC);
    close(l);
    close(dl);
    int c = connect_to(fam, port);
    int a = accept(d3, NULL, NULL);
    if (a < 0)
        die("accept on the copy");
    print_opts("dup.accepted", a);
    close(c);
    return 0;
}

/* A socket-activation launcher, as systemd does it: a listener on fd 3,
 * LISTEN_FDS=1 and LISTEN_PID set, then exec of the service (argv). */
static int cmd_activate(char **argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int l = listener("4", 0, &ss, &len);
    if (l < 0 || dup2(l, 3) != 3)
        die("activation listener");
    if (l != 3)
        close(l);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", pid, 1); /* exec keeps the PID */
    execv(argv[0], argv);
    die("exec");
    return 127;
}

/* The activated service: takes fd 3 as sd_listen_fds(3) would. */
static int cmd_activated(void)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    if (!fds || !pid || atoi(fds) != 1 || atoi(pid) != (int)getpid())
        die("not socket-activated");
    printf("activated.pid=%d\n", (int)getpid());
    return cmd_inherit(3);
}

/* A dual-stack listener on [::]:PORT (a real port, so bind-time rules apply). */
static int cmd_any6(void)
{
    struct sockaddr_in6 any = {.sin6_family = AF_INET6,
                               .sin6_addr = IN6ADDR_ANY_INIT,
                               .sin6_port = htons((uint16_t)free_port("any6"))};
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&any, sizeof any) != 0 || listen(l, BACKLOG) != 0)
        die("listen on [::]");
    print_opts("any6", l);
    return 0;
}

/* Which options need a capability the process lacks: each set on a fresh
 * socket, errno printed (0: it worked). */
static int cmd_caps(void)
{
    int one = 1, mark = 42, prio = 7;
    struct {
        const char *key;
        int level, name;
        const int *v;
    } tries[] = {{"transparent", IPPROTO_IP, IP_TRANSPARENT, &one},
                 {"mark", SOL_SOCKET, SO_MARK, &mark},
                 {"priority7", SOL_SOCKET, SO_PRIORITY, &prio},
                 {"freebind", IPPROTO_IP, IP_FREEBIND, &one}};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int r = setsockopt(s, tries[i].level, tries[i].name, tries[i].v, sizeof(int));
        printf("caps.%s=%d\n", tries[i].key, r ? errno : 0);
        close(s);
    }
    return 0;
}

static int cmd_self(int argc, char **argv)
{
    printf("pid=%d\n", (int)getpid());
    for (int i = 0; i < argc; i++)
        printf("argv%d=%s\n", i, argv[i]);
    const char *vars[] = {"LD_PRELOAD", "SOCKFIX_CONFIG", "SOCKFIX_LOG", "SOCKFIX_STRICT"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        printf("%s=%s\n", vars[i], v ? v : "(unset)");
    }
    const char *code = getenv("SOCKPROBE_EXIT");
    return code ? atoi(code) : 0;
}

struct racer {
    pthread_barrier_t *go;
    struct sockaddr_in addr;
    int fd;
};

static void *race_connect(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&r->addr, sizeof r->addr) != 0)
        r->fd = -1;
    return NULL;
}

static int cmd_race(int n)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int l = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (l < 0 || syscall(SYS_bind, l, &addr, len) != 0 || syscall(SYS_listen, l, 64) != 0 ||
        getsockname(l, (struct sockaddr *)&addr, &len) != 0)
        die("raw listener");
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)n);
    struct racer r[64];
    pthread_t t[64];
    n = n > 64 ? 64 : n;
    for (int i = 0; i < n; i++) {
        r[i] = (struct racer){.go = &go, .addr = addr};
        pthread_create(&t[i], NULL, race_connect, &r[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < n; i++) {
        char who[32];
        snprintf(who, sizeof who, "client%d", i);
        if (r[i].fd < 0)
            die("racing connect");
        printf("%s.keepidle=%d\n", who, getint(r[i].fd, IPPROTO_TCP, TCP_KEEPIDLE));
    }
    return 0;
}

static void deny_setsockopt(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_CURRENT, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        die("seccomp");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--deny-setsockopt") == 0) {
        deny_setsockopt();
        argv++;
        argc--;
    }
    if (argc < 2)
        return 64;
    const char *cmd = argv[1];
    const char *arg = argc > 2 ? argv[2] : "4";
    if (strcmp(cmd, "pair") == 0)
        return cmd_pair(arg, argc > 3 ? (unsigned)atoi(argv[3]) : 0,
                        argc > 4 && strcmp(argv[4], "accept4") == 0);
    if (strcmp(cmd, "timewait") == 0 && argc > 3)
        return cmd_timewait(arg, (unsigned)atoi(argv[3]));
    if (strcmp(cmd, "inuse") == 0)
        return cmd_inuse(arg);
    if (strcmp(cmd, "udp") == 0)
        return cmd_udp(arg);
    if (strcmp(cmd, "unix") == 0)
        return cmd_unix();
    if (strcmp(cmd, "inherit") == 0)
        return cmd_inherit(atoi(arg));
    if (strcmp(cmd, "nonblock") == 0)
        return cmd_nonblock(arg);
    if (strcmp(cmd, "errno") == 0)
        return cmd_errno(arg);
    if (strcmp(cmd, "race") == 0)
        return cmd_race(atoi(arg));
    if (strcmp(cmd, "hold") == 0)
        return cmd_hold(argc > 3 ? argc - 3 : 0, argv + 3, arg, argv, argc);
    if (strcmp(cmd, "activate") == 0 && argc > 2)
        return cmd_activate(argv + 2);
    if (strcmp(cmd, "activated") == 0)
        return cmd_activated();
    if (strcmp(cmd, "any6") == 0)
        return cmd_any6();
    if (strcmp(cmd, "caps") == 0)
        return cmd_caps();
    if (strcmp(cmd, "own") == 0)
        return cmd_own(arg);
    if (strcmp(cmd, "fdlife") == 0)
        return cmd_fdlife(arg);
    if (strcmp(cmd, "self") == 0)
        return cmd_self(argc, argv);
    return 64;
}
