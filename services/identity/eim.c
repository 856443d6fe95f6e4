/* The platform's EIM footing and per-account EIM users in customers' OUTSCALE accounts (see
 * eim.h). Each step looks before it creates and treats "already there" (ERR_CONFLICT after a
 * retried create) and "already gone" (ERR_NOT_FOUND on removal) as success, which makes every
 * function safe to re-run after a crash between two cloud calls. */
#include "eim.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char policy_document[] =
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
    "\"api:ReadVms\",\"api:ReadImages\",\"api:ReadAccounts\","
    "\"api:CreateUser\",\"api:ReadUsers\",\"api:DeleteUser\","
    "\"api:CreateUserGroup\",\"api:ReadUserGroups\",\"api:ReadUserGroup\",\"api:DeleteUserGroup\","
    "\"api:AddUserToUserGroup\",\"api:RemoveUserFromUserGroup\",\"api:ReadUserGroupsPerUser\","
    "\"api:ReadPolicies\",\"api:ReadPolicy\",\"api:LinkManagedPolicyToUserGroup\","
    "\"api:UnlinkManagedPolicyFromUserGroup\",\"api:ReadManagedPoliciesLinkedToUserGroup\","
    "\"api:LinkPolicy\",\"api:UnlinkPolicy\",\"api:ReadLinkedPolicies\","
    "\"api:CreateAccessKey\",\"api:ReadAccessKeys\",\"api:UpdateAccessKey\",\"api:DeleteAccessKey\""
    "],\"Resource\":[\"*\"]}]}";

const char *eim_policy_document(void) { return policy_document; }

void eim_key_wipe(struct eim_key *k) { sodium_memzero(k, sizeof *k); }

static void report_add(struct eim_report *r, const char *what) {
    if (!r)
        return;
    size_t used = strlen(r->text);
    snprintf(r->text + used, sizeof r->text - used, "%s%s", r->fixes ? "; " : "", what);
    r->fixes++;
}

/* ---- look-before-create --------------------------------------------------------------------------- */

/* The policy's ORN when it exists (orn[0] = '\0' otherwise). */
static err_code find_policy(struct cloud *c, char orn[512], struct err *e) {
    struct cloud_policies *l = NULL;
    orn[0] = '\0';
    err_code code = cloud_read_policies(c, NULL, false, &l, e);
    if (code != ERR_OK)
        return code;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].policy_name && strcmp(l->items[i].policy_name, EIM_POLICY_NAME) == 0 && l->items[i].orn)
            snprintf(orn, 512, "%s", l->items[i].orn);
    cloud_policies_free(l);
    return ERR_OK;
}

static err_code ensure_policy(struct cloud *c, char orn[512], struct eim_report *r, struct err *e) {
    err_code code = find_policy(c, orn, e);
    if (code != ERR_OK || orn[0])
        return code;
    struct cloud_policies *l = NULL;
    code = cloud_create_policy(c, EIM_POLICY_NAME, policy_document, NULL,
                               "OUTSCALE Marketplace: the platform's rights in this account", &l, e);
    if (code == ERR_CONFLICT) /* created by an earlier attempt whose answer was lost */
        return find_policy(c, orn, e);
    if (code != ERR_OK)
        return code;
    snprintf(orn, 512, "%s", l->n > 0 && l->items[0].orn ? l->items[0].orn : "");
    cloud_policies_free(l);
    report_add(r, "policy " EIM_POLICY_NAME " created");
    return orn[0] ? ERR_OK : err_set(e, ERR_INTERNAL, "CreatePolicy: no Orn in the answer");
}

static err_code find_group(struct cloud *c, bool *found, struct err *e) {
    struct cloud_user_groups *l = NULL;
    err_code code = cloud_read_user_groups(c, NULL, NULL, &l, e);
    if (code != ERR_OK)
        return code;
    *found = false;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].name && strcmp(l->items[i].name, EIM_GROUP_NAME) == 0)
            *found = true;
    cloud_user_groups_free(l);
    return ERR_OK;
}

static err_code ensure_group(struct cloud *c, struct eim_report *r, struct err *e) {
    bool found = false;
    err_code code = find_group(c, &found, e);
    if (code != ERR_OK || found)
        return code;
    struct cloud_user_groups *l = NULL;
    code = cloud_create_user_group(c, EIM_GROUP_NAME, NULL, &l, e);
    cloud_user_groups_free(l);
    if (code == ERR_CONFLICT)
        return ERR_OK;
    if (code == ERR_OK)
        report_add(r, "group " EIM_GROUP_NAME " re-created");
    return code;
}

static err_code find_user(struct cloud *c, const char *name, bool *found, struct err *e) {
    struct cloud_users *l = NULL;
    err_code code = cloud_read_users(c, NULL, &l, e);
    if (code != ERR_OK)
        return code;
    *found = false;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].user_name && strcmp(l->items[i].user_name, name) == 0)
            *found = true;
    cloud_users_free(l);
    return ERR_OK;
}

static err_code ensure_user(struct cloud *c, const char *name, bool *created, struct err *e) {
    bool found = false;
    *created = false;
    err_code code = find_user(c, name, &found, e);
    if (code != ERR_OK || found)
        return code;
    struct cloud_users *l = NULL;
    code = cloud_create_user(c, name, NULL, NULL, &l, e);
    cloud_users_free(l);
    if (code == ERR_CONFLICT)
        return ERR_OK;
    *created = code == ERR_OK;
    return code;
}

/* Calls a membership or link operation; "already so" is success. */
static err_code idempotent(struct cloud *c, const char *op, json_t *req, struct err *e) {
    err_code code = cloud_call(c, op, req, NULL, e);
    return code == ERR_CONFLICT ? ERR_OK : code;
}

static err_code link_group_policy(struct cloud *c, const char *orn, struct err *e) {
    return idempotent(c, "LinkManagedPolicyToUserGroup",
                      json_pack("{s:s, s:s}", "PolicyOrn", orn, "UserGroupName", EIM_GROUP_NAME), e);
}

static err_code link_user_policy(struct cloud *c, const char *orn, const char *user, struct err *e) {
    return idempotent(c, "LinkPolicy", json_pack("{s:s, s:s}", "PolicyOrn", orn, "UserName", user), e);
}

static err_code add_to_group(struct cloud *c, const char *user, struct err *e) {
    err_code code = cloud_add_user_to_user_group(c, EIM_GROUP_NAME, NULL, user, NULL, e);
    return code == ERR_CONFLICT ? ERR_OK : code;
}

/* Whether the answer's array `key` has an object whose `field` equals `value`. */
static bool json_list_has(const json_t *resp, const char *key, const char *field, const char *value) {
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(resp, key), i, o) {
        const char *v = json_string_value(json_object_get(o, field));
        if (v && strcmp(v, value) == 0)
            return true;
    }
    return false;
}

/* ---- bootstrap ------------------------------------------------------------------------------------- */

static err_code replace_platform_keys(struct cloud *c, struct eim_key *key, struct err *e) {
    struct cloud_access_keys *old = NULL, *fresh = NULL;
    err_code code = cloud_read_access_keys(c, EIM_PLATFORM_USER, &old, e);
    for (size_t i = 0; code == ERR_OK && i < old->n; i++) {
        const char *id = old->items[i].access_key_id;
        if (old->items[i].state && strcmp(old->items[i].state, "ACTIVE") == 0)
            code = cloud_update_access_key(c, EIM_PLATFORM_USER, id, false, e);
        if (code == ERR_OK)
            code = cloud_delete_access_key(c, EIM_PLATFORM_USER, id, e);
        if (code == ERR_NOT_FOUND)
            code = ERR_OK;
    }
    if (code == ERR_OK)
        code = cloud_create_access_key(c, EIM_PLATFORM_USER, &fresh, e);
    if (code == ERR_OK) {
        if (fresh->n < 1 || !fresh->items[0].access_key_id || !fresh->items[0].secret_key) {
            code = err_set(e, ERR_INTERNAL, "CreateAccessKey: no key in the answer");
        } else {
            snprintf(key->access_key_id, sizeof key->access_key_id, "%s", fresh->items[0].access_key_id);
            snprintf(key->secret_key, sizeof key->secret_key, "%s", fresh->items[0].secret_key);
        }
    }
    cloud_access_keys_free(old);
    cloud_access_keys_free(fresh); /* wipes the secret */
    return code;
}

err_code eim_bootstrap(struct cloud *c, struct eim_key *key, struct err *e) {
    char orn[512];
    bool created = false;
    err_code code = ensure_policy(c, orn, NULL, e);
    if (code == ERR_OK)
        code = ensure_group(c, NULL, e);
    if (code == ERR_OK)
        code = link_group_policy(c, orn, e);
    if (code == ERR_OK)
        code = ensure_user(c, EIM_PLATFORM_USER, &created, e);
    if (code == ERR_OK)
        code = link_user_policy(c, orn, EIM_PLATFORM_USER, e);
    if (code == ERR_OK)
        code = add_to_group(c, EIM_PLATFORM_USER, e);
    if (code == ERR_OK)
        code = replace_platform_keys(c, key, e);
    return code;
}

/* ---- per-account users ----------------------------------------------------------------------------- */

/* The group is gone (drift): put it back with its policy, using the platform user's direct link. */
static err_code restore_group(struct cloud *c, struct eim_report *r, struct err *e) {
    char orn[512];
    err_code code = find_policy(c, orn, e);
    if (code == ERR_OK && !orn[0])
        return err_set(e, ERR_FORBIDDEN, "policy %s is missing: re-attach the OUTSCALE account", EIM_POLICY_NAME);
    if (code == ERR_OK)
        code = ensure_group(c, r, e);
    if (code == ERR_OK)
        code = link_group_policy(c, orn, e);
    if (code == ERR_OK)
        code = add_to_group(c, EIM_PLATFORM_USER, e);
    return code;
}

err_code eim_ensure_user(struct cloud *c, const char *user_name, struct err *e) {
    bool created = false;
    err_code code = ensure_user(c, user_name, &created, e);
    if (code == ERR_OK)
        code = add_to_group(c, user_name, e);
    if (code == ERR_NOT_FOUND) { /* the group was deleted behind our back */
        log_warn("EIM: %s missing while adding %s: restoring it", EIM_GROUP_NAME, user_name);
        code = restore_group(c, NULL, e);
        if (code == ERR_OK)
            code = add_to_group(c, user_name, e);
    }
    return code;
}

err_code eim_remove_user(struct cloud *c, const char *user_name, struct err *e) {
    struct cloud_access_keys *keys = NULL;
    json_t *links = NULL;
    err_code code = cloud_read_access_keys(c, user_name, &keys, e);
    if (code == ERR_NOT_FOUND) /* no such user: nothing to remove */
        return ERR_OK;
    /* 1. keys: deactivate, then delete */
    for (size_t i = 0; code == ERR_OK && i < keys->n; i++) {
        const char *id = keys->items[i].access_key_id;
        if (keys->items[i].state && strcmp(keys->items[i].state, "ACTIVE") == 0)
            code = cloud_update_access_key(c, user_name, id, false, e);
        if (code == ERR_OK)
            code = cloud_delete_access_key(c, user_name, id, e);
        if (code == ERR_NOT_FOUND)
            code = ERR_OK;
    }
    /* 2. leave the group */
    if (code == ERR_OK) {
        code = cloud_remove_user_from_user_group(c, EIM_GROUP_NAME, NULL, user_name, NULL, e);
        if (code == ERR_NOT_FOUND) /* not a member, or no group */
            code = ERR_OK;
    }
    /* 3. unlink the policies linked to the user itself */
    if (code == ERR_OK)
        code = cloud_call(c, "ReadLinkedPolicies", json_pack("{s:s}", "UserName", user_name), &links, e);
    if (code == ERR_OK) {
        size_t i;
        const json_t *p;
        json_array_foreach(json_object_get(links, "Policies"), i, p) {
            const char *orn = json_string_value(json_object_get(p, "Orn"));
            if (!orn || code != ERR_OK)
                continue;
            code = cloud_call(c, "UnlinkPolicy", json_pack("{s:s, s:s}", "PolicyOrn", orn, "UserName", user_name),
                              NULL, e);
            if (code == ERR_NOT_FOUND)
                code = ERR_OK;
        }
    }
    /* 4. the user */
    if (code == ERR_OK) {
        code = cloud_delete_user(c, user_name, e);
        if (code == ERR_NOT_FOUND)
            code = ERR_OK;
    }
    cloud_access_keys_free(keys);
    json_decref(links);
    return code;
}

/* ---- reconciliation ---------------------------------------------------------------------------------- */

err_code eim_reconcile(struct cloud *c, const char *const *users, size_t n_users, struct eim_report *report,
                       struct err *e) {
    char orn[512], what[160];
    json_t *group_links = NULL, *user_links = NULL, *group = NULL;
    struct cloud_users *all = NULL;
    err_code code = find_policy(c, orn, e);
    if (code == ERR_OK && !orn[0])
        code = err_set(e, ERR_FORBIDDEN, "policy %s is missing: re-attach the OUTSCALE account", EIM_POLICY_NAME);
    if (code == ERR_OK)
        code = ensure_group(c, report, e);
    /* the group's policy */
    if (code == ERR_OK)
        code = cloud_call(c, "ReadManagedPoliciesLinkedToUserGroup", json_pack("{s:s}", "UserGroupName", EIM_GROUP_NAME),
                          &group_links, e);
    if (code == ERR_OK && !json_list_has(group_links, "Policies", "Orn", orn)) {
        code = link_group_policy(c, orn, e);
        if (code == ERR_OK)
            report_add(report, "policy re-linked to " EIM_GROUP_NAME);
    }
    /* the platform user's own link (its rights when the group is gone) */
    if (code == ERR_OK)
        code = cloud_call(c, "ReadLinkedPolicies", json_pack("{s:s}", "UserName", EIM_PLATFORM_USER), &user_links, e);
    if (code == ERR_OK && !json_list_has(user_links, "Policies", "Orn", orn)) {
        code = link_user_policy(c, orn, EIM_PLATFORM_USER, e);
        if (code == ERR_OK)
            report_add(report, "policy re-linked to " EIM_PLATFORM_USER);
    }
    /* members: the platform user and every wanted account user */
    if (code == ERR_OK)
        code = cloud_call(c, "ReadUserGroup", json_pack("{s:s}", "UserGroupName", EIM_GROUP_NAME), &group, e);
    if (code == ERR_OK)
        code = cloud_read_users(c, NULL, &all, e);
    for (size_t i = 0; code == ERR_OK && i <= n_users; i++) {
        const char *name = i < n_users ? users[i] : EIM_PLATFORM_USER;
        bool exists = false;
        for (size_t k = 0; k < all->n && !exists; k++)
            exists = all->items[k].user_name && strcmp(all->items[k].user_name, name) == 0;
        if (!exists) {
            struct cloud_users *made = NULL;
            code = cloud_create_user(c, name, NULL, NULL, &made, e);
            cloud_users_free(made);
            if (code == ERR_CONFLICT)
                code = ERR_OK;
            snprintf(what, sizeof what, "user %s re-created", name);
            if (code == ERR_OK)
                report_add(report, what);
        }
        if (code == ERR_OK && !json_list_has(group, "Users", "UserName", name)) {
            code = add_to_group(c, name, e);
            snprintf(what, sizeof what, "user %s re-added to " EIM_GROUP_NAME, name);
            if (code == ERR_OK)
                report_add(report, what);
        }
    }
    json_decref(group_links);
    json_decref(user_links);
    json_decref(group);
    cloud_users_free(all);
    return code;
}

/* ---- detach ------------------------------------------------------------------------------------------ */

err_code eim_teardown(struct cloud *c, const char *own_access_key_id, struct err *e) {
    char orn[512];
    err_code code = cloud_remove_user_from_user_group(c, EIM_GROUP_NAME, NULL, EIM_PLATFORM_USER, NULL, e);
    if (code == ERR_NOT_FOUND)
        code = ERR_OK;
    if (code == ERR_OK)
        code = find_policy(c, orn, e);
    if (code == ERR_OK && orn[0]) {
        code = cloud_unlink_managed_policy_from_user_group(c, orn, EIM_GROUP_NAME, e);
        if (code == ERR_NOT_FOUND)
            code = ERR_OK;
    }
    if (code == ERR_OK) {
        code = cloud_delete_user_group(c, EIM_GROUP_NAME, NULL, true, e);
        if (code == ERR_NOT_FOUND)
            code = ERR_OK;
    }
    /* Last: after this the key no longer authenticates. */
    if (code == ERR_OK)
        code = cloud_update_access_key(c, EIM_PLATFORM_USER, own_access_key_id, false, e);
    return code;
}
