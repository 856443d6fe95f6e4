/* EIM managed policies: their documents and the rule that turns them into allowed actions, and
 * the operations that create, read, delete and link them. A policy belongs to one account, is
 * named by its ORN, and cannot be deleted while linked to a group or a user. */
#include "policies.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

/* ---- pure rules ------------------------------------------------------------------------------- */

static bool action_value_ok(const json_t *v) {
    if (json_is_string(v))
        return true;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    size_t i;
    const json_t *a;
    json_array_foreach(v, i, a) if (!json_is_string(a)) return false;
    return true;
}

err_code policies_check_document(const char *document, struct err *e) {
    err_code rc = ERR_OK;
    json_error_t je;
    json_t *doc = json_loads(document, JSON_REJECT_DUPLICATES, &je);
    if (!doc || !json_is_object(doc)) {
        rc = err_set(e, ERR_INVALID, "Document: must be a JSON object");
        goto done;
    }
    const json_t *stmts = json_object_get(doc, "Statement");
    if (!json_is_array(stmts) || json_array_size(stmts) == 0) {
        rc = err_set(e, ERR_INVALID, "Document: 'Statement' must be a non-empty array");
        goto done;
    }
    size_t i;
    const json_t *s;
    json_array_foreach(stmts, i, s) {
        const char *effect = json_string_value(json_object_get(s, "Effect"));
        if (!json_is_object(s) || !effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0)) {
            rc = err_set(e, ERR_INVALID, "Document: Statement[%zu].Effect must be \"Allow\" or \"Deny\"", i);
            goto done;
        }
        if (!action_value_ok(json_object_get(s, "Action"))) {
            rc = err_set(e, ERR_INVALID, "Document: Statement[%zu].Action must be a string or an array of strings",
                         i);
            goto done;
        }
        const json_t *res = json_object_get(s, "Resource");
        if (res && !action_value_ok(res)) {
            rc = err_set(e, ERR_INVALID, "Document: Statement[%zu].Resource must be a string or an array of strings",
                         i);
            goto done;
        }
    }
done:
    json_decref(doc);
    return rc;
}

bool policies_action_matches(const char *p, const char *s) { return api_glob_case(p, s, true); }

static bool statement_matches(const json_t *actions, const char *action) {
    if (json_is_string(actions))
        return policies_action_matches(json_string_value(actions), action);
    size_t i;
    const json_t *a;
    json_array_foreach(actions, i, a) if (json_is_string(a) && policies_action_matches(json_string_value(a), action))
        return true;
    return false;
}

enum policies_effect policies_evaluate(const char *document, const char *action) {
    enum policies_effect eff = POLICIES_NONE;
    json_t *doc = json_loads(document, 0, NULL);
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "Statement"), i, s) {
        const char *effect = json_string_value(json_object_get(s, "Effect"));
        if (!effect || !statement_matches(json_object_get(s, "Action"), action))
            continue;
        if (strcmp(effect, "Deny") == 0)
            eff = POLICIES_DENY;
        else if (strcmp(effect, "Allow") == 0 && eff == POLICIES_NONE)
            eff = POLICIES_ALLOW;
    }
    json_decref(doc);
    return eff;
}

void policies_orn(const char *account, const char *path, const char *name, char *out, size_t n) {
    snprintf(out, n, "orn:ows:idauth::%s:policy%s%s", account, path, name);
}

bool policies_path_ok(const char *path) {
    size_t len = strlen(path);
    return len >= 1 && len <= 512 && path[0] == '/' && path[len - 1] == '/' && !strstr(path, "//") &&
           api_chars_ok(path, "/_+=,.@-");
}

/* ---- operations ------------------------------------------------------------------------------- */

static size_t link_count(const struct state *st, const char *orn) {
    size_t n = 0;
    for (size_t i = 0; i < st->groups.n; i++)
        n += state_strs_has(&((struct state_group *)st->groups.v[i])->policies, orn);
    for (size_t i = 0; i < st->users.n; i++)
        n += state_strs_has(&((struct state_user *)st->users.v[i])->policies, orn);
    return n;
}

static json_t *policy_json(const struct state *st, const struct state_policy *p) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:o, s:o}", "PolicyName", p->name, "PolicyId", p->id,
                     "Path", p->path, "Orn", p->orn, "Description", p->description, "PolicyDefaultVersionId", "v1",
                     "IsLinkable", 1, "ResourcesCount", (json_int_t)link_count(st, p->orn), "CreationDate",
                     api_time(p->created), "LastModificationDate", api_time(p->modified));
}

/* The caller's policy with this ORN, or NULL after api_fail. */
static struct state_policy *own_policy(struct api_ctx *c, const char *orn) {
    struct state_policy *p = state_policy_find(c->st, orn);
    if (!p || strcmp(p->account_id, c->account->id) != 0) {
        api_fail(c, API_E_NO_POLICY, "the policy '%s' does not exist", orn);
        return NULL;
    }
    return p;
}

static const struct jsonv_field create_policy_fields[] = {
    API_DRY_RUN,
    {.name = "PolicyName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
    {.name = "Document", .type = JSONV_STRING, .required = true, .min = 1, .max = 5120},
    {.name = "Path", .type = JSONV_STRING, .min = 1, .max = 512},
    {.name = "Description", .type = JSONV_STRING, .min = 0, .max = 1000},
};
static const struct jsonv_schema create_policy_schema = JSONV_SCHEMA(create_policy_fields);

static err_code create_policy(struct api_ctx *c) {
    const char *name = api_str(c, "PolicyName"), *path = api_opt(c, "Path");
    const char *doc = api_str(c, "Document");
    struct err e;
    if (!path)
        path = "/";
    if (!api_chars_ok(name, "+=,.@-_"))
        return api_fail(c, API_E_INVALID_VALUE, "PolicyName: only letters, digits and +=,.@-_ are allowed");
    if (!policies_path_ok(path))
        return api_fail(c, API_E_INVALID_VALUE, "Path: must start and end with '/'");
    if (policies_check_document(doc, &e) != ERR_OK)
        return api_fail(c, API_E_INVALID_VALUE, "%s", e.msg);
    for (size_t i = 0; i < c->st->policies.n; i++) {
        const struct state_policy *p = c->st->policies.v[i];
        if (strcmp(p->account_id, c->account->id) == 0 && strcmp(p->name, name) == 0)
            return api_fail(c, API_E_DUPLICATE, "a policy named '%s' already exists", name);
    }
    struct state_policy *p = state_policy_new();
    state_new_token(p->id, 20);
    snprintf(p->account_id, sizeof p->account_id, "%s", c->account->id);
    state_set_str(&p->name, name);
    state_set_str(&p->path, path);
    state_set_str(&p->document, doc);
    state_set_str(&p->description, api_str(c, "Description"));
    char orn[1024];
    policies_orn(c->account->id, path, name, orn, sizeof orn);
    state_set_str(&p->orn, orn);
    p->created = p->modified = c->now;
    state_vec_push(&c->st->policies, p);
    json_object_set_new(c->res, "Policy", policy_json(c->st, p));
    return ERR_OK;
}

static const char *const scopes[] = {"LOCAL", "OWS", NULL};
static const struct jsonv_field policy_filter_fields[] = {
    {.name = "OnlyLinked", .type = JSONV_BOOL},
    {.name = "PathPrefix", .type = JSONV_STRING, .min = 1, .max = 512},
    {.name = "Scope", .type = JSONV_STRING, .one_of = scopes},
};
static const struct jsonv_schema policy_filter_schema = JSONV_SCHEMA(policy_filter_fields);
static const struct jsonv_field read_policies_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &policy_filter_schema},
    API_EIM_PAGING,
};
static const struct jsonv_schema read_policies_schema = JSONV_SCHEMA(read_policies_fields);

static err_code read_policies(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    bool only_linked = json_is_true(json_object_get(f, "OnlyLinked"));
    const char *prefix = json_string_value(json_object_get(f, "PathPrefix"));
    const char *scope = json_string_value(json_object_get(f, "Scope"));
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->policies.n && !(scope && strcmp(scope, "OWS") == 0); i++) {
        const struct state_policy *p = c->st->policies.v[i];
        if (strcmp(p->account_id, c->account->id) != 0)
            continue;
        if ((only_linked && link_count(c->st, p->orn) == 0) || (prefix && strncmp(p->path, prefix, strlen(prefix))))
            continue;
        json_array_append_new(all, policy_json(c->st, p));
    }
    return api_page_eim(c, "Policies", all);
}

static const struct jsonv_field orn_fields[] = {
    API_DRY_RUN,
    {.name = "PolicyOrn", .type = JSONV_STRING, .required = true, .min = 1, .max = 2048},
};
static const struct jsonv_schema orn_schema = JSONV_SCHEMA(orn_fields);

static err_code read_policy(struct api_ctx *c) {
    struct state_policy *p = own_policy(c, api_str(c, "PolicyOrn"));
    if (!p)
        return ERR_NOT_FOUND;
    json_object_set_new(c->res, "Policy", policy_json(c->st, p));
    return ERR_OK;
}

static err_code delete_policy(struct api_ctx *c) {
    struct state_policy *p = own_policy(c, api_str(c, "PolicyOrn"));
    if (!p)
        return ERR_NOT_FOUND;
    if (link_count(c->st, p->orn) > 0)
        return api_fail(c, API_E_IN_USE, "the policy '%s' is still linked to users or groups", p->orn);
    state_vec_remove(&c->st->policies, p);
    state_policy_free(p);
    return ERR_OK;
}

static const struct jsonv_field group_link_fields[] = {
    API_DRY_RUN,
    {.name = "PolicyOrn", .type = JSONV_STRING, .required = true, .min = 1, .max = 2048},
    {.name = "UserGroupName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
};
static const struct jsonv_schema group_link_schema = JSONV_SCHEMA(group_link_fields);

static err_code group_link(struct api_ctx *c, bool link) {
    struct state_policy *p = own_policy(c, api_str(c, "PolicyOrn"));
    if (!p)
        return ERR_NOT_FOUND;
    struct state_group *g = state_group_find(c->st, c->account->id, api_str(c, "UserGroupName"));
    if (!g)
        return api_fail(c, API_E_NO_GROUP, "the user group '%s' does not exist", api_str(c, "UserGroupName"));
    bool linked = state_strs_has(&g->policies, p->orn);
    if (link && !linked)
        state_strs_add(&g->policies, p->orn);
    if (!link && !linked)
        return api_fail(c, API_E_NO_POLICY, "the policy '%s' is not linked to the group '%s'", p->orn, g->name);
    if (!link)
        state_strs_remove(&g->policies, p->orn);
    g->modified = c->now;
    return ERR_OK;
}

static err_code link_group(struct api_ctx *c) { return group_link(c, true); }
static err_code unlink_group(struct api_ctx *c) { return group_link(c, false); }

static const struct jsonv_field user_link_fields[] = {
    API_DRY_RUN,
    {.name = "PolicyOrn", .type = JSONV_STRING, .required = true, .min = 1, .max = 2048},
    {.name = "UserName", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
};
static const struct jsonv_schema user_link_schema = JSONV_SCHEMA(user_link_fields);

static err_code user_link(struct api_ctx *c, bool link) {
    struct state_policy *p = own_policy(c, api_str(c, "PolicyOrn"));
    if (!p)
        return ERR_NOT_FOUND;
    struct state_user *u = state_user_find(c->st, c->account->id, api_str(c, "UserName"));
    if (!u)
        return api_fail(c, API_E_NO_USER, "the user '%s' does not exist", api_str(c, "UserName"));
    bool linked = state_strs_has(&u->policies, p->orn);
    if (link && !linked)
        state_strs_add(&u->policies, p->orn);
    if (!link && !linked)
        return api_fail(c, API_E_NO_POLICY, "the policy '%s' is not linked to the user '%s'", p->orn, u->name);
    if (!link)
        state_strs_remove(&u->policies, p->orn);
    u->modified = c->now;
    return ERR_OK;
}

static err_code link_user(struct api_ctx *c) { return user_link(c, true); }
static err_code unlink_user(struct api_ctx *c) { return user_link(c, false); }

/* The linked policies, in the short form the link reads answer. */
static json_t *linked_json(const struct state *st, const struct state_strs *orns) {
    json_t *all = json_array();
    for (size_t i = 0; i < orns->n; i++) {
        const struct state_policy *p = state_policy_find(st, orns->v[i]);
        if (p)
            json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:o, s:o}", "PolicyName", p->name, "PolicyId",
                                                 p->id, "Orn", p->orn, "CreationDate", api_time(p->created),
                                                 "LastModificationDate", api_time(p->modified)));
    }
    return all;
}

static const struct jsonv_field read_group_links_fields[] = {
    API_DRY_RUN,
    {.name = "UserGroupName", .type = JSONV_STRING, .required = true, .min = 1, .max = 128},
    {.name = "Filters", .type = JSONV_OBJECT, .object = &policy_filter_schema},
    API_EIM_PAGING,
};
static const struct jsonv_schema read_group_links_schema = JSONV_SCHEMA(read_group_links_fields);

static err_code read_group_links(struct api_ctx *c) {
    struct state_group *g = state_group_find(c->st, c->account->id, api_str(c, "UserGroupName"));
    if (!g)
        return api_fail(c, API_E_NO_GROUP, "the user group '%s' does not exist", api_str(c, "UserGroupName"));
    return api_page_eim(c, "Policies", linked_json(c->st, &g->policies));
}

static const struct jsonv_field read_user_links_fields[] = {
    API_DRY_RUN,
    {.name = "UserName", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    API_EIM_PAGING,
};
static const struct jsonv_schema read_user_links_schema = JSONV_SCHEMA(read_user_links_fields);

static err_code read_user_links(struct api_ctx *c) {
    struct state_user *u = state_user_find(c->st, c->account->id, api_str(c, "UserName"));
    if (!u)
        return api_fail(c, API_E_NO_USER, "the user '%s' does not exist", api_str(c, "UserName"));
    return api_page_eim(c, "Policies", linked_json(c->st, &u->policies));
}

const struct api_op policies_ops[] = {
    {"CreatePolicy", &create_policy_schema, create_policy, true, true},
    {"ReadPolicies", &read_policies_schema, read_policies, true, false},
    {"ReadPolicy", &orn_schema, read_policy, true, false},
    {"DeletePolicy", &orn_schema, delete_policy, true, true},
    {"LinkManagedPolicyToUserGroup", &group_link_schema, link_group, true, true},
    {"UnlinkManagedPolicyFromUserGroup", &group_link_schema, unlink_group, true, true},
    {"ReadManagedPoliciesLinkedToUserGroup", &read_group_links_schema, read_group_links, true, false},
    {"LinkPolicy", &user_link_schema, link_user, true, true},
    {"UnlinkPolicy", &user_link_schema, unlink_user, true, true},
    {"ReadLinkedPolicies", &read_user_links_schema, read_user_links, true, false},
    {NULL, NULL, NULL, false, false},
};
