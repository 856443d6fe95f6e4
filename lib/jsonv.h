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

enum jv_type { JV_STRING, JV_INT, JV_NUMBER, JV_BOOL, JV_OBJECT, JV_ARRAY };
enum jv_format { JV_ANY, JV_EMAIL, JV_UUID, JV_TIME };

struct jv_schema;

struct jv_field {
    const char *name;
    enum jv_type type;
    bool required;
    long long min, max;              /* string: length in characters; int: value; array: items.
                                        0,0 = unbounded */
    const char *const *one_of;       /* NULL-terminated allowed strings (strings, string items) */
    enum jv_format format;           /* strings and string items */
    const struct jv_schema *object;  /* schema of an object, or of array items when items is
                                        JV_OBJECT */
    enum jv_type items;              /* item type of an array */
    bool unique;                     /* array items must be distinct */
};

struct jv_schema {
    const struct jv_field *fields;
    size_t count;
    bool allow_unknown;
};

#define JV_SCHEMA(arr) {(arr), sizeof(arr) / sizeof((arr)[0]), false}

err_code jv_check(const json_t *value, const struct jv_schema *schema, struct err *e) MKT_MUST_USE;
/* Parses body (len bytes) and checks it; on success *out is a new reference. */
err_code jv_parse(const char *body, size_t len, const struct jv_schema *schema, json_t **out,
                  struct err *e) MKT_MUST_USE;
/* A pragmatic e-mail check: local@domain.tld, no spaces or control characters, <= 254 bytes. */
bool jv_is_email(const char *s);
/* Number of UTF-8 characters, or -1 when s is not valid UTF-8. */
long long jv_utf8_len(const char *s);

#endif
