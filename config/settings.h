/* The settings of a policy's [sockfix] section, and their words. */
#ifndef SOCKFIX_CONFIG_SETTINGS_H
#define SOCKFIX_CONFIG_SETTINGS_H

#include <stddef.h>

enum sf_log_level { SF_LOG_OFF, SF_LOG_ERROR, SF_LOG_WARN, SF_LOG_INFO, SF_LOG_DEBUG };

/* Who wins when the program sets an option the policy also sets:
 * program (default): sockfix only fills in what the program left alone;
 * policy: the policy's value, also over the program's later setsockopt. */
enum sf_precedence { SF_PRECEDENCE_PROGRAM, SF_PRECEDENCE_POLICY };

/* Where the library's log lines go: stderr; syslog (datagrams to /dev/log, or
 * another socket named as syslog:/path); or a file, appended to. */
enum sf_log_target { SF_LOG_TO_STDERR, SF_LOG_TO_SYSLOG, SF_LOG_TO_FILE };
#define SF_LOG_PATH_MAX 200

/* Parses "off".."debug"; -1 when unknown. */
int sf_log_level_parse(const char *s);
const char *sf_log_level_name(enum sf_log_level level);

/* Parses "stderr", "syslog", "syslog:/path" or "file:/path" (absolute
 * paths); 0, or -1 with the reason in err. */
int sf_log_target_parse(const char *s, enum sf_log_target *target, char path[SF_LOG_PATH_MAX],
                        char *err, size_t errlen);

/* Parses "program" or "policy"; -1 otherwise. */
int sf_precedence_parse(const char *s);

#endif
