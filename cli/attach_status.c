/* What an attachment did: its meta, counters, failures and each program's
 * runs, read from the maps and links pinned under SF_PIN_ROOT. */
#include "attach_bpf.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SOCKFIX_ATTACH
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static void read_counters(int fd, uint64_t out[SF_COUNTERS])
{
    int cpus = libbpf_num_possible_cpus();
    uint64_t *per = cpus > 0 ? calloc((size_t)cpus, sizeof *per) : NULL;
    for (uint32_t k = 0; per && k < SF_COUNTERS; k++) {
        out[k] = 0;
        if (bpf_map_lookup_elem(fd, &k, per) == 0)
            for (int c = 0; c < cpus; c++)
                out[k] += per[c];
    }
    free(per);
}

static void read_failures(int fd, struct attachment *a)
{
    struct sf_attach_failure key, next;
    const struct sf_attach_failure *prev = NULL;
    while (a->nfailures < sizeof a->failures / sizeof a->failures[0] &&
           bpf_map_get_next_key(fd, prev, &next) == 0) {
        uint64_t n = 0;
        if (bpf_map_lookup_elem(fd, &next, &n) == 0)
            a->failures[a->nfailures++] = (struct attach_failure_count){next.option, next.err, n};
        key = next;
        prev = &key;
    }
}

static void read_program(const char *path, struct attach_program_stats *s)
{
    int lfd = bpf_obj_get(path);
    struct bpf_link_info li = {0};
    uint32_t len = sizeof li;
    if (lfd < 0 || bpf_obj_get_info_by_fd(lfd, &li, &len) != 0) {
        if (lfd >= 0)
            close(lfd);
        return;
    }
    close(lfd);
    s->present = true;
    int pfd = bpf_prog_get_fd_by_id(li.prog_id);
    struct bpf_prog_info pi = {0};
    len = sizeof pi;
    if (pfd >= 0 && bpf_obj_get_info_by_fd(pfd, &pi, &len) == 0) {
        s->runs = pi.run_cnt;
        s->run_ns = pi.run_time_ns;
        s->verified_insns = pi.verified_insns;
    }
    if (pfd >= 0)
        close(pfd);
}

static int read_one(uint64_t id, struct attachment *a)
{
    char path[PATH_MAX];
    memset(a, 0, sizeof *a);
    a->cgroup_id = id;
    snprintf(path, sizeof path, "%s/%llu/meta", SF_PIN_ROOT, (unsigned long long)id);
    int fd = bpf_obj_get(path);
    uint32_t zero = 0;
    if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &a->meta) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    a->meta.policy[sizeof a->meta.policy - 1] = '\0';
    a->meta.cgroup[sizeof a->meta.cgroup - 1] = '\0';
    struct stat st;
    a->cgroup_exists = stat(a->meta.cgroup, &st) == 0 && (uint64_t)st.st_ino == id;
    snprintf(path, sizeof path, "%s/%llu/counters", SF_PIN_ROOT, (unsigned long long)id);
    if ((fd = bpf_obj_get(path)) >= 0) {
        read_counters(fd, a->counters);
        close(fd);
    }
    snprintf(path, sizeof path, "%s/%llu/failures", SF_PIN_ROOT, (unsigned long long)id);
    if ((fd = bpf_obj_get(path)) >= 0) {
        read_failures(fd, a);
        close(fd);
    }
    for (size_t i = 0; i < ATTACH_PROGRAMS; i++) {
        a->programs[i].name = attach_links[i].pin;
        snprintf(path, sizeof path, "%s/%llu/%s", SF_PIN_ROOT, (unsigned long long)id,
                 attach_links[i].pin);
        read_program(path, &a->programs[i]);
    }
    return 0;
}

static int by_id(const void *x, const void *y)
{
    uint64_t a = ((const struct attachment *)x)->cgroup_id;
    uint64_t b = ((const struct attachment *)y)->cgroup_id;
    return (a > b) - (a < b);
}

int attachments_read(const char *cmd, struct attachment **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(SF_PIN_ROOT);
    if (!d)
        return 0; /* nothing was ever attached here */
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        unsigned long long id = strtoull(e->d_name, &end, 10);
        if (e->d_name[0] == '.' || *end)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct attachment *v = reallocarray(*out, cap, sizeof *v);
            if (!v) {
                fprintf(stderr, "sockfix %s: out of memory\n", cmd);
                closedir(d);
                return -1;
            }
            *out = v;
        }
        if (read_one(id, &(*out)[*n]) == 0)
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, by_id);
    return 0;
}

#else /* built without the kernel programs */

int attachments_read(const char *cmd, struct attachment **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    return attach_unsupported(cmd) ? -1 : 0;
}

#endif
