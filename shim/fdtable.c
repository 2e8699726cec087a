#include "fdtable.h"

#include <stdatomic.h>

static _Atomic uint8_t table[FDTAB_SIZE];

uint8_t fdtab_get(int fd)
{
    if (fd < 0 || fd >= FDTAB_SIZE)
        return FD_KIND_UNKNOWN;
    return atomic_load_explicit(&table[fd], memory_order_relaxed);
}

void fdtab_set(int fd, uint8_t v)
{
    if (fd >= 0 && fd < FDTAB_SIZE)
        atomic_store_explicit(&table[fd], v, memory_order_relaxed);
}

void fdtab_add(int fd, uint8_t bits)
{
    if (fd >= 0 && fd < FDTAB_SIZE)
        atomic_fetch_or_explicit(&table[fd], bits, memory_order_relaxed);
}
