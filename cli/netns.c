#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config/kernel_checks.h"

int nscache_init(struct nscache *c, const char *cmd)
{
    *c = (struct nscache){.self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)};
    struct stat st;
    if (c->self_fd < 0 || fstat(c->self_fd, &st) != 0) {
        fprintf(stderr, "sockfix %s: /proc/self/ns/net: %s\n", cmd, strerror(errno));
        if (c->self_fd >= 0)
            close(c->self_fd);
        return -1;
    }
    c->self_dev = (uint64_t)st.st_dev;
    c->self_ino = (uint64_t)st.st_ino;
    return 0;
}

void nscache_free(struct nscache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->views[i]->listeners);
        free(c->views[i]->by_inode);
        free(c->views[i]);
    }
    free(c->views);
    if (c->self_fd >= 0)
        close(c->self_fd);
    *c = (struct nscache){.self_fd = -1};
}

/* ---- listeners ---- */

struct listeners {
    struct ns_listener *v;
    size_t n, cap;
};

static int add_listener(struct listeners *l, const struct ns_listener *x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct ns_listener *v = reallocarray(l->v, cap, sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *x;
    return 0;
}

static void set_addr(struct sockaddr_storage *ss, int family, const void *addr, unsigned port)
{
    memset(ss, 0, sizeof *ss);
    ss->ss_family = (sa_family_t)family;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        memcpy(&in->sin_addr, addr, 4);
        in->sin_port = htons((uint16_t)port);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        memcpy(&in6->sin6_addr, addr, 16);
        in6->sin6_port = htons((uint16_t)port);
    }
}

/* Every TCP listener of one family in this process's namespace, with its
 * backlog (sk_max_ack_backlog): one dump. */
static int dump_listeners(int family, struct listeners *out)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req = {.nlh = {.nlmsg_len = sizeof req,
                     .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                     .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
             .r = {.sdiag_family = (unsigned char)family,
                   .sdiag_protocol = IPPROTO_TCP,
                   .idiag_states = 1u << TCP_STATE_LISTEN}};
    int status = -1;
    static char buf[1 << 16];
    if (send(nl, &req, sizeof req, 0) != (ssize_t)sizeof req)
        goto out;
    for (;;) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n <= 0)
            goto out;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                status = 0;
                goto out;
            }
            if (h->nlmsg_type == NLMSG_ERROR)
                goto out;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            struct ns_listener x = {.inode = m->idiag_inode, .backlog = (int)m->idiag_wqueue};
            set_addr(&x.addr, m->idiag_family, m->id.idiag_src, ntohs(m->id.idiag_sport));
            if (add_listener(out, &x) != 0)
                goto out;
        }
    }
out:
    close(nl);
    return status;
}

/* A hex word of /proc/net/tcp: the kernel prints the address's 32-bit words
 * as numbers in host order. */
static void hex_words(const char *hex, size_t words, uint8_t *out)
{
    for (size_t w = 0; w < words; w++) {
        char part[9];
        memcpy(part, hex + 8 * w, 8);
        part[8] = '\0';
        uint32_t v = (uint32_t)strtoul(part, NULL, 16);
        memcpy(out + 4 * w, &v, 4);
    }
}

/* The listeners /proc/PID/net/tcp{,6} show: the process's namespace, seen
 * from outside (no backlogs). */
static void proc_listeners(pid_t pid, int family, struct listeners *out)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, family == AF_INET ? "tcp" : "tcp6");
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t words = family == AF_INET ? 1 : 4;
    while (fgets(line, sizeof line, f)) {
        char local[64];
        unsigned state, port;
        unsigned long inode;
        if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu", local, &port,
                   &state, &inode) != 4 ||
            state != TCP_STATE_LISTEN || strlen(local) != 8 * words)
            continue;
        uint8_t addr[16];
        hex_words(local, words, addr);
        struct ns_listener x = {.inode = inode, .backlog = -1};
        set_addr(&x.addr, family, addr, port);
        if (add_listener(out, &x) != 0)
            break;
    }
    fclose(f);
}

static int by_port(const void *a, const void *b)
{
    unsigned x = sockaddr_port(&((const struct ns_listener *)a)->addr);
    unsigned y = sockaddr_port(&((const struct ns_listener *)b)->addr);
    return x < y ? -1 : x > y;
}

static int by_inode(const void *a, const void *b)
{
    unsigned long x = (*(const struct ns_listener *const *)a)->inode;
    unsigned long y = (*(const struct ns_listener *const *)b)->inode;
    return x < y ? -1 : x > y;
}

/* Sorted twice: by port for accepted sockets, by inode for backlogs. */
static int index_listeners(struct nsview *v)
{
    qsort(v->listeners, v->nlisteners, sizeof *v->listeners, by_port);
    v->by_inode = calloc(v->nlisteners ? v->nlisteners : 1, sizeof *v->by_inode);
    if (!v->by_inode)
        return -1;
    for (size_t i = 0; i < v->nlisteners; i++)
        v->by_inode[i] = &v->listeners[i];
    qsort(v->by_inode, v->nlisteners, sizeof *v->by_inode, by_inode);
    return 0;
}

/* ---- sysctls and fresh sockets ---- */

static void read_sysctls(struct nsview *v)
{
    v->eph_lo = 32768; /* the kernel's defaults, if /proc/sys cannot be read */
    v->eph_hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (f) {
        if (fscanf(f, "%u %u", &v->eph_lo, &v->eph_hi) != 2) {
            v->eph_lo = 32768;
            v->eph_hi = 60999;
        }
        fclose(f);
    }
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        char text[32];
        v->cap[i] =
            sf_options[i].capped_by[0] && sf_sysctl_read(sf_options[i].capped_by, text, sizeof text)
                ? strtoll(text, NULL, 10)
                : 0;
    }
}

static void read_fresh(struct nsview *v)
{
    static const int types[2] = {SOCK_STREAM, SOCK_DGRAM}, domains[2] = {AF_INET, AF_INET6};
    for (int u = 0; u < 2; u++) {
        for (int six = 0; six < 2; six++) {
            int s = socket(domains[six], types[u] | SOCK_CLOEXEC, 0);
            if (s >= 0) {
                sockinfo_read(s, &v->fresh[u][six]);
                close(s);
            }
        }
    }
}

/* Everything, from inside the namespace this process is in now. */
static int load_inside(struct nsview *v)
{
    struct listeners l = {0};
    if (dump_listeners(AF_INET, &l) != 0 || dump_listeners(AF_INET6, &l) != 0) {
        free(l.v);
        return -1;
    }
    v->listeners = l.v;
    v->nlisteners = l.n;
    v->inside = true;
    read_sysctls(v);
    read_fresh(v);
    return 0;
}

static void load_outside(struct nsview *v, pid_t pid)
{
    struct listeners l = {0};
    proc_listeners(pid, AF_INET, &l);
    proc_listeners(pid, AF_INET6, &l);
    v->listeners = l.v;
    v->nlisteners = l.n;
    v->inside = false;
    read_sysctls(v);
    read_fresh(v);
}

/* Enters nsfd, loads, comes back. */
static int load_through_setns(struct nscache *c, struct nsview *v, int nsfd)
{
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0)
        return -1;
    int r = load_inside(v);
    if (setns(c->self_fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "sockfix: cannot return to its own network namespace: %s\n",
                strerror(errno));
        exit(1);
    }
    return r;
}

static struct nsview *cached(const struct nscache *c, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->views[i]->dev == dev && c->views[i]->ino == ino)
            return c->views[i];
    return NULL;
}

/* The socket's namespace (SIOCGSKNS needs CAP_NET_ADMIN there), else its
 * process's, which the socket is then assumed to be in. */
static int namespace_of(int dup, pid_t pid, uint64_t *dev, uint64_t *ino)
{
    int nsfd = ioctl(dup, SIOCGSKNS);
    if (nsfd < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
    }
    struct stat st;
    if (nsfd >= 0 && fstat(nsfd, &st) == 0) {
        *dev = (uint64_t)st.st_dev;
        *ino = (uint64_t)st.st_ino;
    } else {
        *dev = *ino = 0;
    }
    return nsfd;
}

const struct nsview *nscache_for(struct nscache *c, int dup, pid_t pid)
{
    uint64_t dev, ino;
    int nsfd = namespace_of(dup, pid, &dev, &ino);
    struct nsview *v = cached(c, dev, ino);
    if (v) {
        if (nsfd >= 0)
            close(nsfd);
        return v;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct nsview **views = reallocarray(c->views, cap, sizeof *views);
        if (!views)
            goto fail;
        c->views = views;
        c->cap = cap;
    }
    if (!(v = calloc(1, sizeof *v)))
        goto fail;
    v->dev = dev;
    v->ino = ino;
    bool here = dev == c->self_dev && ino == c->self_ino;
    if ((here ? load_inside(v) : load_through_setns(c, v, nsfd)) != 0)
        load_outside(v, pid);
    if (index_listeners(v) != 0) {
        free(v->listeners);
        free(v);
        goto fail;
    }
    if (nsfd >= 0)
        close(nsfd);
    c->views[c->n++] = v;
    return v;
fail:
    if (nsfd >= 0)
        close(nsfd);
    return NULL;
}

const struct ns_listener *nsview_listener_by_inode(const struct nsview *v, unsigned long inode)
{
    size_t lo = 0, hi = v->nlisteners;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->by_inode[mid]->inode < inode)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->nlisteners && v->by_inode[lo]->inode == inode ? v->by_inode[lo] : NULL;
}

static const void *addr_bytes(const struct sockaddr_storage *ss, size_t *len)
{
    if (ss->ss_family == AF_INET) {
        *len = 4;
        return &((const struct sockaddr_in *)ss)->sin_addr;
    }
    *len = 16;
    return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static bool wildcard(const struct sockaddr_storage *ss)
{
    static const uint8_t zero[16];
    size_t len;
    const void *a = addr_bytes(ss, &len);
    return memcmp(a, zero, len) == 0;
}

const struct ns_listener *nsview_listener_for(const struct nsview *v,
                                              const struct sockaddr_storage *local)
{
    unsigned port = sockaddr_port(local);
    size_t lo = 0, hi = v->nlisteners;
    while (lo < hi) { /* the first listener on port */
        size_t mid = (lo + hi) / 2;
        if (sockaddr_port(&v->listeners[mid].addr) < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct ns_listener *any = NULL;
    size_t llen;
    const void *laddr = addr_bytes(local, &llen);
    for (size_t i = lo; i < v->nlisteners && sockaddr_port(&v->listeners[i].addr) == port; i++) {
        const struct ns_listener *x = &v->listeners[i];
        if (x->addr.ss_family != local->ss_family)
            continue;
        size_t xlen;
        const void *xaddr = addr_bytes(&x->addr, &xlen);
        if (memcmp(xaddr, laddr, llen) == 0)
            return x; /* bound to this very address */
        if (!any && wildcard(&x->addr))
            any = x;
    }
    return any;
}

const struct sockinfo *nsview_fresh(const struct nsview *v, int domain, unsigned type)
{
    return &v->fresh[type == SF_TYPE_UDP][domain == AF_INET6];
}
