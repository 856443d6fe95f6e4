/* Table-driven JSON validation (see jsonv.h). */
#include "jsonv.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "id.h"

static const char *type_name(enum jsonv_type t) {
    static const char *const n[] = {"a string", "an integer", "a number", "a boolean", "an object", "an array"};
    return n[t];
}

static bool has_type(const json_t *v, enum jsonv_type t) {
    switch (t) {
    case JSONV_STRING: return json_is_string(v);
    case JSONV_INT: return json_is_integer(v);
    case JSONV_NUMBER: return json_is_number(v);
    case JSONV_BOOL: return json_is_boolean(v);
    case JSONV_OBJECT: return json_is_object(v);
    case JSONV_ARRAY: return json_is_array(v);
    }
    return false;
}

long long jsonv_utf8_len(const char *s) {
    long long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (extra < 0)
            return -1;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return -1;
        n++;
    }
    return n;
}

bool jsonv_is_email(const char *s) {
    size_t len = strlen(s);
    if (len < 3 || len > 254)
        return false;
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || at - s > 64)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == ';' || *p == '"' ||
            *p == '\\' || *p == 0x7f)
            return false;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0' && !strstr(at + 1, "..") && at[1] != '.';
}

static err_code check_value(const json_t *v, const struct jsonv_field *f, enum jsonv_type type, const char *path,
                            struct err *e);

static err_code check_string(const json_t *v, const struct jsonv_field *f, const char *path, struct err *e) {
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return err_set(e, ERR_INVALID, "field '%s': must not contain NUL characters", path);
    long long len = jsonv_utf8_len(s);
    if (len < 0)
        return err_set(e, ERR_INVALID, "field '%s': must be valid UTF-8", path);
    if (f->max && (len < f->min || len > f->max))
        return err_set(e, ERR_INVALID, "field '%s': must be %lld to %lld characters long (got %lld)", path, f->min,
                       f->max, len);
    if (f->one_of) {
        for (const char *const *o = f->one_of; *o; o++)
            if (strcmp(*o, s) == 0)
                goto format;
        char list[160] = "";
        for (const char *const *o = f->one_of; *o; o++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", o == f->one_of ? "" : ", ", *o);
        return err_set(e, ERR_INVALID, "field '%s': must be one of %s", path, list);
    }
format:
    switch (f->format) {
    case JSONV_ANY: break;
    case JSONV_EMAIL:
        if (!jsonv_is_email(s))
            return err_set(e, ERR_INVALID, "field '%s': must be an e-mail address", path);
        break;
    case JSONV_UUID:
        if (!id_is_uuid(s))
            return err_set(e, ERR_INVALID, "field '%s': must be a UUID", path);
        break;
    case JSONV_TIME: {
        mkt_time t;
        if (clock_parse(s, &t) != 0)
            return err_set(e, ERR_INVALID, "field '%s': must be an ISO 8601 UTC time", path);
        break;
    }
    }
    return ERR_OK;
}

static err_code check_value(const json_t *v, const struct jsonv_field *f, enum jsonv_type type, const char *path,
                            struct err *e) {
    if (!has_type(v, type))
        return err_set(e, ERR_INVALID, "field '%s': must be %s", path, type_name(type));
    switch (type) {
    case JSONV_STRING: return check_string(v, f, path, e);
    case JSONV_INT: {
        long long x = json_integer_value(v);
        if ((f->min || f->max) && (x < f->min || x > f->max))
            return err_set(e, ERR_INVALID, "field '%s': must be from %lld to %lld", path, f->min, f->max);
        return ERR_OK;
    }
    case JSONV_NUMBER: {
        double x = json_number_value(v);
        if ((f->min || f->max) && (x < (double)f->min || x > (double)f->max))
            return err_set(e, ERR_INVALID, "field '%s': must be from %lld to %lld", path, f->min, f->max);
        return ERR_OK;
    }
    case JSONV_BOOL: return ERR_OK;
    case JSONV_OBJECT: {
        if (!f->object)
            return ERR_OK;
        /* nested schema: recurse with the path as prefix */
        const struct jsonv_schema *s = f->object;
        if (!s->allow_unknown) {
            const char *key;
            json_t *val;
            json_object_foreach((json_t *)v, key, val) {
                size_t i = 0;
                while (i < s->count && strcmp(s->fields[i].name, key) != 0)
                    i++;
                if (i == s->count)
                    return err_set(e, ERR_INVALID, "field '%s%s%s': unknown field", path, *path ? "." : "", key);
            }
        }
        for (size_t i = 0; i < s->count; i++) {
            const struct jsonv_field *c = &s->fields[i];
            char sub[200];
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", c->name);
            const json_t *cv = json_object_get(v, c->name);
            if (!cv || json_is_null(cv)) {
                if (c->required)
                    return err_set(e, ERR_INVALID, "field '%s': required", sub);
                continue;
            }
            if (check_value(cv, c, c->type, sub, e) != ERR_OK)
                return e ? e->code : ERR_INVALID;
        }
        return ERR_OK;
    }
    case JSONV_ARRAY: {
        size_t n = json_array_size(v);
        if (f->max && ((long long)n < f->min || (long long)n > f->max))
            return err_set(e, ERR_INVALID, "field '%s': must have %lld to %lld items", path, f->min, f->max);
        struct jsonv_field item = *f; /* items share the field's enum, format and object schema */
        item.min = item.max = 0;
        for (size_t i = 0; i < n; i++) {
            char sub[200];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (check_value(json_array_get(v, i), &item, f->items, sub, e) != ERR_OK)
                return e ? e->code : ERR_INVALID;
            for (size_t j = 0; f->unique && j < i; j++)
                if (json_equal(json_array_get(v, i), json_array_get(v, j)))
                    return err_set(e, ERR_INVALID, "field '%s': duplicate item", sub);
        }
        return ERR_OK;
    }
    }
    return ERR_OK;
}

err_code jsonv_check(const json_t *value, const struct jsonv_schema *schema, struct err *e) {
    struct jsonv_field root = {.name = "", .type = JSONV_OBJECT, .object = schema};
    if (!json_is_object(value))
        return err_set(e, ERR_INVALID, "body: must be a JSON object");
    return check_value(value, &root, JSONV_OBJECT, "", e);
}

err_code jsonv_parse(const char *body, size_t len, const struct jsonv_schema *schema, json_t **out, struct err *e) {
    json_error_t je;
    json_t *v = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return err_set(e, ERR_INVALID, "body: not valid JSON (%s at line %d column %d)", je.text, je.line,
                       je.column);
    if (jsonv_check(v, schema, e) != ERR_OK) {
        json_decref(v);
        return e ? e->code : ERR_INVALID;
    }
    *out = v;
    return ERR_OK;
}
