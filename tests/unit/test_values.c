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

static void expect_value(const char *key, const char *text, int32_t want)
{
    int32_t v = 12345;
    char err[256] = "";
    int r = sf_parse_option_value(sf_option_by_key(key), text, &v, err, sizeof err);
    cr_expect_eq(r, 0, "%s = %s: %s", key, text, err);
    cr_expect_eq(v, want, "%s = %s", key, text);
}

static void expect_bad(const char *key, const char *text, const char *message)
{
    int32_t v;
    char err[256] = "";
    cr_expect_eq(sf_parse_option_value(sf_option_by_key(key), text, &v, err, sizeof err), -1);
    cr_expect_str_eq(err, message, "%s = %s", key, text);
}

Test(values, sizes_lingers_marks_and_names)
{
    expect_value("rcvbuf", "65536", 65536);
    expect_value("rcvbuf", "256k", 262144);
    expect_value("sndbuf", "4m", 4194304);
    expect_value("sndbuf", "512M", 536870912);
    expect_bad("rcvbuf", "4x", "\"4x\" is not a size (use 65536, 256k or 4m)");
    expect_bad("rcvbuf", "1g", "\"1g\" is out of range (1k..512m)");
    expect_bad("rcvbuf", "1000", "\"1000\" is out of range (1k..512m)");
    expect_value("linger", "off", -1);
    expect_value("linger", "0", 0);
    expect_value("linger", "30s", 30);
    expect_value("linger", "2m", 120);
    expect_bad("linger", "500ms", "\"500ms\" is not a whole number of seconds");
    expect_bad("linger", "soon", "\"soon\" is not off or a duration (use off, 0, 5s, 1m)");
    expect_value("mark", "0x80000001", (int32_t)0x80000001u);
    expect_value("mark", "4294967295", -1);
    expect_bad("mark", "4294967296", "\"4294967296\" is out of range (0..4294967295)");
    expect_bad("mark", "0xg", "\"0xg\" is not a number (decimal, or hex as 0x...)");
    expect_value("defer_accept", "5s", 5);
    expect_value("fastopen", "256", 256);
    expect_value("maxseg", "1200", 1200);
    expect_bad("maxseg", "40", "\"40\" is out of range (88..32767)");
    expect_value("tos", "184", 184);
    expect_bad("tos", "256", "\"256\" is out of range (0..255)");
    expect_value("notsent_lowat", "16k", 16384);
    expect_value("bind_device", "eth0", 0); /* the policy keeps the name itself */
    expect_bad("bind_device", "eth0/x",
               "\"eth0/x\" is not a name (1 to 15 letters, digits and "
               "- _ . @)");
    expect_bad("congestion", "averyveryverylongname",
               "\"averyveryverylongname\" is not a name (1 to 15 letters, digits and - _ . @)");
    char buf[32];
    sf_format_option_value(sf_option_by_key("rcvbuf"), 262144, buf, sizeof buf);
    cr_expect_str_eq(buf, "256k");
    sf_format_option_value(sf_option_by_key("sndbuf"), 4194304, buf, sizeof buf);
    cr_expect_str_eq(buf, "4m");
    sf_format_option_value(sf_option_by_key("linger"), -1, buf, sizeof buf);
    cr_expect_str_eq(buf, "off");
    sf_format_option_value(sf_option_by_key("mark"), -1, buf, sizeof buf);
    cr_expect_str_eq(buf, "4294967295");
    uint64_t d;
    cr_expect(sf_parse_dscp("af21", &d) == 0 && d == 18);
    cr_expect(sf_parse_dscp("EF", &d) == 0 && d == 46);
    cr_expect(sf_parse_dscp("cs3", &d) == 0 && d == 24);
    cr_expect(sf_parse_dscp("63", &d) == 0 && d == 63);
    cr_expect_eq(sf_parse_dscp("64", &d), -2);
    cr_expect_eq(sf_parse_dscp("af51", &d), -1);
}

Test(values, option_table_rows)
{
    cr_assert_null(sf_option_by_key("keepidel"));
    for (int i = 0; i < SF_OPT_COUNT; i++) {
        cr_expect_eq(sf_option_by_key(sf_options[i].key), &sf_options[i]);
        cr_expect_leq(sf_options[i].min, sf_options[i].max);
    }
    uint32_t udp_any = SF_OPT_BIT(SF_OPT_BIND_DEVICE) | SF_OPT_BIT(SF_OPT_TOS) |
                       SF_OPT_BIT(SF_OPT_MARK) | SF_OPT_BIT(SF_OPT_PRIORITY);
    cr_expect_eq(sf_options_applicable(SF_TYPE_UDP, SF_ROLE_SERVER),
                 udp_any | SF_OPT_BIT(SF_OPT_REUSEADDR) | SF_OPT_BIT(SF_OPT_REUSEPORT) |
                     SF_OPT_BIT(SF_OPT_V6ONLY) | SF_OPT_BIT(SF_OPT_FREEBIND) |
                     SF_OPT_BIT(SF_OPT_TRANSPARENT));
    cr_expect_eq(sf_options_applicable(SF_TYPE_UDP, SF_ROLE_CLIENT), udp_any);
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
            snprintf(key, sizeof key, "%s%.16s", d == 0 ? "| `" : "\n", sf_options[i].key);
            cr_expect(strstr(text, key), "%s lacks a row for %s", docs[d], sf_options[i].key);
            if (sf_options[i].level)
                cr_expect(strstr(text, sf_options[i].optlabel), "%s lacks %s", docs[d],
                          sf_options[i].optlabel);
        }
    }
}
