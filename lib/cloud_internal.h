/* Internal-but-shared parts of the cloud client: the pure decision functions of the transport
 * (error envelope parsing and mapping, retry decision; the backoff is lib/backoff.h), exposed so unit tests can run
 * them as tables, and the helpers the typed calls in cloud_*.c share (paging, JSON accessors,
 * list building). Not for use outside lib/cloud*.c and their tests. */
#ifndef MKT_CLOUD_INTERNAL_H
#define MKT_CLOUD_INTERNAL_H

#include <stdint.h>

#include "cloud.h"

/* ---- transport decisions (cloud.c) -------------------------------------------------------- */

/* The first entry of an error envelope
 * {"Errors":[{"Code":"5023","Type":"InvalidResource","Details":"..."}],"ResponseContext":{"RequestId":"..."}}.
 * Fields absent from the body are "". */
struct cloud__envelope {
    char type[64];
    char code[16];
    char details[128];
    char request_id[64];
    int n_errors; /* 0 when the body is not an error envelope */
};
/* Always fills *out (with empty fields when body is not JSON or not an envelope). */
void cloud__parse_envelope(const char *body, size_t len, struct cloud__envelope *out);
/* The error code for an HTTP status and the cloud's error type and code (see cloud.h). */
err_code cloud__map_status(long status, const char *type, const char *code);
/* Fills e from a non-2xx answer: code from cloud__map_status, reason
 * "<op>: <Type> <Code> (<Details>) request <RequestId>" (parts left out when absent; "HTTP <status>"
 * when the body is not an envelope). Returns the code. */
err_code cloud__http_error(const char *op, long status, const char *body, size_t len, struct err *e);
/* Fills e for a libcurl failure (curl_code is a CURLcode): ERR_TIMEOUT for timeouts,
 * ERR_INVALID for a malformed endpoint, ERR_UNAVAILABLE otherwise. */
err_code cloud__transport_error(const char *op, int curl_code, const char *detail, struct err *e);
/* Whether an attempt that ended so deserves another one: status 0 means "no HTTP answer" and
 * then curl_code decides (transport failures yes, a malformed endpoint no); 429 and 5xx yes;
 * everything else no. */
bool cloud__retryable(long status, int curl_code);

/* ---- helpers for typed calls ---------------------------------------------------------------- */

/* A new JSON array of the NULL-terminated strings (NULL gives an empty array). */
json_t *cloud__json_strv(const char *const *v);
/* Sets obj[key] to the array of v when v is not NULL. */
void cloud__set_strv(json_t *obj, const char *key, const char *const *v);
/* Sets obj[key] to a string when s is not NULL. */
void cloud__set_str(json_t *obj, const char *key, const char *s);

enum cloud__paging {
    CLOUD_PAGING_NONE,  /* one call */
    CLOUD_PAGING_TOKEN, /* IaaS: ResultsPerPage + NextPageToken */
    CLOUD_PAGING_ITEMS, /* EIM: FirstItem + ResultsPerPage, until HasMoreItems is false */
};
/* Calls op (req taken) and, following the pages, concatenates the arrays found under `key`
 * into *items (a new reference, owned). results_per_page 0 leaves it to the cloud. */
err_code cloud__read_all(struct cloud *c, const char *op, json_t *req, const char *key,
                         enum cloud__paging paging, int results_per_page, json_t **items,
                         struct err *e) MKT_MUST_USE;
/* Calls op (req taken) and returns a new one-element array holding the object under `key`
 * of the answer (ERR_INTERNAL when absent), so creates can share the list builders. */
err_code cloud__call_one(struct cloud *c, const char *op, json_t *req, const char *key,
                         json_t **items, struct err *e) MKT_MUST_USE;

/* Borrowed string o[key], or "" when absent or not a string. */
const char *cloud__str(const json_t *o, const char *key);
/* o[key] parsed as a date (…Z or …+0000), 0 when absent or malformed. */
mkt_time cloud__date(const json_t *o, const char *key);
/* The strings of the array o[key] (non-strings skipped); v is malloc'd (NULL when empty). */
err_code cloud__strv(const json_t *o, const char *key, struct cloud_strv *out, struct err *e) MKT_MUST_USE;

/* Fills one item from one JSON object of the list. */
typedef err_code (*cloud__fill_fn)(void *item, const json_t *obj, struct err *e);
/* Builds the common list layout {size_t n; T *items; json_t *json__;} at `list` from `array`
 * (taken): calloc's n items of item_size and fills each. On failure the caller frees the
 * partially built list with its own _free (items are zeroed first). */
err_code cloud__build_list(json_t *array, size_t item_size, cloud__fill_fn fill, size_t *n,
                           void **items, json_t **json, struct err *e) MKT_MUST_USE;

/* Defines `static err_code name(json_t *array (taken), list_t **out, struct err *e)` that builds
 * a list object of the common layout with cloud__build_list and item filler `fill`, freeing it
 * with free_fn on failure. */
#define CLOUD__DEFINE_TO_LIST(name, list_t, item_t, fill, free_fn)                                \
    static err_code name(json_t *array, list_t **out, struct err *e) {                            \
        list_t *l = calloc(1, sizeof *l);                                                         \
        void *items = NULL;                                                                       \
        if (!l) {                                                                                 \
            json_decref(array);                                                                   \
            return err_set(e, ERR_INTERNAL, "cloud: out of memory");                             \
        }                                                                                         \
        err_code rc = cloud__build_list(array, sizeof(item_t), fill, &l->n, &items, &l->json__, e); \
        l->items = items;                                                                         \
        if (rc) {                                                                                 \
            free_fn(l);                                                                           \
            return rc;                                                                            \
        }                                                                                         \
        *out = l;                                                                                 \
        return ERR_OK;                                                                            \
    }

#endif
