#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim/fdtable.h"
#include "cli.h"

static int by_fd(const void *a, const void *b)
{
    const struct fdref *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

/* The socket descriptors of pid with their inodes. */
static int list_sockets(pid_t pid, struct fdref **out, size_t *n)
{
    char path[64], link[320], target[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        unsigned long inode;
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (sscanf(target, "socket:[%lu]", &inode) != 1)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            struct fdref *v = reallocarray(*out, cap, sizeof *v);
            if (!v) {
                closedir(d);
                return -1;
            }
            *out = v;
        }
        (*out)[(*n)++] = (struct fdref){atoi(e->d_name), inode};
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, by_fd);
    return 0;
}

struct entry {
    unsigned long inode;
    size_t target;
    int fd;
};

static int by_inode_then_holder(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->inode != y->inode)
        return x->inode < y->inode ? -1 : 1;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

static int by_first_holder(const void *a, const void *b)
{
    const struct holder *x = ((const struct tsock *)a)->holders;
    const struct holder *y = ((const struct tsock *)b)->holders;
    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

/* One tsock per inode, its holders in order. */
static int group_sockets(struct walk *w)
{
    size_t total = 0;
    for (size_t t = 0; t < w->ntargets; t++)
        total += w->nfds[t];
    struct entry *e = calloc(total ? total : 1, sizeof *e);
    w->socks = calloc(total ? total : 1, sizeof *w->socks);
    struct holder *holders = w->holders = calloc(total ? total : 1, sizeof *holders);
    if (!e || !w->socks || !holders) {
        free(e);
        return -1;
    }
    size_t k = 0;
    for (size_t t = 0; t < w->ntargets; t++)
        for (size_t i = 0; i < w->nfds[t]; i++)
            e[k++] = (struct entry){w->fds[t][i].inode, t, w->fds[t][i].fd};
    qsort(e, total, sizeof *e, by_inode_then_holder);
    for (size_t i = 0; i < total; i++) {
        holders[i] = (struct holder){e[i].target, e[i].fd};
        if (i == 0 || e[i].inode != e[i - 1].inode)
            w->socks[w->nsocks++] = (struct tsock){.inode = e[i].inode, .holders = &holders[i]};
        w->socks[w->nsocks - 1].nholders++;
    }
    free(e);
    qsort(w->socks, w->nsocks, sizeof *w->socks, by_first_holder);
    return 0;
}

static int open_targets(struct walk *w, pid_t pid)
{
    pid_t *pids = NULL;
    size_t n = 1;
    if (w->tree) {
        if (target_tree(pid, &pids, &n) != 0) {
            fprintf(stderr, "sockfix %s: cannot read /proc: %s\n", w->cmd, strerror(errno));
            return EXIT_FINDINGS;
        }
    } else if (!(pids = malloc(sizeof *pids))) {
        return EXIT_FINDINGS;
    } else {
        pids[0] = pid;
    }
    w->targets = calloc(n, sizeof *w->targets);
    w->fds = calloc(n, sizeof *w->fds);
    w->nfds = calloc(n, sizeof *w->nfds);
    if (!w->targets || !w->fds || !w->nfds) {
        free(pids);
        return EXIT_FINDINGS;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !target_alive(pids[i])) /* gone, or a zombie: it holds nothing */
            continue;
        struct target *t = &w->targets[w->ntargets];
        if (target_open(t, pids[i]) != 0 ||
            list_sockets(pids[i], &w->fds[w->ntargets], &w->nfds[w->ntargets]) != 0) {
            int err = errno;
            if (i > 0 && err == ESRCH) { /* a descendant that just ended */
                target_close(t);
                continue;
            }
            target_explain(w->cmd, pids[i], err);
            target_close(t);
            free(pids);
            return EXIT_FINDINGS;
        }
        w->ntargets++;
    }
    free(pids);
    return EXIT_OK;
}

int walk_open(struct walk *w, const char *cmd, pid_t pid, bool tree)
{
    *w = (struct walk){.cmd = cmd, .tree = tree, .ns = {.self_fd = -1}};
    int r = target_check(cmd, pid);
    if (r != EXIT_OK)
        return w->status = r;
    if (nscache_init(&w->ns, cmd) != 0)
        return w->status = EXIT_FINDINGS;
    if ((r = open_targets(w, pid)) != EXIT_OK)
        return w->status = r;
    if (group_sockets(w) != 0) {
        fprintf(stderr, "sockfix %s: out of memory\n", cmd);
        return w->status = EXIT_FINDINGS;
    }
    return EXIT_OK;
}

static unsigned long inode_of_fd(const struct walk *w, size_t target, int fd)
{
    struct fdref key = {fd, 0};
    const struct fdref *r = bsearch(&key, w->fds[target], w->nfds[target], sizeof key, by_fd);
    return r ? r->inode : 0;
}

/* What the library recorded for one of s's descriptors, and the listener
 * that entry names. */
static const struct ns_listener *recorded(const struct walk *w, struct tsock *s)
{
    for (size_t h = 0; h < s->nholders && !s->recorded; h++) {
        const struct target *t = &w->targets[s->holders[h].target];
        if (!librecord_fd(&t->record, s->holders[h].fd, &s->rec))
            continue;
        s->recorded = true;
        int lfd = (int)(s->rec.kind >> FDTAB_LISTENER_SHIFT) - 1;
        unsigned long linode = lfd >= 0 ? inode_of_fd(w, s->holders[h].target, lfd) : 0;
        return linode ? nsview_listener_by_inode(s->ns, linode) : NULL;
    }
    return NULL;
}

/* A duplicate of s from the first holder that still has it; -1 when none
 * does (closed meanwhile), or after an error that ends the walk. */
static int take(struct walk *w, struct tsock *s, size_t *holder)
{
    for (size_t h = 0; h < s->nholders; h++) {
        const struct target *t = &w->targets[s->holders[h].target];
        int dup = target_take(t, s->holders[h].fd);
        if (dup < 0) {
            if (errno == EBADF || errno == ESRCH) /* closed, or the process ended */
                continue;
            target_explain(w->cmd, t->pid, errno);
            w->status = EXIT_FINDINGS;
            return -1;
        }
        struct stat st;
        if (fstat(dup, &st) == 0 && (unsigned long)st.st_ino == s->inode) {
            *holder = h;
            return dup;
        }
        close(dup); /* the number names another socket by now */
    }
    return -1;
}

void walk_sockets(struct walk *w, void (*fn)(struct walk *w, struct tsock *s, int dup, void *arg),
                  void *arg)
{
    for (size_t i = 0; i < w->nsocks && w->status == EXIT_OK; i++) {
        struct tsock *s = &w->socks[i];
        size_t h;
        int dup = take(w, s, &h);
        if (dup < 0)
            continue;
        if (sockinfo_read(dup, &s->si) &&
            (s->ns = nscache_for(&w->ns, dup, w->targets[s->holders[h].target].pid))) {
            const struct ns_listener *self = nsview_listener_by_inode(s->ns, s->inode);
            if (s->si.type == SF_TYPE_TCP && s->si.tcp_state == TCP_STATE_LISTEN && self &&
                self->backlog >= 0) {
                s->si.have[SF_OPT_BACKLOG] = true;
                s->si.value[SF_OPT_BACKLOG] = self->backlog;
            }
            const struct ns_listener *rl = recorded(w, s);
            classify(&s->si, s->ns, s->recorded ? &s->rec : NULL, rl, &s->cls);
            fn(w, s, dup, arg);
        } else {
            s->ns = NULL;
        }
        close(dup);
    }
}

/* The inodes of the TCP sockets of pid's namespace (/proc/PID/net/tcp{,6}). */
static size_t tcp_inodes(pid_t pid, unsigned long **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (int six = 0; six < 2; six++) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, six ? "tcp6" : "tcp");
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f)) {
            unsigned long inode;
            if (sscanf(line, " %*d: %*s %*s %*s %*s %*s %*s %*s %*s %lu", &inode) != 1 || !inode)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                unsigned long *v = reallocarray(*out, cap, sizeof *v);
                if (!v)
                    break;
                *out = v;
            }
            (*out)[n++] = inode;
        }
        if (f)
            fclose(f);
    }
    return n;
}

static bool contains(const unsigned long *v, size_t n, unsigned long x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* Without --tree: descendants holding TCP sockets the target does not hold
 * (prefork workers, forked handlers) are named, with the option that
 * includes them. */
static void note_descendants(const struct walk *w)
{
    pid_t *kids;
    size_t nkids;
    if (w->ntargets == 0 || target_descendants(w->targets[0].pid, &kids, &nkids) != 0)
        return;
    unsigned long *tcp = NULL;
    size_t ntcp = nkids ? tcp_inodes(w->targets[0].pid, &tcp) : 0;
    char list[256] = "";
    size_t used = 0, holding = 0;
    for (size_t k = 0; k < nkids; k++) {
        struct fdref *fds;
        size_t n;
        if (list_sockets(kids[k], &fds, &n) != 0)
            continue;
        bool own = false;
        for (size_t i = 0; i < n && !own; i++) {
            bool shared = false;
            for (size_t j = 0; j < w->nfds[0] && !shared; j++)
                shared = w->fds[0][j].inode == fds[i].inode;
            own = !shared && contains(tcp, ntcp, fds[i].inode);
        }
        free(fds);
        if (!own)
            continue;
        if (holding++ < 8)
            used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                     "%s%d", holding > 1 ? ", " : "", (int)kids[k]);
    }
    if (holding)
        fprintf(stderr,
                "sockfix %s: note: %zu descendant%s of PID %d hold%s TCP sockets of %s own "
                "(PID%s %s%s), not included: sockfix %s --tree %d includes them\n",
                w->cmd, holding, holding == 1 ? "" : "s", (int)w->targets[0].pid,
                holding == 1 ? "s" : "", holding == 1 ? "its" : "their", holding == 1 ? "" : "s",
                list, holding > 8 ? ", ..." : "", w->cmd, (int)w->targets[0].pid);
    free(tcp);
    free(kids);
}

int walk_close(struct walk *w)
{
    for (size_t t = 0; t < w->ntargets; t++) {
        if (w->status == EXIT_OK && target_exited(&w->targets[t])) {
            fprintf(stderr, "sockfix %s: PID %d exited during the walk: the output is incomplete\n",
                    w->cmd, (int)w->targets[t].pid);
            w->status = EXIT_FINDINGS;
        }
    }
    if (!w->tree && w->status == EXIT_OK)
        note_descendants(w);
    for (size_t t = 0; t < w->ntargets; t++) {
        target_close(&w->targets[t]);
        free(w->fds[t]);
    }
    free(w->targets);
    free(w->fds);
    free(w->nfds);
    free(w->socks);
    free(w->holders);
    nscache_free(&w->ns);
    int status = w->status;
    *w = (struct walk){.status = status, .ns = {.self_fd = -1}};
    return status;
}

void walk_fds_text(const struct tsock *s, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t h = 0; h < s->nholders && s->holders[h].target == s->holders[0].target; h++)
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%d", h ? "," : "",
                                 s->holders[h].fd);
}
