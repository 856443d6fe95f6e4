/* A JSON API client for integration tests: one call returns the status, the parsed body and the
 * headers tests look at, with accessors for the error envelope and its problems. Built on
 * th_http_full (libcurl). Not thread-safe per response; responses are freed with th_api_free. */
#ifndef TH_API_H
#define TH_API_H

#include <jansson.h>
#include <stdbool.h>

struct th_api {
    long status;
    json_t *json;           /* parsed body, or NULL */
    char *body;             /* raw body (malloc'd) */
    char retry_after[16];
    char cache_control[64];
};

/* method base+path [Bearer token] [JSON body]; fails the test when nothing answered. */
struct th_api th_api_call(const char *base, const char *method, const char *path, const char *token,
                          const char *body);
void th_api_free(struct th_api *r);
/* A string member of an object ("" when absent or not a string). */
const char *th_jstr(const json_t *j, const char *key);
/* error.code of an error envelope ("" when none). */
const char *th_api_code(const struct th_api *r);
/* Whether error.problems holds {field, rule}. */
bool th_api_problem(const struct th_api *r, const char *field, const char *rule);
/* Number of error.problems. */
size_t th_api_problems(const struct th_api *r);

#endif
