/* Shared plumbing of the emulated API: the error table and envelopes, the lookup across the
 * per-area operation tables (one generic dispatcher in server.c uses it instead of a chain of
 * ifs), and the filter, wildcard, paging and formatting helpers the handlers share. */
#include "api.h"

#include <ctype.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *code;
    const char *type;
    int status;
} errors[API_E__COUNT] = {
    [API_E_AUTH_FAILED] = {"1", "AccessDenied", 401},
    [API_E_METHOD] = {"2", "AccessDenied", 405},
    [API_E_NOT_AUTHORIZED] = {"5", "AccessDenied", 401},
    [API_E_LOCKED] = {"13", "AccessDenied", 401},
    [API_E_THROTTLED] = {"24", "AccessDenied", 429},
    [API_E_INTERNAL] = {"2000", "InternalError", 500},
    [API_E_UNAVAILABLE] = {"2001", "ServiceUnavailable", 503},
    [API_E_INVALID_PARAM] = {"3001", "InvalidParameter", 400},
    [API_E_INVALID_VALUE] = {"4000", "InvalidParameterValue", 400},
    [API_E_NO_OPERATION] = {"4118", "InvalidAction", 404},
    [API_E_NO_IMAGE] = {"5023", "InvalidResource", 400},
    [API_E_NO_VM] = {"5063", "InvalidResource", 400},
    [API_E_NO_PRODUCT_TYPE] = {"5117", "InvalidResource", 400},
    [API_E_NO_USER] = {"5087", "InvalidResource", 400},
    [API_E_NO_GROUP] = {"5088", "InvalidResource", 400},
    [API_E_NO_POLICY] = {"5089", "InvalidResource", 400},
    [API_E_NO_ACCESS_KEY] = {"5090", "InvalidResource", 400},
    [API_E_INVALID_STATE] = {"6003", "InvalidState", 409},
    [API_E_MISSING_PARAM] = {"7000", "MissingParameter", 400},
    [API_E_DUPLICATE] = {"9011", "ResourceConflict", 409},
    [API_E_IN_USE] = {"9029", "ResourceConflict", 409},
};

int api_error_status(enum api_error id) { return errors[id].status; }
const char *api_error_code(enum api_error id) { return errors[id].code; }
const char *api_error_type(enum api_error id) { return errors[id].type; }

json_t *api_error_body(enum api_error id, const char *details, const char *request_id) {
    return json_pack("{s:[{s:s, s:s, s:s}], s:{s:s}}", "Errors", "Code", errors[id].code, "Type", errors[id].type,
                     "Details", details ? details : "", "ResponseContext", "RequestId", request_id);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

enum api_error api_error_from_validation(const char *reason) {
    if (ends_with(reason, ": unknown field"))
        return API_E_INVALID_PARAM;
    if (ends_with(reason, ": required"))
        return API_E_MISSING_PARAM;
    return API_E_INVALID_VALUE;
}

err_code api_fail(struct api_ctx *c, enum api_error id, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->details, sizeof c->details, fmt, ap);
    va_end(ap);
    c->error = id;
    switch (errors[id].status) {
    case 401: return ERR_UNAUTHENTICATED;
    case 404: return ERR_NOT_FOUND;
    case 409: return ERR_CONFLICT;
    case 429: return ERR_THROTTLED;
    case 500: return ERR_INTERNAL;
    case 503: return ERR_UNAVAILABLE;
    default: return id >= API_E_NO_IMAGE && id <= API_E_NO_ACCESS_KEY ? ERR_NOT_FOUND : ERR_INVALID;
    }
}

const struct api_op *api_find_op(const char *name) {
    static const struct api_op *const tables[] = {accounts_ops, images_ops,      tags_ops,     vms_ops,
                                                  product_types_ops, eim_ops, policies_ops, access_keys_ops,
                                                  catalog_ops};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const struct api_op *op = tables[t]; op->name; op++)
            if (strcmp(op->name, name) == 0)
                return op;
    return NULL;
}

static bool same_char(char p, char s, bool fold_case) {
    return fold_case ? tolower((unsigned char)p) == tolower((unsigned char)s) : p == s;
}

bool api_glob_case(const char *p, const char *s, bool fold_case) {
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || (*p && same_char(*p, *s, fold_case))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool api_glob(const char *p, const char *s) { return api_glob_case(p, s, false); }

static const json_t *filter_values(const json_t *filters, const char *key) {
    const json_t *v = filters ? json_object_get(filters, key) : NULL;
    return json_is_array(v) ? v : NULL;
}

bool api_filter_str(const json_t *filters, const char *key, const char *value) {
    const json_t *vals = filter_values(filters, key);
    if (!vals)
        return true;
    size_t i;
    const json_t *v;
    json_array_foreach(vals, i, v) if (strcmp(json_string_value(v), value) == 0) return true;
    return false;
}

bool api_filter_glob(const json_t *filters, const char *key, const char *value) {
    const json_t *vals = filter_values(filters, key);
    if (!vals)
        return true;
    size_t i;
    const json_t *v;
    json_array_foreach(vals, i, v) if (api_glob(json_string_value(v), value)) return true;
    return false;
}

bool api_filter_any(const json_t *filters, const char *key, const struct state_strs *values) {
    const json_t *vals = filter_values(filters, key);
    if (!vals)
        return true;
    size_t i;
    const json_t *v;
    json_array_foreach(vals, i, v) if (state_strs_has(values, json_string_value(v))) return true;
    return false;
}

bool api_filter_tags(const json_t *filters, const struct state_tags *tags) {
    if (!api_filter_any(filters, "TagKeys", &tags->keys) || !api_filter_any(filters, "TagValues", &tags->values))
        return false;
    const json_t *pairs = filter_values(filters, "Tags");
    if (!pairs)
        return true;
    size_t i;
    const json_t *v;
    json_array_foreach(pairs, i, v) {
        const char *kv = json_string_value(v), *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        for (size_t t = 0; t < tags->keys.n; t++)
            if (strlen(tags->keys.v[t]) == klen && strncmp(tags->keys.v[t], kv, klen) == 0 &&
                (!eq || strcmp(tags->values.v[t], eq + 1) == 0))
                return true;
    }
    return false;
}

err_code api_page(struct api_ctx *c, const char *key, json_t *all) {
    size_t total = json_array_size(all), first = 0, per_page = total;
    const json_t *rpp = json_object_get(c->req, "ResultsPerPage");
    const char *token = api_opt(c, "NextPageToken");
    if (rpp)
        per_page = (size_t)json_integer_value(rpp);
    if (token) {
        char *end = NULL;
        unsigned long long off = strtoull(token, &end, 16);
        if (!*token || *end || off > total || strlen(token) != 16) {
            json_decref(all);
            return api_fail(c, API_E_INVALID_VALUE, "invalid NextPageToken");
        }
        first = (size_t)off;
    }
    json_t *page = json_array();
    for (size_t i = first; i < total && i - first < per_page; i++)
        json_array_append(page, json_array_get(all, i));
    json_object_set_new(c->res, key, page);
    if (first + per_page < total) {
        char next[17];
        snprintf(next, sizeof next, "%016zx", first + per_page);
        json_object_set_new(c->res, "NextPageToken", json_string(next));
    }
    json_decref(all);
    return ERR_OK;
}

err_code api_page_eim(struct api_ctx *c, const char *key, json_t *all) {
    size_t total = json_array_size(all), first = 0, per_page = 100;
    const json_t *v = json_object_get(c->req, "ResultsPerPage");
    if (v)
        per_page = (size_t)json_integer_value(v);
    if ((v = json_object_get(c->req, "FirstItem")))
        first = (size_t)json_integer_value(v);
    json_t *page = json_array();
    for (size_t i = first; i < total && i - first < per_page; i++)
        json_array_append(page, json_array_get(all, i));
    json_object_set_new(c->res, key, page);
    json_object_set_new(c->res, "HasMoreItems", json_boolean(first + per_page < total));
    json_object_set_new(c->res, "MaxResultsLimit", json_integer(1000));
    json_object_set_new(c->res, "MaxResultsTruncated", json_false());
    json_decref(all);
    return ERR_OK;
}

const char *api_str(const struct api_ctx *c, const char *key) {
    const char *s = json_string_value(json_object_get(c->req, key));
    return s ? s : "";
}

const char *api_opt(const struct api_ctx *c, const char *key) {
    return json_string_value(json_object_get(c->req, key));
}

json_t *api_time(mkt_time t) {
    char buf[32];
    state_format_time(t, buf);
    return json_string(buf);
}

bool api_chars_ok(const char *s, const char *extra) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alnum && !strchr(extra, ch))
            return false;
    }
    return true;
}

bool api_is_account_id(const char *s) {
    if (strlen(s) != STATE_ACCOUNT_ID_LEN)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

err_code api_check_product_codes(struct api_ctx *c, const json_t *codes) {
    size_t i;
    const json_t *v;
    json_array_foreach(codes, i, v) {
        if (!state_product_type_find(c->st, json_string_value(v)))
            return api_fail(c, API_E_NO_PRODUCT_TYPE, "the product type '%s' does not exist",
                            json_string_value(v));
    }
    return ERR_OK;
}
