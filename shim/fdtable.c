#include "fdtable.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

/* Mapped at the first socket the shim records, not at load: a large .bss
 * costs every process that loads the library, sockets or not. */
static _Atomic(_Atomic uint8_t *) table;

static _Atomic uint8_t *get_table(void)
{
    return atomic_load_explicit(&table, memory_order_acquire);
}

/* mmap, not malloc: async-signal-safe and lock-free. Racing threads each
 * map one; the loser unmaps its own. */
static _Atomic uint8_t *make_table(void)
{
    _Atomic uint8_t *t = get_table();
    if (t)
        return t;
    void *m = mmap(NULL, FDTAB_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    _Atomic uint8_t *expected = NULL;
    if (atomic_compare_exchange_strong(&table, &expected, (_Atomic uint8_t *)m))
        return (_Atomic uint8_t *)m;
    munmap(m, FDTAB_SIZE);
    return expected;
}

uint8_t fdtab_get(int fd)
{
    _Atomic uint8_t *t = get_table();
    if (!t || fd < 0 || fd >= FDTAB_SIZE)
        return FD_KIND_UNKNOWN;
    return atomic_load_explicit(&t[fd], memory_order_relaxed);
}

void fdtab_set(int fd, uint8_t v)
{
    if (fd < 0 || fd >= FDTAB_SIZE)
        return;
    _Atomic uint8_t *t = make_table();
    if (t)
        atomic_store_explicit(&t[fd], v, memory_order_relaxed);
}

void fdtab_add(int fd, uint8_t bits)
{
    if (fd < 0 || fd >= FDTAB_SIZE)
        return;
    _Atomic uint8_t *t = make_table();
    if (t)
        atomic_fetch_or_explicit(&t[fd], bits, memory_order_relaxed);
}
