/* EIM calls of the cloud client: users, user groups, managed policies and access keys. Identity
 * uses them to give the marketplace a read-only foothold in a buyer's account (a `marketplace_`
 * user in a group whose policy allows api:ReadVms, with its own access key) and to remove it in
 * the order the cloud requires: deactivate and delete keys, leave the group, unlink, delete. */
#include <stdlib.h>
#include <string.h>

#include "cloud_internal.h"

static const char *path_or_root(const char *path) { return path ? path : "/"; }

/* ---- users ---------------------------------------------------------------------------------- */

void cloud_users_free(struct cloud_users *l) {
    if (!l)
        return;
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_user(void *item, const json_t *o, struct err *e) {
    (void)e;
    struct cloud_user *u = item;
    u->json = o;
    u->user_id = cloud__str(o, "UserId");
    u->user_name = cloud__str(o, "UserName");
    u->path = cloud__str(o, "Path");
    u->user_email = cloud__str(o, "UserEmail");
    u->creation_date = cloud__date(o, "CreationDate");
    return ERR_OK;
}

CLOUD__DEFINE_TO_LIST(to_users, struct cloud_users, struct cloud_user, fill_user, cloud_users_free)

err_code cloud_create_user(struct cloud *c, const char *user_name, const char *path,
                           const char *user_email, struct cloud_users **out, struct err *e) {
    json_t *items = NULL;
    if (!user_name)
        return err_set(e, ERR_INVALID, "CreateUser: user_name is required");
    json_t *req = json_object();
    json_object_set_new(req, "UserName", json_string(user_name));
    json_object_set_new(req, "Path", json_string(path_or_root(path)));
    cloud__set_str(req, "UserEmail", user_email);
    err_code rc = cloud__call_one(c, "CreateUser", req, "User", &items, e);
    if (rc)
        return rc;
    return to_users(items, out, e);
}

err_code cloud_read_users(struct cloud *c, const char *const *user_ids, struct cloud_users **out,
                          struct err *e) {
    json_t *req = json_object(), *items = NULL;
    if (user_ids) {
        json_t *filters = json_object();
        cloud__set_strv(filters, "UserIds", user_ids);
        json_object_set_new(req, "Filters", filters);
    }
    err_code rc = cloud__read_all(c, "ReadUsers", req, "Users", CLOUD_PAGING_ITEMS, 0, &items, e);
    if (rc)
        return rc;
    return to_users(items, out, e);
}

err_code cloud_delete_user(struct cloud *c, const char *user_name, struct err *e) {
    if (!user_name)
        return err_set(e, ERR_INVALID, "DeleteUser: user_name is required");
    json_t *req = json_object();
    json_object_set_new(req, "UserName", json_string(user_name));
    return cloud_call(c, "DeleteUser", req, NULL, e);
}

/* ---- user groups ------------------------------------------------------------------------------ */

void cloud_user_groups_free(struct cloud_user_groups *l) {
    if (!l)
        return;
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_user_group(void *item, const json_t *o, struct err *e) {
    (void)e;
    struct cloud_user_group *g = item;
    g->json = o;
    g->user_group_id = cloud__str(o, "UserGroupId");
    g->name = cloud__str(o, "Name");
    g->path = cloud__str(o, "Path");
    g->orn = cloud__str(o, "Orn");
    return ERR_OK;
}

CLOUD__DEFINE_TO_LIST(to_groups, struct cloud_user_groups, struct cloud_user_group, fill_user_group,
                      cloud_user_groups_free)

err_code cloud_create_user_group(struct cloud *c, const char *name, const char *path,
                                 struct cloud_user_groups **out, struct err *e) {
    json_t *items = NULL;
    if (!name)
        return err_set(e, ERR_INVALID, "CreateUserGroup: name is required");
    json_t *req = json_object();
    json_object_set_new(req, "UserGroupName", json_string(name));
    json_object_set_new(req, "Path", json_string(path_or_root(path)));
    err_code rc = cloud__call_one(c, "CreateUserGroup", req, "UserGroup", &items, e);
    if (rc)
        return rc;
    return to_groups(items, out, e);
}

err_code cloud_read_user_groups(struct cloud *c, const char *path_prefix,
                                const char *const *user_group_ids, struct cloud_user_groups **out,
                                struct err *e) {
    json_t *req = json_object(), *items = NULL;
    if (path_prefix || user_group_ids) {
        json_t *filters = json_object();
        cloud__set_str(filters, "PathPrefix", path_prefix);
        cloud__set_strv(filters, "UserGroupIds", user_group_ids);
        json_object_set_new(req, "Filters", filters);
    }
    err_code rc = cloud__read_all(c, "ReadUserGroups", req, "UserGroups", CLOUD_PAGING_ITEMS, 0, &items, e);
    if (rc)
        return rc;
    return to_groups(items, out, e);
}

err_code cloud_delete_user_group(struct cloud *c, const char *name, const char *path, bool force,
                                 struct err *e) {
    if (!name)
        return err_set(e, ERR_INVALID, "DeleteUserGroup: name is required");
    json_t *req = json_object();
    json_object_set_new(req, "UserGroupName", json_string(name));
    json_object_set_new(req, "Path", json_string(path_or_root(path)));
    if (force)
        json_object_set_new(req, "Force", json_true());
    return cloud_call(c, "DeleteUserGroup", req, NULL, e);
}

static err_code membership(struct cloud *c, const char *op, const char *group_name,
                           const char *group_path, const char *user_name, const char *user_path,
                           struct err *e) {
    if (!group_name || !user_name)
        return err_set(e, ERR_INVALID, "%s: group_name and user_name are required", op);
    json_t *req = json_object();
    json_object_set_new(req, "UserGroupName", json_string(group_name));
    json_object_set_new(req, "UserGroupPath", json_string(path_or_root(group_path)));
    json_object_set_new(req, "UserName", json_string(user_name));
    json_object_set_new(req, "UserPath", json_string(path_or_root(user_path)));
    return cloud_call(c, op, req, NULL, e);
}

err_code cloud_add_user_to_user_group(struct cloud *c, const char *group_name, const char *group_path,
                                      const char *user_name, const char *user_path, struct err *e) {
    return membership(c, "AddUserToUserGroup", group_name, group_path, user_name, user_path, e);
}

err_code cloud_remove_user_from_user_group(struct cloud *c, const char *group_name,
                                           const char *group_path, const char *user_name,
                                           const char *user_path, struct err *e) {
    return membership(c, "RemoveUserFromUserGroup", group_name, group_path, user_name, user_path, e);
}

/* ---- policies --------------------------------------------------------------------------------- */

void cloud_policies_free(struct cloud_policies *l) {
    if (!l)
        return;
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_policy(void *item, const json_t *o, struct err *e) {
    (void)e;
    struct cloud_policy *p = item;
    p->json = o;
    p->policy_id = cloud__str(o, "PolicyId");
    p->policy_name = cloud__str(o, "PolicyName");
    p->path = cloud__str(o, "Path");
    p->orn = cloud__str(o, "Orn");
    p->description = cloud__str(o, "Description");
    p->resources_count = json_integer_value(json_object_get(o, "ResourcesCount"));
    return ERR_OK;
}

CLOUD__DEFINE_TO_LIST(to_policies, struct cloud_policies, struct cloud_policy, fill_policy,
                      cloud_policies_free)

err_code cloud_create_policy(struct cloud *c, const char *policy_name, const char *document,
                             const char *path, const char *description,
                             struct cloud_policies **out, struct err *e) {
    json_t *items = NULL;
    if (!policy_name || !document)
        return err_set(e, ERR_INVALID, "CreatePolicy: policy_name and document are required");
    json_t *req = json_object();
    json_object_set_new(req, "PolicyName", json_string(policy_name));
    json_object_set_new(req, "Document", json_string(document));
    json_object_set_new(req, "Path", json_string(path_or_root(path)));
    cloud__set_str(req, "Description", description);
    err_code rc = cloud__call_one(c, "CreatePolicy", req, "Policy", &items, e);
    if (rc)
        return rc;
    return to_policies(items, out, e);
}

err_code cloud_read_policies(struct cloud *c, const char *path_prefix, bool only_linked,
                             struct cloud_policies **out, struct err *e) {
    json_t *req = json_object(), *items = NULL;
    if (path_prefix || only_linked) {
        json_t *filters = json_object();
        cloud__set_str(filters, "PathPrefix", path_prefix);
        if (only_linked)
            json_object_set_new(filters, "OnlyLinked", json_true());
        json_object_set_new(req, "Filters", filters);
    }
    err_code rc = cloud__read_all(c, "ReadPolicies", req, "Policies", CLOUD_PAGING_ITEMS, 0, &items, e);
    if (rc)
        return rc;
    return to_policies(items, out, e);
}

err_code cloud_delete_policy(struct cloud *c, const char *policy_orn, struct err *e) {
    if (!policy_orn)
        return err_set(e, ERR_INVALID, "DeletePolicy: policy_orn is required");
    json_t *req = json_object();
    json_object_set_new(req, "PolicyOrn", json_string(policy_orn));
    return cloud_call(c, "DeletePolicy", req, NULL, e);
}

static err_code link_policy(struct cloud *c, const char *op, const char *policy_orn,
                            const char *group_name, struct err *e) {
    if (!policy_orn || !group_name)
        return err_set(e, ERR_INVALID, "%s: policy_orn and group_name are required", op);
    json_t *req = json_object();
    json_object_set_new(req, "PolicyOrn", json_string(policy_orn));
    json_object_set_new(req, "UserGroupName", json_string(group_name));
    return cloud_call(c, op, req, NULL, e);
}

err_code cloud_link_managed_policy_to_user_group(struct cloud *c, const char *policy_orn,
                                                 const char *group_name, struct err *e) {
    return link_policy(c, "LinkManagedPolicyToUserGroup", policy_orn, group_name, e);
}

err_code cloud_unlink_managed_policy_from_user_group(struct cloud *c, const char *policy_orn,
                                                     const char *group_name, struct err *e) {
    return link_policy(c, "UnlinkManagedPolicyFromUserGroup", policy_orn, group_name, e);
}

/* ---- access keys ------------------------------------------------------------------------------ */

void cloud_access_keys_free(struct cloud_access_keys *l) {
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].secret_key) /* jansson's own copy: wipe it before it is freed */
            explicit_bzero((char *)l->items[i].secret_key, strlen(l->items[i].secret_key));
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_access_key(void *item, const json_t *o, struct err *e) {
    (void)e;
    struct cloud_access_key *k = item;
    k->json = o;
    k->access_key_id = cloud__str(o, "AccessKeyId");
    k->secret_key = json_string_value(json_object_get(o, "SecretKey"));
    k->state = cloud__str(o, "State");
    k->creation_date = cloud__date(o, "CreationDate");
    k->expiration_date = cloud__date(o, "ExpirationDate");
    return ERR_OK;
}

CLOUD__DEFINE_TO_LIST(to_keys, struct cloud_access_keys, struct cloud_access_key, fill_access_key,
                      cloud_access_keys_free)

err_code cloud_create_access_key(struct cloud *c, const char *user_name,
                                 struct cloud_access_keys **out, struct err *e) {
    json_t *req = json_object(), *items = NULL;
    cloud__set_str(req, "UserName", user_name);
    err_code rc = cloud__call_one(c, "CreateAccessKey", req, "AccessKey", &items, e);
    if (rc)
        return rc;
    return to_keys(items, out, e);
}

err_code cloud_read_access_keys(struct cloud *c, const char *user_name,
                                struct cloud_access_keys **out, struct err *e) {
    json_t *req = json_object(), *items = NULL;
    cloud__set_str(req, "UserName", user_name);
    err_code rc = cloud__read_all(c, "ReadAccessKeys", req, "AccessKeys", CLOUD_PAGING_NONE, 0, &items, e);
    if (rc)
        return rc;
    return to_keys(items, out, e);
}

err_code cloud_update_access_key(struct cloud *c, const char *user_name, const char *access_key_id,
                                 bool active, struct err *e) {
    if (!access_key_id)
        return err_set(e, ERR_INVALID, "UpdateAccessKey: access_key_id is required");
    json_t *req = json_object();
    json_object_set_new(req, "AccessKeyId", json_string(access_key_id));
    json_object_set_new(req, "State", json_string(active ? "ACTIVE" : "INACTIVE"));
    cloud__set_str(req, "UserName", user_name);
    return cloud_call(c, "UpdateAccessKey", req, NULL, e);
}

err_code cloud_delete_access_key(struct cloud *c, const char *user_name, const char *access_key_id,
                                 struct err *e) {
    if (!access_key_id)
        return err_set(e, ERR_INVALID, "DeleteAccessKey: access_key_id is required");
    json_t *req = json_object();
    json_object_set_new(req, "AccessKeyId", json_string(access_key_id));
    cloud__set_str(req, "UserName", user_name);
    return cloud_call(c, "DeleteAccessKey", req, NULL, e);
}
