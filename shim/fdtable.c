#include "fdtable.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

/* Mapped when first needed, not at load: a large .bss costs every process
 * that loads the library, sockets or not. The program-options table is only
 * mapped once a program sets an option sockfix knows. */
static _Atomic(_Atomic uint8_t *) kinds;
static _Atomic(_Atomic uint32_t *) program_opts;

/* mmap, not malloc: async-signal-safe and lock-free. Racing threads each
 * map one; the loser unmaps its own. */
static void *get_or_map(_Atomic(void *) *slot, size_t size)
{
    void *t = atomic_load_explicit(slot, memory_order_acquire);
    if (t)
        return t;
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    void *expected = NULL;
    if (atomic_compare_exchange_strong(slot, &expected, m))
        return m;
    munmap(m, size);
    return expected;
}

static _Atomic uint8_t *kind_table(bool create)
{
    if (!create)
        return atomic_load_explicit(&kinds, memory_order_acquire);
    return get_or_map((_Atomic(void *) *)&kinds, FDTAB_SIZE * sizeof(uint8_t));
}

static _Atomic uint32_t *opts_table(bool create)
{
    if (!create)
        return atomic_load_explicit(&program_opts, memory_order_acquire);
    return get_or_map((_Atomic(void *) *)&program_opts, FDTAB_SIZE * sizeof(uint32_t));
}

static bool in_range(int fd)
{
    return fd >= 0 && fd < FDTAB_SIZE;
}

uint8_t fdtab_get(int fd)
{
    _Atomic uint8_t *t = kind_table(false);
    if (!t || !in_range(fd))
        return FD_KIND_UNKNOWN;
    return atomic_load_explicit(&t[fd], memory_order_relaxed);
}

void fdtab_set(int fd, uint8_t v)
{
    if (!in_range(fd))
        return;
    _Atomic uint8_t *t = kind_table(true);
    if (t)
        atomic_store_explicit(&t[fd], v, memory_order_relaxed);
    _Atomic uint32_t *o = opts_table(false);
    if (o)
        atomic_store_explicit(&o[fd], 0, memory_order_relaxed);
}

void fdtab_add(int fd, uint8_t bits)
{
    if (!in_range(fd))
        return;
    _Atomic uint8_t *t = kind_table(true);
    if (t)
        atomic_fetch_or_explicit(&t[fd], bits, memory_order_relaxed);
}

uint32_t fdtab_program_options(int fd)
{
    _Atomic uint32_t *o = opts_table(false);
    if (!o || !in_range(fd))
        return 0;
    return atomic_load_explicit(&o[fd], memory_order_relaxed);
}

void fdtab_add_program_options(int fd, uint32_t bits)
{
    if (!in_range(fd) || !bits)
        return;
    _Atomic uint32_t *o = opts_table(true);
    if (o)
        atomic_fetch_or_explicit(&o[fd], bits, memory_order_relaxed);
}

void fdtab_set_program_options(int fd, uint32_t bits)
{
    if (!in_range(fd))
        return;
    _Atomic uint32_t *o = opts_table(bits != 0);
    if (o)
        atomic_store_explicit(&o[fd], bits, memory_order_relaxed);
}

void fdtab_forget(int fd)
{
    if (!in_range(fd))
        return;
    _Atomic uint8_t *t = kind_table(false);
    if (t)
        atomic_store_explicit(&t[fd], FD_KIND_UNKNOWN, memory_order_relaxed);
    _Atomic uint32_t *o = opts_table(false);
    if (o)
        atomic_store_explicit(&o[fd], 0, memory_order_relaxed);
}

void fdtab_forget_range(unsigned lo, unsigned hi)
{
    if (lo >= FDTAB_SIZE)
        return;
    if (hi >= FDTAB_SIZE)
        hi = FDTAB_SIZE - 1;
    for (unsigned fd = lo; fd <= hi; fd++)
        fdtab_forget((int)fd);
}

void fdtab_copy(int from, int to)
{
    if (!in_range(to))
        return;
    uint8_t kind = fdtab_get(from);
    uint32_t opts = fdtab_program_options(from);
    if (kind == FD_KIND_UNKNOWN && opts == 0) { /* nothing known: the kernel will be asked */
        fdtab_forget(to);
        return;
    }
    fdtab_set(to, kind);
    fdtab_set_program_options(to, opts);
}
