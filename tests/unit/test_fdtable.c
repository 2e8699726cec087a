/* The per-fd table of the shim (shim/fdtable.c), on its own: no sockets, no
 * hooks. The record (shim/record.c) is where sockfix apply finds the tables. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>

#define SOCKFIX_SHIM /* the record's table addresses, as the library sees them */
#include "shim/fdtable.h"
#include "shim/record.h"

/* What sockfix apply reads: the entry through the record's address. */
static uint32_t sockfix_options(int fd)
{
    const struct sf_fd_entry *t = (const struct sf_fd_entry *)(uintptr_t)sf_record.entries;
    return t ? t[sf_record_slot((uint32_t)fd)].sockfix : 0;
}

Test(fdtable, nothing_is_known_and_nothing_is_mapped_at_first)
{
    cr_assert_eq(fdtab_get(7), FD_KIND_UNKNOWN);
    cr_assert_eq(fdtab_listener(7), -1);
    cr_assert_eq(fdtab_program_options(7), 0);
    fdtab_forget(7);
    fdtab_set(7, 0);
    cr_assert_eq(sf_record.entries, 0, "a zero stored maps no table");
}

Test(fdtable, descriptors_outside_the_table_are_not_remembered)
{
    int far[] = {-1, -1000, FDTAB_SIZE, FDTAB_SIZE + 5, INT32_MAX};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
        fdtab_set(far[i], FD_KIND_TCP | FD_FAMILY_INET);
        fdtab_add(far[i], FD_LISTENER_DONE);
        fdtab_add_program_options(far[i], 1);
        fdtab_accepted(3, far[i], FD_KIND_TCP, ~0u);
        fdtab_copy(3, far[i]);
        cr_assert_eq(fdtab_get(far[i]), FD_KIND_UNKNOWN);
        cr_assert_eq(fdtab_program_options(far[i]), 0);
        cr_assert_eq(fdtab_listener(far[i]), -1);
    }
    fdtab_set(FDTAB_SIZE - 1, FD_KIND_UDP | FD_FAMILY_INET6);
    cr_assert_eq(fdtab_get(FDTAB_SIZE - 1), FD_KIND_UDP | FD_FAMILY_INET6);
}

Test(fdtable, a_new_kind_forgets_what_an_earlier_socket_of_that_number_had)
{
    fdtab_set(5, FD_KIND_TCP | FD_FAMILY_INET);
    fdtab_add(5, FD_LISTENER_DONE | FD_WHOLE_LIFE);
    fdtab_add_program_options(5, 0x30);
    fdtab_add_sockfix_options(5, 0x01);
    cr_assert_eq(fdtab_get(5), FD_KIND_TCP | FD_FAMILY_INET | FD_LISTENER_DONE | FD_WHOLE_LIFE);
    cr_assert_eq(fdtab_program_options(5), 0x30);
    cr_assert_eq(sockfix_options(5), 0x01);
    fdtab_set(5, FD_KIND_UDP | FD_FAMILY_INET6);
    cr_assert_eq(fdtab_get(5), FD_KIND_UDP | FD_FAMILY_INET6);
    cr_assert_eq(fdtab_program_options(5), 0);
    cr_assert_eq(sockfix_options(5), 0);
}

Test(fdtable, an_option_has_one_last_writer)
{
    fdtab_set(4, FD_KIND_TCP | FD_FAMILY_INET);
    fdtab_add_sockfix_options(4, 0x7);
    fdtab_add_program_options(4, 0x2);
    cr_assert_eq(fdtab_program_options(4), 0x2);
    cr_assert_eq(sockfix_options(4), 0x5);
    fdtab_add_sockfix_options(4, 0x2);
    cr_assert_eq(fdtab_program_options(4), 0);
    cr_assert_eq(sockfix_options(4), 0x7);
}

Test(fdtable, accepted_sockets_name_their_listener_and_take_what_it_passes_on)
{
    fdtab_set(3, FD_KIND_TCP | FD_FAMILY_INET6);
    fdtab_add(3, FD_LISTENER_DONE | FD_WHOLE_LIFE);
    fdtab_add_program_options(3, 0x0f);
    fdtab_add_sockfix_options(3, 0xf0);
    fdtab_accepted(3, 9, FD_KIND_TCP | FD_FAMILY_INET6, 0x3c);
    cr_assert_eq(fdtab_get(9), FD_KIND_TCP | FD_FAMILY_INET6 | FD_ACCEPTED | FD_WHOLE_LIFE);
    cr_assert_eq(fdtab_listener(9), 3);
    cr_assert_eq(fdtab_program_options(9), 0x0c);
    cr_assert_eq(sockfix_options(9), 0x30);

    fdtab_set(2, FD_KIND_TCP | FD_FAMILY_INET); /* not made under the library */
    fdtab_accepted(2, 10, FD_KIND_TCP | FD_FAMILY_INET, ~0u);
    cr_assert_eq(fdtab_get(10), FD_KIND_TCP | FD_FAMILY_INET | FD_ACCEPTED);
    cr_assert_eq(fdtab_listener(10), 2);

    fdtab_accepted(-1, 11, FD_KIND_TCP | FD_FAMILY_INET, ~0u);
    cr_assert_eq(fdtab_listener(11), -1);
    fdtab_accepted(FDTAB_SIZE - 1, 12, FD_KIND_TCP | FD_FAMILY_INET, 0);
    cr_assert_eq(fdtab_listener(12), FDTAB_SIZE - 1, "the largest descriptor fits");
}

Test(fdtable, dup_copies_and_close_forgets)
{
    fdtab_set(6, FD_KIND_TCP | FD_FAMILY_INET);
    fdtab_add(6, FD_CLIENT_DONE);
    fdtab_add_program_options(6, 0x11);
    fdtab_copy(6, 20);
    cr_assert_eq(fdtab_get(20), FD_KIND_TCP | FD_FAMILY_INET | FD_CLIENT_DONE);
    cr_assert_eq(fdtab_program_options(20), 0x11);
    fdtab_copy(8, 20); /* a duplicate of a descriptor nothing is known of */
    cr_assert_eq(fdtab_get(20), FD_KIND_UNKNOWN);
    cr_assert_eq(fdtab_program_options(20), 0);
    fdtab_forget(6);
    cr_assert_eq(fdtab_get(6), FD_KIND_UNKNOWN);
    cr_assert_eq(fdtab_program_options(6), 0);
}

Test(fdtable, neighbouring_descriptors_are_in_different_cache_lines)
{
    bool seen[FDTAB_SIZE] = {0};
    for (uint32_t fd = 0; fd < FDTAB_SIZE; fd++) {
        uint32_t s = sf_record_slot(fd);
        cr_assert_lt(s, FDTAB_SIZE);
        cr_assert_not(seen[s], "fd %u shares slot %u", fd, s);
        seen[s] = true;
        cr_assert_eq(s / 256, fd / 256, "fd %u leaves its page of entries", fd);
        if (fd)
            cr_assert_neq(s * sizeof(struct sf_fd_entry) / 64,
                          sf_record_slot(fd - 1) * sizeof(struct sf_fd_entry) / 64, "fd %u", fd);
    }
}

Test(fdtable, close_range_forgets_exactly_its_range)
{
    for (int fd = 30; fd < 40; fd++)
        fdtab_set(fd, FD_KIND_UDP | FD_FAMILY_INET);
    fdtab_set(FDTAB_SIZE - 1, FD_KIND_TCP | FD_FAMILY_INET);
    fdtab_forget_range(32, 35);
    for (int fd = 30; fd < 40; fd++)
        cr_assert_eq(fdtab_get(fd),
                     fd >= 32 && fd <= 35 ? FD_KIND_UNKNOWN : FD_KIND_UDP | FD_FAMILY_INET, "fd %d",
                     fd);
    fdtab_forget_range(38, ~0u); /* close_range(38, ~0U): to the end of the table */
    cr_assert_eq(fdtab_get(37), FD_KIND_UDP | FD_FAMILY_INET);
    cr_assert_eq(fdtab_get(38), FD_KIND_UNKNOWN);
    cr_assert_eq(fdtab_get(FDTAB_SIZE - 1), FD_KIND_UNKNOWN);
    fdtab_forget_range(FDTAB_SIZE, ~0u);
    cr_assert_eq(fdtab_get(30), FD_KIND_UDP | FD_FAMILY_INET);
}
