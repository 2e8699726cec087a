#include "kernel_checks.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "values.h"

bool sf_sysctl_read(const char *name, char *buf, size_t len)
{
    char path[128] = "/proc/sys/";
    size_t n = strlen(path), k = strlen(name);
    if (len == 0 || n + k >= sizeof path)
        return false;
    for (size_t i = 0; i <= k; i++)
        path[n + i] = name[i] == '.' ? '/' : name[i];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t got = read(fd, buf, len - 1);
    close(fd);
    buf[got > 0 ? got : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return got > 0;
}

static bool in_word_list(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *q = list; (q = strstr(q, word)); q += n)
        if ((q == list || isspace((unsigned char)q[-1])) &&
            (q[n] == '\0' || isspace((unsigned char)q[n])))
            return true;
    return false;
}

/* The problem with value v of option id, as "is ..." text, or false. */
static bool problem(const struct sf_policy *p, int id, int32_t v, const char *sysctl,
                    const char *kernel_value, char *text, size_t len)
{
    const struct sf_option *o = &sf_options[id];
    char q[64], value[32];
    if (o->choices_from[0]) {
        const char *name = sf_policy_name(p, v);
        if (in_word_list(name, kernel_value))
            return false;
        snprintf(text, len,
                 "%s is not available on this kernel (available: %s); setting it will fail",
                 sf_quote(name, q, sizeof q), kernel_value);
        return true;
    }
    long max = atol(kernel_value);
    if (max <= 0 || v <= max)
        return false;
    sf_format_option_value(o, v, value, sizeof value);
    snprintf(text, len, "%s is above %s (%ld%s); the kernel caps it", value, sysctl, max,
             o->kind == SF_VAL_SIZE ? " bytes" : "");
    return true;
}

void sf_policy_check_kernel(const struct sf_policy *p, sf_sysctl_reader *read,
                            void (*emit)(const char *line, void *arg), void *arg)
{
    char source[256], kernel_value[256], text[512], line[1024];
    sf_escape(p->source, source, sizeof source);
    for (int id = 0; id < SF_OPT_COUNT; id++) {
        const struct sf_option *o = &sf_options[id];
        const char *sysctl = o->choices_from[0] ? o->choices_from : o->capped_by;
        if (!sysctl[0] || !(p->active_set & SF_OPT_BIT(id)) ||
            !read(sysctl, kernel_value, sizeof kernel_value))
            continue;
        for (size_t i = 0; i < p->nactive; i++) {
            const struct sf_rule *r = &p->rules[p->active[i]];
            if (!(r->set & SF_OPT_BIT(id)) ||
                !problem(p, id, r->value[id], sysctl, kernel_value, text, sizeof text))
                continue;
            snprintf(line, sizeof line, "%s:%u: %s: %s", source, r->value_line[id], o->key, text);
            emit(line, arg);
        }
    }
}
