/* Logging without stdio or malloc: a line is built in a stack buffer and
 * written with one write(2) (or send, for syslog), so it is safe on the hot
 * path, in threads and in signal handlers, and lines of concurrent processes
 * never interleave. The target is stderr (never when descriptor 2 has become
 * a network connection), syslog datagrams, or a file opened O_APPEND; a
 * descriptor the program closed or reused is noticed and opened again. */
#ifndef SOCKFIX_SHIM_LOG_H
#define SOCKFIX_SHIM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../config/policy.h"

struct logbuf {
    char text[1024];
    size_t len;
    enum sf_log_level level; /* the syslog severity */
};

void log_set_level(enum sf_log_level level);
/* Where lines go from now on (start-up only); path: the syslog socket or file. */
void log_set_target(enum sf_log_target target, const char *path);
bool log_enabled(enum sf_log_level level);

/* Starts a line with "sockfix[PID]: ", at level warn (log_begin) or level. */
void log_begin(struct logbuf *b);
void log_begin_at(struct logbuf *b, enum sf_log_level level);
void log_str(struct logbuf *b, const char *s);
void log_uint(struct logbuf *b, uint64_t v);
void log_int(struct logbuf *b, int64_t v);
/* "127.0.0.1:80", "[::1]:80"; "?" for a family it does not know. */
void log_sockaddr(struct logbuf *b, const struct sockaddr *sa, socklen_t len);
/* Starts a line about one socket call: "sockfix[PID]: CALL fd=N ADDRESS". */
void log_begin_event(struct logbuf *b, enum sf_log_level level, const char *call, int fd,
                     const struct sockaddr *sa, socklen_t len);
/* Ends the line and writes it, whatever the level; errno is kept. */
void log_end(struct logbuf *b);

/* One whole message at a level. */
void log_msg(enum sf_log_level level, const char *msg);

#endif
