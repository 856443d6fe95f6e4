/* Generic protobuf-c -> JSON conversion (see pbjson.h). It reads each field straight from the
 * message's memory through the offsets the descriptor gives, so it works for every generated
 * message type without generated JSON code. */
#include "pbjson.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static json_t *message_json(const ProtobufCMessage *m);

json_t *pbjson_base64(const uint8_t *data, size_t n) {
    size_t size = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL); /* with the NUL */
    char *out = malloc(size);
    if (!out)
        return NULL;
    sodium_bin2base64(out, size, data, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_stringn(out, size - 1);
    free(out);
    return j;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    else if ((c & 0xe0) == 0xc0)
        len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static json_t *string_json(const char *s) {
    if (!s)
        return json_string("");
    json_t *j = json_string(s);
    if (j)
        return j;
    /* Not UTF-8 (protobuf-c does not check): keep what is readable. */
    size_t n = strlen(s);
    char *fixed = malloc(3 * n + 1), *p = fixed;
    if (!fixed)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(p, s + i, k);
            p += k, i += k;
        } else {
            memcpy(p, "\xef\xbf\xbd", 3);
            p += 3, i++;
        }
    }
    *p = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}

static json_t *double_json(double d) {
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *enum_json(const ProtobufCEnumDescriptor *ed, int value) {
    const ProtobufCEnumValue *v = ed ? protobuf_c_enum_descriptor_get_value(ed, value) : NULL;
    return v ? json_string(v->name) : json_integer(value);
}

/* One value of field f stored at p. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = *(const uint64_t *)p;
        if (v <= (uint64_t)INT64_MAX)
            return json_integer((json_int_t)v);
        char buf[24];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
        return json_string(buf);
    }
    case PROTOBUF_C_TYPE_FLOAT: return double_json(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return double_json(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: return enum_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: return string_json(*(char *const *)p);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return pbjson_base64(b->data, b->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? message_json(sub) : json_null();
    }
    }
    return json_null();
}

size_t pbjson__elem_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* Whether a singular field is to be shown (see the presence rules in pbjson.h). */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const void *p) {
    const char *base = (const char *)m;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(ProtobufCMessage *const *)p != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (f->type == PROTOBUF_C_TYPE_STRING)
            return *(char *const *)p != NULL && *(char *const *)p != (const char *)f->default_value;
        return f->quantifier_offset && *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    }
    return true; /* required, or proto3 without presence */
}

static json_t *message_json(const ProtobufCMessage *m) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *p = (const char *)m + f->offset;
        json_t *v;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(char *const *)p;
            v = json_array();
            for (size_t k = 0; v && k < n; k++)
                json_array_append_new(v, value_json(f, arr + k * pbjson__elem_size(f->type)));
        } else {
            if (!present(m, f, p))
                continue;
            v = value_json(f, p);
        }
        if (!v || json_object_set_new(obj, f->name, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *pbjson_from_message(const ProtobufCMessage *m) {
    return m ? message_json(m) : NULL;
}

err_code pbjson_from_packed(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, json_t **out,
                            struct err *e) {
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data);
    json_t *j = NULL;
    err_code code = ERR_OK;
    if (!m) {
        code = err_set(e, ERR_INVALID, "payload does not decode as %s", desc->name);
        goto done;
    }
    j = message_json(m);
    if (!j) {
        code = err_set(e, ERR_INTERNAL, "%s: out of memory", desc->name);
        goto done;
    }
    *out = j;
done:
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    return code;
}
