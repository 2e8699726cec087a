#define SOCKFIX_SHIM
#include "fdtable.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

#include "record.h"

/* Mapped when first needed, not at load: a large .bss costs every process
 * that loads the library, sockets or not. The option tables are mapped once
 * a program sets an option sockfix knows, or sockfix sets one. */
enum table { KINDS, PROGRAM, SOCKFIX, TABLES };
static _Atomic(_Atomic uint32_t *) tables[TABLES];

/* Where sockfix apply finds each table (record.h). */
static uint64_t *record_slot(enum table t)
{
    return t == KINDS     ? &sf_record.kinds
           : t == PROGRAM ? &sf_record.program_options
                          : &sf_record.sockfix_options;
}

/* mmap, not malloc: async-signal-safe and lock-free. Racing threads each
 * map one; the loser unmaps its own. Out of line: it runs once a table. */
static __attribute__((noinline)) _Atomic uint32_t *create_table(enum table t)
{
    size_t size = FDTAB_SIZE * sizeof(uint32_t);
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    _Atomic uint32_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&tables[t], &expected, (_Atomic uint32_t *)m)) {
        munmap(m, size);
        return expected;
    }
    __atomic_store_n(record_slot(t), (uint64_t)(uintptr_t)m, __ATOMIC_RELEASE);
    return m;
}

/* Every hook reaches a table several times: kept inline. */
static inline __attribute__((always_inline)) _Atomic uint32_t *table(enum table t, bool create)
{
    _Atomic uint32_t *p = atomic_load_explicit(&tables[t], memory_order_acquire);
    return p || !create ? p : create_table(t);
}

static bool in_range(int fd)
{
    return fd >= 0 && fd < FDTAB_SIZE;
}

static uint32_t load(enum table t, int fd)
{
    _Atomic uint32_t *p = in_range(fd) ? table(t, false) : NULL;
    return p ? atomic_load_explicit(&p[sf_record_slot((uint32_t)fd)], memory_order_relaxed) : 0;
}

/* Stores v; a zero into a table not mapped yet is no change. */
static void store(enum table t, int fd, uint32_t v)
{
    _Atomic uint32_t *p = in_range(fd) ? table(t, v != 0) : NULL;
    if (p)
        atomic_store_explicit(&p[sf_record_slot((uint32_t)fd)], v, memory_order_relaxed);
}

uint8_t fdtab_get(int fd)
{
    return (uint8_t)load(KINDS, fd);
}

void fdtab_set(int fd, uint8_t v)
{
    if (!in_range(fd))
        return;
    store(KINDS, fd, v);
    store(PROGRAM, fd, 0);
    store(SOCKFIX, fd, 0);
}

void fdtab_add(int fd, uint32_t bits)
{
    _Atomic uint32_t *p = in_range(fd) ? table(KINDS, true) : NULL;
    if (p)
        atomic_fetch_or_explicit(&p[sf_record_slot((uint32_t)fd)], bits, memory_order_relaxed);
}

void fdtab_accepted(int lfd, int fd, uint8_t kind, uint32_t inherited)
{
    if (!in_range(fd))
        return;
    uint32_t listener = in_range(lfd) ? (uint32_t)(lfd + 1) << FDTAB_LISTENER_SHIFT : 0;
    uint32_t whole = load(KINDS, lfd) & FD_WHOLE_LIFE;
    store(KINDS, fd, (uint32_t)(kind | FD_ACCEPTED) | whole | listener);
    store(PROGRAM, fd, load(PROGRAM, lfd) & inherited);
    store(SOCKFIX, fd, load(SOCKFIX, lfd) & inherited);
}

int fdtab_listener(int fd)
{
    return (int)(load(KINDS, fd) >> FDTAB_LISTENER_SHIFT) - 1;
}

uint32_t fdtab_program_options(int fd)
{
    return load(PROGRAM, fd);
}

/* Sets bits in table `to` and clears them in `from`: an option has one
 * last writer, the program or sockfix. */
static void move_bits(enum table to, enum table from, int fd, uint32_t bits)
{
    _Atomic uint32_t *p = in_range(fd) && bits ? table(to, true) : NULL;
    if (!p)
        return;
    atomic_fetch_or_explicit(&p[sf_record_slot((uint32_t)fd)], bits, memory_order_relaxed);
    _Atomic uint32_t *q = table(from, false);
    if (q)
        atomic_fetch_and_explicit(&q[sf_record_slot((uint32_t)fd)], ~bits, memory_order_relaxed);
}

void fdtab_add_program_options(int fd, uint32_t bits)
{
    move_bits(PROGRAM, SOCKFIX, fd, bits);
}

void fdtab_add_sockfix_options(int fd, uint32_t bits)
{
    move_bits(SOCKFIX, PROGRAM, fd, bits);
}

void fdtab_forget(int fd)
{
    if (!in_range(fd))
        return;
    for (int t = 0; t < TABLES; t++)
        store((enum table)t, fd, 0);
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
    for (int t = 0; t < TABLES; t++) /* nothing known: the kernel will be asked */
        store((enum table)t, to, load((enum table)t, from));
}
