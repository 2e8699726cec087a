/* What the kernel programs of sockfix attach (sockfix.bpf.c) and the
 * sockfix command share besides the policy (config/flat.h): the state kept
 * per socket, the counters, and what an attachment says of itself. Fixed
 * types only: both sides compile it. */
#ifndef SOCKFIX_ATTACH_ATTACH_H
#define SOCKFIX_ATTACH_ATTACH_H

#include <stdint.h>

#include "../config/flat.h"

#define SF_ATTACH_VERSION 1

/* Counters, per CPU. */
enum {
    SF_COUNT_DECISIONS, /* events decided */
    SF_COUNT_SOCKETS,   /* sockets that got at least one option */
    SF_COUNT_OPTIONS,   /* options set */
    SF_COUNT_FAILED,    /* setsockopt calls the kernel refused (failures has them by errno) */
    SF_COUNT_REPLACED,  /* values of the program replaced by the policy's (precedence = policy) */
    SF_COUNTERS
};

/* Per socket (socket storage, cloned to accepted sockets). */
struct sf_attach_sockstate {
    struct sf_event ev; /* what it was decided as: a listener's, a client's, a UDP server's */
    char comm[SF_FLAT_NAME];
    uint32_t have_comm;
    uint32_t settled;     /* ev holds its event */
    uint32_t program_set; /* SF_OPT_BIT of the options the program set itself */
};

struct sf_attach_failure {
    uint32_t option; /* enum sf_opt_id */
    int32_t err;     /* errno */
};

/* One attachment, as sockfix status shows it. */
struct sf_attach_meta {
    uint32_t version;
    uint32_t nrules;
    uint32_t precedence;
    uint32_t not_attachable; /* SF_OPT_BIT of options the policy sets that attach cannot */
    uint64_t attached_at;    /* seconds since the epoch */
    char policy[4096];       /* PATH_MAX */
    char cgroup[4096];
};

/* Where the kernel programs make one decision. */
struct sf_attach_decision {
    struct sf_event ev;
    char comm[SF_FLAT_NAME];
    uint32_t have_comm;
    uint32_t applicable;
    uint32_t matched;
    struct sf_decision d;
};

/* The syscall program's argument and result (the parity test). */
struct sf_attach_test {
    struct sf_event ev;
    char comm[SF_FLAT_NAME];
    uint32_t have_comm;
    uint32_t matched;
    struct sf_decision d;
};

#endif
