/* JSON request validation against a declared table of fields: type, presence, length or range,
 * enumerations, formats and nested objects. The first violation is reported with the field's
 * full path ("organization.types[1]") and the rule it broke; unknown keys are refused unless the
 * schema allows them. Pure; thread-safe. */
#ifndef MKT_JSONV_H
#define MKT_JSONV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum jsonv_type { JSONV_STRING, JSONV_INT, JSONV_NUMBER, JSONV_BOOL, JSONV_OBJECT, JSONV_ARRAY };
enum jsonv_format { JSONV_ANY, JSONV_EMAIL, JSONV_UUID, JSONV_TIME };

struct jsonv_schema;

struct jsonv_field {
    const char *name;
    enum jsonv_type type;
    bool required;
    long long min, max;              /* string: length in characters; int: value; array: items.
                                        0,0 = unbounded */
    const char *const *one_of;       /* NULL-terminated allowed strings (strings, string items) */
    enum jsonv_format format;           /* strings and string items */
    const struct jsonv_schema *object;  /* schema of an object, or of array items when items is
                                        JSONV_OBJECT */
    enum jsonv_type items;              /* item type of an array */
    bool unique;                     /* array items must be distinct */
};

struct jsonv_schema {
    const struct jsonv_field *fields;
    size_t count;
    bool allow_unknown;
};

#define JSONV_SCHEMA(arr) {(arr), sizeof(arr) / sizeof((arr)[0]), false}

err_code jsonv_check(const json_t *value, const struct jsonv_schema *schema, struct err *e) MKT_MUST_USE;
/* Parses body (len bytes) and checks it; on success *out is a new reference. */
err_code jsonv_parse(const char *body, size_t len, const struct jsonv_schema *schema, json_t **out,
                  struct err *e) MKT_MUST_USE;
/* A pragmatic e-mail check: local@domain.tld, no spaces or control characters, <= 254 bytes. */
bool jsonv_is_email(const char *s);
/* Number of UTF-8 characters, or -1 when s is not valid UTF-8. */
long long jsonv_utf8_len(const char *s);

#endif
