/* Lists of (field, rule) problems for refusals that report everything at once (problems.h). */
#include "problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void problems_init(struct problems *p) { memset(p, 0, sizeof *p); }

static void add(struct problems *p, const char *field, const char *rule) {
    if (problems_has(p, field, rule))
        return;
    if (p->n == PROBLEMS_MAX) {
        p->dropped++;
        return;
    }
    struct problem *it = &p->items[p->n++];
    snprintf(it->field, sizeof it->field, "%s", field);
    snprintf(it->rule, sizeof it->rule, "%s", rule);
}

void problems_add(struct problems *p, const char *rule, const char *field_fmt, ...) {
    char field[PROBLEM_FIELD_MAX];
    va_list ap;
    va_start(ap, field_fmt);
    vsnprintf(field, sizeof field, field_fmt, ap);
    va_end(ap);
    add(p, field, rule);
}

void problems_add_err(struct problems *p, const struct err *e) {
    const char *open = strstr(e->msg, "field '");
    const char *close = open ? strstr(open + 7, "': ") : NULL;
    if (!close) {
        add(p, "", e->msg);
        return;
    }
    char field[PROBLEM_FIELD_MAX];
    size_t n = (size_t)(close - (open + 7));
    if (n >= sizeof field)
        n = sizeof field - 1;
    memcpy(field, open + 7, n);
    field[n] = '\0';
    add(p, field, close + 3);
}

bool problems_any(const struct problems *p) { return p->n > 0 || p->dropped > 0; }

bool problems_has(const struct problems *p, const char *field, const char *rule) {
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].field, field) == 0 && strcmp(p->items[i].rule, rule) == 0)
            return true;
    return false;
}

err_code problems_err(const struct problems *p, struct err *e) {
    if (!problems_any(p))
        return ERR_OK;
    char msg[ERR_MSG_MAX];
    size_t total = p->n + p->dropped;
    int off = snprintf(msg, sizeof msg, "%zu problem%s:", total, total == 1 ? "" : "s");
    for (size_t i = 0; i < p->n && off > 0 && (size_t)off < sizeof msg; i++)
        off += snprintf(msg + off, sizeof msg - (size_t)off, "%s %s%s%s", i ? ";" : "", p->items[i].field,
                        p->items[i].field[0] ? ": " : "", p->items[i].rule);
    return err_set(e, ERR_INVALID, "%s", msg);
}
