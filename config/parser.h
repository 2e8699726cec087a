/* The parser's state while it reads a policy, shared by the reader of lines
 * and sections (parser.c) and the reader of keys (parser_keys.c). Internal
 * to config/. */
#ifndef SOCKFIX_CONFIG_PARSER_H
#define SOCKFIX_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define GLOBAL_SECTION "sockfix"
#define ERRLEN 256

enum match_key { M_PROGRAM, M_PORT, M_ROLE, M_FAMILY, M_TYPE, M_ADDRESS, M_COUNT };
enum global_key { G_LOG, G_STRICT, G_PRECEDENCE, G_LOG_TARGET, G_COUNT };

struct name_index { /* open addressing, for duplicate sections in O(1) */
    size_t *slot;   /* rule index + 1; 0 = empty */
    size_t cap;
};

struct parse_ctx {
    struct sf_policy *p;
    const char *pos, *end;
    unsigned lineno;
    bool key_pending; /* the current line must reach the handler */
    bool key_handled;
    bool have_section;
    bool skip_section; /* its header was bad or repeated: its keys are not read */
    bool in_global;
    bool global_seen;
    struct sf_rule *rule;
    unsigned match_line[M_COUNT];
    unsigned global_line[G_COUNT];
    struct name_index names;
    size_t rules_cap;
    unsigned stopped_at;     /* the last line read when too many errors stopped the parser */
    unsigned rule_dscp_line; /* the current rule's tos came from a dscp key */
    bool oom;
};

/* reallocarray that marks the parse out of memory when it fails. */
void *parse_grow(struct parse_ctx *c, void *ptr, size_t n, size_t size);

/* An error at line (0: the file as a whole); ignored past SF_MAX_ERRORS. */
void parse_error(struct sf_policy *p, bool *oom, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define ERROR(c, line, ...) parse_error((c)->p, &(c)->oom, (line), __VA_ARGS__)

/* A warning about rule (an index into p->rules) at line. */
void parse_warning(struct parse_ctx *c, unsigned line, size_t rule, const char *msg);

/* A key = value line in [sockfix], or in a rule's section. */
void parse_global_key(struct parse_ctx *c, const char *name, const char *value);
void parse_rule_key(struct parse_ctx *c, const char *name, const char *value);

#endif
