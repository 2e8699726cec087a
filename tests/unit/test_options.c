/* The option table's derived facts: the apply order and the masks computed
 * from the rows (config/options.c). */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "config/options.h"

Test(options, the_apply_order_lists_every_option_once)
{
    unsigned seen[SF_OPT_COUNT] = {0};
    for (int k = 0; k < SF_OPT_COUNT; k++) {
        cr_assert(sf_apply_order[k] >= 0 && sf_apply_order[k] < SF_OPT_COUNT, "entry %d", k);
        seen[sf_apply_order[k]]++;
    }
    for (int o = 0; o < SF_OPT_COUNT; o++)
        cr_expect_eq(seen[o], 1, "%s appears %u times in sf_apply_order", sf_options[o].key,
                     seen[o]);
}

Test(options, inherited_and_not_inherited_split_the_connection_options)
{
    uint32_t in = sf_options_inherited(), out = sf_options_not_inherited();
    cr_expect_eq(in & out, 0, "an option both inherited and not: %#x", in & out);
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        uint32_t bit = SF_OPT_BIT(o);
        if (!(sf_options[o].phase & SF_PHASE_CONNECTION))
            continue;
        cr_expect(sf_options[o].inherited ? (in & bit) : (out & bit), "%s: inherited = %d",
                  sf_options[o].key, sf_options[o].inherited);
    }
}

Test(options, every_row_names_itself)
{
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        cr_expect_not_null(sf_options[o].key, "row %d", o);
        cr_expect(sf_options[o].optlabel[0], "row %d", o);
        cr_expect(sf_options[o].min <= sf_options[o].max, "%s", sf_options[o].key);
        for (int p = 0; p < o; p++)
            cr_expect(strcmp(sf_options[o].key, sf_options[p].key) != 0, "%s twice",
                      sf_options[o].key);
    }
}

Test(options, the_masks_of_each_kind_of_socket_follow_the_rows)
{
    static const unsigned types[] = {SF_TYPE_TCP, SF_TYPE_UDP};
    static const unsigned roles[] = {SF_ROLE_SERVER, SF_ROLE_CLIENT};
    static const unsigned families[] = {SF_FAMILY_IPV4, SF_FAMILY_IPV6};
    for (int t = 0; t < 2; t++)
        for (int r = 0; r < 2; r++) {
            uint32_t want = 0;
            for (int o = 0; o < SF_OPT_COUNT; o++)
                if ((sf_options[o].types & types[t]) && (sf_options[o].roles & roles[r]))
                    want |= SF_OPT_BIT(o);
            cr_expect_eq(sf_options_applicable(types[t], roles[r]), want, "type %u role %u",
                         types[t], roles[r]);
        }
    for (int f = 0; f < 2; f++) {
        uint32_t want = 0;
        for (int o = 0; o < SF_OPT_COUNT; o++)
            if (!sf_options[o].families || (sf_options[o].families & families[f]))
                want |= SF_OPT_BIT(o);
        cr_expect_eq(sf_options_for_family(families[f]), want, "family %u", families[f]);
    }
    cr_expect_eq(sf_options_for_family(SF_FAMILY_IPV4) & SF_OPT_BIT(SF_OPT_V6ONLY), 0);
}

Test(options, every_socket_option_of_the_table_is_found_by_its_level_and_name)
{
    for (int o = 0; o < SF_OPT_COUNT; o++) {
        const struct sf_option *r = &sf_options[o];
        if (!r->optname) {
            cr_expect_eq(o, SF_OPT_BACKLOG, "%s has no socket option", r->key);
            continue;
        }
        cr_expect_eq(sf_option_of_sockopt(r->level, r->optname), o, "%s", r->key);
        if (r->optname6)
            cr_expect_eq(sf_option_of_sockopt(r->level6, r->optname6), o, "%s (IPv6)", r->key);
    }
    cr_expect_eq(sf_option_of_sockopt(IPPROTO_IP, IP_TOS), SF_OPT_TOS); /* level 0 */
    cr_expect_eq(sf_option_of_sockopt(0, 0), -1);
    cr_expect_eq(sf_option_of_sockopt(SOL_SOCKET, SO_DEBUG), -1);
    cr_expect_eq(sf_option_of_sockopt(IPPROTO_TCP, 10000), -1);
    cr_expect_eq(sf_option_of_sockopt(-1, TCP_KEEPIDLE), -1);
}
