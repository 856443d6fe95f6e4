/* Table-driven configuration loading with whole-table validation. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static void add_problem(struct err *e, int *count, const char *fmt, const char *env, const char *detail) {
    size_t used = strlen(e->msg);
    if (used >= sizeof e->msg - 1)
        return;
    snprintf(e->msg + used, sizeof e->msg - used, fmt, *count ? "; " : "", env, detail);
    (*count)++;
}

static bool parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

err_code config_load(const struct config_field *fields, size_t n, void *out, struct err *e) {
    struct err local;
    if (!e)
        e = &local;
    err_clear(e);
    int problems = 0;
    char detail[96];
    for (size_t i = 0; i < n; i++) {
        const struct config_field *f = &fields[i];
        const char *v = getenv(f->env);
        if (!v || !*v)
            v = f->def;
        if (!v) {
            add_problem(e, &problems, "%s%s: %s", f->env, "required, not set");
            continue;
        }
        char *dst = (char *)out + f->offset;
        switch (f->type) {
        case CONFIG_STRING: {
            size_t len = strlen(v);
            if ((f->min && (long long)len < f->min) || (f->max && (long long)len > f->max)) {
                snprintf(detail, sizeof detail, "length must be %lld to %lld", f->min, f->max);
                add_problem(e, &problems, "%s%s: %s", f->env, detail);
                continue;
            }
            memcpy(dst, &v, sizeof v);
            break;
        }
        case CONFIG_INT: {
            char *end;
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || end == v || *end || x < f->min || x > f->max) {
                snprintf(detail, sizeof detail, "must be an integer from %lld to %lld", f->min, f->max);
                add_problem(e, &problems, "%s%s: %s", f->env, detail);
                continue;
            }
            memcpy(dst, &x, sizeof x);
            break;
        }
        case CONFIG_BOOL: {
            bool b;
            if (!parse_bool(v, &b)) {
                add_problem(e, &problems, "%s%s: %s", f->env, "must be true or false");
                continue;
            }
            memcpy(dst, &b, sizeof b);
            break;
        }
        case CONFIG_LOG_LEVEL: {
            enum log_level level;
            if (!log_level_parse(v, &level)) {
                add_problem(e, &problems, "%s%s: %s", f->env, "must be debug, info, warn or error");
                continue;
            }
            memcpy(dst, &level, sizeof level);
            break;
        }
        }
    }
    return problems ? (e->code = ERR_INVALID) : ERR_OK;
}

void config_log(const struct config_field *fields, size_t n, const void *cfg) {
    char line[1500];
    size_t used = 0;
    line[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof line; i++) {
        const struct config_field *f = &fields[i];
        const char *src = (const char *)cfg + f->offset;
        char val[256];
        switch (f->type) {
        case CONFIG_STRING: {
            const char *s;
            memcpy(&s, src, sizeof s);
            snprintf(val, sizeof val, "%s", f->secret ? "***" : (s ? s : ""));
            break;
        }
        case CONFIG_INT: {
            long long x;
            memcpy(&x, src, sizeof x);
            snprintf(val, sizeof val, "%lld", x);
            break;
        }
        case CONFIG_BOOL: {
            bool b;
            memcpy(&b, src, sizeof b);
            snprintf(val, sizeof val, "%s", b ? "true" : "false");
            break;
        }
        case CONFIG_LOG_LEVEL: {
            enum log_level level;
            memcpy(&level, src, sizeof level);
            snprintf(val, sizeof val, "%s", log_level_name(level));
            break;
        }
        }
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s=%s", i ? " " : "", f->env, val);
    }
    log_info("config %s", line);
}
