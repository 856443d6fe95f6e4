/* Pipeline tests of the emulator's EIM: the deletion-order constraints (keys, groups, policy
 * links), Force on groups, access key states, and policy enforcement for EIM keys (only the
 * allowed actions, wildcards, explicit Deny, direct user links, INACTIVE keys refused). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_support.h"

struct eim_key {
    char ak[32], sk[64];
    struct sim_key key;
};

static void create_key(struct server *s, const char *user, struct eim_key *out) {
    char body[128];
    snprintf(body, sizeof body, "{\"UserName\":\"%s\"}", user);
    json_t *r = sim_ok(s, &SIM_A, "CreateAccessKey", body);
    const json_t *k = json_object_get(r, "AccessKey");
    cr_assert_str_eq(json_string_value(json_object_get(k, "State")), "ACTIVE");
    snprintf(out->ak, sizeof out->ak, "%s", json_string_value(json_object_get(k, "AccessKeyId")));
    snprintf(out->sk, sizeof out->sk, "%s", json_string_value(json_object_get(k, "SecretKey")));
    cr_assert_eq(strlen(out->ak), 20);
    cr_assert_eq(strlen(out->sk), 40);
    json_decref(r);
    out->key = (struct sim_key){out->ak, out->sk, "eu-west-2"};
}

/* Creates a policy with `document` (JSON text, escaped here) and returns its ORN. */
static void create_policy(struct server *s, const char *name, const char *document, char orn[256]) {
    json_t *req = json_pack("{s:s, s:s, s:s}", "PolicyName", name, "Document", document, "Path", "/mkt/");
    char *body = json_dumps(req, 0);
    json_t *r = sim_ok(s, &SIM_A, "CreatePolicy", body);
    snprintf(orn, 256, "%s", json_string_value(json_object_get(json_object_get(r, "Policy"), "Orn")));
    json_decref(r);
    free(body);
    json_decref(req);
}

static void call2(struct server *s, const char *op, const char *fmt, const char *a, const char *b) {
    char body[512];
    snprintf(body, sizeof body, fmt, a, b);
    json_decref(sim_ok(s, &SIM_A, op, body));
}

Test(eim, deletion_order_is_enforced) {
    struct server *s = sim_new(NULL, 0);
    char orn[256], body[512];
    json_t *r = sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"marketplace_x\",\"Path\":\"/mkt/\",\"UserEmail\":\"ops@example.com\"}");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "User"), "Path")), "/mkt/");
    json_decref(r);
    SIM_STATUS(s, &SIM_A, "CreateUser", "{\"UserName\":\"marketplace_x\"}", 400, "9011");
    SIM_STATUS(s, &SIM_A, "CreateUser", "{\"UserName\":\"bad name\"}", 400, "4000");
    SIM_STATUS(s, &SIM_A, "CreateUser", "{\"UserName\":\"u\",\"Path\":\"mkt\"}", 400, "4000");
    r = sim_ok(s, &SIM_A, "CreateUserGroup", "{\"UserGroupName\":\"meter\"}");
    const char *gid = json_string_value(json_object_get(json_object_get(r, "UserGroup"), "UserGroupId"));
    cr_assert(strncmp(gid, "ug-", 3) == 0 && strlen(gid) == 11, "%s", gid);
    json_decref(r);
    create_policy(s, "read-vms", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"api:ReadVms\"],\"Resource\":[\"*\"]}]}", orn);
    cr_assert_str_eq(orn, "orn:ows:idauth::" SIM_A_ID ":policy/mkt/read-vms");
    SIM_STATUS(s, &SIM_A, "CreatePolicy", "{\"PolicyName\":\"p2\",\"Document\":\"{}\"}", 400, "4000");

    call2(s, "AddUserToUserGroup", "{\"UserGroupName\":\"%s\",\"UserName\":\"%s\",\"UserPath\":\"/mkt/\"}", "meter", "marketplace_x");
    call2(s, "LinkManagedPolicyToUserGroup", "{\"UserGroupName\":\"%s\",\"PolicyOrn\":\"%s\"}", "meter", orn);
    struct eim_key k;
    create_key(s, "marketplace_x", &k);
    call2(s, "LinkPolicy", "{\"UserName\":\"%s\",\"PolicyOrn\":\"%s\"}", "marketplace_x", orn);

    /* everything is refused while something still depends on it */
    SIM_STATUS(s, &SIM_A, "DeleteUser", "{\"UserName\":\"marketplace_x\"}", 400, "9029");
    snprintf(body, sizeof body, "{\"UserName\":\"marketplace_x\",\"AccessKeyId\":\"%s\"}", k.ak);
    SIM_STATUS(s, &SIM_A, "DeleteAccessKey", body, 400, "6003");
    snprintf(body, sizeof body, "{\"PolicyOrn\":\"%s\"}", orn);
    SIM_STATUS(s, &SIM_A, "DeletePolicy", body, 400, "9029");
    SIM_STATUS(s, &SIM_A, "DeleteUserGroup", "{\"UserGroupName\":\"meter\"}", 400, "9029");

    /* the documented teardown order */
    snprintf(body, sizeof body, "{\"UserName\":\"marketplace_x\",\"AccessKeyId\":\"%s\",\"State\":\"INACTIVE\"}", k.ak);
    json_decref(sim_ok(s, &SIM_A, "UpdateAccessKey", body));
    snprintf(body, sizeof body, "{\"UserName\":\"marketplace_x\",\"AccessKeyId\":\"%s\"}", k.ak);
    json_decref(sim_ok(s, &SIM_A, "DeleteAccessKey", body));
    SIM_STATUS(s, &SIM_A, "DeleteUser", "{\"UserName\":\"marketplace_x\"}", 400, "9029"); /* still in the group */
    call2(s, "RemoveUserFromUserGroup", "{\"UserGroupName\":\"%s\",\"UserName\":\"%s\"}", "meter", "marketplace_x");
    SIM_STATUS(s, &SIM_A, "DeleteUser", "{\"UserName\":\"marketplace_x\"}", 400, "9029"); /* direct link left */
    call2(s, "UnlinkPolicy", "{\"UserName\":\"%s\",\"PolicyOrn\":\"%s\"}", "marketplace_x", orn);
    json_decref(sim_ok(s, &SIM_A, "DeleteUser", "{\"UserName\":\"marketplace_x\"}"));
    snprintf(body, sizeof body, "{\"PolicyOrn\":\"%s\"}", orn);
    SIM_STATUS(s, &SIM_A, "DeletePolicy", body, 400, "9029"); /* still linked to the group */
    call2(s, "UnlinkManagedPolicyFromUserGroup", "{\"UserGroupName\":\"%s\",\"PolicyOrn\":\"%s\"}", "meter", orn);
    json_decref(sim_ok(s, &SIM_A, "DeletePolicy", body));
    json_decref(sim_ok(s, &SIM_A, "DeleteUserGroup", "{\"UserGroupName\":\"meter\"}"));
    r = sim_ok(s, &SIM_A, "ReadUsers", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Users")), 0);
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadPolicies", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Policies")), 0);
    json_decref(r);
    server_free(s);
}

Test(eim, force_deletes_a_group_with_members_and_links) {
    struct server *s = sim_new(NULL, 0);
    char orn[256];
    json_decref(sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"m\"}"));
    json_decref(sim_ok(s, &SIM_A, "CreateUserGroup", "{\"UserGroupName\":\"g\",\"Path\":\"/x/\"}"));
    create_policy(s, "p", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"api:*\"}]}", orn);
    call2(s, "AddUserToUserGroup", "{\"UserGroupName\":\"%s\",\"UserName\":\"%s\"}", "g", "m");
    call2(s, "LinkManagedPolicyToUserGroup", "{\"UserGroupName\":\"%s\",\"PolicyOrn\":\"%s\"}", "g", orn);
    SIM_STATUS(s, &SIM_A, "AddUserToUserGroup", "{\"UserGroupName\":\"g\",\"UserGroupPath\":\"/y/\",\"UserName\":\"m\"}", 400, "5088");
    SIM_STATUS(s, &SIM_A, "DeleteUserGroup", "{\"UserGroupName\":\"g\",\"Path\":\"/x/\"}", 400, "9029");
    json_decref(sim_ok(s, &SIM_A, "DeleteUserGroup", "{\"UserGroupName\":\"g\",\"Path\":\"/x/\",\"Force\":true}"));
    json_decref(sim_ok(s, &SIM_A, "DeleteUser", "{\"UserName\":\"m\"}"));
    char body[300];
    snprintf(body, sizeof body, "{\"PolicyOrn\":\"%s\"}", orn);
    json_decref(sim_ok(s, &SIM_A, "DeletePolicy", body));
    server_free(s);
}

Test(eim, eim_keys_are_limited_by_their_policies) {
    struct server *s = sim_new(NULL, 0);
    char read_vms[256], deny_delete[256], user_read[256];
    json_decref(sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"marketplace_meter\"}"));
    json_decref(sim_ok(s, &SIM_A, "CreateUserGroup", "{\"UserGroupName\":\"meter\"}"));
    call2(s, "AddUserToUserGroup", "{\"UserGroupName\":\"%s\",\"UserName\":\"%s\"}", "meter", "marketplace_meter");
    struct eim_key k;
    create_key(s, "marketplace_meter", &k);

    /* no policy at all: nothing is allowed */
    SIM_STATUS(s, &k.key, "ReadVms", "{}", 401, "5");
    create_policy(s, "read-vms", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"api:ReadVms\"],\"Resource\":[\"*\"]}]}", read_vms);
    call2(s, "LinkManagedPolicyToUserGroup", "{\"UserGroupName\":\"%s\",\"PolicyOrn\":\"%s\"}", "meter", read_vms);
    json_t *r = sim_ok(s, &k.key, "ReadVms", "{}");
    json_decref(r);
    SIM_STATUS(s, &k.key, "ReadImages", "{}", 401, "5");
    SIM_STATUS(s, &k.key, "CreateUser", "{\"UserName\":\"intruder\"}", 401, "5");
    SIM_STATUS(s, &k.key, "DeleteVms", "{\"VmIds\":[\"i-00000000\"]}", 401, "5");
    /* the EIM key acts inside its account: it sees the account's VMs */
    r = sim_ok(s, &k.key, "ReadVms", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 0);
    json_decref(r);

    /* a wildcard linked directly to the user, and an explicit Deny that wins */
    create_policy(s, "read-all", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"api:Read*\"}]}", user_read);
    call2(s, "LinkPolicy", "{\"UserName\":\"%s\",\"PolicyOrn\":\"%s\"}", "marketplace_meter", user_read);
    json_decref(sim_ok(s, &k.key, "ReadImages", "{}"));
    create_policy(s, "no-images", "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"api:ReadImages\"}]}", deny_delete);
    call2(s, "LinkManagedPolicyToUserGroup", "{\"UserGroupName\":\"%s\",\"PolicyOrn\":\"%s\"}", "meter", deny_delete);
    SIM_STATUS(s, &k.key, "ReadImages", "{}", 401, "5");
    json_decref(sim_ok(s, &k.key, "ReadVms", "{}"));

    /* an INACTIVE key is refused; ACTIVE again, it works */
    char body[256];
    snprintf(body, sizeof body, "{\"UserName\":\"marketplace_meter\",\"AccessKeyId\":\"%s\",\"State\":\"INACTIVE\"}", k.ak);
    json_decref(sim_ok(s, &SIM_A, "UpdateAccessKey", body));
    SIM_STATUS(s, &k.key, "ReadVms", "{}", 401, "1");
    snprintf(body, sizeof body, "{\"UserName\":\"marketplace_meter\",\"AccessKeyId\":\"%s\",\"State\":\"ACTIVE\"}", k.ak);
    json_decref(sim_ok(s, &SIM_A, "UpdateAccessKey", body));
    json_decref(sim_ok(s, &k.key, "ReadVms", "{}"));

    /* other accounts never see these keys or users */
    snprintf(body, sizeof body, "{\"UserName\":\"marketplace_meter\",\"AccessKeyId\":\"%s\",\"State\":\"INACTIVE\"}", k.ak);
    SIM_STATUS(s, &SIM_B, "UpdateAccessKey", body, 400, "5087");
    snprintf(body, sizeof body, "{\"AccessKeyId\":\"%s\",\"State\":\"INACTIVE\"}", k.ak);
    SIM_STATUS(s, &SIM_B, "UpdateAccessKey", body, 400, "5090");
    server_free(s);
}

Test(eim, access_key_reads_hide_secrets) {
    struct server *s = sim_new(NULL, 0);
    json_decref(sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"u\"}"));
    struct eim_key k1, k2;
    create_key(s, "u", &k1);
    create_key(s, "u", &k2);
    json_t *r = sim_ok(s, &SIM_A, "ReadAccessKeys", "{\"UserName\":\"u\"}");
    const json_t *keys = json_object_get(r, "AccessKeys");
    cr_assert_eq(json_array_size(keys), 2);
    cr_assert_null(json_object_get(json_array_get(keys, 0), "SecretKey"));
    json_decref(r);
    /* without UserName: the caller's own (root) keys */
    r = sim_ok(s, &SIM_A, "ReadAccessKeys", "{}");
    keys = json_object_get(r, "AccessKeys");
    cr_assert_eq(json_array_size(keys), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "AccessKeyId")), SIM_A.ak);
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadAccessKeys", "{\"UserName\":\"u\",\"Filters\":{\"States\":[\"INACTIVE\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "AccessKeys")), 0);
    json_decref(r);
    SIM_STATUS(s, &SIM_A, "ReadAccessKeys", "{\"UserName\":\"nobody\"}", 400, "5087");
    server_free(s);
}
