/* The emulator's whole world: accounts and their access keys, images, VMs, product types and
 * EIM users, groups and policies, with lookups, lazy time-driven transitions (state_tick) and
 * JSON persistence (state_save writes the file atomically). Not thread-safe: the server holds
 * one mutex around every use. Objects inside a state are owned by it; pointers returned by the
 * lookups are borrowed until the object is removed or the state freed. Allocation failure
 * aborts (a test tool has no useful way to continue). */
#ifndef CLOUDSIM_STATE_H
#define CLOUDSIM_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"

/* The built-in account that owns the public base OMIs; it has no keys and is not in the seed. */
#define STATE_PROVIDER_ACCOUNT "999999999999"
/* The built-in product type of the base OMIs. */
#define STATE_LINUX_PRODUCT_TYPE "0001"

#define STATE_ACCOUNT_ID_LEN 12
#define STATE_AK_LEN 20
#define STATE_SK_LEN 40

/* A growable list of owned strings. */
struct state_strs {
    char **v;
    size_t n;
};
void state_strs_add(struct state_strs *s, const char *value); /* copies value */
bool state_strs_has(const struct state_strs *s, const char *value);
void state_strs_remove(struct state_strs *s, const char *value); /* every occurrence */
void state_strs_clear(struct state_strs *s);
void state_strs_copy(struct state_strs *dst, const struct state_strs *src); /* appends, no dups */
json_t *state_strs_json(const struct state_strs *s);                        /* new reference */

/* A growable list of owned objects of one kind (the kind is known from the field). */
struct state_vec {
    void **v;
    size_t n, cap;
};

struct state_tags {
    struct state_strs keys, values; /* parallel */
};
void state_tags_set(struct state_tags *t, const char *key, const char *value);
void state_tags_remove(struct state_tags *t, const char *key, const char *value /* NULL = any */);
json_t *state_tags_json(const struct state_tags *t); /* [{"Key","Value"}], new reference */

struct state_account {
    char id[STATE_ACCOUNT_ID_LEN + 1];
    char *email;
    struct state_strs regions;
    mkt_time created;
};

/* Access keys: the accounts' root keys (user NULL) and EIM users' keys. */
struct state_key {
    char id[STATE_AK_LEN + 1];
    char secret[STATE_SK_LEN + 1];
    char account_id[STATE_ACCOUNT_ID_LEN + 1];
    char *user; /* EIM user name, NULL for a root key */
    bool active;
    mkt_time created, modified, expires; /* expires 0 = never */
    /* brute-force bookkeeping, in memory only */
    int failures, locks;
    mkt_time locked_until;
};

enum state_image_state { STATE_IMAGE_PENDING, STATE_IMAGE_AVAILABLE, STATE_IMAGE_FAILED };

struct state_image {
    char id[16]; /* ami-xxxxxxxx */
    char account_id[STATE_ACCOUNT_ID_LEN + 1];
    char region[32];
    char *name, *description, *source_id; /* source_id: the image or VM it was made from, "" for
                                             the base OMIs */
    char *state_message; /* why a copy failed (StateComment), "" otherwise */
    enum state_image_state state;
    mkt_time created, ready_at; /* pending until ready_at */
    bool is_public;
    struct state_strs launch_accounts, product_codes;
    struct state_tags tags;
};

enum state_vm_state {
    STATE_VM_PENDING,
    STATE_VM_RUNNING,
    STATE_VM_STOPPING,
    STATE_VM_STOPPED,
    STATE_VM_SHUTTING_DOWN,
    STATE_VM_TERMINATED
};

struct state_vm {
    char id[16]; /* i-xxxxxxxx */
    char account_id[STATE_ACCOUNT_ID_LEN + 1];
    char region[32];
    char image_id[16];
    char *vm_type, *keypair; /* keypair "" when none */
    char *subnet_id;         /* "" when launched outside a Net */
    char reservation_id[16]; /* r-xxxxxxxx, shared by the VMs of one CreateVms call */
    int launch_number;       /* index within that call */
    enum state_vm_state state;
    mkt_time created, state_since;
    struct state_strs product_codes;
    struct state_tags tags;
};

struct state_product_type {
    char id[16]; /* pty-xxxxxxxx, or "0001" */
    char account_id[STATE_ACCOUNT_ID_LEN + 1]; /* owner, "" for the built-in ones */
    char *description, *vendor;
    mkt_time created;
};

struct state_user {
    char id[24];
    char account_id[STATE_ACCOUNT_ID_LEN + 1];
    char *name, *path, *email;
    mkt_time created, modified;
    struct state_strs policies; /* ORNs linked to the user directly */
};

struct state_group {
    char id[16]; /* ug-xxxxxxxx */
    char account_id[STATE_ACCOUNT_ID_LEN + 1];
    char *name, *path;
    mkt_time created, modified;
    struct state_strs users;    /* user names */
    struct state_strs policies; /* ORNs */
};

struct state_policy {
    char id[24];
    char account_id[STATE_ACCOUNT_ID_LEN + 1];
    char *name, *path, *orn, *description, *document;
    mkt_time created, modified;
};

struct state {
    struct state_vec accounts, keys, images, vms, product_types, users, groups, policies;
    mkt_time copy_delay; /* pending -> available for image copies */
    mkt_time vm_delay;   /* pending -> running, stopping -> stopped, shutting-down -> terminated */
    mkt_time terminated_ttl; /* terminated VMs stay visible this long, then disappear */
    char *path;              /* state file, NULL when not persisted */
};

/* The Regions the emulator knows (NULL-terminated). */
extern const char *const state_regions[];
bool state_region_known(const char *region);

/* A new empty state with the built-ins (provider account, base OMIs in every Region, product
 * type 0001). `path` (copied, may be NULL) is where state_save writes. Owned: state_free. */
struct state *state_new(const char *path, mkt_time copy_delay, mkt_time vm_delay);
void state_free(struct state *st);

/* Reads the state file written by state_save into an empty `st` (built-ins are kept or
 * re-added). ERR_NOT_FOUND when the file does not exist. */
err_code state_load(struct state *st, const char *path, struct err *e) MKT_MUST_USE;
/* Adds the seed's accounts (a file holding {"accounts":[...]}) that the state lacks. */
err_code state_seed_file(struct state *st, const char *path, struct err *e) MKT_MUST_USE;
/* Adds one seed entry {"account_id","email","access_key","secret_key","regions"}. ERR_CONFLICT
 * when the key belongs to another account, or when the account exists and not `existing_ok`;
 * with `existing_ok` a known account keeps its state and only gains the key if it is new. */
err_code state_seed_account(struct state *st, const json_t *entry, bool existing_ok, struct err *e) MKT_MUST_USE;
/* Writes the state to its file (temporary file + fsync + rename); no-op without a path. */
err_code state_save(const struct state *st, struct err *e) MKT_MUST_USE;
/* The whole state as JSON (the state file's format), new reference. */
json_t *state_to_json(const struct state *st);

/* Applies the transitions due at `now`: pending copies become available, VMs move from
 * transient states to stable ones, terminated VMs past their TTL are dropped. */
void state_tick(struct state *st, mkt_time now);

/* A fresh id "<prefix>-xxxxxxxx" (8 lower-case hex) unused by any object, into out (>= 16). */
void state_new_id(const struct state *st, const char *prefix, char *out, size_t n);
/* A fresh upper-case alphanumeric string of len characters into out[len + 1] (access keys,
 * secret keys, EIM ids). */
void state_new_token(char *out, size_t len);

/* Lookups (NULL when absent). */
struct state_account *state_account_find(const struct state *st, const char *id);
struct state_key *state_key_find(const struct state *st, const char *access_key);
struct state_image *state_image_find(const struct state *st, const char *id);
struct state_vm *state_vm_find(const struct state *st, const char *id);
struct state_product_type *state_product_type_find(const struct state *st, const char *id);
struct state_user *state_user_find(const struct state *st, const char *account, const char *name);
struct state_group *state_group_find(const struct state *st, const char *account, const char *name);
struct state_policy *state_policy_find(const struct state *st, const char *orn);

/* Appends an object to one of the state's lists (ownership passes to the state). */
void state_vec_push(struct state_vec *v, void *item);
/* Removes (without freeing) the item from the list, keeping order. */
void state_vec_remove(struct state_vec *v, const void *item);

/* Constructors return zeroed objects with empty owned strings; free with the matching _free. */
struct state_account *state_account_new(void);
struct state_key *state_key_new(void);
struct state_image *state_image_new(void);
struct state_vm *state_vm_new(void);
struct state_product_type *state_product_type_new(void);
struct state_user *state_user_new(void);
struct state_group *state_group_new(void);
struct state_policy *state_policy_new(void);
void state_account_free(struct state_account *a);
void state_key_free(struct state_key *k);
void state_image_free(struct state_image *im);
void state_vm_free(struct state_vm *vm);
void state_product_type_free(struct state_product_type *pt);
void state_user_free(struct state_user *u);
void state_group_free(struct state_group *g);
void state_policy_free(struct state_policy *p);

/* Replaces *dst (owned) with a copy of src. */
void state_set_str(char **dst, const char *src);

const char *state_image_state_name(enum state_image_state s);
const char *state_vm_state_name(enum state_vm_state s);
/* ISO 8601 with milliseconds, as the API answers ("2026-11-21T22:20:57.123Z"), into out[32]. */
void state_format_time(mkt_time t, char out[32]);

#endif
