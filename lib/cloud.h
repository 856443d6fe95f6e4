/* Client of the OUTSCALE API (and of tools/cloudsim, its emulator): OMI copies, launch
 * permissions and product codes, product types, VMs, accounts and EIM users, groups, policies
 * and access keys. Every call is `POST <endpoint>/api/v1/<Operation>` with a JSON body, signed
 * OSC4-HMAC-SHA256 by libcurl (CURLOPT_AWS_SIGV4 "osc:osc:<region>:api").
 *
 * Threads: a `struct cloud` owns one CURL easy handle (so connections are reused) and must be
 * used by one thread at a time; give each worker its own client. Calls block: never make them
 * from a loop thread.
 *
 * Retries: 429, 5xx and transport failures are retried up to `max_tries` attempts in all, with
 * lib/backoff.h's exponential backoff and jitter (sleep in [base, min(backoff_max, base * 2^(n-1))]).
 * Other statuses are never retried. A create retried after a transport failure may answer
 * ERR_CONFLICT because the first attempt did succeed: look the resource up by name then.
 *
 * Errors (the reason keeps the cloud's type, code, details and request id, e.g.
 * "ReadImages: InvalidResource 5023 (image not found) request 1f3e..."):
 *   400 InvalidResource with code 5xxx -> ERR_NOT_FOUND     other 400 -> ERR_INVALID
 *   401 code 5 (not authorized)         -> ERR_FORBIDDEN     other 401 -> ERR_UNAUTHENTICATED
 *   403 -> ERR_FORBIDDEN   404 (unknown operation) -> ERR_UNSUPPORTED   409 -> ERR_CONFLICT
 *   429 -> ERR_THROTTLED   5xx, transport -> ERR_UNAVAILABLE   timeout -> ERR_TIMEOUT
 *   other 4xx -> ERR_INVALID   2xx with an unreadable body -> ERR_INTERNAL
 * Secrets (secret keys, the SecretKey of CreateAccessKey) never appear in logs or reasons.
 *
 * Results: typed calls return small structs in a list object that owns everything it points to
 * (free it with its `_free`); their strings are borrowed from that list, and each item also
 * exposes the raw JSON object (`json`, borrowed) for fields the struct does not carry.
 * Filters and inputs are borrowed for the duration of the call; string lists are
 * NULL-terminated arrays (NULL = no filter). */
#ifndef MKT_CLOUD_H
#define MKT_CLOUD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"

struct cloud;

struct cloud_config {
    const char *endpoint;   /* e.g. "http://127.0.0.1:3000" (OSC_ENDPOINT_API); NULL or "" =
                               "https://api.<region>.outscale.com" */
    const char *region;     /* required, e.g. "cloudgouv-eu-west-1" */
    const char *access_key; /* required */
    const char *secret_key; /* required; copied, wiped by cloud_free */
    int timeout_ms;         /* per attempt; 0 = 30000 */
    int connect_timeout_ms; /* 0 = 5000 */
    int max_tries;          /* attempts in all, >= 1; 0 = 3 */
    int backoff_base_ms;    /* 0 = 200 */
    int backoff_max_ms;     /* cap of one sleep; 0 = 5000 */
};

/* Copies what it needs from cfg. *out is owned (cloud_free). ERR_INVALID names a bad field. */
err_code cloud_new(const struct cloud_config *cfg, struct cloud **out, struct err *e) MKT_MUST_USE;
void cloud_free(struct cloud *c);
/* Borrowed, valid while c lives. */
const char *cloud_region(const struct cloud *c);
const char *cloud_endpoint(const struct cloud *c);

/* Calls any operation. `req` is taken (decref'd here, even on failure; NULL sends {}). On
 * success *resp (when resp is not NULL) is a new reference to the whole answer, owned by the
 * caller. Retries as described above. */
err_code cloud_call(struct cloud *c, const char *op, json_t *req, json_t **resp, struct err *e) MKT_MUST_USE;

/* A list of strings borrowed from the result that holds it. */
struct cloud_strv {
    size_t n;
    const char **v;
};
/* True when s is one of v's strings. */
bool cloud_strv_has(const struct cloud_strv *v, const char *s);

/* A yes/no filter that may be left out: zero means "no filter". */
enum cloud_tristate { CLOUD_ANY = 0, CLOUD_YES, CLOUD_NO };

/* ---- images (cloud_images.c) ------------------------------------------------------------- */

struct cloud_image {
    const char *image_id;         /* "ami-1a2b3c4d" */
    const char *account_id;       /* owner */
    const char *image_name;
    const char *description;      /* "" when absent */
    const char *state;            /* "pending" | "available" | "failed" */
    bool global_permission;       /* public */
    struct cloud_strv permission_account_ids; /* accounts it is shared with */
    struct cloud_strv product_codes;
    mkt_time creation_date;       /* 0 when absent */
    const json_t *json;           /* the whole Image object */
};
struct cloud_images {
    size_t n;
    struct cloud_image *items;
    json_t *json__;
};
void cloud_images_free(struct cloud_images *l);

struct cloud_image_copy {
    const char *source_image_id;       /* required */
    const char *source_region_name;    /* NULL = the client's region (copies never cross Regions) */
    const char *image_name;            /* required, 3-128 characters, unique in the account */
    const char *description;           /* may be NULL */
    const char *const *product_codes;  /* may be NULL */
};
/* CreateImage as a copy. *out (owned) holds the new image, normally "pending": poll
 * cloud_read_images until it is "available". */
err_code cloud_create_image(struct cloud *c, const struct cloud_image_copy *in,
                            struct cloud_images **out, struct err *e) MKT_MUST_USE;

struct cloud_image_filters {
    const char *const *image_ids;
    const char *const *image_names;        /* wildcards allowed */
    const char *const *account_ids;
    const char *const *product_codes;
    const char *const *permissions_to_launch_account_ids;
    const char *const *states;
    enum cloud_tristate permissions_to_launch_global_permission;
    int results_per_page;                  /* 0 = the cloud's default; pages are all followed */
};
/* ReadImages, every page. f may be NULL (all images the caller sees). *out is owned. */
err_code cloud_read_images(struct cloud *c, const struct cloud_image_filters *f,
                           struct cloud_images **out, struct err *e) MKT_MUST_USE;

struct cloud_image_update {
    const char *image_id;                    /* required */
    const char *const *add_account_ids;      /* share with */
    bool add_global;                         /* make public */
    const char *const *remove_account_ids;   /* unshare */
    bool remove_global;                      /* make private */
    bool set_product_codes;                  /* replace the codes with product_codes (may be empty) */
    const char *const *product_codes;
    const char *description;                 /* NULL = unchanged */
};
err_code cloud_update_image(struct cloud *c, const struct cloud_image_update *u, struct err *e) MKT_MUST_USE;
err_code cloud_delete_image(struct cloud *c, const char *image_id, struct err *e) MKT_MUST_USE;

/* ---- product types (cloud_product_types.c) ------------------------------------------------ */

struct cloud_product_type {
    const char *product_type_id; /* "pty-1a2b3c4d", or "0001" (Linux) */
    const char *description;
    const char *vendor;          /* "" when absent */
    const json_t *json;
};
struct cloud_product_types {
    size_t n;
    struct cloud_product_type *items;
    json_t *json__;
};
void cloud_product_types_free(struct cloud_product_types *l);

err_code cloud_create_product_type(struct cloud *c, const char *description, const char *vendor,
                                   struct cloud_product_types **out, struct err *e) MKT_MUST_USE;
/* ids may be NULL (all). */
err_code cloud_read_product_types(struct cloud *c, const char *const *product_type_ids,
                                  struct cloud_product_types **out, struct err *e) MKT_MUST_USE;
/* force is needed while OMIs carry the code. */
err_code cloud_delete_product_type(struct cloud *c, const char *product_type_id, bool force,
                                   struct err *e) MKT_MUST_USE;

/* ---- VMs and accounts (cloud_vms.c) -------------------------------------------------------- */

struct cloud_vm {
    const char *vm_id;      /* "i-1a2b3c4d" */
    const char *image_id;
    const char *state;      /* pending|running|stopping|stopped|shutting-down|terminated */
    const char *vm_type;    /* "" when absent */
    struct cloud_strv product_codes;
    mkt_time creation_date; /* 0 when absent */
    const json_t *json;
};
struct cloud_vms {
    size_t n;
    struct cloud_vm *items;
    json_t *json__;
};
void cloud_vms_free(struct cloud_vms *l);

struct cloud_vm_filters {
    const char *const *vm_ids;
    const char *const *image_ids;
    const char *const *product_codes;
    const char *const *vm_state_names;
    int results_per_page; /* 0 = the cloud's default; pages are all followed */
};
/* ReadVms, every page: only the caller's own VMs. f may be NULL. *out is owned. */
err_code cloud_read_vms(struct cloud *c, const struct cloud_vm_filters *f, struct cloud_vms **out,
                        struct err *e) MKT_MUST_USE;

struct cloud_vm_create {
    const char *image_id; /* required */
    const char *vm_type;  /* NULL = the cloud's default */
    int count;            /* 0 = 1 */
};
err_code cloud_create_vms(struct cloud *c, const struct cloud_vm_create *in, struct cloud_vms **out,
                          struct err *e) MKT_MUST_USE;
/* vm_ids is NULL-terminated and not empty. */
err_code cloud_stop_vms(struct cloud *c, const char *const *vm_ids, struct err *e) MKT_MUST_USE;
err_code cloud_start_vms(struct cloud *c, const char *const *vm_ids, struct err *e) MKT_MUST_USE;
err_code cloud_delete_vms(struct cloud *c, const char *const *vm_ids, struct err *e) MKT_MUST_USE;

struct cloud_account {
    const char *account_id; /* 12 digits */
    const char *email;      /* "" when absent */
    const json_t *json;
};
struct cloud_accounts {
    size_t n;
    struct cloud_account *items;
    json_t *json__;
};
void cloud_accounts_free(struct cloud_accounts *l);
/* ReadAccounts: the caller's own account. */
err_code cloud_read_accounts(struct cloud *c, struct cloud_accounts **out, struct err *e) MKT_MUST_USE;

/* ---- EIM (cloud_eim.c) --------------------------------------------------------------------- */
/* Paths default to "/" when NULL. EIM reads follow FirstItem/HasMoreItems to the end. */

struct cloud_user {
    const char *user_id;
    const char *user_name;
    const char *path;
    const char *user_email; /* "" when absent */
    mkt_time creation_date;
    const json_t *json;
};
struct cloud_users {
    size_t n;
    struct cloud_user *items;
    json_t *json__;
};
void cloud_users_free(struct cloud_users *l);

err_code cloud_create_user(struct cloud *c, const char *user_name, const char *path,
                           const char *user_email, struct cloud_users **out, struct err *e) MKT_MUST_USE;
/* user_ids may be NULL (all). */
err_code cloud_read_users(struct cloud *c, const char *const *user_ids, struct cloud_users **out,
                          struct err *e) MKT_MUST_USE;
/* Refused (ERR_CONFLICT) while the user is in a group, has keys or linked policies. */
err_code cloud_delete_user(struct cloud *c, const char *user_name, struct err *e) MKT_MUST_USE;

struct cloud_user_group {
    const char *user_group_id; /* "ug-1a2b3c4d" */
    const char *name;
    const char *path;
    const char *orn;
    const json_t *json;
};
struct cloud_user_groups {
    size_t n;
    struct cloud_user_group *items;
    json_t *json__;
};
void cloud_user_groups_free(struct cloud_user_groups *l);

err_code cloud_create_user_group(struct cloud *c, const char *name, const char *path,
                                 struct cloud_user_groups **out, struct err *e) MKT_MUST_USE;
/* path_prefix and ids may be NULL. */
err_code cloud_read_user_groups(struct cloud *c, const char *path_prefix,
                                const char *const *user_group_ids, struct cloud_user_groups **out,
                                struct err *e) MKT_MUST_USE;
err_code cloud_delete_user_group(struct cloud *c, const char *name, const char *path, bool force,
                                 struct err *e) MKT_MUST_USE;
err_code cloud_add_user_to_user_group(struct cloud *c, const char *group_name, const char *group_path,
                                      const char *user_name, const char *user_path,
                                      struct err *e) MKT_MUST_USE;
err_code cloud_remove_user_from_user_group(struct cloud *c, const char *group_name,
                                           const char *group_path, const char *user_name,
                                           const char *user_path, struct err *e) MKT_MUST_USE;

struct cloud_policy {
    const char *policy_id;
    const char *policy_name;
    const char *path;
    const char *orn;         /* "orn:ows:idauth::<account>:policy/<path>/<name>" */
    const char *description; /* "" when absent */
    long long resources_count;
    const json_t *json;
};
struct cloud_policies {
    size_t n;
    struct cloud_policy *items;
    json_t *json__;
};
void cloud_policies_free(struct cloud_policies *l);

/* document: the policy as a JSON string, e.g.
 * {"Statement":[{"Effect":"Allow","Action":["api:ReadVms"],"Resource":["*"]}]} */
err_code cloud_create_policy(struct cloud *c, const char *policy_name, const char *document,
                             const char *path, const char *description,
                             struct cloud_policies **out, struct err *e) MKT_MUST_USE;
/* path_prefix may be NULL; only_linked narrows to policies linked to something. */
err_code cloud_read_policies(struct cloud *c, const char *path_prefix, bool only_linked,
                             struct cloud_policies **out, struct err *e) MKT_MUST_USE;
err_code cloud_delete_policy(struct cloud *c, const char *policy_orn, struct err *e) MKT_MUST_USE;
err_code cloud_link_managed_policy_to_user_group(struct cloud *c, const char *policy_orn,
                                                 const char *group_name, struct err *e) MKT_MUST_USE;
err_code cloud_unlink_managed_policy_from_user_group(struct cloud *c, const char *policy_orn,
                                                     const char *group_name, struct err *e) MKT_MUST_USE;

struct cloud_access_key {
    const char *access_key_id;
    const char *secret_key;  /* only from cloud_create_access_key, NULL otherwise: store it
                                encrypted and forget it (cloud_access_keys_free wipes it) */
    const char *state;       /* "ACTIVE" | "INACTIVE" */
    mkt_time creation_date;
    mkt_time expiration_date; /* 0 = never */
    const json_t *json;
};
struct cloud_access_keys {
    size_t n;
    struct cloud_access_key *items;
    json_t *json__;
};
void cloud_access_keys_free(struct cloud_access_keys *l);

/* user_name NULL = the caller itself. */
err_code cloud_create_access_key(struct cloud *c, const char *user_name,
                                 struct cloud_access_keys **out, struct err *e) MKT_MUST_USE;
err_code cloud_read_access_keys(struct cloud *c, const char *user_name,
                                struct cloud_access_keys **out, struct err *e) MKT_MUST_USE;
err_code cloud_update_access_key(struct cloud *c, const char *user_name, const char *access_key_id,
                                 bool active, struct err *e) MKT_MUST_USE;
/* The key must be INACTIVE first. */
err_code cloud_delete_access_key(struct cloud *c, const char *user_name, const char *access_key_id,
                                 struct err *e) MKT_MUST_USE;

#endif
