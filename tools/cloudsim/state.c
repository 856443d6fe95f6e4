/* The emulator's state: plain structs in ordered lists, their lookups, the lazy time-driven
 * transitions, and the JSON state file (snake_case, times in ISO 8601 with microseconds) that
 * lets the emulator restart where it stopped. Built-ins (the provider account, its public base
 * OMIs in every Region and product type 0001) are recreated when missing, with stable ids. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "jsonv.h"

const char *const state_regions[] = {"cloudgouv-eu-west-1", "eu-west-2", "us-east-2", "us-west-1",
                                     "ap-northeast-1", NULL};

/* The public base OMIs the provider account offers in every Region. */
static const char *const base_images[][2] = {
    {"Ubuntu-22.04-2024.10.01-0", "Ubuntu 22.04 LTS, base image"},
    {"Debian-12-2024.10.01-0", "Debian 12 (bookworm), base image"},
    {"RockyLinux-9-2024.10.01-0", "Rocky Linux 9, base image"},
};

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s) {
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

void state_set_str(char **dst, const char *src) {
    char *copy = xstrdup(src);
    free(*dst);
    *dst = copy;
}

bool state_region_known(const char *region) {
    for (const char *const *r = state_regions; *r; r++)
        if (strcmp(*r, region) == 0)
            return true;
    return false;
}

/* ---- string lists ----------------------------------------------------------------------------- */

void state_strs_add(struct state_strs *s, const char *value) {
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
        abort();
    s->v = v;
    s->v[s->n++] = xstrdup(value);
}

bool state_strs_has(const struct state_strs *s, const char *value) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], value) == 0)
            return true;
    return false;
}

void state_strs_remove(struct state_strs *s, const char *value) {
    size_t j = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i], value) == 0)
            free(s->v[i]);
        else
            s->v[j++] = s->v[i];
    }
    s->n = j;
}

void state_strs_clear(struct state_strs *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void state_strs_copy(struct state_strs *dst, const struct state_strs *src) {
    for (size_t i = 0; i < src->n; i++)
        if (!state_strs_has(dst, src->v[i]))
            state_strs_add(dst, src->v[i]);
}

json_t *state_strs_json(const struct state_strs *s) {
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i]));
    return a;
}

void state_tags_set(struct state_tags *t, const char *key, const char *value) {
    for (size_t i = 0; i < t->keys.n; i++)
        if (strcmp(t->keys.v[i], key) == 0) {
            state_set_str(&t->values.v[i], value);
            return;
        }
    state_strs_add(&t->keys, key);
    state_strs_add(&t->values, value);
}

void state_tags_remove(struct state_tags *t, const char *key, const char *value) {
    size_t j = 0;
    for (size_t i = 0; i < t->keys.n; i++) {
        bool drop = strcmp(t->keys.v[i], key) == 0 && (!value || strcmp(t->values.v[i], value) == 0);
        if (drop) {
            free(t->keys.v[i]);
            free(t->values.v[i]);
        } else {
            t->keys.v[j] = t->keys.v[i];
            t->values.v[j] = t->values.v[i];
            j++;
        }
    }
    t->keys.n = t->values.n = j;
}

json_t *state_tags_json(const struct state_tags *t) {
    json_t *a = json_array();
    for (size_t i = 0; i < t->keys.n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "Key", t->keys.v[i], "Value", t->values.v[i]));
    return a;
}

static void tags_clear(struct state_tags *t) {
    state_strs_clear(&t->keys);
    state_strs_clear(&t->values);
}

/* ---- object lists ----------------------------------------------------------------------------- */

void state_vec_push(struct state_vec *v, void *item) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        void **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            abort();
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = item;
}

void state_vec_remove(struct state_vec *v, const void *item) {
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == item) {
            memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof *v->v);
            v->n--;
            return;
        }
}

/* ---- constructors and destructors ------------------------------------------------------------ */

struct state_account *state_account_new(void) {
    struct state_account *a = xcalloc(1, sizeof *a);
    a->email = xstrdup("");
    return a;
}

void state_account_free(struct state_account *a) {
    if (!a)
        return;
    free(a->email);
    state_strs_clear(&a->regions);
    free(a);
}

struct state_key *state_key_new(void) { return xcalloc(1, sizeof(struct state_key)); }

void state_key_free(struct state_key *k) {
    if (!k)
        return;
    free(k->user);
    free(k);
}

struct state_image *state_image_new(void) {
    struct state_image *im = xcalloc(1, sizeof *im);
    im->name = xstrdup("");
    im->description = xstrdup("");
    im->source_id = xstrdup("");
    im->state_message = xstrdup("");
    return im;
}

void state_image_free(struct state_image *im) {
    if (!im)
        return;
    free(im->name);
    free(im->description);
    free(im->source_id);
    free(im->state_message);
    state_strs_clear(&im->launch_accounts);
    state_strs_clear(&im->product_codes);
    tags_clear(&im->tags);
    free(im);
}

struct state_vm *state_vm_new(void) {
    struct state_vm *vm = xcalloc(1, sizeof *vm);
    vm->vm_type = xstrdup("");
    vm->keypair = xstrdup("");
    vm->subnet_id = xstrdup("");
    return vm;
}

void state_vm_free(struct state_vm *vm) {
    if (!vm)
        return;
    free(vm->vm_type);
    free(vm->keypair);
    free(vm->subnet_id);
    state_strs_clear(&vm->product_codes);
    tags_clear(&vm->tags);
    free(vm);
}

struct state_product_type *state_product_type_new(void) {
    struct state_product_type *pt = xcalloc(1, sizeof *pt);
    pt->description = xstrdup("");
    pt->vendor = xstrdup("");
    return pt;
}

void state_product_type_free(struct state_product_type *pt) {
    if (!pt)
        return;
    free(pt->description);
    free(pt->vendor);
    free(pt);
}

struct state_user *state_user_new(void) {
    struct state_user *u = xcalloc(1, sizeof *u);
    u->name = xstrdup("");
    u->path = xstrdup("/");
    u->email = xstrdup("");
    return u;
}

void state_user_free(struct state_user *u) {
    if (!u)
        return;
    free(u->name);
    free(u->path);
    free(u->email);
    state_strs_clear(&u->policies);
    free(u);
}

struct state_group *state_group_new(void) {
    struct state_group *g = xcalloc(1, sizeof *g);
    g->name = xstrdup("");
    g->path = xstrdup("/");
    return g;
}

void state_group_free(struct state_group *g) {
    if (!g)
        return;
    free(g->name);
    free(g->path);
    state_strs_clear(&g->users);
    state_strs_clear(&g->policies);
    free(g);
}

struct state_policy *state_policy_new(void) {
    struct state_policy *p = xcalloc(1, sizeof *p);
    p->name = xstrdup("");
    p->path = xstrdup("/");
    p->orn = xstrdup("");
    p->description = xstrdup("");
    p->document = xstrdup("{}");
    return p;
}

void state_policy_free(struct state_policy *p) {
    if (!p)
        return;
    free(p->name);
    free(p->path);
    free(p->orn);
    free(p->description);
    free(p->document);
    free(p);
}

#define FREE_VEC(vec, fn)                                                                                     \
    do {                                                                                                      \
        for (size_t i_ = 0; i_ < (vec).n; i_++)                                                               \
            fn((vec).v[i_]);                                                                                  \
        free((vec).v);                                                                                        \
        (vec).v = NULL;                                                                                       \
        (vec).n = (vec).cap = 0;                                                                              \
    } while (0)

void state_free(struct state *st) {
    if (!st)
        return;
    FREE_VEC(st->accounts, state_account_free);
    FREE_VEC(st->keys, state_key_free);
    FREE_VEC(st->images, state_image_free);
    FREE_VEC(st->vms, state_vm_free);
    FREE_VEC(st->product_types, state_product_type_free);
    FREE_VEC(st->users, state_user_free);
    FREE_VEC(st->groups, state_group_free);
    FREE_VEC(st->policies, state_policy_free);
    free(st->path);
    free(st);
}

/* ---- lookups ---------------------------------------------------------------------------------- */

struct state_account *state_account_find(const struct state *st, const char *id) {
    for (size_t i = 0; i < st->accounts.n; i++) {
        struct state_account *a = st->accounts.v[i];
        if (strcmp(a->id, id) == 0)
            return a;
    }
    return NULL;
}

struct state_key *state_key_find(const struct state *st, const char *access_key) {
    for (size_t i = 0; i < st->keys.n; i++) {
        struct state_key *k = st->keys.v[i];
        if (strcmp(k->id, access_key) == 0)
            return k;
    }
    return NULL;
}

struct state_image *state_image_find(const struct state *st, const char *id) {
    for (size_t i = 0; i < st->images.n; i++) {
        struct state_image *im = st->images.v[i];
        if (strcmp(im->id, id) == 0)
            return im;
    }
    return NULL;
}

struct state_vm *state_vm_find(const struct state *st, const char *id) {
    for (size_t i = 0; i < st->vms.n; i++) {
        struct state_vm *vm = st->vms.v[i];
        if (strcmp(vm->id, id) == 0)
            return vm;
    }
    return NULL;
}

struct state_product_type *state_product_type_find(const struct state *st, const char *id) {
    for (size_t i = 0; i < st->product_types.n; i++) {
        struct state_product_type *pt = st->product_types.v[i];
        if (strcmp(pt->id, id) == 0)
            return pt;
    }
    return NULL;
}

struct state_user *state_user_find(const struct state *st, const char *account, const char *name) {
    for (size_t i = 0; i < st->users.n; i++) {
        struct state_user *u = st->users.v[i];
        if (strcmp(u->account_id, account) == 0 && strcmp(u->name, name) == 0)
            return u;
    }
    return NULL;
}

struct state_group *state_group_find(const struct state *st, const char *account, const char *name) {
    for (size_t i = 0; i < st->groups.n; i++) {
        struct state_group *g = st->groups.v[i];
        if (strcmp(g->account_id, account) == 0 && strcmp(g->name, name) == 0)
            return g;
    }
    return NULL;
}

struct state_policy *state_policy_find(const struct state *st, const char *orn) {
    for (size_t i = 0; i < st->policies.n; i++) {
        struct state_policy *p = st->policies.v[i];
        if (strcmp(p->orn, orn) == 0)
            return p;
    }
    return NULL;
}

static bool group_id_used(const struct state *st, const char *id) {
    for (size_t i = 0; i < st->groups.n; i++)
        if (strcmp(((struct state_group *)st->groups.v[i])->id, id) == 0)
            return true;
    return false;
}

void state_new_id(const struct state *st, const char *prefix, char *out, size_t n) {
    for (;;) {
        uint8_t b[4];
        char hex[9];
        crypto_random(b, sizeof b);
        crypto_hex(b, sizeof b, hex);
        snprintf(out, n, "%s-%s", prefix, hex);
        if (!state_image_find(st, out) && !state_vm_find(st, out) && !state_product_type_find(st, out) &&
            !group_id_used(st, out))
            return;
    }
}

void state_new_token(char *out, size_t len) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t b[64];
    for (size_t i = 0; i < len; i++) {
        if (i % sizeof b == 0)
            crypto_random(b, sizeof b);
        /* 252 = 7 * 36: the small modulo bias does not matter for identifiers */
        out[i] = alphabet[b[i % sizeof b] % (sizeof alphabet - 1)];
    }
    out[len] = '\0';
}

const char *state_image_state_name(enum state_image_state s) {
    switch (s) {
    case STATE_IMAGE_PENDING: return "pending";
    case STATE_IMAGE_AVAILABLE: return "available";
    case STATE_IMAGE_FAILED: return "failed";
    }
    return "failed";
}

const char *state_vm_state_name(enum state_vm_state s) {
    static const char *const names[] = {"pending", "running", "stopping", "stopped", "shutting-down", "terminated"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "terminated";
}

static int image_state_from(const char *s) {
    for (int i = STATE_IMAGE_PENDING; i <= STATE_IMAGE_FAILED; i++)
        if (strcmp(s, state_image_state_name((enum state_image_state)i)) == 0)
            return i;
    return -1;
}

static int vm_state_from(const char *s) {
    for (int i = STATE_VM_PENDING; i <= STATE_VM_TERMINATED; i++)
        if (strcmp(s, state_vm_state_name((enum state_vm_state)i)) == 0)
            return i;
    return -1;
}

void state_format_time(mkt_time t, char out[32]) {
    char full[40];
    clock_format(t, full, sizeof full); /* 2026-11-21T22:20:57.123456Z */
    snprintf(out, 32, "%.23sZ", full);
}

/* ---- transitions ------------------------------------------------------------------------------ */

void state_tick(struct state *st, mkt_time now) {
    for (size_t i = 0; i < st->images.n; i++) {
        struct state_image *im = st->images.v[i];
        if (im->state == STATE_IMAGE_PENDING && im->ready_at <= now)
            im->state = STATE_IMAGE_AVAILABLE;
    }
    for (size_t i = 0; i < st->vms.n;) {
        struct state_vm *vm = st->vms.v[i];
        mkt_time due = vm->state_since + st->vm_delay;
        if (due <= now) {
            enum state_vm_state next = vm->state;
            switch (vm->state) {
            case STATE_VM_PENDING: next = STATE_VM_RUNNING; break;
            case STATE_VM_STOPPING: next = STATE_VM_STOPPED; break;
            case STATE_VM_SHUTTING_DOWN: next = STATE_VM_TERMINATED; break;
            default: break;
            }
            if (next != vm->state) {
                vm->state = next;
                vm->state_since = due;
            }
        }
        if (vm->state == STATE_VM_TERMINATED && vm->state_since + st->terminated_ttl <= now) {
            state_vec_remove(&st->vms, vm);
            state_vm_free(vm);
            continue;
        }
        i++;
    }
}

/* ---- built-ins -------------------------------------------------------------------------------- */

static mkt_time builtin_time(void) {
    mkt_time t = 0;
    (void)clock_parse("2024-10-01T00:00:00Z", &t);
    return t;
}

/* Stable ids for the base OMIs, so that configurations can name them across restarts. */
static void base_image_id(const char *region, const char *name, char out[16]) {
    char seed[256];
    uint8_t h[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    snprintf(seed, sizeof seed, "%s/%s", region, name);
    crypto_sha256(seed, strlen(seed), h);
    crypto_hex(h, 4, hex);
    snprintf(out, 16, "ami-%s", hex);
}

static void ensure_builtins(struct state *st) {
    mkt_time t0 = builtin_time();
    if (!state_account_find(st, STATE_PROVIDER_ACCOUNT)) {
        struct state_account *a = state_account_new();
        snprintf(a->id, sizeof a->id, "%s", STATE_PROVIDER_ACCOUNT);
        state_set_str(&a->email, "images@provider.example");
        for (const char *const *r = state_regions; *r; r++)
            state_strs_add(&a->regions, *r);
        a->created = t0;
        state_vec_push(&st->accounts, a);
    }
    if (!state_product_type_find(st, STATE_LINUX_PRODUCT_TYPE)) {
        struct state_product_type *pt = state_product_type_new();
        snprintf(pt->id, sizeof pt->id, "%s", STATE_LINUX_PRODUCT_TYPE);
        state_set_str(&pt->description, "Linux");
        state_set_str(&pt->vendor, "OUTSCALE");
        pt->created = t0;
        state_vec_push(&st->product_types, pt);
    }
    for (const char *const *r = state_regions; *r; r++) {
        for (size_t i = 0; i < sizeof base_images / sizeof base_images[0]; i++) {
            char id[16];
            base_image_id(*r, base_images[i][0], id);
            if (state_image_find(st, id))
                continue;
            struct state_image *im = state_image_new();
            snprintf(im->id, sizeof im->id, "%s", id);
            snprintf(im->account_id, sizeof im->account_id, "%s", STATE_PROVIDER_ACCOUNT);
            snprintf(im->region, sizeof im->region, "%s", *r);
            state_set_str(&im->name, base_images[i][0]);
            state_set_str(&im->description, base_images[i][1]);
            im->state = STATE_IMAGE_AVAILABLE;
            im->created = im->ready_at = t0;
            im->is_public = true;
            state_strs_add(&im->product_codes, STATE_LINUX_PRODUCT_TYPE);
            state_vec_push(&st->images, im);
        }
    }
}

struct state *state_new(const char *path, mkt_time copy_delay, mkt_time vm_delay) {
    struct state *st = xcalloc(1, sizeof *st);
    st->path = path ? xstrdup(path) : NULL;
    st->copy_delay = copy_delay;
    st->vm_delay = vm_delay;
    st->terminated_ttl = CLOCK_HOUR;
    ensure_builtins(st);
    return st;
}

/* ---- seed ------------------------------------------------------------------------------------- */

static const struct jsonv_field seed_entry_fields[] = {
    {.name = "account_id", .type = JSONV_STRING, .required = true, .min = 12, .max = 12},
    {.name = "email", .type = JSONV_STRING, .required = true, .min = 3, .max = 254, .format = JSONV_EMAIL},
    {.name = "access_key", .type = JSONV_STRING, .required = true, .min = STATE_AK_LEN, .max = STATE_AK_LEN},
    {.name = "secret_key", .type = JSONV_STRING, .required = true, .min = STATE_SK_LEN, .max = STATE_SK_LEN},
    {.name = "regions",
     .type = JSONV_ARRAY,
     .required = true,
     .min = 1,
     .max = 16,
     .one_of = state_regions,
     .items = JSONV_STRING,
     .unique = true},
};
static const struct jsonv_schema seed_entry_schema = JSONV_SCHEMA(seed_entry_fields);

static bool all_chars(const char *s, const char *set_desc) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = strcmp(set_desc, "digits") == 0 ? (c >= '0' && c <= '9')
                                                   : ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                                                      (c >= 'a' && c <= 'z'));
        if (!ok)
            return false;
    }
    return true;
}

err_code state_seed_account(struct state *st, const json_t *entry, bool existing_ok, struct err *e) {
    if (jsonv_check(entry, &seed_entry_schema, e) != ERR_OK)
        return e ? e->code : ERR_INVALID;
    const char *id = json_string_value(json_object_get(entry, "account_id"));
    const char *ak = json_string_value(json_object_get(entry, "access_key"));
    const char *sk = json_string_value(json_object_get(entry, "secret_key"));
    if (!all_chars(id, "digits"))
        return err_set(e, ERR_INVALID, "field 'account_id': must be 12 digits");
    if (!all_chars(ak, "alnum") || !all_chars(sk, "alnum"))
        return err_set(e, ERR_INVALID, "field 'access_key'/'secret_key': must be alphanumeric");
    struct state_account *existing = state_account_find(st, id);
    struct state_key *existing_key = state_key_find(st, ak);
    if (existing_key && strcmp(existing_key->account_id, id) != 0)
        return err_set(e, ERR_CONFLICT, "access key %s belongs to another account", ak);
    if (existing && !existing_ok)
        return err_set(e, ERR_CONFLICT, "account %s already exists", id);
    if (existing && existing_key)
        return ERR_OK; /* seeded before */
    mkt_time now = clock_now();
    /* a known account given a new root key by the seed keeps its old keys too */
    if (!existing) {
        struct state_account *a = state_account_new();
        snprintf(a->id, sizeof a->id, "%s", id);
        state_set_str(&a->email, json_string_value(json_object_get(entry, "email")));
        size_t i;
        const json_t *r;
        json_array_foreach(json_object_get(entry, "regions"), i, r) state_strs_add(&a->regions, json_string_value(r));
        a->created = now;
        state_vec_push(&st->accounts, a);
    }
    struct state_key *k = state_key_new();
    snprintf(k->id, sizeof k->id, "%s", ak);
    snprintf(k->secret, sizeof k->secret, "%s", sk);
    snprintf(k->account_id, sizeof k->account_id, "%s", id);
    k->active = true;
    k->created = k->modified = now;
    state_vec_push(&st->keys, k);
    return ERR_OK;
}

err_code state_seed_file(struct state *st, const char *path, struct err *e) {
    err_code rc = ERR_OK;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = err_set(e, ERR_INVALID, "seed %s: %s (line %d)", path, je.text, je.line);
        goto done;
    }
    const json_t *accounts = json_object_get(root, "accounts");
    if (!json_is_array(accounts)) {
        rc = err_set(e, ERR_INVALID, "seed %s: 'accounts' must be an array", path);
        goto done;
    }
    size_t i;
    const json_t *entry;
    json_array_foreach(accounts, i, entry) {
        rc = state_seed_account(st, entry, true, e);
        if (rc != ERR_OK) {
            err_wrap(e, "seed %s: accounts[%zu]", path, i);
            goto done;
        }
    }
done:
    json_decref(root);
    return rc;
}

/* ---- persistence ------------------------------------------------------------------------------ */

static json_t *time_json(mkt_time t) {
    char buf[40];
    if (t == 0)
        return json_null();
    clock_format(t, buf, sizeof buf);
    return json_string(buf);
}

static json_t *tags_json_raw(const struct state_tags *t) {
    json_t *o = json_object();
    for (size_t i = 0; i < t->keys.n; i++)
        json_object_set_new(o, t->keys.v[i], json_string(t->values.v[i]));
    return o;
}

json_t *state_to_json(const struct state *st) {
    json_t *root = json_object();
    json_t *accounts = json_array(), *keys = json_array(), *images = json_array(), *vms = json_array();
    json_t *pts = json_array(), *users = json_array(), *groups = json_array(), *policies = json_array();
    json_object_set_new(root, "version", json_integer(1));
    for (size_t i = 0; i < st->accounts.n; i++) {
        const struct state_account *a = st->accounts.v[i];
        json_array_append_new(accounts, json_pack("{s:s, s:s, s:o, s:o}", "account_id", a->id, "email", a->email,
                                                  "regions", state_strs_json(&a->regions), "created",
                                                  time_json(a->created)));
    }
    for (size_t i = 0; i < st->keys.n; i++) {
        const struct state_key *k = st->keys.v[i];
        json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:o}", "access_key_id", k->id,
                                              "secret_key", k->secret, "account_id", k->account_id, "user_name",
                                              k->user, "state", k->active ? "ACTIVE" : "INACTIVE", "created",
                                              time_json(k->created), "modified", time_json(k->modified),
                                              "expires", time_json(k->expires)));
    }
    for (size_t i = 0; i < st->images.n; i++) {
        const struct state_image *im = st->images.v[i];
        json_array_append_new(
            images, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:o}", "image_id", im->id,
                              "account_id", im->account_id, "region", im->region, "name", im->name, "description",
                              im->description, "source_image_id", im->source_id, "state",
                              state_image_state_name(im->state), "created", time_json(im->created), "ready_at",
                              time_json(im->ready_at), "public", im->is_public, "launch_accounts",
                              state_strs_json(&im->launch_accounts), "product_codes",
                              state_strs_json(&im->product_codes), "tags", tags_json_raw(&im->tags)));
        if (*im->state_message)
            json_object_set_new(json_array_get(images, json_array_size(images) - 1), "state_message",
                                json_string(im->state_message));
    }
    for (size_t i = 0; i < st->vms.n; i++) {
        const struct state_vm *vm = st->vms.v[i];
        json_array_append_new(
            vms, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "vm_id", vm->id, "account_id",
                           vm->account_id, "region", vm->region, "image_id", vm->image_id, "vm_type", vm->vm_type,
                           "keypair", vm->keypair, "state", state_vm_state_name(vm->state), "created",
                           time_json(vm->created), "state_since", time_json(vm->state_since), "product_codes",
                           state_strs_json(&vm->product_codes), "tags", tags_json_raw(&vm->tags)));
        json_t *o = json_array_get(vms, json_array_size(vms) - 1);
        json_object_set_new(o, "subnet_id", json_string(vm->subnet_id));
        json_object_set_new(o, "reservation_id", json_string(vm->reservation_id));
        json_object_set_new(o, "launch_number", json_integer(vm->launch_number));
    }
    for (size_t i = 0; i < st->product_types.n; i++) {
        const struct state_product_type *pt = st->product_types.v[i];
        json_array_append_new(pts, json_pack("{s:s, s:s, s:s, s:s, s:o}", "product_type_id", pt->id, "account_id",
                                             pt->account_id, "description", pt->description, "vendor", pt->vendor,
                                             "created", time_json(pt->created)));
    }
    for (size_t i = 0; i < st->users.n; i++) {
        const struct state_user *u = st->users.v[i];
        json_array_append_new(users, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "user_id", u->id,
                                               "account_id", u->account_id, "name", u->name, "path", u->path, "email",
                                               u->email, "created", time_json(u->created), "modified",
                                               time_json(u->modified), "policies", state_strs_json(&u->policies)));
    }
    for (size_t i = 0; i < st->groups.n; i++) {
        const struct state_group *g = st->groups.v[i];
        json_array_append_new(groups, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "group_id", g->id,
                                                "account_id", g->account_id, "name", g->name, "path", g->path,
                                                "created", time_json(g->created), "modified", time_json(g->modified),
                                                "users", state_strs_json(&g->users), "policies",
                                                state_strs_json(&g->policies)));
    }
    for (size_t i = 0; i < st->policies.n; i++) {
        const struct state_policy *p = st->policies.v[i];
        json_array_append_new(policies,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "policy_id", p->id,
                                        "account_id", p->account_id, "name", p->name, "path", p->path, "orn", p->orn,
                                        "description", p->description, "document", p->document, "created",
                                        time_json(p->created), "modified", time_json(p->modified)));
    }
    json_object_set_new(root, "accounts", accounts);
    json_object_set_new(root, "access_keys", keys);
    json_object_set_new(root, "images", images);
    json_object_set_new(root, "vms", vms);
    json_object_set_new(root, "product_types", pts);
    json_object_set_new(root, "users", users);
    json_object_set_new(root, "groups", groups);
    json_object_set_new(root, "policies", policies);
    return root;
}

err_code state_save(const struct state *st, struct err *e) {
    err_code rc = ERR_OK;
    json_t *root = NULL;
    char *text = NULL;
    char tmp[4096];
    int fd = -1;
    if (!st->path)
        return ERR_OK;
    root = state_to_json(st);
    text = json_dumps(root, JSON_INDENT(1));
    if (!text) {
        rc = err_set(e, ERR_INTERNAL, "state: cannot serialise");
        goto done;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", st->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, ERR_INTERNAL, "state: open %s: %s", tmp, strerror(errno));
        goto done;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = err_set(e, ERR_INTERNAL, "state: write %s: %s", tmp, strerror(errno));
            goto done;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = err_set(e, ERR_INTERNAL, "state: fsync %s: %s", tmp, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, st->path) != 0) {
        rc = err_set(e, ERR_INTERNAL, "state: rename to %s: %s", st->path, strerror(errno));
        goto done;
    }
done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(text);
    json_decref(root);
    return rc;
}

/* Readers of the state file: missing or mistyped fields read as empty values. */
static const char *jstr(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static mkt_time jtime(const json_t *o, const char *key) {
    mkt_time t = 0;
    const char *s = json_string_value(json_object_get(o, key));
    if (s && clock_parse(s, &t) != 0)
        t = 0;
    return t;
}

static void jstrs(const json_t *o, const char *key, struct state_strs *out) {
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(o, key), i, v) if (json_is_string(v)) state_strs_add(out, json_string_value(v));
}

static void jtags(const json_t *o, const char *key, struct state_tags *out) {
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(o, key), k, v) if (json_is_string(v))
        state_tags_set(out, k, json_string_value(v));
}

#define COPY_ID(dst, o, key) snprintf((dst), sizeof(dst), "%s", jstr((o), (key)))

static err_code load_images(struct state *st, const json_t *arr, struct err *e) {
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o) {
        int s = image_state_from(jstr(o, "state"));
        if (s < 0 || !*jstr(o, "image_id"))
            return err_set(e, ERR_INVALID, "images[%zu]: bad state or id", i);
        struct state_image *im = state_image_new();
        COPY_ID(im->id, o, "image_id");
        COPY_ID(im->account_id, o, "account_id");
        COPY_ID(im->region, o, "region");
        state_set_str(&im->name, jstr(o, "name"));
        state_set_str(&im->description, jstr(o, "description"));
        state_set_str(&im->source_id, jstr(o, "source_image_id"));
        state_set_str(&im->state_message, jstr(o, "state_message"));
        im->state = (enum state_image_state)s;
        im->created = jtime(o, "created");
        im->ready_at = jtime(o, "ready_at");
        im->is_public = json_is_true(json_object_get(o, "public"));
        jstrs(o, "launch_accounts", &im->launch_accounts);
        jstrs(o, "product_codes", &im->product_codes);
        jtags(o, "tags", &im->tags);
        state_vec_push(&st->images, im);
    }
    return ERR_OK;
}

static err_code load_vms(struct state *st, const json_t *arr, struct err *e) {
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o) {
        int s = vm_state_from(jstr(o, "state"));
        if (s < 0 || !*jstr(o, "vm_id"))
            return err_set(e, ERR_INVALID, "vms[%zu]: bad state or id", i);
        struct state_vm *vm = state_vm_new();
        COPY_ID(vm->id, o, "vm_id");
        COPY_ID(vm->account_id, o, "account_id");
        COPY_ID(vm->region, o, "region");
        COPY_ID(vm->image_id, o, "image_id");
        state_set_str(&vm->vm_type, jstr(o, "vm_type"));
        state_set_str(&vm->keypair, jstr(o, "keypair"));
        state_set_str(&vm->subnet_id, jstr(o, "subnet_id"));
        COPY_ID(vm->reservation_id, o, "reservation_id");
        vm->launch_number = (int)json_integer_value(json_object_get(o, "launch_number"));
        vm->state = (enum state_vm_state)s;
        vm->created = jtime(o, "created");
        vm->state_since = jtime(o, "state_since");
        jstrs(o, "product_codes", &vm->product_codes);
        jtags(o, "tags", &vm->tags);
        state_vec_push(&st->vms, vm);
    }
    return ERR_OK;
}

static void load_accounts_and_keys(struct state *st, const json_t *root) {
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(root, "accounts"), i, o) {
        if (state_account_find(st, jstr(o, "account_id")))
            continue; /* a built-in already present */
        struct state_account *a = state_account_new();
        COPY_ID(a->id, o, "account_id");
        state_set_str(&a->email, jstr(o, "email"));
        jstrs(o, "regions", &a->regions);
        a->created = jtime(o, "created");
        state_vec_push(&st->accounts, a);
    }
    json_array_foreach(json_object_get(root, "access_keys"), i, o) {
        struct state_key *k = state_key_new();
        COPY_ID(k->id, o, "access_key_id");
        COPY_ID(k->secret, o, "secret_key");
        COPY_ID(k->account_id, o, "account_id");
        const char *user = json_string_value(json_object_get(o, "user_name"));
        k->user = user ? xstrdup(user) : NULL;
        k->active = strcmp(jstr(o, "state"), "ACTIVE") == 0;
        k->created = jtime(o, "created");
        k->modified = jtime(o, "modified");
        k->expires = jtime(o, "expires");
        state_vec_push(&st->keys, k);
    }
}

static void load_eim(struct state *st, const json_t *root) {
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(root, "product_types"), i, o) {
        if (state_product_type_find(st, jstr(o, "product_type_id")))
            continue;
        struct state_product_type *pt = state_product_type_new();
        COPY_ID(pt->id, o, "product_type_id");
        COPY_ID(pt->account_id, o, "account_id");
        state_set_str(&pt->description, jstr(o, "description"));
        state_set_str(&pt->vendor, jstr(o, "vendor"));
        pt->created = jtime(o, "created");
        state_vec_push(&st->product_types, pt);
    }
    json_array_foreach(json_object_get(root, "users"), i, o) {
        struct state_user *u = state_user_new();
        COPY_ID(u->id, o, "user_id");
        COPY_ID(u->account_id, o, "account_id");
        state_set_str(&u->name, jstr(o, "name"));
        state_set_str(&u->path, jstr(o, "path"));
        state_set_str(&u->email, jstr(o, "email"));
        u->created = jtime(o, "created");
        u->modified = jtime(o, "modified");
        jstrs(o, "policies", &u->policies);
        state_vec_push(&st->users, u);
    }
    json_array_foreach(json_object_get(root, "groups"), i, o) {
        struct state_group *g = state_group_new();
        COPY_ID(g->id, o, "group_id");
        COPY_ID(g->account_id, o, "account_id");
        state_set_str(&g->name, jstr(o, "name"));
        state_set_str(&g->path, jstr(o, "path"));
        g->created = jtime(o, "created");
        g->modified = jtime(o, "modified");
        jstrs(o, "users", &g->users);
        jstrs(o, "policies", &g->policies);
        state_vec_push(&st->groups, g);
    }
    json_array_foreach(json_object_get(root, "policies"), i, o) {
        struct state_policy *p = state_policy_new();
        COPY_ID(p->id, o, "policy_id");
        COPY_ID(p->account_id, o, "account_id");
        state_set_str(&p->name, jstr(o, "name"));
        state_set_str(&p->path, jstr(o, "path"));
        state_set_str(&p->orn, jstr(o, "orn"));
        state_set_str(&p->description, jstr(o, "description"));
        state_set_str(&p->document, jstr(o, "document"));
        p->created = jtime(o, "created");
        p->modified = jtime(o, "modified");
        state_vec_push(&st->policies, p);
    }
}

err_code state_load(struct state *st, const char *path, struct err *e) {
    err_code rc = ERR_OK;
    json_error_t je;
    json_t *root = NULL;
    if (access(path, F_OK) != 0)
        return err_set(e, ERR_NOT_FOUND, "state file %s does not exist", path);
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        rc = err_set(e, ERR_INVALID, "state file %s: %s (line %d)", path, root ? "not an object" : je.text,
                     je.line);
        goto done;
    }
    if (json_integer_value(json_object_get(root, "version")) != 1) {
        rc = err_set(e, ERR_INVALID, "state file %s: unsupported version", path);
        goto done;
    }
    /* the built-in base images are replaced by the file's copy of them (same ids) */
    FREE_VEC(st->images, state_image_free);
    load_accounts_and_keys(st, root);
    load_eim(st, root);
    rc = load_images(st, json_object_get(root, "images"), e);
    if (rc == ERR_OK)
        rc = load_vms(st, json_object_get(root, "vms"), e);
    if (rc != ERR_OK) {
        err_wrap(e, "state file %s", path);
        goto done;
    }
    ensure_builtins(st);
done:
    json_decref(root);
    return rc;
}
