/* One run of sockfix apply: what it decided and did for each socket, shared
 * by the command (cmd_apply.c) and its report (apply_report.c). */
#ifndef SOCKFIX_CLI_APPLY_RUN_H
#define SOCKFIX_CLI_APPLY_RUN_H

#include <stdbool.h>
#include <sys/types.h>

#include "applied.h"
#include "cli.h"
#include "walk.h"

struct apply_args {
    const char *config;
    bool dry_run, json, tree;
    pid_t pid;
};

/* What happened to one option of one socket. */
enum outcome { CHANGED, UNCHANGED, KEPT, NOT_APPLICABLE, FAILED };

/* Who set the value an option holds, and how that is known. */
enum owner { OWNER_NONE, OWNER_PROGRAM, OWNER_SOCKFIX };
enum owner_source { KNOWN_FROM_RECORD, KNOWN_FROM_APPLIED, GUESSED_FROM_FRESH, DEFAULT_VALUE };

struct option_result {
    enum outcome outcome;
    int from, to;
    enum owner owner;
    enum owner_source source;
    int err; /* FAILED */
};

struct socket_result {
    struct tsock *s;
    bool decided; /* a rule matched */
    struct sf_decision d;
    struct option_result opt[SF_OPT_COUNT];
};

struct apply_run {
    const struct apply_args *a;
    struct sf_policy *p;
    const struct target *selected; /* whose names p->active is selected for */
    struct applied *applied;       /* per target: what earlier runs set */
    struct socket_result *res;
    size_t n;
    unsigned counts[FAILED + 1];
};

/* The report, as text or as one JSON document, on standard output. */
void apply_print_text(const struct walk *w, const struct apply_run *run);
void apply_print_json(const struct walk *w, const struct apply_run *run);

#endif
