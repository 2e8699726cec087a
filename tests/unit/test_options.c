/* The option table's derived facts: the apply order and the masks computed
 * from the rows (config/options.c). */
#include <criterion/criterion.h>
#include <string.h>

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
