#include "log.h"

#include "real.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static _Atomic int current_level = SF_LOG_WARN;

void log_set_level(enum sf_log_level level)
{
    atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

bool log_enabled(enum sf_log_level level)
{
    return level != SF_LOG_OFF &&
           (int)level <= atomic_load_explicit(&current_level, memory_order_relaxed);
}

static void put(struct logbuf *b, const char *s, size_t n)
{
    size_t room = sizeof b->text - 1 - b->len; /* one byte kept for the newline */
    if (n > room)
        n = room;
    memcpy(b->text + b->len, s, n);
    b->len += n;
}

/* Control characters (from a path, a program name) go out as \xNN: a log
 * line can never move a terminal's cursor or forge a second line. */
void log_str(struct logbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (;;) {
        size_t n = 0;
        while ((unsigned char)s[n] >= 0x20 && s[n] != 0x7f)
            n++;
        put(b, s, n);
        if (!s[n])
            return;
        char esc[4] = {'\\', 'x', hex[(unsigned char)s[n] >> 4], hex[s[n] & 15]};
        put(b, esc, sizeof esc);
        s += n + 1;
    }
}

void log_uint(struct logbuf *b, uint64_t v)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, d + i, sizeof d - i);
}

void log_int(struct logbuf *b, int64_t v)
{
    if (v < 0) {
        put(b, "-", 1);
        log_uint(b, (uint64_t)0 - (uint64_t)v);
    } else {
        log_uint(b, (uint64_t)v);
    }
}

static void log_hex16(struct logbuf *b, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    char d[4];
    size_t i = sizeof d;
    do {
        d[--i] = hex[v & 15];
        v >>= 4;
    } while (v);
    put(b, d + i, sizeof d - i);
}

static void log_ipv4(struct logbuf *b, const unsigned char *a)
{
    for (int i = 0; i < 4; i++) {
        if (i)
            put(b, ".", 1);
        log_uint(b, a[i]);
    }
}

/* RFC 5952 text: the longest run of two or more zero groups becomes "::". */
static void log_ipv6(struct logbuf *b, const struct in6_addr *a)
{
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a->s6_addr[2 * (size_t)i] << 8 | a->s6_addr[2 * (size_t)i + 1];
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        log_str(b, "::ffff:");
        log_ipv4(b, a->s6_addr + 12);
        return;
    }
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            put(b, "::", 2);
            i += best_len - 1;
            continue;
        }
        if (i && i != best + best_len)
            put(b, ":", 1);
        log_hex16(b, g[i]);
    }
}

void log_sockaddr(struct logbuf *b, const struct sockaddr *sa, socklen_t len)
{
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        log_ipv4(b, (const unsigned char *)&in->sin_addr);
        put(b, ":", 1);
        log_uint(b, ntohs(in->sin_port));
    } else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        put(b, "[", 1);
        log_ipv6(b, &in6->sin6_addr);
        put(b, "]:", 2);
        log_uint(b, ntohs(in6->sin6_port));
    } else {
        put(b, "?", 1);
    }
}

void log_begin(struct logbuf *b)
{
    log_begin_at(b, SF_LOG_WARN);
}

void log_begin_at(struct logbuf *b, enum sf_log_level level)
{
    b->len = 0;
    b->level = level;
    log_str(b, "sockfix[");
    log_int(b, getpid());
    log_str(b, "]: ");
}

void log_begin_event(struct logbuf *b, enum sf_log_level level, const char *call, int fd,
                     const struct sockaddr *sa, socklen_t len)
{
    log_begin_at(b, level);
    log_str(b, call);
    log_str(b, " fd=");
    log_int(b, fd);
    log_str(b, " ");
    log_sockaddr(b, sa, len);
}

/* Daemons close stderr; descriptor 2 may then be a client's connection,
 * and a log line written there would corrupt the program's protocol. */
static bool stderr_is_safe(void)
{
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    if (!S_ISSOCK(st.st_mode))
        return true;
    int domain = -1;
    socklen_t len = sizeof domain;
    if (getsockopt(STDERR_FILENO, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
        return false;
    return domain == AF_UNIX || domain == AF_NETLINK; /* journald's stream is a UNIX socket */
}

/* ---- targets ---- */

static _Atomic int target_kind = SF_LOG_TO_STDERR;
static char target_path[SF_LOG_PATH_MAX];
static _Atomic int target_fd = -1;
static _Atomic uint64_t target_dev, target_ino; /* what target_fd was when opened */

void log_set_target(enum sf_log_target target, const char *path)
{
    size_t n = strnlen(path, sizeof target_path - 1);
    memcpy(target_path, path, n);
    target_path[n] = '\0';
    atomic_store(&target_fd, -1);
    atomic_store(&target_kind, (int)target);
}

static int open_target(int kind)
{
    if (kind == SF_LOG_TO_FILE)
        return open(target_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    int fd = real_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    size_t n = strnlen(target_path, sizeof un.sun_path - 1);
    memcpy(un.sun_path, target_path, n);
    if (fd >= 0 && real_connect(fd, (struct sockaddr *)&un, sizeof un) != 0) {
        real_close(fd);
        return -1;
    }
    return fd;
}

/* The target's descriptor, opened again when the program closed it or put
 * something else at its number (daemons close every descriptor); -1 when
 * it cannot be opened. The program's own descriptors are never closed. */
static int target_descriptor(int kind)
{
    int fd = atomic_load(&target_fd);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_dev == atomic_load(&target_dev) &&
        (uint64_t)st.st_ino == atomic_load(&target_ino))
        return fd;
    int mine = open_target(kind);
    if (mine < 0 || fstat(mine, &st) != 0) {
        if (mine >= 0)
            real_close(mine);
        return -1;
    }
    atomic_store(&target_dev, (uint64_t)st.st_dev);
    atomic_store(&target_ino, (uint64_t)st.st_ino);
    atomic_store(&target_fd, mine); /* a racing thread's descriptor leaks once, at most */
    return mine;
}

static void write_all(int fd, const char *p, size_t left)
{
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
}

/* "<PRI>" for facility daemon: RFC 3164; the receiver adds the time. */
static void send_syslog(int fd, const struct logbuf *b)
{
    static const int severity[] = {[SF_LOG_OFF] = 7,
                                   [SF_LOG_ERROR] = 3,
                                   [SF_LOG_WARN] = 4,
                                   [SF_LOG_INFO] = 6,
                                   [SF_LOG_DEBUG] = 7};
    char msg[sizeof b->text + 8];
    int pri = 3 * 8 + severity[b->level];
    size_t n = 0;
    msg[n++] = '<';
    if (pri >= 10)
        msg[n++] = (char)('0' + pri / 10);
    msg[n++] = (char)('0' + pri % 10);
    msg[n++] = '>';
    memcpy(msg + n, b->text, b->len);
    n += b->len;
    while (send(fd, msg, n, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

void log_end(struct logbuf *b)
{
    int saved = errno;
    int kind = atomic_load(&target_kind);
    int fd = kind == SF_LOG_TO_STDERR ? -1 : target_descriptor(kind);
    if (kind == SF_LOG_TO_SYSLOG && fd >= 0) {
        send_syslog(fd, b);
    } else if (fd >= 0) {
        b->text[b->len++] = '\n';
        write_all(fd, b->text, b->len);
    } else if (stderr_is_safe()) { /* stderr, or the target could not be opened */
        b->text[b->len++] = '\n';
        write_all(STDERR_FILENO, b->text, b->len);
    }
    errno = saved;
}

void log_msg(enum sf_log_level level, const char *msg)
{
    if (!log_enabled(level))
        return;
    struct logbuf b;
    log_begin_at(&b, level);
    log_str(&b, msg);
    log_end(&b);
}
