/* Access keys: created for an EIM user (UserName) or, without it, for the caller itself (a root
 * key when the caller is the account, the caller's own user otherwise). The secret is shown only
 * by CreateAccessKey. A key must be made INACTIVE before it can be deleted, and only ACTIVE keys
 * authenticate (auth.c). */
#include <stdio.h>
#include <string.h>

#include "api.h"

static const char *const key_states[] = {"ACTIVE", "INACTIVE", NULL};

static json_t *key_json(const struct state_key *k, bool with_secret) {
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "AccessKeyId", k->id, "State", k->active ? "ACTIVE" : "INACTIVE",
                          "CreationDate", api_time(k->created), "LastModificationDate", api_time(k->modified));
    if (k->expires)
        json_object_set_new(o, "ExpirationDate", api_time(k->expires));
    if (with_secret)
        json_object_set_new(o, "SecretKey", json_string(k->secret));
    return o;
}

/* The user the call is about: UserName when given (must exist), else the caller's own (NULL for
 * root). Returns false after api_fail. */
static bool target_user(struct api_ctx *c, const char **user) {
    const char *name = api_opt(c, "UserName");
    if (!name) {
        *user = c->user;
        return true;
    }
    if (!state_user_find(c->st, c->account->id, name)) {
        api_fail(c, API_E_NO_USER, "the user '%s' does not exist", name);
        return false;
    }
    *user = name;
    return true;
}

static bool same_user(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* The caller's key with this id, belonging to the target user; NULL after api_fail. */
static struct state_key *find_key(struct api_ctx *c) {
    const char *user;
    if (!target_user(c, &user))
        return NULL;
    struct state_key *k = state_key_find(c->st, api_str(c, "AccessKeyId"));
    if (!k || strcmp(k->account_id, c->account->id) != 0 || !same_user(k->user, user)) {
        api_fail(c, API_E_NO_ACCESS_KEY, "the access key '%s' does not exist", api_str(c, "AccessKeyId"));
        return NULL;
    }
    return k;
}

static err_code parse_expiration(struct api_ctx *c, mkt_time *out) {
    const char *s = api_opt(c, "ExpirationDate");
    *out = 0;
    if (!s)
        return ERR_OK;
    if (clock_parse(s, out) != 0)
        return api_fail(c, API_E_INVALID_VALUE, "ExpirationDate: must be an ISO 8601 date");
    if (*out <= c->now)
        return api_fail(c, API_E_INVALID_VALUE, "ExpirationDate: must be in the future");
    return ERR_OK;
}

static const struct jsonv_field create_key_fields[] = {
    API_DRY_RUN,
    {.name = "UserName", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "ExpirationDate", .type = JSONV_STRING, .min = 1, .max = 64},
};
static const struct jsonv_schema create_key_schema = JSONV_SCHEMA(create_key_fields);

static err_code create_key(struct api_ctx *c) {
    const char *user;
    mkt_time expires;
    if (!target_user(c, &user))
        return ERR_NOT_FOUND;
    if (parse_expiration(c, &expires) != ERR_OK)
        return ERR_INVALID;
    struct state_key *k = state_key_new();
    do
        state_new_token(k->id, STATE_AK_LEN);
    while (state_key_find(c->st, k->id));
    state_new_token(k->secret, STATE_SK_LEN);
    snprintf(k->account_id, sizeof k->account_id, "%s", c->account->id);
    if (user)
        state_set_str(&k->user, user);
    k->active = true;
    k->created = k->modified = c->now;
    k->expires = expires;
    state_vec_push(&c->st->keys, k);
    json_object_set_new(c->res, "AccessKey", key_json(k, true));
    return ERR_OK;
}

static const struct jsonv_field key_filter_fields[] = {
    API_STRINGS("AccessKeyIds"),
    {.name = "States", .type = JSONV_ARRAY, .items = JSONV_STRING, .one_of = key_states},
};
static const struct jsonv_schema key_filter_schema = JSONV_SCHEMA(key_filter_fields);
static const struct jsonv_field read_keys_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &key_filter_schema},
    {.name = "UserName", .type = JSONV_STRING, .min = 1, .max = 64},
};
static const struct jsonv_schema read_keys_schema = JSONV_SCHEMA(read_keys_fields);

static err_code read_keys(struct api_ctx *c) {
    const char *user;
    if (!target_user(c, &user))
        return ERR_NOT_FOUND;
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *keys = json_array();
    for (size_t i = 0; i < c->st->keys.n; i++) {
        const struct state_key *k = c->st->keys.v[i];
        if (strcmp(k->account_id, c->account->id) != 0 || !same_user(k->user, user) ||
            !api_filter_str(f, "AccessKeyIds", k->id) ||
            !api_filter_str(f, "States", k->active ? "ACTIVE" : "INACTIVE"))
            continue;
        json_array_append_new(keys, key_json(k, false));
    }
    json_object_set_new(c->res, "AccessKeys", keys);
    return ERR_OK;
}

static const struct jsonv_field update_key_fields[] = {
    API_DRY_RUN,
    {.name = "AccessKeyId", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "State", .type = JSONV_STRING, .one_of = key_states},
    {.name = "ExpirationDate", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "UserName", .type = JSONV_STRING, .min = 1, .max = 64},
};
static const struct jsonv_schema update_key_schema = JSONV_SCHEMA(update_key_fields);

static err_code update_key(struct api_ctx *c) {
    struct state_key *k = find_key(c);
    mkt_time expires;
    if (!k)
        return ERR_NOT_FOUND;
    if (parse_expiration(c, &expires) != ERR_OK)
        return ERR_INVALID;
    /* only AccessKeyId is required: without State the key keeps its state */
    if (api_opt(c, "State"))
        k->active = strcmp(api_str(c, "State"), "ACTIVE") == 0;
    if (expires)
        k->expires = expires;
    k->modified = c->now;
    json_object_set_new(c->res, "AccessKey", key_json(k, false));
    return ERR_OK;
}

static const struct jsonv_field delete_key_fields[] = {
    API_DRY_RUN,
    {.name = "AccessKeyId", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "UserName", .type = JSONV_STRING, .min = 1, .max = 64},
};
static const struct jsonv_schema delete_key_schema = JSONV_SCHEMA(delete_key_fields);

static err_code delete_key(struct api_ctx *c) {
    struct state_key *k = find_key(c);
    if (!k)
        return ERR_NOT_FOUND;
    if (k->active)
        return api_fail(c, API_E_INVALID_STATE, "the access key '%s' must be INACTIVE before it is deleted", k->id);
    state_vec_remove(&c->st->keys, k);
    state_key_free(k);
    return ERR_OK;
}

const struct api_op access_keys_ops[] = {
    {"CreateAccessKey", &create_key_schema, create_key, true, true},
    {"ReadAccessKeys", &read_keys_schema, read_keys, true, false},
    {"UpdateAccessKey", &update_key_schema, update_key, true, true},
    {"DeleteAccessKey", &delete_key_schema, delete_key, true, true},
    {NULL, NULL, NULL, false, false},
};
