#include "librecord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "../shim/fdtable.h"

/* The library's writable mapping holds .data; it is a few pages. */
#define MAX_SCAN (1u << 20)

int librecord_peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

int librecord_peek_string(pid_t pid, uint64_t addr, char *buf, size_t len)
{
    /* process_vm_readv stops at the first piece that faults, never inside
     * one: small pieces read up to the end of the mapping. */
    enum { PIECE = 8 };
    struct iovec local[64], remote[64];
    size_t pieces = (len - 1) / PIECE < 64 ? (len - 1) / PIECE : 64;
    for (size_t i = 0; i < pieces; i++) {
        local[i] = (struct iovec){buf + i * PIECE, PIECE};
        remote[i] = (struct iovec){(void *)(uintptr_t)(addr + i * PIECE), PIECE};
    }
    ssize_t n = process_vm_readv(pid, local, pieces, remote, pieces, 0);
    if (n <= 0)
        return -1;
    buf[(size_t)n < len ? (size_t)n : len - 1] = '\0';
    return memchr(buf, '\0', (size_t)n + 1) ? 0 : -1;
}

/* Whether a mapped file can be the library: its name says sockfix, or it is
 * one of the objects the process preloads (a renamed copy). */
static bool candidate(const char *path, const char *preload)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strstr(base, "sockfix"))
        return true;
    size_t n = strlen(path);
    for (const char *p = preload; p && (p = strstr(p, path)); p += n)
        if ((p == preload || p[-1] == ':' || p[-1] == ' ') &&
            (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
            return true;
    return false;
}

/* LD_PRELOAD from the process's initial environment. */
static void read_preload(pid_t pid, char *out, size_t len)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    out[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (strncmp(buf + i, "LD_PRELOAD=", 11) == 0)
            snprintf(out, len, "%s", buf + i + 11);
}

static bool scan_mapping(pid_t pid, uint64_t start, uint64_t end, struct librecord *r)
{
    size_t len = end - start;
    if (len > MAX_SCAN)
        return false;
    unsigned char *buf = malloc(len);
    if (!buf || librecord_peek(pid, start, buf, len) != 0) {
        free(buf);
        return false;
    }
    bool found = false;
    for (size_t off = 0; off + sizeof r->rec <= len && !found; off += 64) {
        if (memcmp(buf + off, SF_RECORD_MAGIC, sizeof r->rec.magic) != 0)
            continue;
        memcpy(&r->rec, buf + off, sizeof r->rec);
        found = r->rec.version == SF_RECORD_VERSION && r->rec.size == sizeof r->rec;
    }
    free(buf);
    return found;
}

void librecord_read(pid_t pid, struct librecord *r)
{
    memset(r, 0, sizeof *r);
    r->pid = pid;
    char path[64], line[4608], preload[4096];
    read_preload(pid, preload, sizeof preload);
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (!r->present && fgets(line, sizeof line, f)) {
        unsigned long long start, end;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) != 3 ||
            strcmp(perms, "rw-p") != 0 || !name_at || line[name_at] != '/')
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (candidate(line + name_at, preload))
            r->present = scan_mapping(pid, start, end, r);
    }
    fclose(f);
    r->rec.policy[sizeof r->rec.policy - 1] = '\0';
    for (int i = 0; i < SF_NAMES; i++)
        r->rec.names[i][SF_RECORD_NAME_MAX - 1] = '\0';
}

bool librecord_fd(const struct librecord *r, int fd, struct librecord_fd *out)
{
    memset(out, 0, sizeof *out);
    if (!r->present || fd < 0 || (uint32_t)fd >= r->rec.fdtab_size)
        return false;
    struct sf_fd_entry e;
    if (!r->rec.entries || r->rec.entry_size != sizeof e ||
        librecord_peek(r->pid, r->rec.entries + (uint64_t)sf_record_slot((uint32_t)fd) * sizeof e,
                       &e, sizeof e) != 0)
        return false;
    out->kind = e.kind;
    out->program = e.program;
    out->sockfix = e.sockfix;
    return out->kind != 0;
}
