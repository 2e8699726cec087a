/* Properties of libsockfix.so as a file and as a guest in a process. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

TestSuite(library, .timeout = 30);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

Test(library, exports_only_the_interposed_functions)
{
    static const char *hooks[] = {
#define SF_HOOK(name, params, args) #name,
#include "../../shim/hooks.def"
    };
    size_t n = sizeof hooks / sizeof hooks[0];
    qsort(hooks, n, sizeof hooks[0], by_name);
    char want[4096] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s\n", hooks[i]);
    cr_assert_geq(n, 14);

    char out[4096];
    read_command("LC_ALL=C nm -D --defined-only " SOCKFIX_LIB " | awk '{print $3}' | LC_ALL=C sort",
                 out, sizeof out);
    cr_assert_str_eq(out, want);
}

Test(library, needs_nothing_but_libc)
{
    char out[4096];
    /* A sanitizer build also needs its runtimes; on arm64 the loader holds
     * the stack protector's canary (__stack_chk_guard); nothing else. */
    read_command("objdump -p " SOCKFIX_LIB " | awk '$1 == \"NEEDED\" {print $2}'"
                 " | grep -Ev '^(lib(asan|ubsan|tsan)|ld-linux-aarch64)\\.so'",
                 out, sizeof out);
    cr_assert_str_eq(out, "libc.so.6\n");
}

Test(library, hook_before_the_constructor_applies_the_policy)
{
    /* libearly's constructor runs before libsockfix's (later preloads are
     * initialised first) and makes a listener, a client and an accepted socket. */
    static const char policy[] = "[r]\nkeepidle = 55\nkeepcnt = 3\n";
    char preload[1024];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s %s", SHIM_PRELOAD, EARLY_LIB);
    struct run_result r;
    run_probe(&(struct run_opts){.policy = policy, .bare = true, .extra_env = {preload}},
              ARGS("pair", "4"), &r);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_eq(result_num(&r, "early.listener.keepidle"), 55);
    cr_assert_eq(result_num(&r, "early.accepted.keepidle"), 55);
    cr_assert_eq(result_num(&r, "early.client.keepidle"), 55);
    cr_assert_eq(result_num(&r, "early.client.keepcnt"), 3);
    cr_assert_eq(result_num(&r, "listener.keepidle"), 55);
}
