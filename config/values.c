#include "values.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Appends s escaped to buf[*o..], keeping `keep` bytes free for the caller's
 * ending; "..." when it is cut. */
static void escape_into(const char *s, char *buf, size_t len, size_t *o, size_t keep,
                        bool escape_quotes)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = *p >= 0x20 && *p < 0x7f && (!escape_quotes || (*p != '"' && *p != '\\'));
        size_t need = plain ? 1 : 4;
        if (*o + need + 3 + keep > len) { /* room for "..." and the ending */
            memcpy(buf + *o, "...", 3);
            *o += 3;
            return;
        }
        if (plain) {
            buf[(*o)++] = (char)*p;
        } else {
            buf[(*o)++] = '\\';
            buf[(*o)++] = 'x';
            buf[(*o)++] = hex[*p >> 4];
            buf[(*o)++] = hex[*p & 15];
        }
    }
}

char *sf_quote(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 8) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    escape_into(s, buf, len, &o, 2, true); /* `"` and NUL */
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

char *sf_escape(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 8) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    escape_into(s, buf, len, &o, 1, false);
    buf[o] = '\0';
    return buf;
}

int sf_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"yes", "on", "true", "1"};
    static const char *const no[] = {"no", "off", "false", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    char q[64];
    snprintf(err, errlen, "%s is not a boolean (use yes/no, on/off, true/false, 1/0)",
             sf_quote(s, q, sizeof q));
    return -1;
}

/* Digits only, no sign, no spaces; -1 when malformed or above max. */
static int parse_digits(const char *s, const char **end, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *end = p;
    *out = v;
    return 0;
}

int sf_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    const char *end;
    int r = parse_digits(s, &end, max, out);
    if (r != 0)
        return r;
    return *end == '\0' ? 0 : -1;
}

/* Returns 0, -1 when malformed, -2 when too large to represent. */
int sf_parse_duration_ms(const char *s, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        uint64_t scale;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const char *end;
    uint64_t n;
    int r = parse_digits(s, &end, UINT64_MAX / 3600000, &n);
    if (r != 0)
        return r;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            *ms = n * units[i].scale;
            return 0;
        }
    }
    return -1;
}

static void format_range(const struct sf_option *opt, char *buf, size_t len)
{
    size_t n;
    sf_format_option_value(opt, (int32_t)opt->min, buf, len);
    n = strlen(buf);
    if (n + 2 < len) {
        memcpy(buf + n, "..", 3);
        sf_format_option_value(opt, (int32_t)opt->max, buf + n + 2, len - n - 2);
    }
}

int sf_parse_option_value(const struct sf_option *opt, const char *s, int32_t *out, char *err,
                          size_t errlen)
{
    char q[64], range[64];
    uint64_t v = 0;
    int r = 0;

    switch (opt->kind) {
    case SF_VAL_BOOL: {
        bool b;
        if (sf_parse_bool(s, &b, err, errlen) != 0)
            return -1;
        *out = b;
        return 0;
    }
    case SF_VAL_COUNT:
        r = sf_parse_uint(s, UINT64_MAX, &v);
        if (r == -1) {
            snprintf(err, errlen, "%s is not a whole number", sf_quote(s, q, sizeof q));
            return -1;
        }
        break;
    case SF_VAL_SECONDS:
    case SF_VAL_MILLIS:
        r = sf_parse_duration_ms(s, &v);
        if (r == -1) {
            snprintf(err, errlen, "%s is not a duration (use 45, 45s, 500ms, 2m or 1h)",
                     sf_quote(s, q, sizeof q));
            return -1;
        }
        if (r == 0 && opt->kind == SF_VAL_SECONDS) {
            if (v % 1000 != 0) {
                snprintf(err, errlen, "%s is not a whole number of seconds",
                         sf_quote(s, q, sizeof q));
                return -1;
            }
            v /= 1000;
        }
        break;
    }
    if (r == -2 || v < (uint64_t)opt->min || v > (uint64_t)opt->max) {
        format_range(opt, range, sizeof range);
        snprintf(err, errlen, "%s is out of range (%s)", sf_quote(s, q, sizeof q), range);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

void sf_format_option_value(const struct sf_option *opt, int32_t value, char *buf, size_t len)
{
    switch (opt->kind) {
    case SF_VAL_BOOL:
        snprintf(buf, len, "%s", value ? "yes" : "no");
        break;
    case SF_VAL_SECONDS:
        snprintf(buf, len, "%lds", (long)value);
        break;
    case SF_VAL_MILLIS:
        if (value % 1000 == 0)
            snprintf(buf, len, "%lds", (long)value / 1000);
        else
            snprintf(buf, len, "%ldms", (long)value);
        break;
    case SF_VAL_COUNT:
        snprintf(buf, len, "%ld", (long)value);
        break;
    }
}
