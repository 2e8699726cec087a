/* The policy: INI text in, an immutable rule table out, with FILE:LINE errors.
 * Pure: no sockets, no environment; file reading is in policy_file.h. */
#ifndef SOCKFIX_CONFIG_POLICY_H
#define SOCKFIX_CONFIG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "settings.h"

struct sf_index; /* index.h: built by sf_policy_select_program (match.h) */

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
 * starts active; sf_policy_select_program (match.h) narrows that and builds the
 * matching index (without it, deciding scans every rule). */
struct sf_policy *sf_policy_parse(const char *text, size_t len, const char *source);

/* A policy holding one file-level error ("FILE: message"), no rules. */
struct sf_policy *sf_policy_failed(const char *source, const char *message);

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

/* Each warning about the policy's text ("FILE:LINE: message"), with emit;
 * active_only: only those about rules that can match this program. */
void sf_policy_emit_warnings(const struct sf_policy *p, bool active_only,
                             void (*emit)(const char *line, void *arg), void *arg);

#endif
