/* Parsing of single policy values: booleans, durations, numbers, ports, and
 * quoting of offending text for messages. Pure functions, no allocation. */
#ifndef SOCKFIX_CONFIG_VALUES_H
#define SOCKFIX_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

/* Writes s into buf as a double-quoted string, control and non-ASCII bytes
 * escaped as \xNN, cut with "..." when it does not fit. Returns buf. */
char *sf_quote(const char *s, char *buf, size_t len);

/* The same without the quotes, for names such as file paths: control and
 * non-ASCII bytes as \xNN, so no message can carry terminal control
 * sequences. Returns buf. */
char *sf_escape(const char *s, char *buf, size_t len);

/* Each returns 0 and stores the value, or -1 with a message in err. */
int sf_parse_bool(const char *s, bool *out, char *err, size_t errlen);
int sf_parse_uint(const char *s, uint64_t max, uint64_t *out);
int sf_parse_duration_ms(const char *s, uint64_t *ms);
int sf_parse_option_value(const struct sf_option *opt, const char *s, int32_t *out, char *err,
                          size_t errlen);

/* 65536, 256k, 4m, 1g; 0, -1 malformed, -2 too large. */
int sf_parse_size(const char *s, uint64_t *out);
/* Decimal or 0x hex up to 0xffffffff. */
int sf_parse_u32(const char *s, uint64_t *out);
/* A DSCP by name (ef, af21, cs3, le, ...) or number 0..63. */
int sf_parse_dscp(const char *s, uint64_t *out);
/* Whether s can be an interface or congestion-control name. */
int sf_check_name(const char *s, char *err, size_t errlen);

/* Formats a value of an option the way a policy would write it ("60s",
 * "90s" for 90000 ms, "yes"); a name option's value as its index ("#0": see
 * sf_policy_format_value). No stdio: async-signal-safe. */
void sf_format_option_value(const struct sf_option *opt, int32_t value, char *buf, size_t len);

#endif
