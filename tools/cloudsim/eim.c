/* EIM users and user groups of an account: creation, reads with FirstItem paging, membership by
 * names, and deletion with the real service's order constraints (a user cannot be deleted while
 * in a group, holding access keys or with linked policies; a group needs Force while it has
 * members or linked policies). EIM is global to an account: no Region is involved. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "policies.h"

#define NAME_CHARS "+=,.@-_"

static json_t *user_json(const struct state_user *u) {
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "UserId", u->id, "UserName", u->name, "UserEmail", u->email,
                     "Path", u->path, "CreationDate", api_time(u->created), "LastModificationDate",
                     api_time(u->modified));
}

static json_t *group_json(const struct state_group *g) {
    char orn[1024];
    snprintf(orn, sizeof orn, "orn:ows:idauth::%s:usergroup%s%s", g->account_id, g->path, g->name);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "Name", g->name, "Path", g->path, "UserGroupId", g->id, "Orn",
                     orn, "CreationDate", api_time(g->created), "LastModificationDate", api_time(g->modified));
}

/* The caller's user, checking the optional path; NULL after api_fail. */
static struct state_user *find_user(struct api_ctx *c, const char *name, const char *path) {
    struct state_user *u = state_user_find(c->st, c->account->id, name);
    if (!u || (path && strcmp(u->path, path) != 0)) {
        api_fail(c, API_E_NO_USER, "the user '%s' does not exist", name);
        return NULL;
    }
    return u;
}

static struct state_group *find_group(struct api_ctx *c, const char *name, const char *path) {
    struct state_group *g = state_group_find(c->st, c->account->id, name);
    if (!g || (path && strcmp(g->path, path) != 0)) {
        api_fail(c, API_E_NO_GROUP, "the user group '%s' does not exist", name);
        return NULL;
    }
    return g;
}

/* ---- users ------------------------------------------------------------------------------------ */

static const struct jsonv_field create_user_fields[] = {
    API_DRY_RUN,
    {.name = "UserName", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "Path", .type = JSONV_STRING, .min = 1, .max = 512},
    {.name = "UserEmail", .type = JSONV_STRING, .min = 3, .max = 254, .format = JSONV_EMAIL},
};
static const struct jsonv_schema create_user_schema = JSONV_SCHEMA(create_user_fields);

static err_code create_user(struct api_ctx *c) {
    const char *name = api_str(c, "UserName"), *path = api_opt(c, "Path");
    if (!path)
        path = "/";
    if (!api_chars_ok(name, NAME_CHARS))
        return api_fail(c, API_E_INVALID_VALUE, "UserName: only letters, digits and %s are allowed", NAME_CHARS);
    if (!policies_path_ok(path))
        return api_fail(c, API_E_INVALID_VALUE, "Path: must start and end with '/'");
    if (state_user_find(c->st, c->account->id, name))
        return api_fail(c, API_E_DUPLICATE, "a user named '%s' already exists", name);
    struct state_user *u = state_user_new();
    state_new_token(u->id, 20);
    snprintf(u->account_id, sizeof u->account_id, "%s", c->account->id);
    state_set_str(&u->name, name);
    state_set_str(&u->path, path);
    state_set_str(&u->email, api_str(c, "UserEmail"));
    u->created = u->modified = c->now;
    state_vec_push(&c->st->users, u);
    json_object_set_new(c->res, "User", user_json(u));
    return ERR_OK;
}

static const struct jsonv_field user_filter_fields[] = {API_STRINGS("UserIds")};
static const struct jsonv_schema user_filter_schema = JSONV_SCHEMA(user_filter_fields);
static const struct jsonv_field read_users_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &user_filter_schema},
    API_EIM_PAGING,
};
static const struct jsonv_schema read_users_schema = JSONV_SCHEMA(read_users_fields);

static err_code read_users(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->users.n; i++) {
        const struct state_user *u = c->st->users.v[i];
        if (strcmp(u->account_id, c->account->id) == 0 && api_filter_str(f, "UserIds", u->id))
            json_array_append_new(all, user_json(u));
    }
    return api_page_eim(c, "Users", all);
}

static const struct jsonv_field delete_user_fields[] = {
    API_DRY_RUN,
    {.name = "UserName", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
};
static const struct jsonv_schema delete_user_schema = JSONV_SCHEMA(delete_user_fields);

static err_code delete_user(struct api_ctx *c) {
    struct state_user *u = find_user(c, api_str(c, "UserName"), NULL);
    if (!u)
        return ERR_NOT_FOUND;
    for (size_t i = 0; i < c->st->groups.n; i++) {
        const struct state_group *g = c->st->groups.v[i];
        if (strcmp(g->account_id, u->account_id) == 0 && state_strs_has(&g->users, u->name))
            return api_fail(c, API_E_IN_USE, "the user '%s' is a member of the group '%s'", u->name, g->name);
    }
    for (size_t i = 0; i < c->st->keys.n; i++) {
        const struct state_key *k = c->st->keys.v[i];
        if (k->user && strcmp(k->account_id, u->account_id) == 0 && strcmp(k->user, u->name) == 0)
            return api_fail(c, API_E_IN_USE, "the user '%s' still has access keys", u->name);
    }
    if (u->policies.n > 0)
        return api_fail(c, API_E_IN_USE, "the user '%s' still has linked policies", u->name);
    state_vec_remove(&c->st->users, u);
    state_user_free(u);
    return ERR_OK;
}

/* ---- groups ----------------------------------------------------------------------------------- */

static const struct jsonv_field create_group_fields[] = {
    API_DRY_RUN,
    {.name = "UserGroupName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
    {.name = "Path", .type = JSONV_STRING, .min = 1, .max = 512},
};
static const struct jsonv_schema create_group_schema = JSONV_SCHEMA(create_group_fields);

static err_code create_group(struct api_ctx *c) {
    const char *name = api_str(c, "UserGroupName"), *path = api_opt(c, "Path");
    if (!path)
        path = "/";
    if (!api_chars_ok(name, NAME_CHARS))
        return api_fail(c, API_E_INVALID_VALUE, "UserGroupName: only letters, digits and %s are allowed",
                        NAME_CHARS);
    if (!policies_path_ok(path))
        return api_fail(c, API_E_INVALID_VALUE, "Path: must start and end with '/'");
    if (state_group_find(c->st, c->account->id, name))
        return api_fail(c, API_E_DUPLICATE, "a user group named '%s' already exists", name);
    struct state_group *g = state_group_new();
    state_new_id(c->st, "ug", g->id, sizeof g->id);
    snprintf(g->account_id, sizeof g->account_id, "%s", c->account->id);
    state_set_str(&g->name, name);
    state_set_str(&g->path, path);
    g->created = g->modified = c->now;
    state_vec_push(&c->st->groups, g);
    json_object_set_new(c->res, "UserGroup", group_json(g));
    return ERR_OK;
}

static const struct jsonv_field group_filter_fields[] = {
    {.name = "PathPrefix", .type = JSONV_STRING, .min = 1, .max = 512},
    API_STRINGS("UserGroupIds"),
};
static const struct jsonv_schema group_filter_schema = JSONV_SCHEMA(group_filter_fields);
static const struct jsonv_field read_groups_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &group_filter_schema},
    API_EIM_PAGING,
};
static const struct jsonv_schema read_groups_schema = JSONV_SCHEMA(read_groups_fields);

static err_code read_groups(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    const char *prefix = json_string_value(json_object_get(f, "PathPrefix"));
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->groups.n; i++) {
        const struct state_group *g = c->st->groups.v[i];
        if (strcmp(g->account_id, c->account->id) != 0 || !api_filter_str(f, "UserGroupIds", g->id) ||
            (prefix && strncmp(g->path, prefix, strlen(prefix)) != 0))
            continue;
        json_array_append_new(all, group_json(g));
    }
    return api_page_eim(c, "UserGroups", all);
}

static const struct jsonv_field group_name_fields[] = {
    API_DRY_RUN,
    {.name = "UserGroupName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
    {.name = "Path", .type = JSONV_STRING, .min = 1, .max = 512},
};
static const struct jsonv_schema group_name_schema = JSONV_SCHEMA(group_name_fields);

static err_code read_group(struct api_ctx *c) {
    struct state_group *g = find_group(c, api_str(c, "UserGroupName"), api_opt(c, "Path"));
    if (!g)
        return ERR_NOT_FOUND;
    json_t *users = json_array();
    for (size_t i = 0; i < g->users.n; i++) {
        const struct state_user *u = state_user_find(c->st, g->account_id, g->users.v[i]);
        if (u)
            json_array_append_new(users, user_json(u));
    }
    json_object_set_new(c->res, "UserGroup", group_json(g));
    json_object_set_new(c->res, "Users", users);
    return ERR_OK;
}

static const struct jsonv_field delete_group_fields[] = {
    API_DRY_RUN,
    {.name = "UserGroupName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
    {.name = "Path", .type = JSONV_STRING, .min = 1, .max = 512},
    {.name = "Force", .type = JSONV_BOOL},
};
static const struct jsonv_schema delete_group_schema = JSONV_SCHEMA(delete_group_fields);

static err_code delete_group(struct api_ctx *c) {
    struct state_group *g = find_group(c, api_str(c, "UserGroupName"), api_opt(c, "Path"));
    if (!g)
        return ERR_NOT_FOUND;
    bool force = json_is_true(json_object_get(c->req, "Force"));
    if (!force && g->users.n > 0)
        return api_fail(c, API_E_IN_USE, "the user group '%s' still has members (use Force)", g->name);
    if (!force && g->policies.n > 0)
        return api_fail(c, API_E_IN_USE, "the user group '%s' still has linked policies (use Force)", g->name);
    state_vec_remove(&c->st->groups, g);
    state_group_free(g);
    return ERR_OK;
}

static const struct jsonv_field membership_fields[] = {
    API_DRY_RUN,
    {.name = "UserGroupName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
    {.name = "UserGroupPath", .type = JSONV_STRING, .min = 1, .max = 512},
    {.name = "UserName", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "UserPath", .type = JSONV_STRING, .min = 1, .max = 512},
};
static const struct jsonv_schema membership_schema = JSONV_SCHEMA(membership_fields);

static err_code membership(struct api_ctx *c, bool add) {
    struct state_group *g = find_group(c, api_str(c, "UserGroupName"), api_opt(c, "UserGroupPath"));
    if (!g)
        return ERR_NOT_FOUND;
    struct state_user *u = find_user(c, api_str(c, "UserName"), api_opt(c, "UserPath"));
    if (!u)
        return ERR_NOT_FOUND;
    bool member = state_strs_has(&g->users, u->name);
    if (add && !member)
        state_strs_add(&g->users, u->name);
    if (!add && !member)
        return api_fail(c, API_E_NO_USER, "the user '%s' is not a member of the group '%s'", u->name, g->name);
    if (!add)
        state_strs_remove(&g->users, u->name);
    g->modified = c->now;
    return ERR_OK;
}

static err_code add_user_to_group(struct api_ctx *c) { return membership(c, true); }
static err_code remove_user_from_group(struct api_ctx *c) { return membership(c, false); }

static const struct jsonv_field groups_per_user_fields[] = {
    API_DRY_RUN,
    {.name = "UserName", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "UserPath", .type = JSONV_STRING, .min = 1, .max = 512},
};
static const struct jsonv_schema groups_per_user_schema = JSONV_SCHEMA(groups_per_user_fields);

static err_code read_groups_per_user(struct api_ctx *c) {
    struct state_user *u = find_user(c, api_str(c, "UserName"), api_opt(c, "UserPath"));
    if (!u)
        return ERR_NOT_FOUND;
    json_t *groups = json_array();
    for (size_t i = 0; i < c->st->groups.n; i++) {
        const struct state_group *g = c->st->groups.v[i];
        if (strcmp(g->account_id, u->account_id) == 0 && state_strs_has(&g->users, u->name))
            json_array_append_new(groups, group_json(g));
    }
    json_object_set_new(c->res, "UserGroups", groups);
    return ERR_OK;
}

const struct api_op eim_ops[] = {
    {"CreateUser", &create_user_schema, create_user, true, true},
    {"ReadUsers", &read_users_schema, read_users, true, false},
    {"DeleteUser", &delete_user_schema, delete_user, true, true},
    {"CreateUserGroup", &create_group_schema, create_group, true, true},
    {"ReadUserGroups", &read_groups_schema, read_groups, true, false},
    {"ReadUserGroup", &group_name_schema, read_group, true, false},
    {"DeleteUserGroup", &delete_group_schema, delete_group, true, true},
    {"AddUserToUserGroup", &membership_schema, add_user_to_group, true, true},
    {"RemoveUserFromUserGroup", &membership_schema, remove_user_from_group, true, true},
    {"ReadUserGroupsPerUser", &groups_per_user_schema, read_groups_per_user, true, false},
    {NULL, NULL, NULL, false, false},
};
