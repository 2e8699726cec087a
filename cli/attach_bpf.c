#include "attach_bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "cli.h"

#ifdef SOCKFIX_ATTACH
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sockfix.skel.h"

bool attach_supported(void)
{
    return true;
}

const struct attach_link attach_links[ATTACH_PROGRAMS] = {
    {"sf_bind4", "bind4"},       {"sf_bind6", "bind6"},     {"sf_connect4", "connect4"},
    {"sf_connect6", "connect6"}, {"sf_sockops", "sockops"}, {"sf_setsockopt", "setsockopt"}};

/* Maps an attachment keeps across a replaced policy: what it says of itself,
 * its counters, and what it knows of each socket. */
static const char *const kept_maps[] = {"meta", "counters", "failures", "sockstate", "inherited"};
#define KEPT_MAPS (sizeof kept_maps / sizeof kept_maps[0])

/* ---- the verifier's log, kept to show its end ---- */

static struct {
    char *text;
    size_t len, cap;
} captured;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char line[8192];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    size_t add = n < 0 ? 0 : strnlen(line, sizeof line);
    if (captured.len + add + 1 > captured.cap && captured.cap < (4u << 20)) {
        size_t cap = captured.cap ? captured.cap * 2 : 65536;
        char *t = realloc(captured.text, cap);
        if (t) {
            captured.text = t;
            captured.cap = cap;
        }
    }
    if (captured.len + add + 1 <= captured.cap) {
        memcpy(captured.text + captured.len, line, add);
        captured.len += add;
        captured.text[captured.len] = '\0';
    }
    return n;
}

static void print_tail(int lines)
{
    if (!captured.text)
        return;
    const char *p = captured.text + captured.len;
    int seen = 0;
    while (p > captured.text && seen <= lines)
        if (*--p == '\n')
            seen++;
    fprintf(stderr, "%s%s", p == captured.text ? "" : "...\n", p + (*p == '\n'));
}

/* ---- what the machine must offer ---- */

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
    return (d[cap / 32].effective >> (cap % 32)) & 1u;
}

static int check_capabilities(const char *cmd)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2] = {{0}};
    if (syscall(SYS_capget, &h, d) != 0)
        return EXIT_OK; /* the kernel will say */
    bool admin = has_cap(d, CAP_SYS_ADMIN);
    char missing[128] = "";
    if (!admin && !has_cap(d, CAP_BPF))
        strcat(missing, ", CAP_BPF");
    if (!has_cap(d, CAP_NET_ADMIN))
        strcat(missing, ", CAP_NET_ADMIN");
    if (!admin && !has_cap(d, CAP_PERFMON))
        strcat(missing, ", CAP_PERFMON");
    if (!missing[0])
        return EXIT_OK;
    fprintf(stderr,
            "sockfix %s: loading and attaching the programs needs CAP_BPF, CAP_NET_ADMIN and "
            "CAP_PERFMON (or CAP_SYS_ADMIN with CAP_NET_ADMIN: root); this process lacks %s\n",
            cmd, missing + 2);
    return EXIT_FINDINGS;
}

static int no_bpf(const char *cmd, int err)
{
    struct utsname u;
    uname(&u);
    fprintf(stderr, "sockfix %s: this kernel (Linux %s) cannot load BPF programs: %s\n", cmd,
            u.release, strerror(-err));
    return EXIT_FINDINGS;
}

/* Whether bpf(2) works at all (a one-entry map), then whether it has
 * bpf_loop (Linux 5.17), the newest thing the programs use. */
static int check_kernel(const char *cmd)
{
    int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
    if (fd < 0)
        return no_bpf(cmd, -errno);
    close(fd);
    int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_loop, NULL);
    if (r > 0)
        return EXIT_OK;
    if (r < 0)
        return no_bpf(cmd, r);
    struct utsname u;
    uname(&u);
    fprintf(stderr,
            "sockfix %s: this kernel (Linux %s) lacks what sockfix attach needs: bpf_loop in "
            "sockops programs (Linux 5.17 or later)\n",
            cmd, u.release);
    return EXIT_FINDINGS;
}

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11

static int ensure_bpffs(const char *cmd)
{
    struct statfs fs;
    if (statfs(SF_BPFFS, &fs) != 0 || (unsigned long)fs.f_type != BPF_FS_MAGIC_NUMBER) {
        mkdir(SF_BPFFS, 0700);
        if (mount("bpf", SF_BPFFS, "bpf", 0, "mode=0700") != 0) {
            fprintf(stderr,
                    "sockfix %s: no bpf filesystem at %s, and mounting one failed: %s (it keeps "
                    "the attachments after the command exits)\n",
                    cmd, SF_BPFFS, strerror(errno));
            return EXIT_FINDINGS;
        }
    }
    if (mkdir(SF_PIN_ROOT, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "sockfix %s: %s: %s\n", cmd, SF_PIN_ROOT, strerror(errno));
        return EXIT_FINDINGS;
    }
    return EXIT_OK;
}

/* The programs: the ones built in, or SOCKFIX_ATTACH_OBJECT (to try a
 * rebuilt object without reinstalling; the tests load a broken one). */
static struct bpf_object *open_object(const char *cmd)
{
    const char *file = secure_getenv("SOCKFIX_ATTACH_OBJECT");
    struct bpf_object *obj;
    if (file && *file) {
        obj = bpf_object__open_file(file, NULL);
    } else {
        size_t size;
        const void *bytes = sockfix_bpf__elf_bytes(&size);
        obj = bpf_object__open_mem(bytes, size, NULL);
    }
    int err = libbpf_get_error(obj);
    if (err) {
        fprintf(stderr, "sockfix %s: cannot open the programs%s%s: %s\n", cmd,
                file && *file ? " of " : "", file && *file ? file : "", strerror(-err));
        return NULL;
    }
    const char *lacking = NULL;
    for (size_t i = 0; i < ATTACH_PROGRAMS && !lacking; i++)
        if (!bpf_object__find_program_by_name(obj, attach_links[i].program))
            lacking = attach_links[i].program;
    /* The maps the policy is written to, then those kept across replacements. */
    static const char *const policy_maps[] = {"config", "rules"};
    for (size_t m = 0; m < 2 && !lacking; m++)
        if (!bpf_object__find_map_by_name(obj, policy_maps[m]))
            lacking = policy_maps[m];
    for (size_t m = 0; m < KEPT_MAPS && !lacking; m++)
        if (!bpf_object__find_map_by_name(obj, kept_maps[m]))
            lacking = kept_maps[m];
    if (lacking) {
        fprintf(stderr, "sockfix %s: the programs%s%s lack %s: not sockfix's\n", cmd,
                file && *file ? " of " : "", file && *file ? file : "", lacking);
        bpf_object__close(obj);
        return NULL;
    }
    return obj;
}

static struct bpf_map *map_of(struct bpf_object *obj, const char *name)
{
    return bpf_object__find_map_by_name(obj, name);
}

static int load(const char *cmd, struct bpf_object *obj)
{
    free(captured.text);
    memset(&captured, 0, sizeof captured);
    libbpf_print_fn_t old = libbpf_set_print(capture);
    int err = bpf_object__load(obj);
    libbpf_set_print(old);
    if (!err)
        return EXIT_OK;
    if (err == -ENOSYS)
        return no_bpf(cmd, err);
    if (err == -EPERM)
        fprintf(stderr,
                "sockfix %s: the kernel refused to load the programs: %s; the verifier's last "
                "lines:\n",
                cmd, strerror(-err));
    else
        fprintf(stderr, "sockfix %s: the programs did not load: %s; the verifier's last lines:\n",
                cmd, strerror(-err));
    print_tail(20);
    return EXIT_FINDINGS;
}

/* The policy into the maps the programs read. */
static int fill(const char *cmd, struct bpf_object *obj, const struct sf_flat *flat,
                const struct sf_attach_meta *meta)
{
    uint32_t zero = 0;
    int err = bpf_map_update_elem(bpf_map__fd(map_of(obj, "config")), &zero, &flat->config, 0);
    for (uint32_t i = 0; !err && i < flat->nrules; i++)
        err = bpf_map_update_elem(bpf_map__fd(map_of(obj, "rules")), &i, &flat->rules[i], 0);
    if (!err)
        err = bpf_map_update_elem(bpf_map__fd(map_of(obj, "meta")), &zero, meta, 0);
    if (err)
        fprintf(stderr, "sockfix %s: cannot write the policy into the kernel's maps: %s\n", cmd,
                strerror(errno));
    return err ? EXIT_FINDINGS : EXIT_OK;
}

static void pin_path(char *buf, size_t len, const struct cgroup *cg, const char *name)
{
    snprintf(buf, len, "%s/%llu%s%s", SF_PIN_ROOT, (unsigned long long)cg->id, name ? "/" : "",
             name ? name : "");
}

/* Removes the pins of cg's attachment, links first (the last reference to a
 * link: its program leaves the cgroup), then its directory. cmd NULL: quietly
 * (undoing a half-made attachment). EXIT_OK, or EXIT_FINDINGS when a link
 * pin or the directory stays. */
static int unpin(const char *cmd, const struct cgroup *cg)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    int status = EXIT_OK;
    for (size_t i = 0; i < ATTACH_PROGRAMS; i++) {
        pin_path(path, sizeof path, cg, attach_links[i].pin);
        if (unlink(path) != 0 && errno != ENOENT) {
            if (cmd)
                fprintf(stderr, "sockfix %s: %s: %s\n", cmd, path, strerror(errno));
            status = EXIT_FINDINGS;
        }
    }
    for (size_t m = 0; m < KEPT_MAPS; m++) {
        pin_path(path, sizeof path, cg, kept_maps[m]);
        unlink(path);
    }
    pin_path(dir, sizeof dir, cg, NULL);
    if (status == EXIT_OK && rmdir(dir) != 0) {
        if (cmd)
            fprintf(stderr, "sockfix %s: %s: %s\n", cmd, dir, strerror(errno));
        status = EXIT_FINDINGS;
    }
    return status;
}

/* A new attachment: links made, pinned; any failure undoes all of it. */
static int attach_new(const char *cmd, struct bpf_object *obj, const struct cgroup *cg)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    struct bpf_link *made[ATTACH_PROGRAMS] = {0};
    int status = EXIT_FINDINGS;
    pin_path(dir, sizeof dir, cg, NULL);
    int cgfd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgfd < 0 || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
        fprintf(stderr, "sockfix %s: %s: %s\n", cmd, cgfd < 0 ? cg->path : dir, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < ATTACH_PROGRAMS; i++) {
        struct bpf_program *prog = bpf_object__find_program_by_name(obj, attach_links[i].program);
        made[i] = bpf_program__attach_cgroup(prog, cgfd);
        int err = libbpf_get_error(made[i]);
        if (err) {
            made[i] = NULL;
            fprintf(stderr, "sockfix %s: attaching %s to %s failed: %s\n", cmd, attach_links[i].pin,
                    cg->path, strerror(-err));
            goto undo;
        }
        pin_path(path, sizeof path, cg, attach_links[i].pin);
        if ((err = bpf_link__pin(made[i], path)) != 0) {
            fprintf(stderr, "sockfix %s: pinning %s: %s\n", cmd, path, strerror(-err));
            goto undo;
        }
    }
    for (size_t m = 0; m < KEPT_MAPS; m++) {
        pin_path(path, sizeof path, cg, kept_maps[m]);
        int err = bpf_map__pin(map_of(obj, kept_maps[m]), path);
        if (err) {
            fprintf(stderr, "sockfix %s: pinning %s: %s\n", cmd, path, strerror(-err));
            goto undo;
        }
    }
    for (size_t i = 0; i < ATTACH_PROGRAMS; i++)
        bpf_link__disconnect(made[i]); /* the pins hold them now */
    status = EXIT_OK;
    goto out;
undo:
    unpin(NULL, cg);
out:
    for (size_t i = 0; i < ATTACH_PROGRAMS; i++)
        if (made[i])
            bpf_link__destroy(made[i]);
    if (cgfd >= 0)
        close(cgfd);
    return status;
}

/* The attachment's links take the new programs, one atomic update each: at
 * every moment each hook runs the old policy or the new one. */
static int replace(const char *cmd, struct bpf_object *obj, const struct cgroup *cg)
{
    char path[PATH_MAX + 64];
    struct bpf_link *pinned[ATTACH_PROGRAMS] = {0};
    int status = EXIT_OK;
    for (size_t i = 0; i < ATTACH_PROGRAMS && status == EXIT_OK; i++) {
        pin_path(path, sizeof path, cg, attach_links[i].pin);
        pinned[i] = bpf_link__open(path);
        if (libbpf_get_error(pinned[i])) {
            pinned[i] = NULL;
            fprintf(stderr,
                    "sockfix %s: the attachment on %s is incomplete (%s): run sockfix "
                    "detach, then attach\n",
                    cmd, cg->path, path);
            status = EXIT_FINDINGS;
        }
    }
    for (size_t i = 0; i < ATTACH_PROGRAMS && status == EXIT_OK; i++) {
        int err = bpf_link__update_program(
            pinned[i], bpf_object__find_program_by_name(obj, attach_links[i].program));
        if (err) {
            fprintf(stderr, "sockfix %s: replacing %s on %s failed: %s\n", cmd, attach_links[i].pin,
                    cg->path, strerror(-err));
            status = EXIT_FINDINGS;
        }
    }
    for (size_t i = 0; i < ATTACH_PROGRAMS; i++) {
        if (pinned[i]) {
            bpf_link__disconnect(pinned[i]);
            bpf_link__destroy(pinned[i]);
        }
    }
    return status;
}

/* A replaced policy keeps the attachment's counters and socket state. */
static int reuse_kept_maps(const char *cmd, struct bpf_object *obj, const struct cgroup *cg)
{
    char path[PATH_MAX + 64];
    for (size_t m = 0; m < KEPT_MAPS; m++) {
        pin_path(path, sizeof path, cg, kept_maps[m]);
        int fd = bpf_obj_get(path);
        int err = fd < 0 ? -errno : bpf_map__reuse_fd(map_of(obj, kept_maps[m]), fd);
        if (fd >= 0)
            close(fd);
        if (err) {
            fprintf(stderr,
                    "sockfix %s: the attachment on %s cannot take this policy (%s: %s); it may "
                    "come from another version of sockfix: run sockfix detach, then attach\n",
                    cmd, cg->path, path, strerror(-err));
            return EXIT_FINDINGS;
        }
    }
    return EXIT_OK;
}

int attach_to(const char *cmd, const struct cgroup *cg, const struct sf_flat *flat,
              struct sf_attach_meta *meta, bool *replaced)
{
    int r = check_capabilities(cmd);
    if (r == EXIT_OK)
        r = check_kernel(cmd);
    if (r == EXIT_OK)
        r = ensure_bpffs(cmd);
    if (r != EXIT_OK)
        return r;
    char path[PATH_MAX + 64];
    pin_path(path, sizeof path, cg, "sockops");
    *replaced = access(path, F_OK) == 0;
    meta->attached_at = (uint64_t)time(NULL);
    struct bpf_object *obj = open_object(cmd);
    if (!obj)
        return EXIT_FINDINGS;
    bpf_map__set_max_entries(map_of(obj, "rules"), flat->nrules ? flat->nrules : 1);
    r = *replaced ? reuse_kept_maps(cmd, obj, cg) : EXIT_OK;
    if (r == EXIT_OK)
        r = load(cmd, obj);
    if (r == EXIT_OK)
        r = fill(cmd, obj, flat, meta);
    if (r == EXIT_OK)
        r = *replaced ? replace(cmd, obj, cg) : attach_new(cmd, obj, cg);
    bpf_object__close(obj);
    return r;
}

int detach_from(const char *cmd, const struct cgroup *cg)
{
    char dir[PATH_MAX];
    pin_path(dir, sizeof dir, cg, NULL);
    if (access(dir, F_OK) != 0) {
        fprintf(stderr, "sockfix %s: no sockfix attachment on %s\n", cmd, cg->path);
        return EXIT_FINDINGS;
    }
    return unpin(cmd, cg);
}

#else /* built without the kernel programs */

bool attach_supported(void)
{
    return false;
}

int attach_unsupported(const char *cmd)
{
    fprintf(stderr,
            "sockfix %s: this sockfix was built without the kernel programs (clang's BPF target, "
            "bpftool and libbpf were missing)\n",
            cmd);
    return EXIT_FINDINGS;
}

int attach_to(const char *cmd, const struct cgroup *cg, const struct sf_flat *flat,
              struct sf_attach_meta *meta, bool *replaced)
{
    (void)cg, (void)flat, (void)meta, (void)replaced;
    return attach_unsupported(cmd);
}

int detach_from(const char *cmd, const struct cgroup *cg)
{
    (void)cg;
    return attach_unsupported(cmd);
}

#endif
