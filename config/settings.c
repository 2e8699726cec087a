/* The [sockfix] settings' words: log levels, log targets, precedence. */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "values.h"

static const char *const level_names[] = {"off", "error", "warn", "info", "debug"};

int sf_log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

int sf_log_target_parse(const char *s, enum sf_log_target *target, char path[SF_LOG_PATH_MAX],
                        char *err, size_t errlen)
{
    char q[64];
    const char *file = strncmp(s, "file:", 5) == 0 ? s + 5 : NULL;
    const char *sock = strncmp(s, "syslog:", 7) == 0 ? s + 7 : NULL;
    if (strcmp(s, "stderr") == 0) {
        *target = SF_LOG_TO_STDERR;
        path[0] = '\0';
        return 0;
    }
    if (strcmp(s, "syslog") == 0) {
        *target = SF_LOG_TO_SYSLOG;
        snprintf(path, SF_LOG_PATH_MAX, "/dev/log");
        return 0;
    }
    const char *where = file ? file : sock;
    if (!where) {
        snprintf(err, errlen, "%s is not stderr, syslog, syslog:/SOCKET or file:/PATH",
                 sf_quote(s, q, sizeof q));
        return -1;
    }
    if (where[0] != '/' || strlen(where) >= SF_LOG_PATH_MAX) {
        snprintf(err, errlen, "%s needs an absolute path (at most %d characters)",
                 sf_quote(s, q, sizeof q), SF_LOG_PATH_MAX - 1);
        return -1;
    }
    *target = file ? SF_LOG_TO_FILE : SF_LOG_TO_SYSLOG;
    snprintf(path, SF_LOG_PATH_MAX, "%s", where);
    return 0;
}

int sf_precedence_parse(const char *s)
{
    return strcmp(s, "program") == 0  ? SF_PRECEDENCE_PROGRAM
           : strcmp(s, "policy") == 0 ? SF_PRECEDENCE_POLICY
                                      : -1;
}

const char *sf_log_level_name(enum sf_log_level level)
{
    return level_names[level];
}
