/* The policy language: whole files in, rules or FILE:LINE errors out. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/policy.h"
#include "config/match.h"
#include "config/policy_file.h"

static struct sf_policy *parse(const char *text)
{
    struct sf_policy *p = sf_policy_parse(text, strlen(text), "t.ini");
    cr_assert_not_null(p);
    return p;
}

/* All errors, formatted, one per line. */
static const char *errors_of(const struct sf_policy *p)
{
    static char all[8192];
    all[0] = '\0';
    for (size_t i = 0; i < p->nerrors; i++) {
        char line[512];
        sf_error_format(p, &p->errors[i], line, sizeof line);
        strcat(all, line);
        strcat(all, "\n");
    }
    return all;
}

static void expect_errors(const char *text, const char *want)
{
    struct sf_policy *p = parse(text);
    cr_expect_str_eq(errors_of(p), want, "for:\n%s", text);
    cr_expect_eq(p->nactive, 0, "a policy with errors applies no rule");
    sf_policy_free(p);
}

static const struct sf_rule *rule(const struct sf_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nrules; i++)
        if (strcmp(p->rules[i].name, name) == 0)
            return &p->rules[i];
    cr_assert_fail("no rule [%s]", name);
    return NULL;
}

Test(policy, the_documented_example)
{
    struct sf_policy *p = parse("[sockfix]                 ; global settings (optional)\n"
                                "log = info\n"
                                "strict = no\n"
                                "\n"
                                "[legacy-http]\n"
                                "match.program = legacy-server python3*\n"
                                "match.port = 8080, 9000-9100\n"
                                "match.role = server\n"
                                "match.family = ipv4\n"
                                "match.type = tcp\n"
                                "reuseaddr = yes\n"
                                "reuseport = no\n"
                                "keepalive = yes\n"
                                "keepidle = 60s            ; durations: 45, 45s, 500ms, 2m, 1h\n"
                                "keepintvl = 10s\n"
                                "keepcnt = 6\n"
                                "user_timeout = 90s\n"
                                "nodelay = yes\n"
                                "backlog = 1024\n");
    cr_assert_str_eq(errors_of(p), "");
    cr_expect_eq(p->log_level, SF_LOG_INFO);
    cr_expect(p->log_set);
    cr_expect_not(p->strict);
    cr_assert_eq(p->nrules, 1);
    const struct sf_rule *r = rule(p, "legacy-http");
    cr_expect_eq(r->line, 5);
    cr_assert_eq(r->nprograms, 2);
    cr_expect_str_eq(r->programs[0], "legacy-server");
    cr_expect_str_eq(r->programs[1], "python3*");
    cr_assert_eq(r->nports, 2);
    cr_expect_eq(r->ports[0].lo, 8080);
    cr_expect_eq(r->ports[0].hi, 8080);
    cr_expect_eq(r->ports[1].lo, 9000);
    cr_expect_eq(r->ports[1].hi, 9100);
    cr_expect_eq(r->roles, SF_ROLE_SERVER);
    cr_expect_eq(r->families, SF_FAMILY_IPV4);
    cr_expect_eq(r->types, SF_TYPE_TCP);
    cr_expect_eq(r->set, (1u << (SF_OPT_BACKLOG + 1)) - 1);
    int32_t want[SF_OPT_COUNT] = {
        [SF_OPT_REUSEADDR] = 1,        [SF_OPT_REUSEPORT] = 0,  [SF_OPT_KEEPALIVE] = 1,
        [SF_OPT_KEEPIDLE] = 60,        [SF_OPT_KEEPINTVL] = 10, [SF_OPT_KEEPCNT] = 6,
        [SF_OPT_USER_TIMEOUT] = 90000, [SF_OPT_NODELAY] = 1,    [SF_OPT_BACKLOG] = 1024};
    for (int i = 0; i <= SF_OPT_BACKLOG; i++)
        cr_expect_eq(r->value[i], want[i], "%s", sf_options[i].key);
    cr_expect_eq(r->value_line[SF_OPT_KEEPIDLE], 14);
    cr_expect_eq(p->nactive, 1);
    sf_policy_free(p);
}

Test(policy, names_dscp_addresses_and_families)
{
    struct sf_policy *p = parse("[a]\nbind_device = eth1\ncongestion = bbr\ndscp = af21\n"
                                "match.address = 10.1.0.0/16, 2001:db8::/32, 192.0.2.7, "
                                "::ffff:198.51.100.0/120\n"
                                "[b]\ncongestion = bbr\ntos = 0x10\n");
    cr_assert_str_eq(errors_of(p), "t.ini:8: tos: \"0x10\" is not a whole number\n");
    sf_policy_free(p);
    p = parse("[a]\nbind_device = eth1\ncongestion = bbr\ndscp = af21\n"
              "match.address = 10.1.0.0/16, 2001:db8::/32, 192.0.2.7, ::ffff:198.51.100.0/120\n"
              "[b]\ncongestion = bbr\ntos = 16\n");
    cr_assert_str_eq(errors_of(p), "");
    const struct sf_rule *a = rule(p, "a"), *b = rule(p, "b");
    cr_expect_str_eq(sf_policy_name(p, a->value[SF_OPT_BIND_DEVICE]), "eth1");
    cr_expect_str_eq(sf_policy_name(p, a->value[SF_OPT_CONGESTION]), "bbr");
    cr_expect_eq(a->value[SF_OPT_CONGESTION], b->value[SF_OPT_CONGESTION], "one copy of a name");
    cr_expect_eq(a->value[SF_OPT_TOS], 18 << 2, "dscp af21 is tos 0x48");
    cr_expect_eq(b->value[SF_OPT_TOS], 16);
    cr_assert_eq(a->naddrs, 4);
    cr_expect_eq(a->addrs[0].family, SF_FAMILY_IPV4);
    cr_expect_eq(a->addrs[0].prefix, 16);
    cr_expect_eq(a->addrs[1].family, SF_FAMILY_IPV6);
    cr_expect_eq(a->addrs[1].prefix, 32);
    cr_expect_eq(a->addrs[2].prefix, 32);
    cr_expect_eq(a->addrs[3].family, SF_FAMILY_IPV4, "v4-mapped is IPv4");
    cr_expect_eq(a->addrs[3].prefix, 24);
    char buf[32];
    sf_policy_format_value(p, &sf_options[SF_OPT_BIND_DEVICE], a->value[SF_OPT_BIND_DEVICE], buf,
                           sizeof buf);
    cr_expect_str_eq(buf, "eth1");
    sf_policy_free(p);

    expect_errors("[a]\ntos = 8\ndscp = ef\n[b]\ndscp = ef\ndscp = af11\n[c]\ndscp = af51\n"
                  "[d]\nmatch.address = 10.0.0.0/33, 300.1.1.1, ::1/129, ::ffff:10.0.0.0/64\n"
                  "[e]\nmatch.family = ipv4\nv6only = yes\n",
                  "t.ini:3: dscp: tos and dscp set the same option (first set on line 2)\n"
                  "t.ini:6: duplicate key \"dscp\" (first set on line 5)\n"
                  "t.ini:8: dscp: \"af51\" is not a DSCP (ef, af11..af43, cs0..cs7, le, or "
                  "0..63)\n"
                  "t.ini:10: match.address: \"10.0.0.0/33\" has a bad prefix length (0..32)\n"
                  "t.ini:13: v6only applies to ipv6 sockets only; this rule matches ipv4\n");
}

Test(policy, precedence)
{
    struct sf_policy *p = parse("[r]\nkeepcnt = 3\n");
    cr_expect_eq(p->precedence, SF_PRECEDENCE_PROGRAM, "the default");
    sf_policy_free(p);
    p = parse("[sockfix]\nprecedence = policy\n");
    cr_expect_eq(p->precedence, SF_PRECEDENCE_POLICY);
    sf_policy_free(p);
    p = parse("[sockfix]\nprecedence = program\n");
    cr_expect_eq(p->precedence, SF_PRECEDENCE_PROGRAM);
    sf_policy_free(p);
    expect_errors("[sockfix]\nprecedence = kernel\nprecedence = policy\n",
                  "t.ini:2: precedence: \"kernel\" is not one of program, policy\n"
                  "t.ini:3: duplicate key \"precedence\" (first set on line 2)\n");
}

Test(policy, defaults_when_keys_are_absent)
{
    struct sf_policy *p = parse("[any]\nkeepalive = on\n");
    cr_assert_str_eq(errors_of(p), "");
    cr_expect_eq(p->log_level, SF_LOG_WARN);
    cr_expect_not(p->log_set);
    cr_expect_not(p->strict);
    const struct sf_rule *r = rule(p, "any");
    cr_expect_eq(r->types, SF_TYPE_TCP, "no match.type means TCP only");
    cr_expect_eq(r->roles, 0);
    cr_expect_eq(r->families, 0);
    cr_expect_eq(r->nports, 0);
    cr_expect_eq(r->nprograms, 0);
    cr_expect_eq(r->set, SF_OPT_BIT(SF_OPT_KEEPALIVE));
    sf_policy_free(p);
}

Test(policy, lists_take_commas_and_spaces)
{
    struct sf_policy *p = parse("[r]\nmatch.type = udp,tcp\nmatch.role = client server\n"
                                "match.family=ipv6 ,ipv4\nmatch.port = 1,65535 , 10-20\n"
                                "reuseaddr = 1\n");
    cr_assert_str_eq(errors_of(p), "");
    const struct sf_rule *r = rule(p, "r");
    cr_expect_eq(r->types, SF_TYPE_TCP | SF_TYPE_UDP);
    cr_expect_eq(r->roles, SF_ROLE_SERVER | SF_ROLE_CLIENT);
    cr_expect_eq(r->families, SF_FAMILY_IPV4 | SF_FAMILY_IPV6);
    cr_expect_eq(r->nports, 3);
    sf_policy_free(p);
}

Test(policy, layout_indentation_crlf_bom_and_comments)
{
    struct sf_policy *p = parse("\xEF\xBB\xBF; comment\r\n"
                                "# another comment\r\n"
                                "[  spaced  ]   ; trailing comment\r\n"
                                "    keepidle = 61\r\n"
                                "    keepintvl = 11 ; inline\r\n"
                                "\tkeepcnt\t=\t4\r\n"
                                "\r\n");
    cr_assert_str_eq(errors_of(p), "");
    const struct sf_rule *r = rule(p, "spaced");
    cr_expect_eq(r->value[SF_OPT_KEEPIDLE], 61);
    cr_expect_eq(r->value[SF_OPT_KEEPINTVL], 11);
    cr_expect_eq(r->value[SF_OPT_KEEPCNT], 4);
    cr_expect_eq(r->value_line[SF_OPT_KEEPCNT], 6);
    sf_policy_free(p);
}

Test(policy, empty_and_comment_only_files_have_no_rules)
{
    const char *texts[] = {"", "\n\n", "; nothing\n# here\n", "[sockfix]\n"};
    for (size_t i = 0; i < 4; i++) {
        struct sf_policy *p = parse(texts[i]);
        cr_expect_str_eq(errors_of(p), "");
        cr_expect_eq(p->nrules, 0);
        sf_policy_free(p);
    }
}

Test(policy, unknown_keys)
{
    expect_errors("[r]\nkeepidel = 5\n", "t.ini:2: unknown key \"keepidel\" in [r]\n");
    expect_errors("[r]\nmatch.user = root\n", "t.ini:2: unknown key \"match.user\" in [r]\n");
    expect_errors("[sockfix]\nverbose = yes\n", "t.ini:2: unknown key \"verbose\" in [sockfix]\n");
    expect_errors("[r]\nKeepIdle = 5\n", "t.ini:2: unknown key \"KeepIdle\" in [r]\n");
}

Test(policy, bad_values_name_the_key)
{
    expect_errors("[r]\nreuseaddr = maybe\n",
                  "t.ini:2: reuseaddr: \"maybe\" is not a boolean (use yes/no, on/off, "
                  "true/false, 1/0)\n");
    expect_errors("[r]\nkeepidle = 40000\n",
                  "t.ini:2: keepidle: \"40000\" is out of range (1s..32767s)\n");
    expect_errors("[r]\nkeepidle =\n",
                  "t.ini:2: keepidle: \"\" is not a duration (use 45, 45s, 500ms, 2m or 1h)\n");
    expect_errors("[sockfix]\nlog = loud\n",
                  "t.ini:2: log: \"loud\" is not a log level (use off, error, warn, info, "
                  "debug)\n");
    expect_errors("[sockfix]\nstrict = perhaps\n",
                  "t.ini:2: strict: \"perhaps\" is not a boolean (use yes/no, on/off, "
                  "true/false, 1/0)\n");
}

Test(policy, bad_match_lists)
{
    expect_errors("[r]\nmatch.port =\n", "t.ini:2: match.port: empty match list\n");
    expect_errors("[r]\nmatch.program = , ,\n", "t.ini:2: match.program: empty match list\n");
    expect_errors("[r]\nmatch.port = 70000\n",
                  "t.ini:2: match.port: \"70000\" is out of range (1..65535)\n");
    expect_errors("[r]\nmatch.port = 0\n",
                  "t.ini:2: match.port: \"0\" is out of range (1..65535)\n");
    expect_errors("[r]\nmatch.port = http\n",
                  "t.ini:2: match.port: \"http\" is not a port or a range of ports (8080, "
                  "9000-9100)\n");
    expect_errors("[r]\nmatch.port = 9100-9000\n",
                  "t.ini:2: match.port: \"9100-9000\" is an empty range\n");
    expect_errors("[r]\nmatch.port = 80-\n",
                  "t.ini:2: match.port: \"80-\" is not a port or a range of ports (8080, "
                  "9000-9100)\n");
    expect_errors("[r]\nmatch.role = listener\n",
                  "t.ini:2: match.role: \"listener\" is not one of server, client\n");
    expect_errors("[r]\nmatch.family = inet\n",
                  "t.ini:2: match.family: \"inet\" is not one of ipv4, ipv6\n");
    expect_errors("[r]\nmatch.type = sctp\n",
                  "t.ini:2: match.type: \"sctp\" is not one of tcp, udp\n");
}

Test(policy, syntax_errors)
{
    expect_errors("[r]\nkeepidle 60\n", "t.ini:2: expected \"key = value\" or \"[section]\"\n");
    expect_errors("[r\nkeepidle = 60\n", "t.ini:1: section header without \"]\"\n");
    expect_errors("[r ; comment]\n", "t.ini:1: section header without \"]\"\n");
    expect_errors("[r] x\n", "t.ini:1: unexpected text after the section header\n");
    expect_errors("[]\n", "t.ini:1: invalid section name \"\" (use letters, digits and - _ . : "
                          "@ / +)\n");
    expect_errors("[a b]\n", "t.ini:1: invalid section name \"a b\" (use letters, digits and - "
                             "_ . : @ / +)\n");
    expect_errors("keepidle = 60\n[r]\n", "t.ini:1: key \"keepidle\" outside of a section\n");
    expect_errors("[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
                  "t.ini:1: section name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" "
                  "is longer than 49 characters\n");
}

Test(policy, duplicates)
{
    expect_errors("[r]\nkeepidle = 5\nkeepidle = 6\n",
                  "t.ini:3: duplicate key \"keepidle\" (first set on line 2)\n");
    expect_errors("[r]\nmatch.port = 1\nmatch.port = 2\n",
                  "t.ini:3: duplicate key \"match.port\" (first set on line 2)\n");
    expect_errors("[r]\nkeepidle = 5\n[q]\n[r]\nkeepidle = 6\n",
                  "t.ini:4: duplicate section [r] (first on line 1)\n");
    expect_errors("[sockfix]\n[sockfix]\nlog = info\n", "t.ini:2: duplicate section [sockfix]\n");
    expect_errors("[sockfix]\nlog = info\nlog = warn\n",
                  "t.ini:3: duplicate key \"log\" (first set on line 2)\n");
}

Test(policy, options_that_cannot_apply_to_what_the_rule_matches)
{
    expect_errors("[u]\nmatch.type = udp\nkeepalive = yes\n",
                  "t.ini:3: keepalive applies to tcp sockets only; this rule matches udp\n");
    expect_errors("[c]\nmatch.role = client\nbacklog = 10\nreuseaddr = yes\n",
                  "t.ini:3: backlog applies to server sockets only; this rule matches client\n"
                  "t.ini:4: reuseaddr applies to server sockets only; this rule matches client\n");
    /* mixed sets are fine: each socket gets what applies to it */
    struct sf_policy *p = parse("[m]\nmatch.type = tcp, udp\nreuseaddr = yes\nkeepalive = yes\n");
    cr_expect_str_eq(errors_of(p), "");
    sf_policy_free(p);
}

Test(policy, every_error_in_line_order)
{
    expect_errors("[u]\n"
                  "match.type = udp\n"
                  "keepidle = 5\n"
                  "keepcnt = x\n"
                  "[ok]\n"
                  "bogus\n"
                  "nodelay = 2\n",
                  "t.ini:3: keepidle applies to tcp sockets only; this rule matches udp\n"
                  "t.ini:4: keepcnt: \"x\" is not a whole number\n"
                  "t.ini:6: expected \"key = value\" or \"[section]\"\n"
                  "t.ini:7: nodelay: \"2\" is not a boolean (use yes/no, on/off, true/false, "
                  "1/0)\n");
}

Test(policy, hostile_bytes)
{
    static const char nul[] = "[r]\nkeepidle = 5\0junk\nkeepcnt = 3\n";
    struct sf_policy *p = sf_policy_parse(nul, sizeof nul - 1, "t.ini");
    cr_expect_str_eq(errors_of(p), "t.ini:2: NUL byte in line\n");
    sf_policy_free(p);

    char longline[400];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, "[r]\nkeepidle = ", 15);
    longline[sizeof longline - 1] = '\0';
    expect_errors(longline, "t.ini:2: line is too long (395 characters; at most 197)\n");

    expect_errors("[r]\nkeepidle = \x1b[2J\xff\n",
                  "t.ini:2: keepidle: \"\\x1b[2J\\xff\" is not a duration (use 45, 45s, 500ms, "
                  "2m or 1h)\n");
}

Test(policy, numbers_zero_negative_and_past_64_bits)
{
    expect_errors("[r]\n"
                  "keepidle = 18446744073709551616\n"
                  "keepcnt = -1\n"
                  "keepintvl = 0\n"
                  "backlog = 99999999999999999999999999\n"
                  "user_timeout = -5s\n"
                  "match.port = 0, 65536\n",
                  "t.ini:2: keepidle: \"18446744073709551616\" is out of range (1s..32767s)\n"
                  "t.ini:3: keepcnt: \"-1\" is not a whole number\n"
                  "t.ini:4: keepintvl: \"0\" is out of range (1s..32767s)\n"
                  "t.ini:5: backlog: \"99999999999999999999999999\" is out of range (1..65535)\n"
                  "t.ini:6: user_timeout: \"-5s\" is not a duration (use 45, 45s, 500ms, 2m or "
                  "1h)\n"
                  "t.ini:7: match.port: \"0\" is out of range (1..65535)\n");
}

Test(policy, too_many_errors_stop_the_parser)
{
    /* A megabyte of bad lines must not become a million messages. */
    size_t n = 200000;
    char *text = malloc(n * 2 + 8), *w = text;
    w += sprintf(w, "[r]\n");
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "x\n");
    struct sf_policy *p = sf_policy_parse(text, (size_t)(w - text), "t.ini");
    cr_assert_eq(p->nerrors, SF_MAX_ERRORS + 1);
    char line[256];
    sf_error_format(p, &p->errors[0], line, sizeof line);
    cr_expect_str_eq(line, "t.ini:2: expected \"key = value\" or \"[section]\"");
    sf_error_format(p, &p->errors[SF_MAX_ERRORS - 1], line, sizeof line);
    cr_expect_str_eq(line, "t.ini:101: expected \"key = value\" or \"[section]\"");
    sf_error_format(p, &p->errors[SF_MAX_ERRORS], line, sizeof line);
    cr_expect_str_eq(line, "t.ini: too many errors (100); stopped reading after line 101");
    sf_policy_free(p);
    free(text);

    /* 100 errors exactly: no note. */
    char exact[1024] = "[r]\n";
    for (int i = 0; i < SF_MAX_ERRORS; i++)
        strcat(exact, "x\n");
    p = parse(exact);
    cr_expect_eq(p->nerrors, SF_MAX_ERRORS);
    sf_policy_free(p);
}

Test(policy, the_file_name_in_messages_is_escaped)
{
    struct sf_policy *p = sf_policy_parse("x\n", 2, "/tmp/\x1b]0;owned\x07.ini");
    cr_expect_str_eq(errors_of(p), "/tmp/\\x1b]0;owned\\x07.ini:1: expected \"key = value\" or "
                                   "\"[section]\"\n");
    sf_policy_free(p);
}

Test(policy, many_sections_load_quickly_enough_to_finish)
{
    /* 100 000 sections: duplicate detection must not be quadratic. */
    size_t n = 100000, cap = n * 24;
    char *text = malloc(cap), *w = text;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "[r%zu]\nkeepcnt = 3\n", i);
    struct sf_policy *p = sf_policy_parse(text, (size_t)(w - text), "big.ini");
    cr_assert_not_null(p);
    cr_expect_eq(p->nerrors, 0);
    cr_expect_eq(p->nrules, n);
    sf_policy_free(p);
    free(text);
}

Test(policy, program_selection)
{
    struct sf_policy *p = parse("[a]\nmatch.program = nginx\nkeepcnt = 1\n"
                                "[b]\nmatch.program = python3*, perl\nkeepcnt = 2\n"
                                "[c]\nkeepcnt = 3\n");
    const char *names[] = {"python3.11", "python3"};
    sf_policy_select_program(p, names, 2);
    cr_assert_eq(p->nactive, 2);
    cr_expect_str_eq(p->rules[p->active[0]].name, "b");
    cr_expect_str_eq(p->rules[p->active[1]].name, "c");
    sf_policy_free(p);
}

/* ---- files ---- */

static char *temp_path(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/sockfix-unit-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(buf);
    cr_assert(fd >= 0);
    close(fd);
    return buf;
}

Test(policy_file, unreadable_things_are_reported_not_parsed)
{
    struct sf_policy *p = sf_policy_load_file("/nonexistent/x.ini");
    cr_expect_str_eq(errors_of(p), "/nonexistent/x.ini: No such file or directory\n");
    sf_policy_free(p);
    p = sf_policy_load_file("/tmp");
    cr_expect_str_eq(errors_of(p), "/tmp: is a directory, not a policy file\n");
    sf_policy_free(p);
    p = sf_policy_load_file("/dev/zero");
    cr_expect_str_eq(errors_of(p), "/dev/zero: is not a regular file\n");
    sf_policy_free(p);
}

Test(policy_file, a_fifo_does_not_block, .timeout = 10)
{
    char path[64];
    temp_path(path, sizeof path);
    unlink(path);
    cr_assert(mkfifo(path, 0600) == 0);
    struct sf_policy *p = sf_policy_load_file(path);
    char want[128];
    snprintf(want, sizeof want, "%s: is not a regular file\n", path);
    cr_expect_str_eq(errors_of(p), want);
    sf_policy_free(p);
    unlink(path);
}

Test(policy_file, oversized_files_are_refused)
{
    char path[64];
    temp_path(path, sizeof path);
    cr_assert(truncate(path, 100 * 1024 * 1024) == 0); /* sparse: 100 MB */
    struct sf_policy *p = sf_policy_load_file(path);
    char want[160];
    snprintf(want, sizeof want, "%s: is too large (104857600 bytes; at most 1048576)\n", path);
    cr_expect_str_eq(errors_of(p), want);
    sf_policy_free(p);
    unlink(path);
}

Test(policy_file, a_file_of_exactly_the_limit_is_read)
{
    char path[64];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    static const char head[] = "[r]\nkeepcnt = 3\n";
    fputs(head, f);
    for (long n = (long)strlen(head); n < SF_POLICY_MAX_BYTES; n++)
        fputc(n % 64 == 63 ? '\n' : ';', f);
    fclose(f);
    struct sf_policy *p = sf_policy_load_file(path);
    cr_expect_str_eq(errors_of(p), "");
    cr_expect_eq(p->nrules, 1);
    sf_policy_free(p);
    cr_assert(truncate(path, SF_POLICY_MAX_BYTES + 1) == 0);
    p = sf_policy_load_file(path);
    char want[160];
    snprintf(want, sizeof want, "%s: is too large (1048577 bytes; at most 1048576)\n", path);
    cr_expect_str_eq(errors_of(p), want);
    sf_policy_free(p);
    unlink(path);
}

Test(policy_file, reading_into_a_small_buffer)
{
    char path[64], buf[16], err[128] = "";
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    fputs("[r]\nkeepcnt=3\n", f); /* 14 bytes */
    fclose(f);
    cr_expect_eq(sf_policy_read(path, (unsigned)geteuid(), buf, sizeof buf, err, sizeof err), 14);
    cr_expect_arr_eq(buf, "[r]\nkeepcnt=3\n", 14);
    cr_expect_eq(sf_policy_read(path, (unsigned)geteuid(), buf, 14, err, sizeof err), -2);
    cr_expect_eq(
        sf_policy_read("/nonexistent", (unsigned)geteuid(), buf, sizeof buf, err, sizeof err), -1);
    cr_expect_str_eq(err, "No such file or directory");
    unlink(path);
}

Test(policy_file, errors_carry_the_file_name)
{
    char path[64];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    fputs("[r]\nkeepcnt = 0\n", f);
    fclose(f);
    struct sf_policy *p = sf_policy_load_file(path);
    char want[160];
    snprintf(want, sizeof want, "%s:2: keepcnt: \"0\" is out of range (1..127)\n", path);
    cr_expect_str_eq(errors_of(p), want);
    sf_policy_free(p);
    unlink(path);
}

Test(policy_file, root_trusts_only_root_owned_files_nobody_else_can_write)
{
    char err[192];
    struct stat st = {.st_mode = S_IFREG | 0644, .st_uid = 0};
    cr_expect_eq(sf_policy_check_owner(&st, 0, err, sizeof err), 0);
    st.st_mode = S_IFREG | 0600;
    cr_expect_eq(sf_policy_check_owner(&st, 0, err, sizeof err), 0);
    st.st_mode = S_IFREG | 0664;
    cr_expect_eq(sf_policy_check_owner(&st, 0, err, sizeof err), -1);
    cr_expect_str_eq(err, "is writable by its group (mode 0664); a process running as root "
                          "refuses it (chmod go-w)");
    st.st_mode = S_IFREG | 0646;
    cr_expect_eq(sf_policy_check_owner(&st, 0, err, sizeof err), -1);
    cr_expect_str_eq(err, "is writable by others (mode 0646); a process running as root "
                          "refuses it (chmod go-w)");
    st.st_mode = S_IFREG | 0644;
    st.st_uid = 1000;
    cr_expect_eq(sf_policy_check_owner(&st, 0, err, sizeof err), -1);
    cr_expect_str_eq(err, "is owned by uid 1000; a process running as root only reads a "
                          "policy owned by root");
    /* Another user's process reads what it can read. */
    st.st_mode = S_IFREG | 0666;
    cr_expect_eq(sf_policy_check_owner(&st, 1000, err, sizeof err), 0);
    cr_expect_eq(sf_policy_check_owner(&st, 1001, err, sizeof err), 0);
}

Test(policy_file, a_root_process_refuses_a_writable_file)
{
    if (geteuid() != 0)
        cr_skip_test("needs root: the check applies to processes running as root");
    char path[64];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    fputs("[r]\nkeepcnt = 3\n", f);
    fclose(f);
    cr_assert(chmod(path, 0666) == 0);
    struct sf_policy *p = sf_policy_load_file(path);
    char want[256];
    snprintf(want, sizeof want,
             "%s: is writable by others (mode 0666); a process running as root refuses it "
             "(chmod go-w)\n",
             path);
    cr_expect_str_eq(errors_of(p), want);
    cr_expect_eq(p->nrules, 0);
    sf_policy_free(p);
    cr_assert(chmod(path, 0644) == 0 && chown(path, 65534, 65534) == 0);
    p = sf_policy_load_file(path);
    snprintf(want, sizeof want,
             "%s: is owned by uid 65534; a process running as root only reads a policy owned "
             "by root\n",
             path);
    cr_expect_str_eq(errors_of(p), want);
    sf_policy_free(p);
    cr_assert(chown(path, 0, 0) == 0);
    p = sf_policy_load_file(path);
    cr_expect_str_eq(errors_of(p), "");
    cr_expect_eq(p->nrules, 1);
    sf_policy_free(p);
    unlink(path);
}

Test(policy_file, a_million_sections_are_refused_by_size)
{
    char path[64];
    temp_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 1000000; i++)
        fprintf(f, "[s%d]\n", i);
    fclose(f);
    struct sf_policy *p = sf_policy_load_file(path);
    char want[160];
    snprintf(want, sizeof want, "%s: is too large (9888890 bytes; at most 1048576)\n", path);
    cr_expect_str_eq(errors_of(p), want);
    sf_policy_free(p);
    unlink(path);
}

/* ---- the built-in default ---- */

static void expect_same_policy(const struct sf_policy *a, const struct sf_policy *b)
{
    cr_assert_eq(a->nrules, b->nrules);
    cr_expect_eq(a->log_level, b->log_level);
    cr_expect_eq(a->strict, b->strict);
    for (size_t i = 0; i < a->nrules; i++) {
        const struct sf_rule *x = &a->rules[i], *y = &b->rules[i];
        cr_expect_str_eq(x->name, y->name);
        cr_expect_eq(x->line, y->line);
        cr_expect_eq(x->roles, y->roles);
        cr_expect_eq(x->families, y->families);
        cr_expect_eq(x->types, y->types);
        cr_expect_eq(x->nports, y->nports);
        cr_expect_eq(x->nprograms, y->nprograms);
        cr_expect_eq(x->set, y->set);
        cr_expect_arr_eq(x->value, y->value, sizeof x->value);
    }
}

Test(builtin, is_config_sockfix_ini)
{
    struct sf_policy *file = sf_policy_load_file(SOURCE_DIR "/config/sockfix.ini");
    struct sf_policy *builtin = sf_policy_builtin();
    cr_assert_str_eq(errors_of(file), "");
    cr_assert_str_eq(errors_of(builtin), "");
    expect_same_policy(file, builtin);

    FILE *f = fopen(SOURCE_DIR "/config/sockfix.ini", "rb");
    static char text[65536];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    cr_expect_eq(n, sf_builtin_policy_len);
    cr_expect_arr_eq(text, sf_builtin_policy_text, n);
    sf_policy_free(file);
    sf_policy_free(builtin);
}

Test(builtin, says_what_the_documentation_says)
{
    struct sf_policy *p = sf_policy_builtin();
    cr_assert_str_eq(p->source, SF_BUILTIN_SOURCE);
    const struct sf_rule *servers = rule(p, "servers");
    cr_expect_eq(servers->roles, SF_ROLE_SERVER);
    cr_expect_eq(servers->set, SF_OPT_BIT(SF_OPT_REUSEADDR));
    cr_expect_eq(servers->value[SF_OPT_REUSEADDR], 1);
    const struct sf_rule *ka = rule(p, "keepalive");
    cr_expect_eq(ka->roles, 0);
    cr_expect_eq(ka->types, SF_TYPE_TCP);
    cr_expect_eq(ka->value[SF_OPT_KEEPALIVE], 1);
    cr_expect_eq(ka->value[SF_OPT_KEEPIDLE], 60);
    cr_expect_eq(ka->value[SF_OPT_KEEPINTVL], 10);
    cr_expect_eq(ka->value[SF_OPT_KEEPCNT], 6);
    cr_expect_eq(p->log_level, SF_LOG_WARN);
    cr_expect_not(p->strict);
    sf_policy_free(p);
}

Test(policy_file, every_shipped_example_is_valid)
{
    FILE *ls = popen("ls " SOURCE_DIR "/config/examples/*.ini", "r");
    cr_assert_not_null(ls);
    char path[512];
    int n = 0;
    while (fgets(path, sizeof path, ls)) {
        path[strcspn(path, "\n")] = '\0';
        struct sf_policy *p = sf_policy_load_file(path);
        cr_expect_str_eq(errors_of(p), "", "%s", path);
        cr_expect_gt(p->nrules, 0, "%s", path);
        sf_policy_free(p);
        n++;
    }
    pclose(ls);
    cr_expect_gt(n, 0, "no examples found");
}
