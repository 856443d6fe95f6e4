/* The generic route: one HTTP request, one service call, mapped both ways by the messages'
 * descriptors (lib/pbjson), so the fifty-odd catalog routes are rows of the route table rather
 * than fifty converters. See struct gateway_rpc in gateway.h for the mapping rules. */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "pbjson.h"

static bool has_body(const char *method) {
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
}

/* The body as a JSON object ({} when empty); NULL after adding a problem. */
static json_t *body_object(const struct gateway_req *r, struct problems *p) {
    if (!has_body(r->http->method) || r->http->body_len == 0)
        return json_object();
    json_error_t je;
    json_t *j = json_loadb(r->http->body, r->http->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        problems_add(p, "not_json", "body");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        problems_add(p, "must_be_object", "body");
        return NULL;
    }
    return j;
}

/* A query value as the JSON value its field takes. */
static json_t *query_value(const ProtobufCFieldDescriptor *f, const char *v, struct problems *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            return json_true();
        if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            return json_false();
        problems_add(p, "must_be_boolean", "%s", f->name);
        return NULL;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64: {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || strlen(v) > 18) {
            problems_add(p, "must_be_integer", "%s", f->name);
            return NULL;
        }
        return json_integer(n);
    }
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_ENUM:
        return json_string(v);
    default:
        return NULL;
    }
}

static void add_query(const struct gateway_req *r, const ProtobufCMessageDescriptor *d, json_t *obj,
                      struct problems *p) {
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE ||
            strcmp(f->name, "present_fields") == 0)
            continue;
        const char *v = http_query(r->http, f->name);
        if (!v)
            continue;
        json_t *j = query_value(f, v, p);
        if (j)
            json_object_set_new(obj, f->name, j);
    }
}

/* Empty strings are absent values: null in the API. */
static void nulls(json_t *j) {
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            if (json_is_string(v) && json_string_length(v) == 0)
                json_object_set_new(j, k, json_null());
            else
                nulls(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) nulls(v);
    }
}

json_t *gateway_api_json(const ProtobufCMessage *m) {
    json_t *j = pbjson_from_message(m);
    nulls(j);
    return j;
}

GATEWAY_HANDLER(gateway_rpc_route) {
    const struct gateway_rpc *rpc = r->route->rpc;
    struct problems p;
    problems_init(&p);
    ProtobufCMessage *in = NULL, *out = NULL;
    struct err e = {0};
    json_t *obj = body_object(r, &p);
    if (!obj)
        goto refuse;
    if (protobuf_c_message_descriptor_get_field_by_name(rpc->in, "present_fields")) {
        json_t *keys = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) json_array_append_new(keys, json_string(k));
        json_object_set_new(obj, "present_fields", keys);
    }
    for (int i = 0; i < r->params.n; i++)
        json_object_set_new(obj, r->params.p[i].name, json_string(r->params.p[i].value));
    add_query(r, rpc->in, obj, &p);
    if (problems_any(&p) || pbjson_to_message(rpc->in, obj, &in, &p, &e) != ERR_OK)
        goto refuse;
    char what[96];
    snprintf(what, sizeof what, "%s.%s", rpc->service, rpc->method);
    struct bus_ctx ctx = {.request_id = r->request_id, .actor = r->actor ? &r->actor_pb : NULL, .problems = &p};
    err_code code = bus_call(g->bus, rpc->service, rpc->method, &ctx, in, rpc->out, &out,
                             (int)g->cfg.rpc_timeout_ms, &e);
    if (code != ERR_OK) {
        gateway_fail_problems(res, r, what, code, &e, &p);
    } else if (rpc->status == 204) {
        gateway_no_content(res);
    } else {
        http_response_json(res, rpc->status ? rpc->status : 200, gateway_api_json(out));
        http_response_header(res, "Cache-Control", rpc->cache ? rpc->cache : "private, no-cache");
    }
    goto done;
refuse:
    if (problems_err(&p, &e) == ERR_OK) /* pbjson_to_message failed without a problem: out of memory */
        (void)err_set(&e, ERR_INTERNAL, "request mapping failed");
    gateway_error_problems(res, r, e.code == ERR_OK ? ERR_INVALID : e.code, e.msg, &p);
done:
    json_decref(obj);
    if (in)
        protobuf_c_message_free_unpacked(in, NULL);
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
}
