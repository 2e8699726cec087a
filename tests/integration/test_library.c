/* Properties of libsockfix.so as a file and as a guest in a process. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Each loadable segment costs every process the library is loaded into an
 * mmap and a fault (cmake/shim-layout.ld): two, code and data, and the
 * read-only data in the part the loader makes read-only after relocating
 * (RELRO), neither executable nor left writable. */
static void check_layout(const char *lib)
{
    char cmd[1024], out[4096];
    snprintf(
        cmd, sizeof cmd,
        "LC_ALL=C readelf -lW %s | awk '$1 == \"LOAD\" {f = \"\"; for (i = 7; i < NF; i++) f = "
        "f $i; print f}'",
        lib);
    read_command(cmd, out, sizeof out);
    cr_expect_str_eq(out, "RE\nRW\n", "%s: segments\n%s", lib, out);
    snprintf(cmd, sizeof cmd, "LC_ALL=C readelf -lW %s | awk '$1 == \"GNU_RELRO\" {print $3, $6}'",
             lib);
    read_command(cmd, out, sizeof out);
    unsigned long long relro, relro_len;
    cr_assert_eq(sscanf(out, "%llx %llx", &relro, &relro_len), 2, "%s: no GNU_RELRO: %s", lib, out);
    static const char *const kept_out_of_code[] = {".rodata", ".eh_frame_hdr", ".eh_frame"};
    for (size_t i = 0; i < sizeof kept_out_of_code / sizeof kept_out_of_code[0]; i++) {
        snprintf(cmd, sizeof cmd,
                 "LC_ALL=C readelf -SW %s | sed 's/^ *\\[ *[0-9]*\\]//' | awk '$1 == \"%s\" "
                 "{print $3, $5}'",
                 lib, kept_out_of_code[i]);
        read_command(cmd, out, sizeof out);
        unsigned long long at, len;
        if (sscanf(out, "%llx %llx", &at, &len) != 2) {
            /* musl-gcc links without an unwind table index */
            cr_expect_neq(i, 0, "%s: no %s", lib, kept_out_of_code[i]);
            continue;
        }
        cr_expect(at >= relro && at + len <= relro + relro_len,
                  "%s: %s at %llx+%llx, RELRO %llx+%llx", lib, kept_out_of_code[i], at, len, relro,
                  relro_len);
    }
}

/* The data segment's memory ends in the page where its file part ends:
 * the loader then zero-fills the rest of that page instead of mapping
 * anonymous pages for .bss (one more mmap at every start). */
static void check_bss_in_last_file_page(const char *lib)
{
    char cmd[1024], out[1024];
    snprintf(cmd, sizeof cmd,
             "LC_ALL=C readelf -lW %s | awk '$1 == \"LOAD\" && $7 == \"RW\" {print $3, $5, $6}'",
             lib);
    read_command(cmd, out, sizeof out);
    unsigned long long at, file, mem;
    cr_assert_eq(sscanf(out, "%llx %llx %llx", &at, &file, &mem), 3, "%s: %s", lib, out);
    cr_expect_eq((at + file - 1) / 4096, (at + mem - 1) / 4096,
                 "%s: .bss runs %llu bytes past the page of the file's data", lib,
                 at + mem - ((at + file + 4095) / 4096 * 4096));
}

Test(library, two_segments_and_read_only_data_out_of_the_code)
{
    check_layout(SOCKFIX_LIB);
    check_bss_in_last_file_page(SOCKFIX_LIB);
    if (access(BUILD_DIR "/libsockfix-musl.so", F_OK) == 0) {
        check_layout(BUILD_DIR "/libsockfix-musl.so");
        check_bss_in_last_file_page(BUILD_DIR "/libsockfix-musl.so");
    }
}

/* A policy of up to 1023 bytes is read at start into the library's data
 * page, a larger one into pages mapped for it, one above 64 KiB is loaded
 * whole at start: the last line of each, read back from the kernel, shows
 * that all of it was read. */
Test(library, policies_of_every_size_are_read_whole)
{
    static const size_t sizes[] = {1023, 1024, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        static char policy[70001];
        static const char head[] = "[r]\n", tail[] = "keepidle = 57\n";
        size_t n = sizes[i];
        memset(policy, '#', n);
        memcpy(policy, head, strlen(head));
        for (size_t at = 80; at < n; at += 80)
            policy[at] = '\n';
        policy[n - strlen(tail) - 1] = '\n';
        memcpy(policy + n - strlen(tail), tail, strlen(tail));
        policy[n] = '\0';
        cr_assert_eq(strlen(policy), n);
        struct run_result r;
        run_probe(&(struct run_opts){.policy = policy}, ARGS("pair", "4"), &r);
        cr_assert_eq(r.status, 0, "%zu bytes: %s%s", n, r.out, r.err);
        cr_expect_eq(result_num(&r, "listener.keepidle"), 57, "%zu bytes", n);
        cr_expect_eq(result_num(&r, "client.keepidle"), 57, "%zu bytes", n);
    }
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
