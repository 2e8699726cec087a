/* Single policy values: booleans, durations, numbers, ranges, quoting. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config/values.h"

static int32_t parse_ok(const char *key, const char *text)
{
    char err[256] = "";
    int32_t v = -1;
    int r = sf_parse_option_value(sf_option_by_key(key), text, &v, err, sizeof err);
    cr_assert_eq(r, 0, "%s = %s: %s", key, text, err);
    return v;
}

static void parse_fails(const char *key, const char *text, const char *message)
{
    char err[256] = "";
    int32_t v = -1;
    int r = sf_parse_option_value(sf_option_by_key(key), text, &v, err, sizeof err);
    cr_assert_eq(r, -1, "%s = %s was accepted as %d", key, text, v);
    cr_assert_str_eq(err, message);
}

Test(values, booleans_in_every_spelling)
{
    const char *yes[] = {"yes", "on", "true", "1", "YES", "True"};
    const char *no[] = {"no", "off", "false", "0", "No", "OFF"};
    for (size_t i = 0; i < 6; i++) {
        cr_expect_eq(parse_ok("reuseaddr", yes[i]), 1, "%s", yes[i]);
        cr_expect_eq(parse_ok("nodelay", no[i]), 0, "%s", no[i]);
    }
    parse_fails("keepalive", "maybe",
                "\"maybe\" is not a boolean (use yes/no, on/off, true/false, 1/0)");
    parse_fails("keepalive", "", "\"\" is not a boolean (use yes/no, on/off, true/false, 1/0)");
}

Test(values, durations_in_seconds)
{
    cr_expect_eq(parse_ok("keepidle", "45"), 45);
    cr_expect_eq(parse_ok("keepidle", "45s"), 45);
    cr_expect_eq(parse_ok("keepidle", "2m"), 120);
    cr_expect_eq(parse_ok("keepidle", "1h"), 3600);
    cr_expect_eq(parse_ok("keepidle", "2000ms"), 2);
    cr_expect_eq(parse_ok("keepintvl", "32767"), 32767);
    cr_expect_eq(parse_ok("keepintvl", "1s"), 1);
    parse_fails("keepidle", "500ms", "\"500ms\" is not a whole number of seconds");
    parse_fails("keepidle", "0", "\"0\" is out of range (1s..32767s)");
    parse_fails("keepidle", "32768", "\"32768\" is out of range (1s..32767s)");
    parse_fails("keepintvl", "10h", "\"10h\" is out of range (1s..32767s)");
    const char *bad[] = {"5x", "", "-5", " 5", "5 s", "1.5s", "s", "5sec", "0x10", "+5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "", want[256];
        int32_t v;
        cr_expect_eq(
            sf_parse_option_value(sf_option_by_key("keepidle"), bad[i], &v, err, sizeof err), -1,
            "%s", bad[i]);
        char q[64];
        snprintf(want, sizeof want, "%s is not a duration (use 45, 45s, 500ms, 2m or 1h)",
                 sf_quote(bad[i], q, sizeof q));
        cr_expect_str_eq(err, want);
    }
}

Test(values, durations_in_milliseconds)
{
    cr_expect_eq(parse_ok("user_timeout", "90s"), 90000);
    cr_expect_eq(parse_ok("user_timeout", "90"), 90000);
    cr_expect_eq(parse_ok("user_timeout", "500ms"), 500);
    cr_expect_eq(parse_ok("user_timeout", "0"), 0);
    cr_expect_eq(parse_ok("user_timeout", "2147483647ms"), 2147483647);
    parse_fails("user_timeout", "2147483648ms",
                "\"2147483648ms\" is out of range (0s..2147483647ms)");
    parse_fails("user_timeout", "999999999h", "\"999999999h\" is out of range (0s..2147483647ms)");
}

Test(values, counts_and_numbers_past_64_bits)
{
    cr_expect_eq(parse_ok("keepcnt", "1"), 1);
    cr_expect_eq(parse_ok("keepcnt", "127"), 127);
    cr_expect_eq(parse_ok("backlog", "65535"), 65535);
    parse_fails("keepcnt", "0", "\"0\" is out of range (1..127)");
    parse_fails("keepcnt", "128", "\"128\" is out of range (1..127)");
    parse_fails("backlog", "0", "\"0\" is out of range (1..65535)");
    parse_fails("keepcnt", "18446744073709551616",
                "\"18446744073709551616\" is out of range (1..127)");
    parse_fails("keepcnt", "99999999999999999999999999999999",
                "\"99999999999999999999999999999999\" is out of range (1..127)");
    parse_fails("keepcnt", "-1", "\"-1\" is not a whole number");
    parse_fails("keepcnt", "6s", "\"6s\" is not a whole number");
    parse_fails("backlog", "1e3", "\"1e3\" is not a whole number");
}

Test(values, quoting_escapes_control_and_non_ascii_bytes)
{
    char q[64];
    cr_expect_str_eq(sf_quote("plain", q, sizeof q), "\"plain\"");
    cr_expect_str_eq(sf_quote("\x1b[31mred\r\n", q, sizeof q), "\"\\x1b[31mred\\x0d\\x0a\"");
    cr_expect_str_eq(sf_quote("a\"b\\c", q, sizeof q), "\"a\\x22b\\x5cc\"");
    cr_expect_str_eq(sf_quote("\xc3\xa9", q, sizeof q), "\"\\xc3\\xa9\"");
    char small[16];
    cr_expect_str_eq(sf_quote("abcdefghijklmnopqrstuvwxyz", small, sizeof small),
                     "\"abcdefghij...\"");
    cr_expect_eq(strlen(small), 15);
}

Test(values, escaping_names_without_quotes)
{
    char q[64];
    cr_expect_str_eq(sf_escape("/etc/sockfix/a b.ini", q, sizeof q), "/etc/sockfix/a b.ini");
    cr_expect_str_eq(sf_escape("/tmp/\x1b[31m\n\x7f\xff", q, sizeof q),
                     "/tmp/\\x1b[31m\\x0a\\x7f\\xff");
    char small[12];
    cr_expect_str_eq(sf_escape("abcdefghijklmnop", small, sizeof small), "abcdefgh...");
    cr_expect_eq(strlen(small), 11);
}

Test(values, option_table_rows)
{
    cr_assert_null(sf_option_by_key("keepidel"));
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        cr_expect_eq(sf_option_by_key(sf_options[i].key), &sf_options[i]);
        cr_expect_leq(sf_options[i].min, sf_options[i].max);
    }
    cr_expect_eq(sf_options_applicable(SF_TYPE_UDP, SF_ROLE_SERVER),
                 SF_OPT_BIT(SF_OPT_REUSEADDR) | SF_OPT_BIT(SF_OPT_REUSEPORT));
    cr_expect_eq(sf_options_applicable(SF_TYPE_UDP, SF_ROLE_CLIENT), 0);
    cr_expect_eq(sf_options_applicable(SF_TYPE_TCP, SF_ROLE_CLIENT) &
                     (SF_OPT_BIT(SF_OPT_BACKLOG) | SF_OPT_BIT(SF_OPT_REUSEADDR)),
                 0);
}

/* The references people read must name every option the table has. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

Test(values, every_option_is_documented)
{
    const char *docs[] = {SOURCE_DIR "/README.md", SOURCE_DIR "/docs/sockfix.ini.5"};
    for (size_t d = 0; d < 2; d++) {
        const char *text = slurp(docs[d]);
        for (int i = 0; i < SF_OPT_COUNT; i++) {
            char key[64];
            snprintf(key, sizeof key, "%s%s", d == 0 ? "| `" : "\n", sf_options[i].key);
            cr_expect(strstr(text, key), "%s lacks a row for %s", docs[d], sf_options[i].key);
            if (sf_options[i].level)
                cr_expect(strstr(text, sf_options[i].optlabel), "%s lacks %s", docs[d],
                          sf_options[i].optlabel);
        }
    }
}
