/* JSON -> protobuf-c by descriptor, the inverse of pbjson_from_message (see pbjson.h), so the
 * gateway maps request bodies onto service messages without one hand-written converter per
 * route. Every field that does not fit is reported as a problem with its JSON path, and the
 * walk goes on, so one refusal names them all. */
#include "pbjson.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define PATH_MAX_LEN PROBLEM_FIELD_MAX

static ProtobufCMessage *object_to(const ProtobufCMessageDescriptor *d, const json_t *obj, const char *path,
                                   struct problems *p);

static bool integer_in(const json_t *v, long long lo, unsigned long long hi, const char *path, struct problems *p,
                       long long *out) {
    if (!json_is_integer(v)) {
        problems_add(p, "must_be_integer", "%s", path);
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (n < lo || (n >= 0 && (unsigned long long)n > hi)) {
        problems_add(p, "out_of_range", "%s", path);
        return false;
    }
    *out = (long long)n;
    return true;
}

/* Writes one value of field f into slot (the field's storage, or one array element). */
static bool value_to(const ProtobufCFieldDescriptor *f, const json_t *v, void *slot, const char *path,
                     struct problems *p) {
    long long n;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (!integer_in(v, INT32_MIN, INT32_MAX, path, p, &n))
            return false;
        *(int32_t *)slot = (int32_t)n;
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!integer_in(v, 0, UINT32_MAX, path, p, &n))
            return false;
        *(uint32_t *)slot = (uint32_t)n;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!integer_in(v, LLONG_MIN, LLONG_MAX, path, p, &n))
            return false;
        *(int64_t *)slot = (int64_t)n;
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!integer_in(v, 0, LLONG_MAX, path, p, &n))
            return false;
        *(uint64_t *)slot = (uint64_t)n;
        return true;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(v)) {
            problems_add(p, "must_be_number", "%s", path);
            return false;
        }
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)slot = (float)json_number_value(v);
        else
            *(double *)slot = json_number_value(v);
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v)) {
            problems_add(p, "must_be_boolean", "%s", path);
            return false;
        }
        *(protobuf_c_boolean *)slot = json_is_true(v);
        return true;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            json_is_string(v) ? protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(v)) : NULL;
        if (!ev) {
            problems_add(p, json_is_string(v) ? "unknown_value" : "must_be_string", "%s", path);
            return false;
        }
        *(int *)slot = ev->value;
        return true;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v)) {
            problems_add(p, "must_be_string", "%s", path);
            return false;
        }
        char *s = strdup(json_string_value(v)); /* jansson strings are valid UTF-8 without NUL */
        if (!s) {
            problems_add(p, "out_of_memory", "%s", path);
            return false;
        }
        *(char **)slot = s;
        return true;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const char *b64 = json_is_string(v) ? json_string_value(v) : NULL;
        size_t cap = b64 ? strlen(b64) / 4 * 3 + 3 : 0, len = 0;
        uint8_t *data = b64 ? malloc(cap ? cap : 1) : NULL;
        if (!b64 || !data ||
            sodium_base642bin(data, cap, b64, strlen(b64), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
            free(data);
            problems_add(p, b64 ? "not_base64" : "must_be_string", "%s", path);
            return false;
        }
        ((ProtobufCBinaryData *)slot)->data = data;
        ((ProtobufCBinaryData *)slot)->len = len;
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        if (!json_is_object(v)) {
            problems_add(p, "must_be_object", "%s", path);
            return false;
        }
        ProtobufCMessage *sub = object_to(f->descriptor, v, path, p);
        if (!sub)
            return false;
        *(ProtobufCMessage **)slot = sub;
        return true;
    }
    }
    return false;
}

/* Marks a singular field present where protobuf-c keeps presence apart from the value. */
static void mark_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    char *base = (char *)m;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(base + f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
}

/* A map field is a repeated <Name>Entry message of fields key (1) and value (2). */
static bool is_map(const ProtobufCFieldDescriptor *f) {
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t n = strlen(d->short_name);
    return d->n_fields == 2 && n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 &&
           strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

/* {"k": v, ...} as the entries [{"key": "k", "value": v}, ...] (a new array). */
static json_t *map_entries(const json_t *obj) {
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) json_array_append_new(arr, json_pack("{s:s,s:O}", "key", k, "value", v));
    return arr;
}

static void field_to(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const json_t *v, const char *path,
                     struct problems *p) {
    char *slot = (char *)m + f->offset;
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
        if (value_to(f, v, slot, path, p))
            mark_present(m, f);
        return;
    }
    if (is_map(f)) {
        if (!json_is_object(v)) {
            problems_add(p, "must_be_object", "%s", path);
            return;
        }
        json_t *entries = map_entries(v);
        size_t n = json_array_size(entries), kept = 0;
        ProtobufCMessage **arr = n ? calloc(n, sizeof *arr) : NULL;
        for (size_t i = 0; i < n && arr; i++) {
            char item_path[PATH_MAX_LEN];
            const char *key = json_string_value(json_object_get(json_array_get(entries, i), "key"));
            snprintf(item_path, sizeof item_path, "%s.%s", path, key);
            size_t seen = p->n + p->dropped;
            ProtobufCMessage *entry = object_to(f->descriptor, json_array_get(entries, i), item_path, p);
            if (entry && p->n + p->dropped == seen)
                arr[kept++] = entry;
            else if (entry)
                protobuf_c_message_free_unpacked(entry, NULL);
        }
        json_decref(entries);
        *(size_t *)((char *)m + f->quantifier_offset) = kept;
        *(void **)slot = arr;
        return;
    }
    if (!json_is_array(v)) {
        problems_add(p, "must_be_array", "%s", path);
        return;
    }
    size_t n = json_array_size(v), size = pbjson__elem_size(f->type);
    char *arr = n ? calloc(n, size) : NULL;
    if (n && !arr) {
        problems_add(p, "out_of_memory", "%s", path);
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        char item_path[PATH_MAX_LEN];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        if (value_to(f, json_array_get(v, i), arr + kept * size, item_path, p))
            kept++;
    }
    /* Only the converted items are stored, so the message frees cleanly whatever failed. */
    *(size_t *)((char *)m + f->quantifier_offset) = kept;
    *(void **)slot = arr;
}

static ProtobufCMessage *object_to(const ProtobufCMessageDescriptor *d, const json_t *obj, const char *path,
                                   struct problems *p) {
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (!m) {
        problems_add(p, "out_of_memory", "%s", path);
        return NULL;
    }
    d->message_init(m);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char field_path[PATH_MAX_LEN];
        snprintf(field_path, sizeof field_path, "%s%s%s", path, *path ? "." : "", key);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        if (!f) {
            problems_add(p, "unknown_field", "%s", field_path);
            continue;
        }
        if (json_is_null(v))
            continue; /* null is absent */
        field_to(m, f, v, field_path, p);
    }
    return m;
}

err_code pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *obj, ProtobufCMessage **out,
                           struct problems *p, struct err *e) {
    if (!json_is_object(obj)) {
        problems_add(p, "must_be_object", "body");
        return problems_err(p, e);
    }
    size_t before = p->n + p->dropped;
    ProtobufCMessage *m = object_to(desc, obj, "", p);
    if (m && p->n + p->dropped == before) {
        *out = m;
        return ERR_OK;
    }
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    if (p->n + p->dropped == before)
        problems_add(p, "out_of_memory", "body");
    return problems_err(p, e);
}
