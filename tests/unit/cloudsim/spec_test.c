/* Pipeline tests (server_call, no network) of what OUTSCALE's own tools and the 1.40
 * specification expect beyond what lib/cloud uses: endpoints named api.<region>.localhost (the
 * Region from the host, refused when the scope disagrees), either scope service (`api`,
 * `oapi`), curl's X-<Service>-Date header, the requests the specification allows (CreateImage
 * without ImageName or from a VM, UpdateAccessKey without State, more ReadImages and ReadVms
 * filters), the new calls (ReadVmTypes, ReadSubregions, ReadConsumptionAccount), the fields
 * of the response schemas, and the cloud's status for conflicts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../tools/cloudsim/auth.h"
#include "sim_support.h"

static const char *str_at(const json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static int sig_status(struct server *s, const struct sim_key *k, const struct sim_sig *sig, const char *op,
                      const char **code) {
    static char last[16];
    json_t *out = NULL;
    int status = sim_call_sig(s, k, sig, op, "{}", &out);
    snprintf(last, sizeof last, "%s", sim_code(out));
    if (code)
        *code = last;
    json_decref(out);
    return status;
}

static void base_image(struct server *s, const struct sim_key *k, char out[32]) {
    json_t *r = sim_ok(s, k, "ReadImages", "{\"Filters\":{\"AccountIds\":[\"999999999999\"],\"ImageNames\":[\"Debian*\"]}}");
    snprintf(out, 32, "%s", str_at(json_array_get(json_object_get(r, "Images"), 0), "ImageId"));
    json_decref(r);
}

/* Launches n VMs from the base image; returns the answer (owned). */
static json_t *launch(struct server *s, const struct sim_key *k, int n, const char *extra) {
    char base[32], body[512];
    base_image(s, k, base);
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"MinVmsCount\":%d,\"MaxVmsCount\":%d%s}", base, n, n,
             extra ? extra : "");
    return sim_ok(s, k, "CreateVms", body);
}

static size_t count(struct server *s, const struct sim_key *k, const char *op, const char *key, const char *body) {
    json_t *r = sim_ok(s, k, op, body);
    size_t n = json_array_size(json_object_get(r, key));
    json_decref(r);
    return n;
}

/* ---- endpoints and signatures ---------------------------------------------------------------- */

Test(spec, host_names_designate_a_region) {
    static const struct {
        const char *host, *region;
    } cases[] = {
        {"api.eu-west-2.localhost:3000", "eu-west-2"},
        {"api.cloudgouv-eu-west-1.localhost", "cloudgouv-eu-west-1"},
        {"api.eu-west-2.outscale.com", "eu-west-2"},
        {"oapi.us-east-2.localhost:3000", "us-east-2"},
        {"API.eu-west-2.localhost", "eu-west-2"},
        {"127.0.0.1:3000", NULL},
        {"localhost:3000", NULL},
        {"api.localhost:3000", NULL},
        {"api..localhost", NULL},
        {"fcu.eu-west-2.outscale.com", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[64] = "untouched";
        bool ok = auth_host_region(cases[i].host, got, sizeof got);
        cr_expect_eq(ok, cases[i].region != NULL, "%s", cases[i].host ? cases[i].host : "(null)");
        if (cases[i].region)
            cr_expect_str_eq(got, cases[i].region, "%s", cases[i].host);
        else
            cr_expect_str_eq(got, "untouched");
    }
}

Test(spec, requests_signed_as_the_official_tools_sign_them) {
    struct server *s = sim_new(NULL, 0);
    const char *code;
    /* `curl --aws-sigv4 osc` on api.eu-west-2.localhost: OSC4, service api from the host */
    struct sim_sig osc = {.scheme = OSCSIG_OSC4, .host = "api.eu-west-2.localhost:3000"};
    cr_assert_eq(sig_status(s, &SIM_A, &osc, "ReadAccounts", &code), 200, "%s", code);
    /* `--aws-sigv4 osc:oapi:eu-west-2:oapi`: service oapi, date header X-Oapi-Date */
    struct sim_sig oapi = {.scheme = OSCSIG_OSC4, .host = "api.eu-west-2.localhost:3000", .service = "oapi",
                           .date_header = "X-Oapi-Date"};
    cr_assert_eq(sig_status(s, &SIM_A, &oapi, "ReadAccounts", &code), 200, "%s", code);
    /* `--aws-sigv4 osc:api:eu-west-2:api`: X-Api-Date */
    struct sim_sig api = {.scheme = OSCSIG_OSC4, .host = "api.eu-west-2.localhost:3000", .date_header = "X-Api-Date"};
    cr_assert_eq(sig_status(s, &SIM_A, &api, "ReadAccounts", &code), 200, "%s", code);
    /* AWS4 with the service taken from the host (older libcurl), and with oapi */
    struct sim_sig aws_api = {.scheme = OSCSIG_AWS4, .host = "api.eu-west-2.localhost:3000", .service = "api"};
    cr_assert_eq(sig_status(s, &SIM_A, &aws_api, "ReadAccounts", &code), 200, "%s", code);
    struct sim_sig aws_oapi = {.scheme = OSCSIG_AWS4, .host = "api.eu-west-2.localhost:3000"};
    cr_assert_eq(sig_status(s, &SIM_A, &aws_oapi, "ReadAccounts", &code), 200, "%s", code);
    /* the Region of the host selects the resources, like the scope's */
    struct sim_sig gouv = {.scheme = OSCSIG_OSC4, .host = "api.cloudgouv-eu-west-1.localhost:3000"};
    cr_assert_eq(sig_status(s, &SIM_A_GOUV, &gouv, "ReadVms", &code), 200, "%s", code);
    server_free(s);
}

Test(spec, wrong_regions_keys_services_and_dates_are_still_refused) {
    struct server *s = sim_new(NULL, 0);
    const char *code;
    /* C has only eu-west-2: a host in cloudgouv-eu-west-1 signed for it is refused */
    struct sim_key c_gouv = {SIM_C.ak, SIM_C.sk, "cloudgouv-eu-west-1"};
    struct sim_sig gouv = {.scheme = OSCSIG_OSC4, .host = "api.cloudgouv-eu-west-1.localhost:3000"};
    cr_assert_eq(sig_status(s, &c_gouv, &gouv, "ReadVms", &code), 401);
    cr_assert_str_eq(code, "1");
    /* the scope names another Region than the host */
    struct sim_sig other = {.scheme = OSCSIG_OSC4, .host = "api.cloudgouv-eu-west-1.localhost:3000"};
    cr_assert_eq(sig_status(s, &SIM_A, &other, "ReadVms", &code), 401);
    cr_assert_str_eq(code, "1");
    /* an unknown Region in the host */
    struct sim_key a_mars = {SIM_A.ak, SIM_A.sk, "mars-1"};
    struct sim_sig mars = {.scheme = OSCSIG_OSC4, .host = "api.mars-1.localhost:3000"};
    cr_assert_eq(sig_status(s, &a_mars, &mars, "ReadVms", &code), 401);
    cr_assert_str_eq(code, "1");
    /* neither api nor oapi */
    struct sim_sig fcu = {.scheme = OSCSIG_OSC4, .host = "api.eu-west-2.localhost:3000", .service = "fcu"};
    cr_assert_eq(sig_status(s, &SIM_A, &fcu, "ReadVms", &code), 401);
    cr_assert_str_eq(code, "1");
    /* a date header named after neither the scheme nor the service */
    struct sim_sig odd = {.scheme = OSCSIG_OSC4, .host = "api.eu-west-2.localhost:3000", .date_header = "X-Foo-Date"};
    cr_assert_eq(sig_status(s, &SIM_A, &odd, "ReadVms", &code), 401);
    /* a wrong secret on a host-named endpoint */
    struct sim_key bad = {SIM_A.ak, SIM_B.sk, "eu-west-2"};
    struct sim_sig host = {.scheme = OSCSIG_OSC4, .host = "api.eu-west-2.localhost:3000"};
    cr_assert_eq(sig_status(s, &bad, &host, "ReadVms", &code), 401);
    cr_assert_str_eq(code, "1");
    /* stale dates: unchanged */
    json_t *out = NULL;
    cr_assert_eq(sim_call_at(s, &SIM_A, OSCSIG_AWS4, clock_now() - 6 * CLOCK_MINUTE, "ReadVms", "{}", &out), 401);
    json_decref(out);
    server_free(s);
}

/* ---- requests the specification allows ------------------------------------------------------- */

Test(spec, create_image_without_a_name_and_from_a_vm) {
    struct server *s = sim_new(NULL, 0);
    char base[32], body[512];
    base_image(s, &SIM_A, base);
    /* a copy without ImageName (nor SourceRegionName) is named after its id */
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\"}", base);
    json_t *r = sim_ok(s, &SIM_A, "CreateImage", body);
    const json_t *im = json_object_get(r, "Image");
    cr_assert_str_eq(str_at(im, "ImageName"), str_at(im, "ImageId"));
    json_decref(r);
    /* an OMI from a VM, with NoReboot, carries the VM's product codes */
    r = launch(s, &SIM_A, 1, NULL);
    char vm[32];
    snprintf(vm, sizeof vm, "%s", str_at(json_array_get(json_object_get(r, "Vms"), 0), "VmId"));
    json_decref(r);
    snprintf(body, sizeof body, "{\"VmId\":\"%s\",\"NoReboot\":true,\"ImageName\":\"seller source (v1)\"}", vm);
    r = sim_ok(s, &SIM_A, "CreateImage", body);
    im = json_object_get(r, "Image");
    cr_assert_str_eq(str_at(im, "ImageName"), "seller source (v1)");
    cr_assert_str_eq(str_at(im, "State"), "pending");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(im, "ProductCodes"), 0)), "0001");
    json_decref(r);
    /* the name is taken now; another account's VM is unknown; one source exactly */
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "9011");
    SIM_STATUS(s, &SIM_B, "CreateImage", body, 400, "5063");
    snprintf(body, sizeof body, "{\"VmId\":\"%s\",\"SourceImageId\":\"%s\"}", vm, base);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "4000");
    SIM_STATUS(s, &SIM_A, "CreateImage", "{\"ImageName\":\"nothing\"}", 400, "7000");
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"NoReboot\":true}", base);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "4000");
    /* a terminated VM cannot be imaged; unknown keys are still refused */
    snprintf(body, sizeof body, "{\"VmIds\":[\"%s\"]}", vm);
    json_decref(sim_ok(s, &SIM_A, "DeleteVms", body));
    json_decref(sim_ok(s, &SIM_A, "ReadVms", "{}")); /* the next call sees it terminated */
    snprintf(body, sizeof body, "{\"VmId\":\"%s\"}", vm);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "6003");
    snprintf(body, sizeof body, "{\"VmId\":\"%s\",\"Reboot\":true}", vm);
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "3001");
    server_free(s);
}

Test(spec, update_access_key_without_state) {
    struct server *s = sim_new(NULL, 0);
    json_t *r = sim_ok(s, &SIM_A, "CreateAccessKey", "{}");
    char body[256];
    snprintf(body, sizeof body, "{\"AccessKeyId\":\"%s\"}", str_at(json_object_get(r, "AccessKey"), "AccessKeyId"));
    json_decref(r);
    r = sim_ok(s, &SIM_A, "UpdateAccessKey", body);
    cr_assert_str_eq(str_at(json_object_get(r, "AccessKey"), "State"), "ACTIVE", "the state is kept");
    json_decref(r);
    SIM_STATUS(s, &SIM_A, "UpdateAccessKey", "{}", 400, "7000");
    SIM_STATUS(s, &SIM_A, "UpdateAccessKey", "{\"AccessKeyId\":\"X\",\"State\":\"ON\"}", 400, "4000");
    server_free(s);
}

Test(spec, read_images_filters) {
    struct server *s = sim_new(NULL, 0);
    const char *own = "\"AccountIds\":[\"999999999999\"]";
    char body[256];
    size_t all = count(s, &SIM_A, "ReadImages", "Images", "{\"Filters\":{\"AccountIds\":[\"999999999999\"]}}");
    cr_assert_gt(all, 0);
    snprintf(body, sizeof body, "{\"Filters\":{%s,\"ProductCodeNames\":[\"Lin*\"]}}", own);
    cr_assert_eq(count(s, &SIM_A, "ReadImages", "Images", body), all, "the base OMIs are Linux");
    snprintf(body, sizeof body, "{\"Filters\":{%s,\"ProductCodeNames\":[\"Windows\"]}}", own);
    cr_assert_eq(count(s, &SIM_A, "ReadImages", "Images", body), 0);
    snprintf(body, sizeof body, "{\"Filters\":{%s,\"Architectures\":[\"x86_64\"],\"RootDeviceTypes\":[\"bsu\"]}}", own);
    cr_assert_eq(count(s, &SIM_A, "ReadImages", "Images", body), all);
    snprintf(body, sizeof body, "{\"Filters\":{%s,\"Architectures\":[\"i386\"]}}", own);
    cr_assert_eq(count(s, &SIM_A, "ReadImages", "Images", body), 0);
    snprintf(body, sizeof body, "{\"Filters\":{%s,\"RootDeviceTypes\":[\"ebs\"]}}", own);
    cr_assert_eq(count(s, &SIM_A, "ReadImages", "Images", body), 0);
    SIM_STATUS(s, &SIM_A, "ReadImages", "{\"Filters\":{\"Platforms\":[\"linux\"]}}", 400, "3001");
    server_free(s);
}

Test(spec, read_vms_filters) {
    struct server *s = sim_new(NULL, 0);
    json_t *r = launch(s, &SIM_A, 2, ",\"VmType\":\"tinav5.c2r4p2\"");
    const char *id = str_at(json_array_get(json_object_get(r, "Vms"), 0), "VmId");
    char body[512], day[16];
    snprintf(day, sizeof day, "%.10s", str_at(json_array_get(json_object_get(r, "Vms"), 0), "CreationDate"));
    snprintf(body, sizeof body, "{\"ResourceIds\":[\"%s\"],\"Tags\":[{\"Key\":\"role\",\"Value\":\"web\"}]}", id);
    json_decref(sim_ok(s, &SIM_A, "CreateTags", body));
    json_decref(r);
    json_decref(launch(s, &SIM_A, 1, NULL));
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"VmStateCodes\":[16]}}"), 3, "running is 16");
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"VmStateCodes\":[80]}}"), 0);
    snprintf(body, sizeof body, "{\"Filters\":{\"CreationDates\":[\"%s\"]}}", day);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", body), 3, "%s", body);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"CreationDates\":[\"2001-01-01\"]}}"), 0);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"SubregionNames\":[\"eu-west-2a\"]}}"), 3);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"SubregionNames\":[\"eu-west-2b\"]}}"), 0);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"VmTypes\":[\"tinav5.c2r4p2\"]}}"), 2);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"TagKeys\":[\"role\"]}}"), 1);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"TagValues\":[\"web\"]}}"), 1);
    cr_assert_eq(count(s, &SIM_A, "ReadVms", "Vms", "{\"Filters\":{\"TagValues\":[\"db\"]}}"), 0);
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"Filters\":{\"VmStateCodes\":[\"running\"]}}", 400, "4000");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"Filters\":{\"Lifecycles\":[\"spot\"]}}", 400, "3001");
    server_free(s);
}

/* ---- new calls --------------------------------------------------------------------------------- */

Test(spec, read_vm_types_needs_no_signature_and_filters) {
    struct server *s = sim_new(NULL, 0);
    json_t *out = NULL;
    cr_assert_eq(sim_call_at(s, NULL, OSCSIG_OSC4, clock_now(), "ReadVmTypes",
                             "{\"Filters\":{\"VmTypeNames\":[\"tinav5.c2r4p2\"]}}", &out),
                 200);
    const json_t *t = json_array_get(json_object_get(out, "VmTypes"), 0);
    cr_assert_eq(json_array_size(json_object_get(out, "VmTypes")), 1);
    cr_assert_eq(json_integer_value(json_object_get(t, "VcoreCount")), 2);
    cr_assert(fabs(json_number_value(json_object_get(t, "MemorySize")) - 4.0) < 1e-9);
    json_decref(out);
    size_t all = count(s, &SIM_A, "ReadVmTypes", "VmTypes", "{}");
    cr_assert_gt(all, 3);
    cr_assert_gt(count(s, &SIM_A, "ReadVmTypes", "VmTypes", "{\"Filters\":{\"VcoreCounts\":[1]}}"), 0);
    cr_assert_lt(count(s, &SIM_A, "ReadVmTypes", "VmTypes", "{\"Filters\":{\"VcoreCounts\":[1]}}"), all);
    cr_assert_eq(count(s, &SIM_A, "ReadVmTypes", "VmTypes", "{\"Filters\":{\"MemorySizes\":[16]}}"), 2);
    SIM_STATUS(s, &SIM_A, "ReadVmTypes", "{\"Filters\":{\"Cpus\":[1]}}", 400, "3001");
    server_free(s);
}

Test(spec, read_subregions_of_the_callers_region) {
    struct server *s = sim_new(NULL, 0);
    json_t *r = sim_ok(s, &SIM_A_GOUV, "ReadSubregions", "{}");
    const json_t *subs = json_object_get(r, "Subregions");
    cr_assert_eq(json_array_size(subs), 3);
    cr_assert_str_eq(str_at(json_array_get(subs, 0), "SubregionName"), "cloudgouv-eu-west-1a");
    cr_assert_str_eq(str_at(json_array_get(subs, 0), "RegionName"), "cloudgouv-eu-west-1");
    cr_assert_str_eq(str_at(json_array_get(subs, 0), "State"), "available");
    json_decref(r);
    cr_assert_eq(count(s, &SIM_A, "ReadSubregions", "Subregions", "{\"Filters\":{\"SubregionNames\":[\"eu-west-2b\"]}}"), 1);
    json_t *out = NULL;
    cr_assert_eq(sim_call_at(s, NULL, OSCSIG_OSC4, clock_now(), "ReadSubregions", "{}", &out), 401);
    json_decref(out);
    server_free(s);
}

Test(spec, consumption_is_day_granular_without_product_codes) {
    struct server *s = sim_new(NULL, 0);
    /* a fixed, midnight-aligned clock: the VMs run 30 hours across two days */
    mkt_time midnight = clock_now() / (24 * CLOCK_HOUR) * (24 * CLOCK_HOUR) + 24 * CLOCK_HOUR;
    clock_set_offset(midnight + 18 * CLOCK_HOUR - clock_now());
    json_decref(launch(s, &SIM_A, 2, ",\"VmType\":\"tinav5.c1r1p2\""));
    clock_set_offset(midnight + 48 * CLOCK_HOUR - (clock_now() - clock_offset()));
    char day1[32], day3[32], body[256];
    state_format_time(midnight, day1);
    state_format_time(midnight + 48 * CLOCK_HOUR, day3);
    day1[10] = day3[10] = '\0';
    snprintf(body, sizeof body, "{\"FromDate\":\"%s\",\"ToDate\":\"%s\",\"ShowPrice\":true}", day1, day3);
    json_t *r = sim_ok(s, &SIM_A, "ReadConsumptionAccount", body);
    const json_t *entries = json_object_get(r, "ConsumptionEntries");
    cr_assert_eq(json_array_size(entries), 2, "one entry per day and VM type");
    const json_t *first = json_array_get(entries, 0), *second = json_array_get(entries, 1);
    cr_assert(fabs(json_number_value(json_object_get(first, "Value")) - 12.0) < 0.01, "2 VMs x 6 h the first day");
    cr_assert(fabs(json_number_value(json_object_get(second, "Value")) - 48.0) < 0.01, "2 VMs x 24 h the next");
    cr_assert_str_eq(str_at(first, "Type"), "BoxUsage:tinav5.c1r1p2");
    cr_assert(strstr(str_at(first, "FromDate"), "T00:00:00.000Z") != NULL, "%s", str_at(first, "FromDate"));
    cr_assert_null(json_object_get(first, "ProductCode"), "nothing says which product ran: no metering from here");
    cr_assert_null(json_object_get(first, "ProductCodes"));
    cr_assert_gt(json_number_value(json_object_get(first, "Price")), 0);
    cr_assert_str_eq(str_at(r, "Currency"), "EUR");
    json_decref(r);
    /* Overall: one entry for the whole period */
    snprintf(body, sizeof body, "{\"FromDate\":\"%s\",\"ToDate\":\"%s\",\"Overall\":true}", day1, day3);
    cr_assert_eq(count(s, &SIM_A, "ReadConsumptionAccount", "ConsumptionEntries", body), 1);
    /* hours are not a granularity the call knows */
    snprintf(body, sizeof body, "{\"FromDate\":\"%sT18:00:00Z\",\"ToDate\":\"%s\"}", day1, day3);
    SIM_STATUS(s, &SIM_A, "ReadConsumptionAccount", body, 400, "4000");
    snprintf(body, sizeof body, "{\"FromDate\":\"%s\",\"ToDate\":\"%s\"}", day3, day1);
    SIM_STATUS(s, &SIM_A, "ReadConsumptionAccount", body, 400, "4000");
    SIM_STATUS(s, &SIM_A, "ReadConsumptionAccount", "{}", 400, "7000");
    server_free(s);
}

/* ---- fields of the response schemas ---------------------------------------------------------- */

Test(spec, vm_image_and_account_fields) {
    struct server *s = sim_new(NULL, 0);
    json_t *r = launch(s, &SIM_A, 2, ",\"SubnetId\":\"subnet-12345678\"");
    const json_t *vms = json_object_get(r, "Vms");
    const json_t *a = json_array_get(vms, 0), *b = json_array_get(vms, 1);
    cr_assert(json_is_array(json_object_get(a, "Nics")));
    cr_assert(strncmp(str_at(a, "PrivateIp"), "10.", 3) == 0, "%s", str_at(a, "PrivateIp"));
    cr_assert_str_eq(str_at(a, "SubnetId"), "subnet-12345678");
    cr_assert(strncmp(str_at(a, "ReservationId"), "r-", 2) == 0);
    cr_assert_str_eq(str_at(a, "ReservationId"), str_at(b, "ReservationId"), "one reservation per call");
    cr_assert_eq(json_integer_value(json_object_get(b, "LaunchNumber")), 1);
    cr_assert(json_is_array(json_object_get(a, "Tags")));
    json_decref(r);
    /* ReadVms keeps the launch numbers; a VM outside a Net has an empty SubnetId, not none */
    json_decref(launch(s, &SIM_B, 1, NULL));
    r = sim_ok(s, &SIM_A, "ReadVms", "{}");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r, "Vms"), 1), "LaunchNumber")), 1);
    json_decref(r);
    r = sim_ok(s, &SIM_B, "ReadVms", "{}");
    cr_assert_str_eq(str_at(json_array_get(json_object_get(r, "Vms"), 0), "SubnetId"), "");
    json_decref(r);

    char base[32], body[256];
    base_image(s, &SIM_A, base);
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"ImageName\":\"will fail\"}", base);
    r = sim_ok(s, &SIM_A, "CreateImage", body);
    const json_t *im = json_object_get(r, "Image");
    cr_assert_str_eq(str_at(im, "AccountAlias"), "");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(im, "BootModes"), 0)), "legacy");
    cr_assert_eq(json_object_size(json_object_get(im, "StateComment")), 0, "nothing to say while it goes well");
    char copy[32];
    snprintf(copy, sizeof copy, "%s", str_at(im, "ImageId"));
    json_decref(r);
    snprintf(body, sizeof body, "{\"image_id\":\"%s\",\"state\":\"failed\",\"comment\":\"snapshot lost\"}", copy);
    json_t *out = NULL;
    cr_assert_eq(sim_raw(s, "POST", "/_sim/images", "127.0.0.1", body, &out), 200);
    json_decref(out);
    snprintf(body, sizeof body, "{\"Filters\":{\"ImageIds\":[\"%s\"]}}", copy);
    r = sim_ok(s, &SIM_A, "ReadImages", body);
    const json_t *comment = json_object_get(json_array_get(json_object_get(r, "Images"), 0), "StateComment");
    cr_assert_str_eq(str_at(comment, "StateMessage"), "snapshot lost");
    cr_assert_str_neq(str_at(comment, "StateCode"), "");
    json_decref(r);

    r = sim_ok(s, &SIM_A, "ReadAccounts", "{}");
    const json_t *acc = json_array_get(json_object_get(r, "Accounts"), 0);
    static const char *const profile[] = {"City", "CompanyName", "Country", "CustomerId", "FirstName", "JobTitle",
                                          "LastName", "MobileNumber", "PhoneNumber", "StateProvince", "VatNumber",
                                          "ZipCode"};
    for (size_t i = 0; i < sizeof profile / sizeof profile[0]; i++)
        cr_expect(json_is_string(json_object_get(acc, profile[i])), "%s missing", profile[i]);
    cr_assert(json_is_array(json_object_get(acc, "AdditionalEmails")));
    json_decref(r);
    server_free(s);
}

Test(spec, new_fields_survive_a_restart) {
    char dir[] = "/tmp/cloudsim-spec-XXXXXX", path[256], body[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state.json", dir);
    struct server *s = sim_new(path, 0);
    json_t *r = launch(s, &SIM_A, 2, ",\"SubnetId\":\"subnet-1\"");
    char reservation[32];
    snprintf(reservation, sizeof reservation, "%s", str_at(json_array_get(json_object_get(r, "Vms"), 1), "ReservationId"));
    json_decref(r);
    char base[32];
    base_image(s, &SIM_A, base);
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"ImageName\":\"doomed\"}", base);
    r = sim_ok(s, &SIM_A, "CreateImage", body);
    snprintf(body, sizeof body, "{\"image_id\":\"%s\",\"state\":\"failed\"}", str_at(json_object_get(r, "Image"), "ImageId"));
    json_decref(r);
    json_t *out = NULL;
    cr_assert_eq(sim_raw(s, "POST", "/_sim/images", "127.0.0.1", body, &out), 200);
    json_decref(out);
    server_free(s);

    struct server_config cfg = {.addr = "127.0.0.1", .state_path = path};
    struct err e = {0};
    s = NULL;
    cr_assert_eq(server_new(&cfg, &s, &e), ERR_OK, "%s", e.msg);
    r = sim_ok(s, &SIM_A, "ReadVms", "{}");
    const json_t *vm = json_array_get(json_object_get(r, "Vms"), 1);
    cr_assert_str_eq(str_at(vm, "ReservationId"), reservation);
    cr_assert_str_eq(str_at(vm, "SubnetId"), "subnet-1");
    cr_assert_eq(json_integer_value(json_object_get(vm, "LaunchNumber")), 1);
    json_decref(r);
    r = sim_ok(s, &SIM_A, "ReadImages", "{\"Filters\":{\"ImageNames\":[\"doomed\"]}}");
    const json_t *comment = json_object_get(json_array_get(json_object_get(r, "Images"), 0), "StateComment");
    cr_assert_str_neq(str_at(comment, "StateMessage") ? str_at(comment, "StateMessage") : "", "");
    json_decref(r);
    server_free(s);
    unlink(path);
    rmdir(dir);
}

/* ---- conflicts ------------------------------------------------------------------------------- */

Test(spec, conflicts_answer_400_as_the_cloud_when_asked) {
    struct server_config cfg = {.addr = "127.0.0.1", .conflict_status = 400};
    struct server *s = sim_new_cfg(&cfg);
    char base[32], body[256];
    base_image(s, &SIM_A, base);
    snprintf(body, sizeof body, "{\"SourceImageId\":\"%s\",\"ImageName\":\"once\"}", base);
    json_decref(sim_ok(s, &SIM_A, "CreateImage", body));
    SIM_STATUS(s, &SIM_A, "CreateImage", body, 400, "9011");
    json_decref(sim_ok(s, &SIM_A, "CreateUser", "{\"UserName\":\"u\"}"));
    json_t *r = sim_ok(s, &SIM_A, "CreateAccessKey", "{\"UserName\":\"u\"}");
    snprintf(body, sizeof body, "{\"UserName\":\"u\",\"AccessKeyId\":\"%s\"}",
             str_at(json_object_get(r, "AccessKey"), "AccessKeyId"));
    json_decref(r);
    SIM_STATUS(s, &SIM_A, "DeleteAccessKey", body, 400, "6003");
    SIM_STATUS(s, &SIM_A, "DeleteUser", "{\"UserName\":\"u\"}", 400, "9029");
    /* other statuses are untouched */
    SIM_STATUS(s, &SIM_A, "DeleteImage", "{\"ImageId\":\"ami-00000000\"}", 400, "5023");
    SIM_STATUS(s, &SIM_A, "ReadVms", "{\"Nope\":1}", 400, "3001");
    server_free(s);
}
