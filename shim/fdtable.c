#define SOCKFIX_SHIM
#include "fdtable.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

#include "record.h"

/* The table, as struct sf_fd_entry (record.h) with atomic fields. */
enum field { KIND, PROGRAM, SOCKFIX, FIELDS = 4 };
struct entry {
    _Atomic uint32_t f[FIELDS];
};
_Static_assert(sizeof(struct entry) == sizeof(struct sf_fd_entry), "the record's entry");
_Static_assert(offsetof(struct sf_fd_entry, program) == PROGRAM * sizeof(uint32_t), "program");
_Static_assert(offsetof(struct sf_fd_entry, sockfix) == SOCKFIX * sizeof(uint32_t), "sockfix");

/* Mapped when first needed, not at load: a large .bss costs every process
 * that loads the library, sockets or not. */
static _Atomic(struct entry *) table;

/* mmap, not malloc: async-signal-safe and lock-free. Racing threads each
 * map one; the loser unmaps its own. Out of line: it runs once. */
static __attribute__((noinline)) struct entry *create_table(void)
{
    size_t size = FDTAB_SIZE * sizeof(struct entry);
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct entry *expected = NULL;
    if (!atomic_compare_exchange_strong(&table, &expected, (struct entry *)m)) {
        munmap(m, size);
        return expected;
    }
    /* Where sockfix apply finds it (record.h). */
    __atomic_store_n(&sf_record.entries, (uint64_t)(uintptr_t)m, __ATOMIC_RELEASE);
    return m;
}

static bool in_range(int fd)
{
    return fd >= 0 && fd < FDTAB_SIZE;
}

/* fd's entry; NULL for a descriptor past the table, or when the table is
 * not mapped and create is false (nothing is known yet). */
static inline __attribute__((always_inline)) struct entry *entry(int fd, bool create)
{
    if (!in_range(fd))
        return NULL;
    struct entry *t = atomic_load_explicit(&table, memory_order_acquire);
    if (!t && create)
        t = create_table();
    return t ? &t[sf_record_slot((uint32_t)fd)] : NULL;
}

static uint32_t load(const struct entry *e, enum field f)
{
    return e ? atomic_load_explicit(&e->f[f], memory_order_relaxed) : 0;
}

static void store(struct entry *e, enum field f, uint32_t v)
{
    atomic_store_explicit(&e->f[f], v, memory_order_relaxed);
}

static void write_entry(struct entry *e, uint32_t kind, uint32_t program, uint32_t sockfix)
{
    store(e, KIND, kind);
    store(e, PROGRAM, program);
    store(e, SOCKFIX, sockfix);
}

/* The whole entry: a zero into a table not mapped yet is no change. */
static void set_entry(int fd, uint32_t kind, uint32_t program, uint32_t sockfix)
{
    struct entry *e = entry(fd, kind | program | sockfix);
    if (e)
        write_entry(e, kind, program, sockfix);
}

uint8_t fdtab_get(int fd)
{
    return (uint8_t)load(entry(fd, false), KIND);
}

void fdtab_set(int fd, uint8_t v)
{
    set_entry(fd, v, 0, 0);
}

void fdtab_add(int fd, uint32_t bits)
{
    struct entry *e = entry(fd, true);
    if (e)
        atomic_fetch_or_explicit(&e->f[KIND], bits, memory_order_relaxed);
}

void fdtab_accepted(int lfd, int fd, uint8_t kind, uint32_t inherited)
{
    if (!in_range(fd))
        return;
    const struct entry *l = entry(lfd, false);
    uint32_t listener = in_range(lfd) ? (uint32_t)(lfd + 1) << FDTAB_LISTENER_SHIFT : 0;
    uint32_t whole = load(l, KIND) & FD_WHOLE_LIFE;
    set_entry(fd, (uint32_t)(kind | FD_ACCEPTED) | whole | listener, load(l, PROGRAM) & inherited,
              load(l, SOCKFIX) & inherited);
}

int fdtab_listener(int fd)
{
    return (int)(load(entry(fd, false), KIND) >> FDTAB_LISTENER_SHIFT) - 1;
}

uint32_t fdtab_program_options(int fd)
{
    return load(entry(fd, false), PROGRAM);
}

/* Sets bits in field `to` and clears them in `from`: an option has one
 * last writer, the program or sockfix. */
static void move_bits(enum field to, enum field from, int fd, uint32_t bits)
{
    struct entry *e = bits ? entry(fd, true) : NULL;
    if (!e)
        return;
    atomic_fetch_or_explicit(&e->f[to], bits, memory_order_relaxed);
    atomic_fetch_and_explicit(&e->f[from], ~bits, memory_order_relaxed);
}

void fdtab_add_program_options(int fd, uint32_t bits)
{
    move_bits(PROGRAM, SOCKFIX, fd, bits);
}

void fdtab_add_sockfix_options(int fd, uint32_t bits)
{
    move_bits(SOCKFIX, PROGRAM, fd, bits);
}

/* An entry already empty is not written: close_range over the whole table
 * then reads its pages (the kernel's shared zero page) instead of dirtying
 * a megabyte. */
void fdtab_forget(int fd)
{
    struct entry *e = entry(fd, false);
    if (e && (load(e, KIND) | load(e, PROGRAM) | load(e, SOCKFIX)))
        write_entry(e, 0, 0, 0);
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
    /* nothing known of from: the kernel will be asked about to */
    const struct entry *e = entry(from, false);
    set_entry(to, load(e, KIND), load(e, PROGRAM), load(e, SOCKFIX));
}
