/* JSON API client for integration tests (see api.h). */
#include "api.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct th_api th_api_call(const char *base, const char *method, const char *path, const char *token,
                          const char *body) {
    struct th_api r;
    memset(&r, 0, sizeof r);
    char url[1024], auth[512], *head = NULL;
    snprintf(url, sizeof url, "%s%s", base, path);
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    if (token && *token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[1] = auth;
    }
    r.status = th_http_full(method, url, body, headers, &r.body, &head);
    cr_assert(r.status != 0, "%s %s: no response", method, url);
    r.json = r.body ? json_loads(r.body, JSON_DECODE_ANY, NULL) : NULL;
    th_header(head, "Retry-After", r.retry_after, sizeof r.retry_after);
    th_header(head, "Cache-Control", r.cache_control, sizeof r.cache_control);
    free(head);
    return r;
}

void th_api_free(struct th_api *r) {
    json_decref(r->json);
    free(r->body);
    memset(r, 0, sizeof *r);
}

const char *th_jstr(const json_t *j, const char *key) {
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

const char *th_api_code(const struct th_api *r) { return th_jstr(json_object_get(r->json, "error"), "code"); }

bool th_api_problem(const struct th_api *r, const char *field, const char *rule) {
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(r->json, "error"), "problems"), i, p) {
        if (strcmp(th_jstr(p, "field"), field) == 0 && strcmp(th_jstr(p, "rule"), rule) == 0)
            return true;
    }
    return false;
}

size_t th_api_problems(const struct th_api *r) {
    return json_array_size(json_object_get(json_object_get(r->json, "error"), "problems"));
}
