/* sockfix attach's dealings with the kernel: loading the programs of
 * attach/sockfix.bpf.c with a compiled policy, attaching them to a cgroup
 * with links pinned under /sys/fs/bpf/sockfix/CGROUP-ID (they stay after the
 * command exits, and survive the service's restarts), replacing an
 * attachment's policy atomically (bpf_link_update: no moment without one),
 * detaching, and reading what an attachment did. */
#ifndef SOCKFIX_CLI_ATTACH_BPF_H
#define SOCKFIX_CLI_ATTACH_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../attach/attach.h"
#include "cgroups.h"

#define SF_BPFFS "/sys/fs/bpf"
#define SF_PIN_ROOT SF_BPFFS "/sockfix"

/* Whether this sockfix was built with the kernel programs. */
bool attach_supported(void);

/* Says that it was not, for cmd; returns EXIT_FINDINGS. */
int attach_unsupported(const char *cmd);

/* Loads the programs with flat and attaches them to cg, or replaces the
 * policy of the attachment cg has. meta is written as given (its time is
 * set here). EXIT_OK, or the exit status after printing why for cmd; nothing
 * is left half attached. */
int attach_to(const char *cmd, const struct cgroup *cg, const struct sf_flat *flat,
              struct sf_attach_meta *meta, bool *replaced);

/* Removes cg's attachment; EXIT_OK, or the status after printing why. */
int detach_from(const char *cmd, const struct cgroup *cg);

struct attach_failure_count {
    uint32_t option;
    int32_t err;
    uint64_t count;
};

struct attach_program_stats {
    const char *name; /* bind4, ..., setsockopt */
    bool present;
    uint64_t runs, run_ns;   /* run_ns: 0 unless kernel.bpf_stats_enabled = 1 */
    uint32_t verified_insns; /* what the verifier went through to load it (limit 1000000) */
};

#define ATTACH_PROGRAMS 6

/* Each kernel program, and the name its link is pinned under. */
struct attach_link {
    const char *program, *pin;
};
extern const struct attach_link attach_links[ATTACH_PROGRAMS];

struct attachment {
    uint64_t cgroup_id;
    struct sf_attach_meta meta;
    bool cgroup_exists;
    uint64_t counters[SF_COUNTERS];
    struct attach_failure_count failures[64];
    size_t nfailures;
    struct attach_program_stats programs[ATTACH_PROGRAMS];
};

/* Every attachment (malloc'ed, by cgroup id); 0, or -1 after printing why. */
int attachments_read(const char *cmd, struct attachment **out, size_t *n);

#endif
