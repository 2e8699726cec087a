/* The option table: every socket option sockfix knows is one row, and the
 * parser, the matcher, the shim and the tools all read that row. */
#ifndef SOCKFIX_CONFIG_OPTIONS_H
#define SOCKFIX_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

enum sf_opt_id {
    SF_OPT_REUSEADDR,
    SF_OPT_REUSEPORT,
    SF_OPT_KEEPALIVE,
    SF_OPT_KEEPIDLE,
    SF_OPT_KEEPINTVL,
    SF_OPT_KEEPCNT,
    SF_OPT_USER_TIMEOUT,
    SF_OPT_NODELAY,
    SF_OPT_BACKLOG,
    SF_OPT_COUNT
};

#define SF_OPT_BIT(id) (1u << (id))
#define SF_KEEPALIVE_TIMERS                                                                        \
    (SF_OPT_BIT(SF_OPT_KEEPIDLE) | SF_OPT_BIT(SF_OPT_KEEPINTVL) | SF_OPT_BIT(SF_OPT_KEEPCNT))

/* How a policy value is written and what unit reaches setsockopt. */
enum sf_value_kind {
    SF_VAL_BOOL,    /* yes/no -> 1/0 */
    SF_VAL_SECONDS, /* duration that must be whole seconds -> seconds */
    SF_VAL_MILLIS,  /* duration -> milliseconds */
    SF_VAL_COUNT,   /* plain whole number */
};

/* The hook point at which an option is applied. */
enum sf_phase {
    SF_PHASE_BIND = 1,       /* before the real bind */
    SF_PHASE_CONNECTION = 2, /* listener at listen, client before connect, accepted socket */
    SF_PHASE_LISTEN_ARG = 4, /* replaces the backlog argument of listen */
};

/* Bit sets for socket types, roles and families; 0 in a rule means "any". */
enum { SF_TYPE_TCP = 1, SF_TYPE_UDP = 2 };
enum { SF_ROLE_SERVER = 1, SF_ROLE_CLIENT = 2 };
enum { SF_FAMILY_IPV4 = 1, SF_FAMILY_IPV6 = 2 };

struct sf_option {
    const char *key;      /* policy key, e.g. "keepidle" */
    int level;            /* setsockopt level; 0 for backlog */
    int optname;          /* setsockopt name; 0 for backlog */
    const char *optlabel; /* "TCP_KEEPIDLE", for messages */
    enum sf_value_kind kind;
    int64_t min, max; /* range in the value's unit (seconds, ms, count) */
    unsigned phase;   /* one enum sf_phase */
    unsigned types;   /* SF_TYPE_* the option exists for */
    unsigned roles;   /* SF_ROLE_* it can act on */
    bool inherited;   /* copied by the kernel from a listener to accepted sockets */
};

extern const struct sf_option sf_options[SF_OPT_COUNT];

/* The row for a policy key, or NULL. */
const struct sf_option *sf_option_by_key(const char *key);

/* Bit set of the options that apply to a socket of one type and role. */
uint32_t sf_options_applicable(unsigned type, unsigned role);

#endif
