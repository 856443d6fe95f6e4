/* The emulated API's plumbing shared by every operation file: the error table (OUTSCALE codes,
 * types and statuses), the per-call context handed to handlers, the operation tables and the
 * generic lookup over them, and helpers for filters, wildcards, paging and JSON output.
 *
 * Error table (code, type, HTTP status). Codes 1/2/5/13/24 are the documented ones; the others
 * are plausible choices, kept stable so tests can rely on them:
 *   API_E_AUTH_FAILED      1     AccessDenied            401  missing/bad signature, stale date
 *   API_E_METHOD           2     AccessDenied            405  not a POST
 *   API_E_NOT_AUTHORIZED   5     AccessDenied            401  EIM policy lacks the action; not owner
 *   API_E_LOCKED           13    AccessDenied            401  four bad signatures in a row
 *   API_E_THROTTLED        24    AccessDenied            429  injected fault (the real service's type)
 *   API_E_INTERNAL         2000  InternalError           500  injected fault or state file failure
 *   API_E_UNAVAILABLE      2001  ServiceUnavailable      503  injected fault
 *   API_E_INVALID_PARAM    3001  InvalidParameter        400  unknown key
 *   API_E_INVALID_VALUE    4000  InvalidParameterValue   400  bad type, length, format or value
 *   API_E_NO_OPERATION     4118  InvalidAction           404  unknown operation
 *   API_E_NO_IMAGE         5023  InvalidResource         400  image absent or invisible
 *   API_E_NO_VM            5063  InvalidResource         400  VM absent or not the caller's
 *   API_E_NO_PRODUCT_TYPE  5117  InvalidResource         400
 *   API_E_NO_USER          5087  InvalidResource         400
 *   API_E_NO_GROUP         5088  InvalidResource         400
 *   API_E_NO_POLICY        5089  InvalidResource         400
 *   API_E_NO_ACCESS_KEY    5090  InvalidResource         400
 *   API_E_INVALID_STATE    6003  InvalidState            409  e.g. starting a terminated VM,
 *                                                             deleting an ACTIVE key
 *   API_E_MISSING_PARAM    7000  MissingParameter        400  required key absent
 *   API_E_DUPLICATE        9011  ResourceConflict        409  name already used
 *   API_E_IN_USE           9029  ResourceConflict        409  dependencies (group members, links)
 *
 * The conflict errors (6003, 9011, 9029) are permanent: retrying does not help. The 1.40
 * specification declares no 409 for any emulated call (CreateImage, DeleteImage, CreateVms,
 * StartVms, DeleteProductType, ... list 200/400/401/500; only calls such as
 * AcceptNetPeering list 409), so the cloud answers them 400, and clients that retry 409 (the
 * official SDKs, Terraform) would retry them in vain if they came as 409. `--conflict-status
 * 400` (server_config.conflict_status) answers them as the cloud does; 409 stays the default
 * while lib/cloud maps only 409 to ERR_CONFLICT.
 */
#ifndef CLOUDSIM_API_H
#define CLOUDSIM_API_H

#include <jansson.h>
#include <stdbool.h>

#include "err.h"
#include "jsonv.h"
#include "state.h"

enum api_error {
    API_E_AUTH_FAILED,
    API_E_METHOD,
    API_E_NOT_AUTHORIZED,
    API_E_LOCKED,
    API_E_THROTTLED,
    API_E_INTERNAL,
    API_E_UNAVAILABLE,
    API_E_INVALID_PARAM,
    API_E_INVALID_VALUE,
    API_E_NO_OPERATION,
    API_E_NO_IMAGE,
    API_E_NO_VM,
    API_E_NO_PRODUCT_TYPE,
    API_E_NO_USER,
    API_E_NO_GROUP,
    API_E_NO_POLICY,
    API_E_NO_ACCESS_KEY,
    API_E_INVALID_STATE,
    API_E_MISSING_PARAM,
    API_E_DUPLICATE,
    API_E_IN_USE,
    API_E__COUNT
};

int api_error_status(enum api_error id);
const char *api_error_code(enum api_error id);
const char *api_error_type(enum api_error id);
/* {"Errors":[{"Code","Type","Details"}],"ResponseContext":{"RequestId"}}, new reference. */
json_t *api_error_body(enum api_error id, const char *details, const char *request_id);
/* Maps a jsonv failure to 3001 (unknown key), 7000 (required key) or 4000 (anything else). */
enum api_error api_error_from_validation(const char *reason);

/* One call being handled. Everything is borrowed for the duration of the handler. */
struct api_ctx {
    struct state *st;
    mkt_time now;
    const struct state_account *account; /* the caller; NULL for anonymous operations */
    const char *user;                    /* the caller's EIM user name; NULL for root keys */
    const char *region;                  /* Region from the credential scope; NULL if anonymous */
    const json_t *req;                   /* the validated request body */
    json_t *res;                         /* the answer being built (ResponseContext is added later) */
    enum api_error error;                /* set by api_fail */
    char details[ERR_MSG_MAX];
};

/* Records the API error in the context and returns the matching err_code, so handlers end with
 * `return api_fail(c, API_E_NO_IMAGE, "image %s", id);`. */
err_code api_fail(struct api_ctx *c, enum api_error id, const char *fmt, ...) MKT_PRINTF(3, 4);

typedef err_code (*api_handler_fn)(struct api_ctx *c);

struct api_op {
    const char *name;               /* "ReadImages"; the EIM action is "api:<name>" */
    const struct jsonv_schema *schema; /* request body (DryRun included) */
    api_handler_fn handler;
    bool needs_auth;
    bool mutates; /* the state file is written after a successful call */
};

/* The operation tables, one per area, each ended by an entry with a NULL name. */
extern const struct api_op accounts_ops[];
extern const struct api_op images_ops[];
extern const struct api_op tags_ops[];
extern const struct api_op vms_ops[];
extern const struct api_op product_types_ops[];
extern const struct api_op eim_ops[];
extern const struct api_op policies_ops[];
extern const struct api_op access_keys_ops[];
extern const struct api_op catalog_ops[];

/* The operation with this exact name across all tables, or NULL. */
const struct api_op *api_find_op(const char *name);

/* The DryRun field every schema starts with. */
#define API_DRY_RUN {.name = "DryRun", .type = JSONV_BOOL}
/* An array of strings (filters, id lists). */
#define API_STRINGS(n) {.name = (n), .type = JSONV_ARRAY, .items = JSONV_STRING}
/* IaaS paging fields. */
#define API_PAGING                                                                                              \
    {.name = "ResultsPerPage", .type = JSONV_INT, .min = 1, .max = 1000}, {.name = "NextPageToken", .type = JSONV_STRING}
/* EIM paging fields. */
#define API_EIM_PAGING                                                                                          \
    {.name = "FirstItem", .type = JSONV_INT, .min = 0, .max = 1000000},                                          \
        {.name = "ResultsPerPage", .type = JSONV_INT, .min = 1, .max = 1000}

/* Shell-style wildcard match: '*' any run, '?' one character; case-sensitive, or not with
 * fold_case (policy actions). */
bool api_glob_case(const char *pattern, const char *s, bool fold_case);
bool api_glob(const char *pattern, const char *s);

/* Filter helpers: `filters` is the request's Filters object (may be NULL). Each returns true
 * when the filter key is absent or matches. */
bool api_filter_str(const json_t *filters, const char *key, const char *value);  /* exact */
bool api_filter_glob(const json_t *filters, const char *key, const char *value); /* wildcards */
bool api_filter_any(const json_t *filters, const char *key, const struct state_strs *values);
bool api_filter_tags(const json_t *filters, const struct state_tags *tags); /* TagKeys/TagValues/Tags */

/* Slices `all` (taken) into the answer under `key` following ResultsPerPage/NextPageToken and
 * adds NextPageToken when more remain. Fails with 4000 on a bad token. */
err_code api_page(struct api_ctx *c, const char *key, json_t *all);
/* Same for EIM reads: FirstItem (0-based) and ResultsPerPage (default 100); answers
 * HasMoreItems, MaxResultsLimit and MaxResultsTruncated. */
err_code api_page_eim(struct api_ctx *c, const char *key, json_t *all);

/* A string field of the request ("" when absent), an optional one (NULL when absent). */
const char *api_str(const struct api_ctx *c, const char *key);
const char *api_opt(const struct api_ctx *c, const char *key);
json_t *api_time(mkt_time t); /* ISO 8601 string, new reference */
/* True when every character of s is in the set of allowed ASCII characters `extra` or
 * alphanumeric. */
bool api_chars_ok(const char *s, const char *extra);
/* True for 12 digits. */
bool api_is_account_id(const char *s);
/* Validates product codes (each must be an existing product type). */
err_code api_check_product_codes(struct api_ctx *c, const json_t *codes);

#endif
