/* Logging without stdio or malloc: a line is built in a stack buffer and
 * written to stderr with one write(2), so it is safe on the hot path, in
 * threads and in signal handlers. */
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
};

void log_set_level(enum sf_log_level level);
bool log_enabled(enum sf_log_level level);

/* Starts a line with "sockfix[PID]: ". */
void log_begin(struct logbuf *b);
void log_str(struct logbuf *b, const char *s);
void log_uint(struct logbuf *b, uint64_t v);
void log_int(struct logbuf *b, int64_t v);
/* "127.0.0.1:80", "[::1]:80"; "?" for a family it does not know. */
void log_sockaddr(struct logbuf *b, const struct sockaddr *sa, socklen_t len);
/* Starts a line about one socket call: "sockfix[PID]: CALL fd=N ADDRESS". */
void log_begin_event(struct logbuf *b, const char *call, int fd, const struct sockaddr *sa,
                     socklen_t len);
/* Ends the line and writes it, whatever the level; errno is kept. */
void log_end(struct logbuf *b);

/* One whole message at a level. */
void log_msg(enum sf_log_level level, const char *msg);

#endif
