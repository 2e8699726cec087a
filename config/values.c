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
    case SF_VAL_SIZE:
        r = sf_parse_size(s, &v);
        if (r == -1) {
            snprintf(err, errlen, "%s is not a size (use 65536, 256k or 4m)",
                     sf_quote(s, q, sizeof q));
            return -1;
        }
        break;
    case SF_VAL_U32:
        r = sf_parse_u32(s, &v);
        if (r == -1) {
            snprintf(err, errlen, "%s is not a number (decimal, or hex as 0x...)",
                     sf_quote(s, q, sizeof q));
            return -1;
        }
        break;
    case SF_VAL_NAME:
        if (sf_check_name(s, err, errlen) != 0)
            return -1;
        *out = 0; /* the caller keeps the name itself */
        return 0;
    case SF_VAL_LINGER:
        if (strcmp(s, "off") == 0) {
            *out = -1;
            return 0;
        }
        __attribute__((fallthrough)); /* a duration in whole seconds */
    case SF_VAL_SECONDS:
    case SF_VAL_MILLIS:
        r = sf_parse_duration_ms(s, &v);
        if (r == -1) {
            snprintf(err, errlen,
                     opt->kind == SF_VAL_LINGER
                         ? "%s is not off or a duration (use off, 0, 5s, 1m)"
                         : "%s is not a duration (use 45, 45s, 500ms, 2m or 1h)",
                     sf_quote(s, q, sizeof q));
            return -1;
        }
        if (r == 0 && opt->kind != SF_VAL_MILLIS) {
            if (v % 1000 != 0) {
                snprintf(err, errlen, "%s is not a whole number of seconds",
                         sf_quote(s, q, sizeof q));
                return -1;
            }
            v /= 1000;
        }
        break;
    }
    if (r == -2 || (int64_t)v < opt->min || v > (uint64_t)opt->max) {
        format_range(opt, range, sizeof range);
        snprintf(err, errlen, "%s is out of range (%s)", sf_quote(s, q, sizeof q), range);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

/* Text building without stdio (the library formats values in its hooks). */
struct text {
    char *buf;
    size_t len, used;
};

static void text_put(struct text *t, const char *s)
{
    for (; *s && t->used + 1 < t->len; s++)
        t->buf[t->used++] = *s;
    t->buf[t->used] = '\0';
}

static void text_uint(struct text *t, uint64_t v, const char *unit)
{
    char d[24];
    size_t i = sizeof d;
    d[--i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_put(t, d + i);
    text_put(t, unit);
}

static void text_int(struct text *t, int64_t v, const char *unit)
{
    if (v < 0) {
        text_put(t, "-");
        v = -v;
    }
    text_uint(t, (uint64_t)v, unit);
}

void sf_format_option_value(const struct sf_option *opt, int32_t value, char *buf, size_t len)
{
    if (len == 0)
        return;
    struct text t = {buf, len, 0};
    buf[0] = '\0';
    switch (opt->kind) {
    case SF_VAL_BOOL:
        text_put(&t, value ? "yes" : "no");
        break;
    case SF_VAL_SECONDS:
        text_int(&t, value, "s");
        break;
    case SF_VAL_MILLIS:
        if (value % 1000 == 0)
            text_int(&t, value / 1000, "s");
        else
            text_int(&t, value, "ms");
        break;
    case SF_VAL_COUNT:
        text_int(&t, value, "");
        break;
    case SF_VAL_SIZE:
        if (value >= 1048576 && value % 1048576 == 0)
            text_int(&t, value / 1048576, "m");
        else if (value >= 1024 && value % 1024 == 0)
            text_int(&t, value / 1024, "k");
        else
            text_int(&t, value, "");
        break;
    case SF_VAL_NAME: /* the policy knows the name */
        text_put(&t, "#");
        text_int(&t, value, "");
        break;
    case SF_VAL_LINGER:
        if (value < 0)
            text_put(&t, "off");
        else
            text_int(&t, value, "s");
        break;
    case SF_VAL_U32:
        text_uint(&t, (uint32_t)value, "");
        break;
    }
}

int sf_parse_size(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t n;
    int r = parse_digits(s, &end, UINT64_MAX >> 31, &n);
    if (r != 0)
        return r;
    uint64_t scale = 1;
    if (*end == 'k' || *end == 'K')
        scale = 1024;
    else if (*end == 'm' || *end == 'M')
        scale = 1048576;
    else if (*end == 'g' || *end == 'G')
        scale = 1073741824;
    else if (*end)
        return -1;
    if (*end && end[1])
        return -1;
    *out = n * scale;
    return 0;
}

int sf_parse_u32(const char *s, uint64_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        uint64_t v = 0;
        const char *p = s + 2;
        if (!isxdigit((unsigned char)*p))
            return -1;
        for (; isxdigit((unsigned char)*p); p++) {
            if (v > 0xffffffffu)
                return -2;
            v = v * 16 + (uint64_t)(isdigit((unsigned char)*p)
                                        ? *p - '0'
                                        : (tolower((unsigned char)*p) - 'a' + 10));
        }
        if (*p)
            return -1;
        *out = v;
        return v > 0xffffffffu ? -2 : 0;
    }
    return sf_parse_uint(s, UINT64_MAX, out);
}

int sf_check_name(const char *s, char *err, size_t errlen)
{
    char q[64];
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= SF_NAME_MAX;
    for (const char *p = s; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.' || *p == '@';
    if (!ok) {
        snprintf(err, errlen, "%s is not a name (1 to %d letters, digits and - _ . @)",
                 sf_quote(s, q, sizeof q), SF_NAME_MAX);
        return -1;
    }
    return 0;
}

/* Differentiated services code points by name (RFC 2474, 2597, 3246, 8622). */
int sf_parse_dscp(const char *s, uint64_t *out)
{
    static const struct {
        const char *name;
        unsigned dscp;
    } names[] = {{"cs0", 0},   {"cs1", 8},   {"cs2", 16},  {"cs3", 24},  {"cs4", 32},  {"cs5", 40},
                 {"cs6", 48},  {"cs7", 56},  {"af11", 10}, {"af12", 12}, {"af13", 14}, {"af21", 18},
                 {"af22", 20}, {"af23", 22}, {"af31", 26}, {"af32", 28}, {"af33", 30}, {"af41", 34},
                 {"af42", 36}, {"af43", 38}, {"ef", 46},   {"va", 44},   {"le", 1},    {"be", 0}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].dscp;
            return 0;
        }
    }
    int r = sf_parse_uint(s, UINT64_MAX, out);
    if (r == 0 && *out > 63)
        return -2;
    return r;
}
