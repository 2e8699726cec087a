#include "sockinfo.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TCP_STATE_LISTEN 10

static void load_table(struct listen_ports *lp, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char local[128];
        unsigned state;
        if (sscanf(line, " %*d: %127s %*s %x", local, &state) != 2 || state != TCP_STATE_LISTEN)
            continue;
        char *colon = strrchr(local, ':');
        unsigned long port = colon ? strtoul(colon + 1, NULL, 16) : 0;
        if (port && port < 65536)
            lp->bits[port / 8] |= (unsigned char)(1u << (port % 8));
    }
    fclose(f);
}

void listen_ports_load(struct listen_ports *lp, pid_t pid)
{
    char path[64];
    memset(lp, 0, sizeof *lp);
    snprintf(path, sizeof path, "/proc/%d/net/tcp", (int)pid);
    load_table(lp, path);
    snprintf(path, sizeof path, "/proc/%d/net/tcp6", (int)pid);
    load_table(lp, path);
}

static bool listening_port(const struct listen_ports *lp, unsigned port)
{
    return lp && port < 65536 && (lp->bits[port / 8] & (1u << (port % 8)));
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                    : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, port_of(ss));
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, port_of(ss));
    }
}

static int getint(int fd, int level, int name, int *v)
{
    socklen_t len = sizeof *v;
    return getsockopt(fd, level, name, v, &len);
}

/* sk_max_ack_backlog of a listener, from sock_diag, found by inode. */
static int listen_backlog(int fd, int family, int *backlog)
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
             .r = {.sdiag_family = (unsigned char)family,
                   .sdiag_protocol = IPPROTO_TCP,
                   .idiag_states = 1u << TCP_STATE_LISTEN}};
    int found = -1;
    if (send(nl, &req, sizeof req, 0) == (ssize_t)sizeof req) {
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
                const struct inet_diag_msg *m = NLMSG_DATA(h);
                if (m->idiag_inode == st.st_ino) {
                    *backlog = (int)m->idiag_wqueue;
                    found = 0;
                }
            }
        }
    }
    close(nl);
    return found;
}

static const char *role_of(const struct sockinfo *si, bool listening, const struct listen_ports *lp)
{
    if (listening)
        return "listener";
    if (si->peer_len)
        return si->tcp && listening_port(lp, port_of(&si->local)) ? "server" : "client";
    return port_of(&si->local) ? "bound" : "unbound";
}

/* One option in the table's units (see struct sockinfo). */
static int read_option(int fd, const struct sf_option *o, int level, int name, int *value,
                       char text[SF_NAME_MAX + 1])
{
    switch (o->kind) {
    case SF_VAL_NAME: {
        char buf[64] = "";
        socklen_t len = sizeof buf - 1;
        if (getsockopt(fd, level, name, buf, &len) != 0)
            return -1;
        buf[len < sizeof buf ? len : sizeof buf - 1] = '\0';
        snprintf(text, SF_NAME_MAX + 1, "%s", buf);
        *value = 0;
        return 0;
    }
    case SF_VAL_LINGER: {
        struct linger lg;
        socklen_t len = sizeof lg;
        if (getsockopt(fd, level, name, &lg, &len) != 0)
            return -1;
        *value = lg.l_onoff ? lg.l_linger : -1;
        return 0;
    }
    default:
        if (getint(fd, level, name, value) != 0)
            return -1;
        if (o == &sf_options[SF_OPT_RCVBUF] || o == &sf_options[SF_OPT_SNDBUF])
            *value /= 2;
        return 0;
    }
}

bool sockinfo_read(int fd, const struct listen_ports *lp, struct sockinfo *si)
{
    int domain, type, protocol, acceptconn = 0;
    if (getint(fd, SOL_SOCKET, SO_DOMAIN, &domain) || getint(fd, SOL_SOCKET, SO_TYPE, &type) ||
        getint(fd, SOL_SOCKET, SO_PROTOCOL, &protocol))
        return false;
    if (domain != AF_INET && domain != AF_INET6)
        return false;
    memset(si, 0, sizeof *si);
    si->tcp = type == SOCK_STREAM && protocol == IPPROTO_TCP;
    si->udp = type == SOCK_DGRAM && protocol == IPPROTO_UDP;
    if (!si->tcp && !si->udp)
        return false;
    si->ipv6 = domain == AF_INET6;
    si->local_len = sizeof si->local;
    if (getsockname(fd, (struct sockaddr *)&si->local, &si->local_len) != 0)
        return false;
    si->peer_len = sizeof si->peer;
    if (getpeername(fd, (struct sockaddr *)&si->peer, &si->peer_len) != 0)
        si->peer_len = 0;
    getint(fd, SOL_SOCKET, SO_ACCEPTCONN, &acceptconn);
    si->role = role_of(si, acceptconn, lp);
    unsigned family = si->ipv6 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        if (!(o->types & (si->tcp ? SF_TYPE_TCP : SF_TYPE_UDP)) ||
            (o->families && !(o->families & family)))
            continue;
        if (o->phase & SF_PHASE_LISTEN_ARG) {
            si->have[i] = acceptconn && listen_backlog(fd, domain, &si->value[i]) == 0;
            continue;
        }
        int level, name;
        sf_option_sockopt(o, family, &level, &name, NULL);
        si->have[i] = read_option(fd, o, level, name, &si->value[i], si->names[i]) == 0;
    }
    return true;
}

void sockinfo_defaults(struct sockinfo *tcp, struct sockinfo *udp, const struct listen_ports *lp)
{
    memset(tcp, 0, sizeof *tcp);
    memset(udp, 0, sizeof *udp);
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (t >= 0) {
        sockinfo_read(t, lp, tcp);
        close(t);
    }
    if (u >= 0) {
        sockinfo_read(u, lp, udp);
        close(u);
    }
}

bool sockinfo_differs(const struct sockinfo *si, const struct sockinfo *defaults, int i)
{
    if (!si->have[i] || !defaults->have[i])
        return false;
    if (sf_options[i].kind == SF_VAL_NAME)
        return strcmp(si->names[i], defaults->names[i]) != 0;
    return si->value[i] != defaults->value[i];
}
