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
    SF_OPT_V6ONLY,
    SF_OPT_FREEBIND,
    SF_OPT_TRANSPARENT,
    SF_OPT_BIND_DEVICE,
    SF_OPT_RCVBUF,
    SF_OPT_SNDBUF,
    SF_OPT_LINGER,
    SF_OPT_DEFER_ACCEPT,
    SF_OPT_FASTOPEN,
    SF_OPT_MAXSEG,
    SF_OPT_CONGESTION,
    SF_OPT_TOS,
    SF_OPT_MARK,
    SF_OPT_PRIORITY,
    SF_OPT_NOTSENT_LOWAT,
    SF_OPT_COUNT
};

/* Option sets are 32-bit masks. */
_Static_assert(SF_OPT_COUNT <= 32, "option sets are 32-bit masks");
#define SF_OPT_BIT(id) (1u << (id))
#define SF_KEEPALIVE_TIMERS                                                                        \
    (SF_OPT_BIT(SF_OPT_KEEPIDLE) | SF_OPT_BIT(SF_OPT_KEEPINTVL) | SF_OPT_BIT(SF_OPT_KEEPCNT))

/* How a policy value is written and what unit reaches setsockopt. */
enum sf_value_kind {
    SF_VAL_BOOL,    /* yes/no -> 1/0 */
    SF_VAL_SECONDS, /* duration that must be whole seconds -> seconds */
    SF_VAL_MILLIS,  /* duration -> milliseconds */
    SF_VAL_COUNT,   /* plain whole number */
    SF_VAL_SIZE,    /* bytes: 65536, 256k, 4m */
    SF_VAL_NAME,    /* a name (interface, congestion control): an index into the policy's names */
    SF_VAL_LINGER,  /* off (-1) or a duration in whole seconds -> struct linger */
    SF_VAL_U32,     /* 0..4294967295, decimal or 0x hex; kept as the same 32 bits */
};

/* The longest name a SF_VAL_NAME option takes (IFNAMSIZ, TCP_CA_NAME_MAX). */
#define SF_NAME_MAX 15

/* The hook points at which an option is applied (a bit set). */
enum sf_phase {
    SF_PHASE_BIND = 1,       /* a server socket, before the real bind */
    SF_PHASE_CONNECTION = 2, /* listener at listen, client before connect, accepted socket */
    SF_PHASE_LISTEN_ARG = 4, /* replaces the backlog argument of listen */
    SF_PHASE_LISTENER = 8,   /* the listener at listen only */
    SF_PHASE_CLIENT = 16,    /* a client socket, before the real connect */
};

/* Bit sets for socket types, roles and families; 0 in a rule means "any". */
enum { SF_TYPE_TCP = 1, SF_TYPE_UDP = 2 };
enum { SF_ROLE_SERVER = 1, SF_ROLE_CLIENT = 2 };
enum { SF_FAMILY_IPV4 = 1, SF_FAMILY_IPV6 = 2 };

/* How getsockopt reports a value that was set. */
enum sf_readback {
    SF_READS_AS_SET,
    SF_READS_DOUBLED,         /* the kernel keeps (and reports) twice the size (buffers) */
    SF_READS_RETRANS_ROUNDED, /* rounded up to the SYN-ACK retransmission steps (5s reads 7s) */
    SF_READS_CLAMP_ON_CONNECTIONS, /* a connection reports what is in effect, at most the value
                                      set (TCP_MAXSEG: the MSS) */
};

struct sf_option {
    /* The row's text is held in the row, not pointed to: the table then
     * needs no relocation and stays in read-only pages the loader never
     * writes (start-up cost of every process the library is loaded into). */
    char key[16];      /* policy key, e.g. "keepidle" */
    int level;         /* setsockopt level; 0 for backlog */
    int optname;       /* setsockopt name; 0 for backlog */
    char optlabel[20]; /* "TCP_KEEPIDLE", for messages */
    enum sf_value_kind kind;
    int64_t min, max;     /* range in the value's unit (seconds, ms, count, bytes) */
    unsigned phase;       /* enum sf_phase bits */
    unsigned types;       /* SF_TYPE_* the option exists for */
    unsigned roles;       /* SF_ROLE_* it can act on */
    bool inherited;       /* copied by the kernel from a listener to accepted sockets (measured:
                             tests/integration/test_options.c) */
    int level6, optname6; /* on IPv6 sockets, when not the same (IP_TOS -> IPV6_TCLASS) */
    char optlabel6[20];
    unsigned families; /* SF_FAMILY_* it exists for; 0 = both */
    enum sf_readback readback;
    bool autotuned;          /* the kernel tunes it on connections: there a difference from a fresh
                                socket says nothing of who set it */
    int64_t needs_cap_above; /* CAP_NET_ADMIN is needed for values above this; -1: never */
    bool attachable;         /* bpf_setsockopt accepts it from the cgroup hooks sockfix attach uses
                                (measured: tests/attach/test_attach.c) */
    char capped_by[24];      /* the sysctl holding the largest value the kernel takes; above it
                                the kernel caps without an error */
    char choices_from[48];   /* the sysctl listing the names the kernel offers; "" for none */
    bool column;             /* a column of sockfix inspect's table (the others are listed under
                                "other" where they differ from a fresh socket's) */
};

extern const struct sf_option sf_options[SF_OPT_COUNT];

/* The order options are set in: bind-time options first; buffer sizes before
 * the handshake that fixes the window scale; keepalive timers before
 * SO_KEEPALIVE arms the timer. */
extern const enum sf_opt_id sf_apply_order[SF_OPT_COUNT];

/* The row for a policy key, or NULL. */
const struct sf_option *sf_option_by_key(const char *key);

/* The level and name of opt on a socket of family SF_FAMILY_IPV4/IPV6. */
void sf_option_sockopt(const struct sf_option *opt, unsigned family, int *level, int *name,
                       const char **label);

/* The value, in the table's units, that getsockopt's raw value stands for
 * (halved for doubled buffers). */
int32_t sf_option_from_kernel(const struct sf_option *opt, int32_t raw);

/* Whether a socket whose getsockopt reads `current` (in the table's units)
 * holds the value v as setting v would leave it; connected: the socket is a
 * connection. Name options compare their text: not here. */
bool sf_option_holds(const struct sf_option *opt, int32_t current, int32_t v, bool connected);

/* What the table implies, computed once from it; lock-free and
 * async-signal-safe. */

/* Bit set of the options that exist for a family (SF_FAMILY_IPV4 or IPV6). */
uint32_t sf_options_for_family(unsigned family);

/* Bit set of the options that apply to a socket of one type (SF_TYPE_TCP or
 * SF_TYPE_UDP) and role (SF_ROLE_SERVER or SF_ROLE_CLIENT). */
uint32_t sf_options_applicable(unsigned type, unsigned role);

/* Connection options the kernel copies from a listener to the sockets it
 * accepts, and those it does not (set on each accepted socket). */
uint32_t sf_options_inherited(void);
uint32_t sf_options_not_inherited(void);

/* The option a setsockopt(level, name) sets (IPv4 or IPv6 constant), or -1. */
int sf_option_of_sockopt(int level, int name);

#endif
