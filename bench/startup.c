/* startup: the cost a preloaded library adds to a process that never opens
 * a socket. posix_spawn + waitpid of a program (default /bin/true), for each
 * variant in turn, round after round, so that machine noise hits every
 * variant alike.
 *
 *   startup ROUNDS SPAWNS PROGRAM NAME=PRELOAD[,VAR=VALUE...] ...
 *
 * PRELOAD "-" means none. Prints "NAME median_us min_us" per variant, the
 * median and minimum over rounds of the mean time per spawn. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_VARIANTS 8
#define MAX_ENV 8

struct variant {
    char *name;
    char *env[MAX_ENV + 1];
    double *per_round;
};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void parse_variant(char *spec, struct variant *v)
{
    char *eq = strchr(spec, '=');
    if (!eq) {
        fprintf(stderr, "startup: variant %s is not NAME=PRELOAD[,VAR=VALUE...]\n", spec);
        exit(2);
    }
    *eq = '\0';
    v->name = spec;
    int n = 0;
    v->env[n++] = "PATH=/usr/bin:/bin";
    char *save = NULL;
    for (char *t = strtok_r(eq + 1, ",", &save); t && n < MAX_ENV; t = strtok_r(NULL, ",", &save)) {
        if (n == 1 && !strchr(t, '=')) {
            if (strcmp(t, "-") != 0) {
                char *pre = malloc(strlen(t) + 12);
                sprintf(pre, "LD_PRELOAD=%s", t);
                v->env[n++] = pre;
            }
            continue;
        }
        v->env[n++] = t;
    }
    v->env[n] = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: startup ROUNDS SPAWNS PROGRAM NAME=PRELOAD[,VAR=VALUE...]...\n");
        return 2;
    }
    int rounds = atoi(argv[1]), spawns = atoi(argv[2]);
    char *program = argv[3];
    int nv = argc - 4 < MAX_VARIANTS ? argc - 4 : MAX_VARIANTS;
    struct variant v[MAX_VARIANTS];
    for (int i = 0; i < nv; i++) {
        parse_variant(argv[4 + i], &v[i]);
        v[i].per_round = calloc((size_t)rounds, sizeof(double));
    }
    char *args[] = {program, NULL};
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < nv; k++) {
            struct variant *x = &v[(r + k) % nv]; /* rotate who goes first */
            double t0 = now_us();
            for (int i = 0; i < spawns; i++) {
                pid_t pid;
                int status;
                if (posix_spawn(&pid, program, NULL, NULL, args, x->env) != 0 ||
                    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
                    WEXITSTATUS(status) != 0) {
                    fprintf(stderr, "startup: %s failed under %s\n", program, x->name);
                    return 1;
                }
            }
            x->per_round[r] = (now_us() - t0) / spawns;
        }
    }
    for (int i = 0; i < nv; i++) {
        qsort(v[i].per_round, (size_t)rounds, sizeof(double), cmp);
        printf("%s %.2f %.2f\n", v[i].name, v[i].per_round[rounds / 2], v[i].per_round[0]);
    }
    return 0;
}
