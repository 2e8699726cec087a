#include "sockinfo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

unsigned sockaddr_port(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                    : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, sockaddr_port(ss));
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, sockaddr_port(ss));
    }
}

static int getint(int fd, int level, int name, int *v)
{
    socklen_t len = sizeof *v;
    return getsockopt(fd, level, name, v, &len);
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
        *value = sf_option_from_kernel(o, *value);
        return 0;
    }
}

bool sockinfo_read(int fd, struct sockinfo *si)
{
    int domain, type, protocol;
    if (getint(fd, SOL_SOCKET, SO_DOMAIN, &domain) || getint(fd, SOL_SOCKET, SO_TYPE, &type) ||
        getint(fd, SOL_SOCKET, SO_PROTOCOL, &protocol))
        return false;
    if (domain != AF_INET && domain != AF_INET6)
        return false;
    memset(si, 0, sizeof *si);
    si->domain = domain;
    if (type == SOCK_STREAM && protocol == IPPROTO_TCP)
        si->type = SF_TYPE_TCP;
    else if (type == SOCK_DGRAM && protocol == IPPROTO_UDP)
        si->type = SF_TYPE_UDP;
    else
        return false;
    struct stat st;
    if (fstat(fd, &st) == 0)
        si->inode = (unsigned long)st.st_ino;
    si->local_len = sizeof si->local;
    if (getsockname(fd, (struct sockaddr *)&si->local, &si->local_len) != 0)
        return false;
    si->peer_len = sizeof si->peer;
    if (getpeername(fd, (struct sockaddr *)&si->peer, &si->peer_len) != 0)
        si->peer_len = 0;
    if (si->type == SF_TYPE_TCP) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && len > 0)
            si->tcp_state = ti.tcpi_state;
    }
    unsigned family = domain == AF_INET6 ? SF_FAMILY_IPV6 : SF_FAMILY_IPV4;
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        const struct sf_option *o = &sf_options[i];
        if (!(o->types & si->type) || (o->families && !(o->families & family)) ||
            (o->phase & SF_PHASE_LISTEN_ARG))
            continue;
        int level, name;
        sf_option_sockopt(o, family, &level, &name, NULL);
        si->have[i] = read_option(fd, o, level, name, &si->value[i], si->names[i]) == 0;
    }
    return true;
}

bool sockinfo_differs(const struct sockinfo *si, const struct sockinfo *fresh, int i)
{
    if (!si->have[i] || !fresh->have[i])
        return false;
    if (sf_options[i].kind == SF_VAL_NAME)
        return strcmp(si->names[i], fresh->names[i]) != 0;
    return si->value[i] != fresh->value[i];
}

bool sockinfo_holds(const struct sockinfo *si, int i, int v, const char *text)
{
    if (sf_options[i].kind == SF_VAL_NAME)
        return strcmp(si->names[i], text) == 0;
    return sf_option_holds(&sf_options[i], si->value[i], v, si->peer_len > 0);
}
