/* The policy: INI text in, an immutable rule table out, with FILE:LINE errors.
 * Pure: no sockets, no environment; file reading is in policy_file.h. */
#ifndef SOCKFIX_CONFIG_POLICY_H
#define SOCKFIX_CONFIG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "options.h"

enum sf_log_level { SF_LOG_OFF, SF_LOG_ERROR, SF_LOG_WARN, SF_LOG_INFO, SF_LOG_DEBUG };

/* Who wins when the program sets an option the policy also sets:
 * program (default): sockfix only fills in what the program left alone;
 * policy: the policy's value, also over the program's later setsockopt. */
enum sf_precedence { SF_PRECEDENCE_PROGRAM, SF_PRECEDENCE_POLICY };

/* Where the library's log lines go: stderr; syslog (datagrams to /dev/log, or
 * another socket named as syslog:/path); or a file, appended to. */
enum sf_log_target { SF_LOG_TO_STDERR, SF_LOG_TO_SYSLOG, SF_LOG_TO_FILE };
#define SF_LOG_PATH_MAX 200

struct sf_port_range {
    uint16_t lo, hi;
};

/* One match.address entry: IPv4 (4 bytes used) or IPv6, and a prefix length. */
struct sf_cidr {
    uint8_t family; /* SF_FAMILY_IPV4 or SF_FAMILY_IPV6 */
    uint8_t prefix;
    uint8_t addr[16];
};

struct sf_rule {
    char *name;    /* section header */
    unsigned line; /* line of the header */
    char **programs;
    size_t nprograms;
    unsigned programs_line; /* of match.program */
    struct sf_port_range *ports;
    size_t nports;
    struct sf_cidr *addrs; /* match.address */
    size_t naddrs;
    unsigned roles, families; /* SF_ROLE_*, SF_FAMILY_*; 0 = any */
    unsigned types;           /* SF_TYPE_*; TCP when match.type is absent */
    uint32_t set;             /* SF_OPT_BIT of every option the rule sets */
    int32_t value[SF_OPT_COUNT];
    unsigned value_line[SF_OPT_COUNT];
};

/* Errors kept per policy: a hostile file cannot make the parser allocate
 * (or the command print) one message per line of a megabyte. Parsing stops
 * when the limit is reached. */
#define SF_MAX_ERRORS 100

struct sf_error {
    unsigned line; /* 0: about the file as a whole */
    char *message;
    size_t rule; /* a warning's rule (index into rules) */
};

struct sf_policy {
    char *source; /* file name used in messages */
    enum sf_log_level log_level;
    bool log_set;
    bool strict;
    enum sf_precedence precedence;
    enum sf_log_target log_target;
    char log_path[SF_LOG_PATH_MAX]; /* the syslog socket or the file */
    bool log_target_set;
    struct sf_rule *rules;
    size_t nrules;
    size_t *active; /* indices of the rules that can match this program */
    size_t nactive;
    uint32_t active_set; /* every option some active rule sets */
    struct sf_error *errors;
    size_t nerrors;
    struct sf_error *warnings; /* valid, but probably not what was meant */
    size_t nwarnings;
    struct sf_index *index;         /* over the active rules; NULL: decide by scanning */
    char (*names)[SF_NAME_MAX + 1]; /* values of name options (bind_device, congestion) */
    size_t nnames;
};

/* Parses len bytes of INI text. Never returns NULL but when out of memory;
 * errors are collected in the result, all of them, in line order. Every rule
 * starts active; sf_policy_select_program narrows that and builds the
 * matching index (without it, deciding scans every rule). */
struct sf_policy *sf_policy_parse(const char *text, size_t len, const char *source);

/* A policy holding one file-level error ("FILE: message"), no rules. */
struct sf_policy *sf_policy_failed(const char *source, const char *message);

/* Makes active the rules whose match.program globs match one of names (or
 * that have no match.program), then builds the matching index. May be
 * called again for other names; not while the policy is shared. 0, or -1
 * when out of memory for the index (sf_decide then scans the rules). */
int sf_policy_select_program(struct sf_policy *p, const char *const *names, size_t nnames);

/* The name a SF_VAL_NAME option's value stands for. */
const char *sf_policy_name(const struct sf_policy *p, int32_t value);

/* Formats a value the way the policy writes it, names included: the one
 * formatter of the library's log and of every command. Async-signal-safe. */
void sf_policy_format_value(const struct sf_policy *p, const struct sf_option *opt, int32_t value,
                            char *buf, size_t len);

/* The bytes setsockopt takes for value v of opt (an int, a struct linger,
 * or a name without its NUL) into buf; returns their length. */
#define SF_VALUE_BYTES 16
size_t sf_policy_encode_value(const struct sf_policy *p, const struct sf_option *opt, int32_t v,
                              unsigned char buf[SF_VALUE_BYTES]);

/* "FILE:LINE: message" (or "FILE: message") into buf. */
void sf_error_format(const struct sf_policy *p, const struct sf_error *e, char *buf, size_t len);

void sf_policy_free(struct sf_policy *p);

/* Parses "off".."debug"; -1 when unknown. */
int sf_log_level_parse(const char *s);
const char *sf_log_level_name(enum sf_log_level level);

/* For each congestion-control name the policy's active rules use that is not
 * in `available` (the kernel's space-separated list), writes a warning
 * "FILE:LINE: congestion: "NAME" is not available ..." with emit. */
void sf_policy_check_congestion(const struct sf_policy *p, const char *available,
                                void (*emit)(const char *line, void *arg), void *arg);

/* Parses "stderr", "syslog", "syslog:/path" or "file:/path" (absolute
 * paths); 0, or -1 with the reason in err. */
int sf_log_target_parse(const char *s, enum sf_log_target *target, char path[SF_LOG_PATH_MAX],
                        char *err, size_t errlen);

/* For each rcvbuf (sndbuf) of the active rules above max (net.core.rmem_max,
 * wmem_max), a warning "FILE:LINE: rcvbuf: 4m is above net.core.rmem_max
 * (212992 bytes); the kernel caps it" with emit. */
void sf_policy_check_buffers(const struct sf_policy *p, long rmem_max, long wmem_max,
                             void (*emit)(const char *line, void *arg), void *arg);

/* Each warning about the policy's text ("FILE:LINE: message"), with emit;
 * active_only: only those about rules that can match this program. */
void sf_policy_emit_warnings(const struct sf_policy *p, bool active_only,
                             void (*emit)(const char *line, void *arg), void *arg);

/* Parses "program" or "policy"; -1 otherwise. */
int sf_precedence_parse(const char *s);

#endif
