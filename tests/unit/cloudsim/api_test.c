/* Pipeline tests of the emulator without the network (server_call): routing and envelopes,
 * validation codes, anonymous operations, the signature window against the emulator clock,
 * the brute-force lock, Region selection, image copies and visibility, VMs, paging, DryRun,
 * faults, the admin API and the state file across a restart. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "id.h"
#include "sim_support.h"

static const char *str_at(const json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* A base OMI id of the provider in the caller's Region. */
static void base_image(struct server *s, const struct sim_key *k, char out[32]) {
    json_t *r = sim_ok(s, k, "ReadImages", "{\"Filters\":{\"AccountIds\":[\"999999999999\"],\"ImageNames\":[\"Debian*\"]}}");
    const json_t *images = json_object_get(r, "Images");
    cr_assert_eq(json_array_size(images), 1);
    snprintf(out, 32, "%s", str_at(json_array_get(images, 0), "ImageId"));
    json_decref(r);
}

static void copy_image(struct server *s, const struct sim_key *k, const char *src, const char *name,
                       const char *codes_json, char out[32]) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"%s\",\"ImageName\":\"%s\",\"ProductCodes\":%s}", src,
             k->region, name, codes_json);
    json_t *r = sim_ok(s, k, "CreateImage", body);
    const json_t *im = json_object_get(r, "Image");
    cr_assert_str_eq(str_at(im, "State"), "pending");
    snprintf(out, 32, "%s", str_at(im, "ImageId"));
    json_decref(r);
}

static const char *image_state(struct server *s, const struct sim_key *k, const char *id, char out[32]) {
    char body[128];
    snprintf(body, sizeof body, "{\"Filters\":{\"ImageIds\":[\"%s\"]}}", id);
    json_t *r = sim_ok(s, k, "ReadImages", body);
    const json_t *im = json_array_get(json_object_get(r, "Images"), 0);
    snprintf(out, 32, "%s", im ? str_at(im, "State") : "invisible");
    json_decref(r);
    return out;
}

Test(api, success_envelope_and_routing) {
    struct server *s = sim_new(NULL, 0);
    json_t *r = sim_ok(s, &SIM_A, "ReadAccounts", "{}");
    cr_assert_str_eq(str_at(json_array_get(json_object_get(r, "Accounts"), 0), "AccountId"), SIM_A_ID);
    cr_assert(id_is_uuid(str_at(json_object_get(r, "ResponseContext"), "RequestId")));
    json_decref(r);
    /* /api/latest/ and an empty body work too */
    json_t *out = NULL;
    cr_assert_eq(sim_raw(s, "POST", "/api/latest/ReadRegions", "127.0.0.1", "", &out), 200);
    cr_assert_gt(json_array_size(json_object_get(out, "Regions")), 1);
    json_decref(out);
    cr_assert_eq(sim_raw(s, "POST", "/api/v1/NoSuchOperation", "127.0.0.1", "{}", &out), 404);
    cr_assert(id_is_uuid(str_at(json_object_get(out, "ResponseContext"), "RequestId")));
    cr_assert_str_neq(sim_code(out), "");
    json_decref(out);
    cr_assert_eq(sim_raw(s, "GET", "/api/v1/ReadProductTypes", "127.0.0.1", NULL, &out), 405);
    json_decref(out);
    cr_assert_eq(sim_raw(s, "POST", "/elsewhere", "127.0.0.1", "{}", &out), 404);
    json_decref(out);
    server_free(s);
}

Test(api, validation_codes) {
    struct server *s = sim_new(NULL, 0);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"Nope\":1}", 400, "3001");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"Filters\":{\"Nope\":[]}}", 400, "3001");
    SIM_STATUS(s, &SIM_A, "DeleteImage", "{}", 400, "7000");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"ResultsPerPage\":0}", 400, "4000");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"Filters\":{\"VmIds\":\"i-1\"}}", 400, "4000");
    SIM_STATUS(s, &SIM_A, "ReadVms", "not json", 400, "4000");
    SIM_STATUS(s, &SIM_A, "DeleteImage", "{\"ImageId\":\"ami-00000000\"}", 400, "5023");
    SIM_STATUS(s, &SIM_A, "StopVms", "{\"VmIds\":[\"i-00000000\"]}", 400, "5063");
    SIM_STATUS(s, &SIM_A, "DeleteUser", "{\"UserName\":\"ghost\"}", 400, "5087");
    server_free(s);
}

Test(api, anonymous_operations_and_missing_signatures) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    cr_assert_eq(sim_call_at(s, NULL, OSCSIG_OSC4, clock_now(), "ReadProductTypes", "{}", &out), 200);
    cr_assert_str_eq(str_at(json_array_get(json_object_get(out, "ProductTypes"), 0), "ProductTypeId"), "0001");
    json_decref(out);
    cr_assert_eq(sim_call_at(s, NULL, OSCSIG_OSC4, clock_now(), "ReadVms", "{}", &out), 401);
    cr_assert_str_eq(sim_code(out), "1");
    cr_assert_str_eq(str_at(json_array_get(json_object_get(out, "Errors"), 0), "Type"), "AccessDenied");
    json_decref(out);
    struct sim_key unknown = {"ZZZZZZZZZZZZZZZZZZZZ", SIM_A.sk, "eu-west-2"};
    SIM_STATUS(s, &unknown, "ReadVms", "{}", 401, "1");
    server_free(s);
}

Test(api, aws4_signatures_are_accepted) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    cr_assert_eq(sim_call_at(s, &SIM_B, OSCSIG_AWS4, clock_now(), "ReadAccounts", "{}", &out), 200);
    cr_assert_str_eq(str_at(json_array_get(json_object_get(out, "Accounts"), 0), "AccountId"), SIM_B_ID);
    json_decref(out);
    server_free(s);
}

Test(api, signature_window_follows_the_emulator_clock) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    mkt_time now = clock_now();
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, now - 6 * CLOCK_MINUTE, "ReadVms", "{}", &out), 401);
    cr_assert_str_eq(sim_code(out), "1");
    json_decref(out);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, now + 6 * CLOCK_MINUTE, "ReadVms", "{}", &out), 401);
    json_decref(out);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, now - 4 * CLOCK_MINUTE, "ReadVms", "{}", &out), 200);
    json_decref(out);
    /* shift the emulator an hour ahead: a real-time signature is now stale, a shifted one is fine */
    clock_set_offset(CLOCK_HOUR);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, now, "ReadVms", "{}", &out), 401);
    json_decref(out);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, clock_now(), "ReadVms", "{}", &out), 200);
    json_decref(out);
    /* stale dates do not count towards the lock */
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, now, "ReadVms", "{}", &out), 401);
        json_decref(out);
    }
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 200, NULL);
    server_free(s);
}

Test(api, four_bad_signatures_lock_the_key_for_a_minute) {
    struct server *s = sim_new(NULL, 0);
    struct sim_key bad = SIM_A;
    bad.sk = "WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONG";
    for (int i = 0; i < 3; i++)
        SIM_STATUS(s, &bad, "ReadVms", "{}", 401, "1");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 200, NULL); /* a good call resets the count */
    /* malformed headers naming the key (wrong service, host unsigned) are refused without counting */
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
    static const char *const malformed[] = {
        "OSC4-HMAC-SHA256 Credential=AAAAAAAAAAAAAAAAAAA1/20261121/eu-west-2/oapi/osc4_request, "
        "SignedHeaders=content-type;host;x-osc-date, Signature=" ZEROS,
        "OSC4-HMAC-SHA256 Credential=AAAAAAAAAAAAAAAAAAA1/20261121/eu-west-2/api/osc4_request, "
        "SignedHeaders=content-type;x-osc-date, Signature=" ZEROS,
    };
#undef ZEROS
    for (int i = 0; i < 4; i++) {
        json_t *out = NULL;
        cr_assert_eq(sim_call_with(s, malformed[i % 2], "ReadVms", "{}", &out), 401);
        cr_assert_str_eq(sim_code(out), "1");
        json_decref(out);
    }
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 200, NULL);
    for (int i = 0; i < 4; i++)
        SIM_STATUS(s, &bad, "ReadVms", "{}", 401, "1");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 401, "13"); /* locked, even with the right secret */
    SIM_STATUS(s, &SIM_B, "ReadVms", "{}", 200, NULL); /* other keys are not */
    clock_set_offset(59 * CLOCK_SECOND);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 401, "13");
    clock_set_offset(61 * CLOCK_SECOND);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 200, NULL);
    server_free(s);
}

Test(api, the_credential_region_selects_the_resources) {
    struct server *s = sim_new(NULL, 0);
    char base[32], copy[32], st[32];
    base_image(s, &SIM_A, base);
    copy_image(s, &SIM_A, base, "region-copy", "[]", copy);
    cr_assert_str_eq(image_state(s, &SIM_A, copy, st), "available");
    cr_assert_str_eq(image_state(s, &SIM_A_GOUV, copy, st), "invisible", "Regions share nothing");
    /* a base OMI of one Region cannot be copied from another */
    char body[256];
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"cloudgouv-eu-west-1\",\"ImageName\":\"x-copy\"}", base);
    SIM_STATUS(s, &SIM_A_GOUV, "CreateImage", body, 400, "5023");
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"eu-west-2\",\"ImageName\":\"x-copy\"}", base);
    SIM_STATUS(s, &SIM_A_GOUV, "CreateImage", body, 400, "4000");
    /* C has no access to cloudgouv-eu-west-1; nobody knows mars-1 */
    struct sim_key c_gouv = SIM_C, a_mars = SIM_A;
    c_gouv.region = "cloudgouv-eu-west-1";
    a_mars.region = "mars-1";
    SIM_STATUS(s, &c_gouv, "ReadVms", "{}", 401, "1");
    SIM_STATUS(s, &a_mars, "ReadVms", "{}", 401, "1");
    server_free(s);
}

Test(api, copies_become_available_after_the_delay_and_carry_codes) {
    struct server *s = sim_new(NULL, 2000);
    char base[32], copy[32], st[32], body[512];
    base_image(s, &SIM_A, base);
    json_t *r = sim_ok(s, &SIM_A, "CreateProductType", "{\"Description\":\"demo\",\"Vendor\":\"me\"}");
    char pty[32];
    snprintf(pty, sizeof pty, "%s", str_at(json_object_get(r, "ProductType"), "ProductTypeId"));
    cr_assert(strncmp(pty, "pty-", 4) == 0 && strlen(pty) == 12, "%s", pty);
    json_decref(r);
    char codes[64];
    snprintf(codes, sizeof codes, "[\"%s\"]", pty);
    copy_image(s, &SIM_A, base, "mkt copy (v1)", codes, copy);
    cr_assert(strncmp(copy, "ami-", 4) == 0 && strlen(copy) == 12, "%s", copy);
    cr_assert_str_eq(image_state(s, &SIM_A, copy, st), "pending");
    /* a pending image can be neither launched nor copied */
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\"}", copy);
    SIM_STATUS(s, &SIM_A, "CreateVms", body, 400, "6003");
    clock_set_offset(2 * CLOCK_SECOND);
    cr_assert_str_eq(image_state(s, &SIM_A, copy, st), "available");
    snprintf(body, sizeof body, "{\"Filters\":{\"ImageIds\":[\"%s\"],\"ProductCodes\":[\"%s\"]}}", copy, pty);
    r = sim_ok(s, &SIM_A, "ReadImages", body);
    const json_t *im = json_array_get(json_object_get(r, "Images"), 0);
    cr_assert_not_null(im, "found by its product code");
    const json_t *got = json_object_get(im, "ProductCodes");
    cr_assert_eq(json_array_size(got), 2, "the source's 0001 plus the requested code");
    cr_assert_str_eq(json_string_value(json_array_get(got, 0)), "0001");
    cr_assert_str_eq(str_at(im, "AccountId"), SIM_A_ID);
    json_decref(r);
    /* names are unique per account and Region; unknown product codes are refused */
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"eu-west-2\",\"ImageName\":\"mkt copy (v1)\"}", base);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "9011");
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"eu-west-2\",\"ImageName\":\"bad*name\"}", base);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "4000");
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"eu-west-2\",\"ImageName\":\"other\",\"ProductCodes\":[\"pty-00000000\"]}", base);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "5117");
    /* a VM launched from the copy carries both codes */
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\"}", copy);
    r = sim_ok(s, &SIM_A, "CreateVms", body);
    const json_t *vm = json_array_get(json_object_get(r, "Vms"), 0);
    cr_assert_str_eq(str_at(vm, "VmType"), "tinav5.c1r1p2");
    cr_assert_str_eq(str_at(vm, "State"), "pending");
    cr_assert_eq(json_array_size(json_object_get(vm, "ProductCodes")), 2);
    json_decref(r);
    /* the product type is in use: Force is needed */
    snprintf(body, sizeof body, "{\"ProductTypeId\":\"%s\"}", pty);
    SIM_STATUS(s, &SIM_A, "DeleteProductType", body, 400, "9029");
    SIM_STATUS(s, &SIM_B, "DeleteProductType", body, 401, "5");
    SIM_STATUS(s, &SIM_A, "DeleteProductType", "{\"ProductTypeId\":\"0001\",\"Force\":true}", 401, "5");
    snprintf(body, sizeof body, "{\"ProductTypeId\":\"%s\",\"Force\":true}", pty);
    SIM_STATUS(s, &SIM_A, "DeleteProductType", body, 200, NULL);
    server_free(s);
}

Test(api, sharing_and_owner_only_changes) {
    struct server *s = sim_new(NULL, 0);
    char base[32], copy[32], st[32], body[512];
    base_image(s, &SIM_A, base);
    copy_image(s, &SIM_A, base, "shared-copy", "[]", copy);
    cr_assert_str_eq(image_state(s, &SIM_B, copy, st), "invisible");
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"PermissionsToLaunch\":{\"Additions\":{\"AccountIds\":[\"%s\"]}}}", copy, SIM_B_ID);
    json_t *r = sim_ok(s, &SIM_A, "UpdateImage", body);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(json_object_get(r, "Image"), "PermissionsToLaunch"), "AccountIds"), 0)), SIM_B_ID);
    json_decref(r);
    cr_assert_str_eq(image_state(s, &SIM_B, copy, st), "available");
    cr_assert_str_eq(image_state(s, &SIM_C, copy, st), "invisible");
    /* the buyer finds it by the permission filter; others' ids are not shown to it */
    snprintf(body, sizeof body, "{\"Filters\":{\"PermissionsToLaunchAccountIds\":[\"%s\"]}}", SIM_B_ID);
    r = sim_ok(s, &SIM_B, "ReadImages", body);
    cr_assert_eq(json_array_size(json_object_get(r, "Images")), 1);
    json_decref(r);
    /* non-owners can neither update nor delete; invisible images read as unknown */
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"Description\":\"mine now\"}", copy);
    SIM_STATUS(s, &SIM_B, "UpdateImage", body, 401, "5");
    SIM_STATUS(s, &SIM_C, "UpdateImage", body, 400, "5023");
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\"}", copy);
    SIM_STATUS(s, &SIM_B, "DeleteImage", body, 401, "5");
    /* public, then private again */
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"PermissionsToLaunch\":{\"Additions\":{\"GlobalPermission\":true},\"Removals\":{\"AccountIds\":[\"%s\"]}}}", copy, SIM_B_ID);
    json_decref(sim_ok(s, &SIM_A, "UpdateImage", body));
    cr_assert_str_eq(image_state(s, &SIM_C, copy, st), "available");
    r = sim_ok(s, &SIM_C, "ReadImages", "{\"Filters\":{\"PermissionsToLaunchGlobalPermission\":true,\"AccountIds\":[\"111111111111\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "Images")), 1);
    json_decref(r);
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"PermissionsToLaunch\":{\"Removals\":{\"GlobalPermission\":true}}}", copy);
    json_decref(sim_ok(s, &SIM_A, "UpdateImage", body));
    cr_assert_str_eq(image_state(s, &SIM_C, copy, st), "invisible");
    cr_assert_str_eq(image_state(s, &SIM_B, copy, st), "invisible");
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"PermissionsToLaunch\":{\"Additions\":{\"AccountIds\":[\"12\"]}}}", copy);
    SIM_STATUS(s, &SIM_A, "UpdateImage", body, 400, "4000");
    /* the base OMIs belong to the provider */
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\"}", base);
    SIM_STATUS(s, &SIM_A, "DeleteImage", body, 401, "5");
    server_free(s);
}

Test(api, vm_lifecycle_and_caller_only_reads) {
    struct server *s = sim_new(NULL, 0);
    char base[32], body[256];
    base_image(s, &SIM_A, base);
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"VmType\":\"tinav6.c2r4p1\",\"MinVmsCount\":3,\"MaxVmsCount\":3}", base);
    json_t *r = sim_ok(s, &SIM_A, "CreateVms", body);
    const json_t *vms = json_object_get(r, "Vms");
    cr_assert_eq(json_array_size(vms), 3);
    char id[32];
    snprintf(id, sizeof id, "%s", str_at(json_array_get(vms, 0), "VmId"));
    cr_assert(strncmp(id, "i-", 2) == 0 && strlen(id) == 10, "%s", id);
    json_decref(r);
    r = sim_ok(s, &SIM_B, "ReadVms", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 0, "only the caller's VMs");
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadVms", "{\"Filters\":{\"VmStateNames\":[\"running\"],\"ProductCodes\":[\"0001\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 3);
    json_decref(r);
    snprintf(body, sizeof body, "{\"VmIds\":[\"%s\"]}", id);
    SIM_STATUS(s, &SIM_B, "StopVms", body, 400, "5063");
    r = sim_ok(s, &SIM_A, "StopVms", body);
    const json_t *change = json_array_get(json_object_get(r, "Vms"), 0);
    cr_assert_str_eq(str_at(change, "PreviousState"), "running");
    cr_assert_str_eq(str_at(change, "CurrentState"), "stopping");
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadVms", "{\"Filters\":{\"VmStateNames\":[\"stopped\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 1);
    json_decref(r);
    json_decref(sim_ok(s, &SIM_A, "StartVms", body));
    json_decref(sim_ok(s, &SIM_A, "DeleteVms", body));
    r = sim_ok(s, &SIM_A, "ReadVms", "{\"Filters\":{\"VmStateNames\":[\"terminated\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 1, "terminated VMs stay visible a while");
    json_decref(r);
    SIM_STATUS(s, &SIM_A, "StartVms", body, 400, "6003");
    clock_set_offset(CLOCK_HOUR + CLOCK_MINUTE);
    SIM_STATUS(s, &SIM_A, "StartVms", body, 400, "5063");
    r = sim_ok(s, &SIM_A, "ReadVms", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 2, "then they are gone");
    json_decref(r);
    server_free(s);
}

Test(api, paging) {
    struct server *s = sim_new(NULL, 0);
    char base[32], body[256];
    base_image(s, &SIM_A, base);
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"MaxVmsCount\":5}", base);
    json_decref(sim_ok(s, &SIM_A, "CreateVms", body));
    json_t *r = sim_ok(s, &SIM_A, "ReadVms", "{\"ResultsPerPage\":2}");
    cr_assert_eq(json_array_size(json_object_get(r, "Vms")), 2);
    char token[64];
    snprintf(token, sizeof token, "%s", str_at(r, "NextPageToken"));
    json_decref(r);
    size_t seen = 2;
    while (*token) {
        snprintf(body, sizeof body, "{\"ResultsPerPage\":2,\"NextPageToken\":\"%s\"}", token);
        r = sim_ok(s, &SIM_A, "ReadVms", body);
        seen += json_array_size(json_object_get(r, "Vms"));
        const char *next = str_at(r, "NextPageToken");
        snprintf(token, sizeof token, "%s", next ? next : "");
        json_decref(r);
    }
    cr_assert_eq(seen, 5);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"NextPageToken\":\"garbage\"}", 400, "4000");
    /* EIM reads: FirstItem / ResultsPerPage / HasMoreItems */
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"UserName\":\"user%d\"}", i);
        json_decref(sim_ok(s, &SIM_A, "CreateUser", body));
    }
    r = sim_ok(s, &SIM_A, "ReadUsers", "{\"ResultsPerPage\":2}");
    cr_assert_eq(json_array_size(json_object_get(r, "Users")), 2);
    cr_assert(json_is_true(json_object_get(r, "HasMoreItems")));
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadUsers", "{\"ResultsPerPage\":2,\"FirstItem\":2}");
    cr_assert_eq(json_array_size(json_object_get(r, "Users")), 1);
    cr_assert_str_eq(str_at(json_array_get(json_object_get(r, "Users"), 0), "UserName"), "user2");
    cr_assert(json_is_false(json_object_get(r, "HasMoreItems")));
    json_decref(r);
    server_free(s);
}

Test(api, dry_run_changes_nothing) {
    struct server *s = sim_new(NULL, 0);
    json_t *r = sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"dry\",\"DryRun\":true}");
    cr_assert_eq(json_object_size(r), 1, "only ResponseContext");
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadUsers", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Users")), 0);
    json_decref(r);
    SIM_STATUS(s, &SIM_A, "CreateUser", "{\"DryRun\":true}", 400, "7000"); /* still validated */
    server_free(s);
}

Test(api, tags_on_images_and_vms) {
    struct server *s = sim_new(NULL, 0);
    char base[32], copy[32], body[256];
    base_image(s, &SIM_A, base);
    copy_image(s, &SIM_A, base, "tagged", "[]", copy);
    snprintf(body, sizeof body, "{\"ResourceIds\":[\"%s\"],\"Tags\":[{\"Key\":\"env\",\"Value\":\"prod\"}]}", copy);
    json_decref(sim_ok(s, &SIM_A, "CreateTags", body));
    SIM_STATUS(s, &SIM_B, "CreateTags", body, 400, "5023");
    json_t *r = sim_ok(s, &SIM_A, "ReadImages", "{\"Filters\":{\"Tags\":[\"env=prod\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "Images")), 1);
    json_decref(r);
    snprintf(body, sizeof body, "{\"ResourceIds\":[\"%s\"],\"Tags\":[{\"Key\":\"env\"}]}", copy);
    json_decref(sim_ok(s, &SIM_A, "DeleteTags", body));
    r = sim_ok(s, &SIM_A, "ReadImages", "{\"Filters\":{\"TagKeys\":[\"env\"]}}");
    cr_assert_eq(json_array_size(json_object_get(r, "Images")), 0);
    json_decref(r);
    server_free(s);
}

Test(api, injected_faults) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    cr_assert_eq(sim_raw(s, "POST", "/_sim/faults", "127.0.0.1", "{\"operations\":[\"ReadVms\"],\"status\":503,\"count\":2}", &out), 200);
    json_decref(out);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 503, "2001");
    SIM_STATUS(s, &SIM_A, "ReadImages", "{}", 200, NULL);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 503, "2001");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{}", 200, NULL);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/faults", "127.0.0.1", "{\"operations\":[\"*\"],\"status\":429,\"ratio\":1}", &out), 200);
    json_decref(out);
    SIM_STATUS(s, &SIM_A, "ReadAccounts", "{}", 429, "24");
    cr_assert_eq(sim_raw(s, "DELETE", "/_sim/faults", "127.0.0.1", NULL, &out), 200);
    json_decref(out);
    SIM_STATUS(s, &SIM_A, "ReadAccounts", "{}", 200, NULL);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/faults", "127.0.0.1", "{\"operations\":[\"*\"],\"status\":500,\"ratio\":0}", &out), 200);
    json_decref(out);
    for (int i = 0; i < 20; i++)
        SIM_STATUS(s, &SIM_A, "ReadAccounts", "{}", 200, NULL);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/faults", "127.0.0.1", "{\"operations\":[\"ReadRegions\"],\"latency_ms\":150}", &out), 200);
    json_decref(out);
    int64_t t0 = clock_mono_us();
    cr_assert_eq(sim_raw(s, "POST", "/api/v1/ReadRegions", "127.0.0.1", "{}", &out), 200);
    json_decref(out);
    cr_assert_geq(clock_mono_us() - t0, 150000, "latency applied");
    cr_assert_eq(sim_raw(s, "POST", "/_sim/faults", "127.0.0.1", "{\"operations\":[\"*\"],\"status\":404}", &out), 400);
    json_decref(out);
    server_free(s);
}

Test(api, admin_routes) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    cr_assert_eq(sim_raw(s, "GET", "/_sim/healthz", "10.0.0.8", NULL, &out), 403, "loopback only");
    json_decref(out);
    cr_assert_eq(sim_raw(s, "GET", "/_sim/healthz", "127.0.0.1", NULL, &out), 200);
    json_decref(out);
    static const char entry[] = "{\"account_id\":\"444444444444\",\"email\":\"d@example.com\",\"access_key\":"
                                "\"DDDDDDDDDDDDDDDDDDD4\",\"secret_key\":\"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD4\","
                                "\"regions\":[\"eu-west-2\"]}";
    cr_assert_eq(sim_raw(s, "POST", "/_sim/accounts", "127.0.0.1", entry, &out), 200);
    json_decref(out);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/accounts", "127.0.0.1", entry, &out), 409);
    json_decref(out);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/accounts", "127.0.0.1", "{\"account_id\":\"x\"}", &out), 400);
    json_decref(out);
    struct sim_key d = {"DDDDDDDDDDDDDDDDDDD4", "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD4", "eu-west-2"};
    SIM_STATUS(s, &d, "ReadAccounts", "{}", 200, NULL);
    cr_assert_eq(sim_raw(s, "GET", "/_sim/state", "127.0.0.1", NULL, &out), 200);
    cr_assert_geq(json_array_size(json_object_get(out, "accounts")), 5);
    cr_assert_gt(json_array_size(json_object_get(out, "images")), 10, "base OMIs in every Region");
    json_decref(out);
    mkt_time before = clock_now();
    cr_assert_eq(sim_raw(s, "POST", "/_sim/clock", "127.0.0.1", "{\"advance_s\":3600}", &out), 200);
    json_decref(out);
    cr_assert_geq(clock_now() - before, CLOCK_HOUR);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/clock", "127.0.0.1", "{\"offset_s\":0}", &out), 200);
    json_decref(out);
    cr_assert_lt(clock_now() - before, CLOCK_MINUTE);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/clock", "127.0.0.1", "{\"advance_s\":1,\"offset_s\":1}", &out), 400);
    json_decref(out);
    /* forcing an image's state */
    char base[32], copy[32], st[32], body[128];
    base_image(s, &SIM_A, base);
    copy_image(s, &SIM_A, base, "to-fail", "[]", copy);
    snprintf(body, sizeof body, "{\"image_id\":\"%s\",\"state\":\"failed\"}", copy);
    cr_assert_eq(sim_raw(s, "POST", "/_sim/images", "127.0.0.1", body, &out), 200);
    json_decref(out);
    cr_assert_str_eq(image_state(s, &SIM_A, copy, st), "failed");
    cr_assert_eq(sim_raw(s, "GET", "/_sim/nothing", "127.0.0.1", NULL, &out), 404);
    json_decref(out);
    server_free(s);
}

Test(api, state_survives_a_restart) {
    char dir[] = "/tmp/cloudsim-test-XXXXXX", path[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state.json", dir);
    char base[32], copy[32], st[32], ak[32], sk[64];
    struct server *s = sim_new(path, 0);
    base_image(s, &SIM_A, base);
    copy_image(s, &SIM_A, base, "persisted", "[]", copy);
    json_decref(sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"meter\",\"Path\":\"/mkt/\"}"));
    json_decref(sim_ok(s, &SIM_A, "CreateUserGroup", "{\"UserGroupName\":\"g\"}"));
    json_decref(sim_ok(s, &SIM_A, "AddUserToUserGroup", "{\"UserGroupName\":\"g\",\"UserName\":\"meter\"}"));
    json_t *r = sim_ok(s, &SIM_A, "CreatePolicy",
                       "{\"PolicyName\":\"all\",\"Document\":\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"api:*\\\"}]}\"}");
    char link[256];
    snprintf(link, sizeof link, "{\"UserGroupName\":\"g\",\"PolicyOrn\":\"%s\"}", str_at(json_object_get(r, "Policy"), "Orn"));
    json_decref(r);
    json_decref(sim_ok(s, &SIM_A, "LinkManagedPolicyToUserGroup", link));
    r = sim_ok(s, &SIM_A, "CreateAccessKey", "{\"UserName\":\"meter\"}");
    snprintf(ak, sizeof ak, "%s", str_at(json_object_get(r, "AccessKey"), "AccessKeyId"));
    snprintf(sk, sizeof sk, "%s", str_at(json_object_get(r, "AccessKey"), "SecretKey"));
    json_decref(r);
    server_free(s);

    struct server_config cfg = {.addr = "127.0.0.1", .state_path = path};
    struct err e = {0};
    s = NULL;
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_OK, "%s", e.msg);
    cr_assert_str_eq(image_state(s, &SIM_A, copy, st), "available");
    struct sim_key eim = {ak, sk, "eu-west-2"};
    r = sim_ok(s, &eim, "ReadUsers", "{}");
    cr_assert_str_eq(str_at(json_array_get(json_object_get(r, "Users"), 0), "Path"), "/mkt/");
    json_decref(r);
    server_free(s);
    unlink(path);
    rmdir(dir);
}

Test(api, seed_files_merge_into_an_existing_state) {
    char dir[] = "/tmp/cloudsim-seed-XXXXXX", seed[256], state[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(seed, sizeof seed, "%s/seed.json", dir);
    snprintf(state, sizeof state, "%s/state.json", dir);
    FILE *f = fopen(seed, "w");
    cr_assert_not_null(f);
    fputs("{\"accounts\":[{\"account_id\":\"555555555555\",\"email\":\"e@example.com\",\"access_key\":"
          "\"EEEEEEEEEEEEEEEEEEE5\",\"secret_key\":\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE5\",\"regions\":[\"eu-west-2\"]}]}",
          f);
    fclose(f);
    struct server_config cfg = {.addr = "127.0.0.1", .seed_path = seed, .state_path = state};
    struct server *s = NULL;
    struct err e = {0};
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_OK, "%s", e.msg);
    struct sim_key k = {"EEEEEEEEEEEEEEEEEEE5", "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE5", "eu-west-2"};
    json_decref(sim_ok(s, &k, "CreateUser", "{\"UserName\":\"kept\"}"));
    server_free(s);
    /* same seed again, on the saved state: the account keeps its user, nothing conflicts */
    s = NULL;
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_OK, "%s", e.msg);
    json_t *r = sim_ok(s, &k, "ReadUsers", "{}");
    cr_assert_eq(json_array_size(json_object_get(r, "Users")), 1);
    json_decref(r);
    server_free(s);
    /* a seed whose key belongs to another account is refused */
    f = fopen(seed, "w");
    fputs("{\"accounts\":[{\"account_id\":\"666666666666\",\"email\":\"f@example.com\",\"access_key\":"
          "\"EEEEEEEEEEEEEEEEEEE5\",\"secret_key\":\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE5\",\"regions\":[\"eu-west-2\"]}]}",
          f);
    fclose(f);
    s = NULL;
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_CONFLICT);
    cr_assert_null(s);
    f = fopen(seed, "w");
    fputs("{\"accounts\":[{\"account_id\":\"12\"}]}", f);
    fclose(f);
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_INVALID);
    unlink(seed);
    unlink(state);
    rmdir(dir);
}

Test(api, signature_window_clock_can_be_real_or_either) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    mkt_time real = clock_now();
    clock_set_offset(3 * CLOCK_HOUR);
    s->sig_window = AUTH_WINDOW_REAL;
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, real, "ReadVms", "{}", &out), 200, "real-time signature");
    json_decref(out);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, clock_now(), "ReadVms", "{}", &out), 401);
    json_decref(out);
    s->sig_window = AUTH_WINDOW_EITHER;
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, real, "ReadVms", "{}", &out), 200);
    json_decref(out);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, clock_now(), "ReadVms", "{}", &out), 200);
    json_decref(out);
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_OSC4, real - CLOCK_HOUR, "ReadVms", "{}", &out), 401, "stale for both");
    json_decref(out);
    server_free(s);
}
