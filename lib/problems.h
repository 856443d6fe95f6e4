/* Every problem of a refused request at once. A refusal that lists only the first problem makes
 * a seller fix a form one field per round trip; the platform's convention is to answer them all:
 * `{"error":{"code":"invalid","message":"..","problems":[{"field":"description.fr","rule":"required"}]}}`.
 *
 * A `struct problems` is caller-owned storage (no allocation): checks add (field, rule) pairs in
 * the order they run; `problems_err` turns a non-empty list into ERR_INVALID with a one-line
 * message ("2 problems: description.fr: required; offers: required"). Fields are the JSON paths
 * the client sent (`name.en`, `source_omis.eu-west-2`); rules are short lower-case words from a
 * closed vocabulary documented in docs/openapi.yaml (`required`, `too_long`, `not_https`, ...).
 * Not thread-safe per list; lists are per request. */
#ifndef MKT_PROBLEMS_H
#define MKT_PROBLEMS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PROBLEMS_MAX 32
#define PROBLEM_FIELD_MAX 96
#define PROBLEM_RULE_MAX 40

struct problem {
    char field[PROBLEM_FIELD_MAX];
    char rule[PROBLEM_RULE_MAX];
};

struct problems {
    struct problem items[PROBLEMS_MAX];
    size_t n;
    size_t dropped; /* problems beyond PROBLEMS_MAX: counted, not kept */
};

void problems_init(struct problems *p);
/* Adds one problem; the field is a printf format (`"source_omis.%s", region`). A duplicate
 * (same field and rule) is not added twice. */
void problems_add(struct problems *p, const char *rule, const char *field_fmt, ...) MKT_PRINTF(3, 4);
/* Adds the reason of a validation error (`e->msg` of the form "field 'x': rule") as one problem,
 * so single-field validators and lists work together. */
void problems_add_err(struct problems *p, const struct err *e);
bool problems_any(const struct problems *p);
bool problems_has(const struct problems *p, const char *field, const char *rule);
/* ERR_OK when empty, else ERR_INVALID with every problem in the message. */
err_code problems_err(const struct problems *p, struct err *e) MKT_MUST_USE;

#endif
