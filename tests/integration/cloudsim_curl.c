/* Black-box tests of the cloud emulator binary (tools/cloudsim) with plain libcurl, signing with
 * CURLOPT_AWS_SIGV4 exactly as a client of the real OUTSCALE API does ("osc:osc:<region>:api",
 * and the AWS4 form "aws:amz:<region>:oapi"). Each test starts its own emulator on a free port
 * with its own seed and state file, and stops it with SIGTERM, which must exit 0. Stale dates and
 * other signature details curl cannot produce are covered by the unit tests. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define SELLER_ID "200000000001"
#define SELLER_AK "ITSELLER000000000001"
#define SELLER_SK "ITSELLERSECRET00000000000000000000000001"
#define BUYER_ID "200000000002"
#define BUYER_AK "ITBUYER0000000000002"
#define BUYER_SK "ITBUYERSECRET000000000000000000000000002"
#define REGION "eu-west-2"

struct sim {
    struct th_proc proc;
    char url[64];
    char dir[512];
    char state[600];
};

static void write_seed(const char *path) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fprintf(f, "{\"accounts\":["
               "{\"account_id\":\"" SELLER_ID "\",\"email\":\"seller@example.com\",\"access_key\":\"" SELLER_AK
               "\",\"secret_key\":\"" SELLER_SK "\",\"regions\":[\"cloudgouv-eu-west-1\",\"" REGION "\"]},"
               "{\"account_id\":\"" BUYER_ID "\",\"email\":\"buyer@example.com\",\"access_key\":\"" BUYER_AK
               "\",\"secret_key\":\"" BUYER_SK "\",\"regions\":[\"" REGION "\"]}]}\n");
    fclose(f);
}

static bool healthy(void *arg) {
    const struct sim *s = arg;
    char url[128];
    snprintf(url, sizeof url, "%s/_sim/healthz", s->url);
    return th_http("GET", url, NULL, NULL, NULL) == 200;
}

/* Starts an emulator; `dir` empty = a fresh folder, else restart on that folder's state; `extra`
 * (NULL-terminated, may be NULL) adds options. */
static void sim_start_with(struct sim *s, const char *dir, const char *const *extra) {
    char port[16], seed[600];
    int p = th_free_port();
    snprintf(port, sizeof port, "127.0.0.1:%d", p);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", p);
    if (!dir) {
        char unique[64];
        th_unique("cloudsim_", unique, sizeof unique);
        snprintf(s->dir, sizeof s->dir, "%s/%s", th_env("MKT_TEST_TMP"), unique);
        cr_assert_eq(mkdir(s->dir, 0755), 0, "%s", s->dir);
    }
    snprintf(seed, sizeof seed, "%s/seed.json", s->dir);
    snprintf(s->state, sizeof s->state, "%s/state.json", s->dir);
    write_seed(seed);
    const char *argv[16] = {"--listen", port, "--seed", seed, "--state", s->state, "--copy-delay-ms", "200"};
    for (size_t i = 0, n = 8; extra && extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    s->proc = th_spawn("cloudsim", argv, NULL);
    if (!th_eventually(healthy, s, 10000)) {
        th_dump_log(&s->proc);
        cr_assert_fail("cloudsim did not answer on %s", s->url);
    }
}

static void sim_start(struct sim *s, const char *dir) { sim_start_with(s, dir, NULL); }

static void sim_stop(struct sim *s) { cr_assert_eq(th_stop(&s->proc, SIGTERM, 10000), 0, "SIGTERM must exit 0"); }

/* One signed call through libcurl. `sigv4` is the CURLOPT_AWS_SIGV4 string (NULL = unsigned),
 * path the full path ("/api/v1/ReadVms"). Returns the status; *out (may be NULL) gets the JSON. */
static long curl_call(const struct sim *s, const char *sigv4, const char *ak, const char *sk, const char *method,
                      const char *path, const char *body, json_t **out) {
    CURL *c = curl_easy_init();
    cr_assert_not_null(c);
    char url[256];
    snprintf(url, sizeof url, "%s%s", s->url, path);
    struct th_body b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (sigv4) {
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(c, CURLOPT_USERNAME, ak);
        curl_easy_setopt(c, CURLOPT_PASSWORD, sk);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, th_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "%s: %s", path, curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    json_t *j = b.data ? json_loads(b.data, 0, NULL) : NULL;
    cr_assert_not_null(j, "%s: the answer is not JSON: %s", path, b.data ? b.data : "(empty)");
    cr_assert(json_is_string(json_object_get(json_object_get(j, "ResponseContext"), "RequestId")),
              "%s: no ResponseContext.RequestId in %s", path, b.data);
    if (out)
        *out = j;
    else
        json_decref(j);
    free(b.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* OSC4 POST /api/v1/<op> as the seller or the buyer. */
static long osc(const struct sim *s, const char *ak, const char *sk, const char *op, const char *body, json_t **out) {
    char path[128];
    snprintf(path, sizeof path, "/api/v1/%s", op);
    return curl_call(s, "osc:osc:" REGION ":api", ak, sk, "POST", path, body, out);
}

static const char *code_of(const json_t *j) {
    return json_string_value(json_object_get(json_array_get(json_object_get(j, "Errors"), 0), "Code"));
}

static const char *str_at(const json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* The same emulator addressed as the official tools address the cloud: api.<region>.localhost,
 * signed with CURLOPT_AWS_SIGV4 "osc" (Region and service from the host name). */
static struct sim named(const struct sim *s, const char *region) {
    struct sim n = *s;
    snprintf(n.url, sizeof n.url, "http://api.%s.localhost:%s", region, strrchr(s->url, ':') + 1);
    return n;
}

static long tool(const struct sim *s, const char *op, const char *body, json_t **out) {
    char path[128];
    snprintf(path, sizeof path, "/api/v1/%s", op);
    return curl_call(s, "osc", SELLER_AK, SELLER_SK, "POST", path, body, out);
}

/* ---- tests ---------------------------------------------------------------------------------- */

Test(cloudsim_curl, osc4_and_aws4_signatures_are_accepted) {
    struct sim s;
    sim_start(&s, NULL);
    json_t *j = NULL;
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadAccounts", "{}", &j), 200);
    cr_assert_str_eq(str_at(json_array_get(json_object_get(j, "Accounts"), 0), "AccountId"), SELLER_ID);
    json_decref(j);
    cr_assert_eq(curl_call(&s, "aws:amz:" REGION ":oapi", BUYER_AK, BUYER_SK, "POST", "/api/latest/ReadAccounts",
                           "{}", &j),
                 200);
    cr_assert_str_eq(str_at(json_array_get(json_object_get(j, "Accounts"), 0), "AccountId"), BUYER_ID);
    json_decref(j);
    /* a Region the account does not have */
    cr_assert_eq(curl_call(&s, "osc:osc:cloudgouv-eu-west-1:api", BUYER_AK, BUYER_SK, "POST", "/api/v1/ReadVms",
                           "{}", &j),
                 401);
    json_decref(j);
    /* no signature needed for the product types and Regions; needed elsewhere */
    cr_assert_eq(curl_call(&s, NULL, NULL, NULL, "POST", "/api/v1/ReadProductTypes", "{}", NULL), 200);
    cr_assert_eq(curl_call(&s, NULL, NULL, NULL, "POST", "/api/v1/ReadRegions", "{}", NULL), 200);
    cr_assert_eq(curl_call(&s, NULL, NULL, NULL, "POST", "/api/v1/ReadVms", "{}", &j), 401);
    cr_assert_str_eq(code_of(j), "1");
    json_decref(j);
    sim_stop(&s);
}

Test(cloudsim_curl, bad_secrets_are_refused_then_the_key_locks) {
    struct sim s;
    sim_start(&s, NULL);
    json_t *j = NULL;
    const char *wrong = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
    cr_assert_eq(osc(&s, SELLER_AK, wrong, "ReadVms", "{}", &j), 401);
    const json_t *e0 = json_array_get(json_object_get(j, "Errors"), 0);
    cr_assert_str_eq(str_at(e0, "Code"), "1");
    cr_assert_str_eq(str_at(e0, "Type"), "AccessDenied");
    json_decref(j);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(osc(&s, SELLER_AK, wrong, "ReadVms", "{}", NULL), 401);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadVms", "{}", &j), 401, "locked after four bad signatures");
    cr_assert_str_eq(code_of(j), "13");
    json_decref(j);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "ReadVms", "{}", NULL), 200, "only that key is locked");
    sim_stop(&s);
}

Test(cloudsim_curl, routing_and_validation_errors) {
    struct sim s;
    sim_start(&s, NULL);
    json_t *j = NULL;
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadNothing", "{}", &j), 404);
    cr_assert_not_null(code_of(j));
    json_decref(j);
    cr_assert_eq(curl_call(&s, NULL, NULL, NULL, "GET", "/api/v1/ReadProductTypes", NULL, NULL), 405);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadVms", "{\"Unknown\":true}", &j), 400);
    cr_assert_str_eq(code_of(j), "3001");
    json_decref(j);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "DeleteImage", "{}", &j), 400);
    cr_assert_str_eq(code_of(j), "7000");
    json_decref(j);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "DeleteImage", "{\"ImageId\":\"ami-00000000\"}", &j), 400);
    cr_assert_str_eq(code_of(j), "5023");
    json_decref(j);
    sim_stop(&s);
}

static bool copy_available(void *arg) {
    void **a = arg;
    const struct sim *s = a[0];
    const char *image = a[1];
    char body[128];
    snprintf(body, sizeof body, "{\"Filters\":{\"ImageIds\":[\"%s\"],\"States\":[\"available\"]}}", image);
    json_t *j = NULL;
    bool ok = osc(s, SELLER_AK, SELLER_SK, "ReadImages", body, &j) == 200 &&
              json_array_size(json_object_get(j, "Images")) == 1;
    json_decref(j);
    return ok;
}

Test(cloudsim_curl, copy_share_launch_and_restart) {
    struct sim s;
    sim_start(&s, NULL);
    json_t *j = NULL;
    char body[512], base[32], pty[32], copy[32];
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadImages",
                     "{\"Filters\":{\"AccountIds\":[\"999999999999\"],\"ImageNames\":[\"Ubuntu*\"]}}", &j),
                 200);
    snprintf(base, sizeof base, "%s", str_at(json_array_get(json_object_get(j, "Images"), 0), "ImageId"));
    json_decref(j);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "CreateProductType", "{\"Description\":\"it\"}", &j), 200);
    snprintf(pty, sizeof pty, "%s", str_at(json_object_get(j, "ProductType"), "ProductTypeId"));
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"SourceImageId\":\"%s\",\"SourceRegionName\":\"" REGION "\",\"ImageName\":\"it-copy\","
             "\"ProductCodes\":[\"%s\"]}",
             base, pty);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "CreateImage", body, &j), 200);
    cr_assert_str_eq(str_at(json_object_get(j, "Image"), "State"), "pending");
    snprintf(copy, sizeof copy, "%s", str_at(json_object_get(j, "Image"), "ImageId"));
    json_decref(j);
    void *arg[] = {&s, copy};
    cr_assert(th_eventually(copy_available, arg, 5000), "the copy becomes available");

    /* private until shared with the buyer */
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\"}", copy);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "CreateVms", body, &j), 400);
    cr_assert_str_eq(code_of(j), "5023");
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"ImageId\":\"%s\",\"PermissionsToLaunch\":{\"Additions\":{\"AccountIds\":[\"" BUYER_ID "\"]}}}", copy);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "UpdateImage", body, NULL), 200);
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\"}", copy);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "CreateVms", body, &j), 200);
    const json_t *codes = json_object_get(json_array_get(json_object_get(j, "Vms"), 0), "ProductCodes");
    bool has = false;
    for (size_t i = 0; i < json_array_size(codes); i++)
        has = has || strcmp(json_string_value(json_array_get(codes, i)), pty) == 0;
    cr_assert(has, "the VM carries the copy's product code");
    json_decref(j);

    /* stop, restart on the same state: everything is still there */
    sim_stop(&s);
    sim_start(&s, s.dir);
    snprintf(body, sizeof body, "{\"Filters\":{\"ProductCodes\":[\"%s\"],\"VmStateNames\":[\"running\"]}}", pty);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "ReadVms", body, &j), 200);
    cr_assert_eq(json_array_size(json_object_get(j, "Vms")), 1);
    json_decref(j);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadVms", body, &j), 200);
    cr_assert_eq(json_array_size(json_object_get(j, "Vms")), 0, "the seller never sees the buyer's VMs");
    json_decref(j);
    sim_stop(&s);
}

Test(cloudsim_curl, eim_key_limited_to_read_vms) {
    struct sim s;
    sim_start(&s, NULL);
    json_t *j = NULL;
    char body[512], orn[256], ak[32], sk[64];
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "CreateUser", "{\"UserName\":\"marketplace_meter\"}", NULL), 200);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "CreateUserGroup", "{\"UserGroupName\":\"meter\"}", NULL), 200);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "AddUserToUserGroup",
                     "{\"UserGroupName\":\"meter\",\"UserName\":\"marketplace_meter\"}", NULL),
                 200);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "CreatePolicy",
                     "{\"PolicyName\":\"read-vms\",\"Document\":\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
                     "\\\"Action\\\":[\\\"api:ReadVms\\\"],\\\"Resource\\\":[\\\"*\\\"]}]}\"}",
                     &j),
                 200);
    snprintf(orn, sizeof orn, "%s", str_at(json_object_get(j, "Policy"), "Orn"));
    json_decref(j);
    snprintf(body, sizeof body, "{\"PolicyOrn\":\"%s\",\"UserGroupName\":\"meter\"}", orn);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "LinkManagedPolicyToUserGroup", body, NULL), 200);
    cr_assert_eq(osc(&s, BUYER_AK, BUYER_SK, "CreateAccessKey", "{\"UserName\":\"marketplace_meter\"}", &j), 200);
    snprintf(ak, sizeof ak, "%s", str_at(json_object_get(j, "AccessKey"), "AccessKeyId"));
    snprintf(sk, sizeof sk, "%s", str_at(json_object_get(j, "AccessKey"), "SecretKey"));
    json_decref(j);
    cr_assert_eq(osc(&s, ak, sk, "ReadVms", "{}", NULL), 200);
    cr_assert_eq(osc(&s, ak, sk, "ReadImages", "{}", &j), 401);
    cr_assert_str_eq(code_of(j), "5");
    json_decref(j);
    sim_stop(&s);
}

Test(cloudsim_curl, injected_faults_and_clock) {
    struct sim s;
    sim_start(&s, NULL);
    json_t *j = NULL;
    char url[128];
    snprintf(url, sizeof url, "%s/_sim/faults", s.url);
    cr_assert_eq(th_http("POST", url, "{\"operations\":[\"ReadVms\"],\"status\":429,\"count\":1}", NULL, NULL), 200);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadVms", "{}", &j), 429);
    cr_assert_str_eq(code_of(j), "24");
    json_decref(j);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadVms", "{}", NULL), 200, "count 1: only once");
    cr_assert_eq(th_http("POST", url, "{\"operations\":[\"*\"],\"status\":500}", NULL, NULL), 200);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadAccounts", "{}", NULL), 500);
    cr_assert_eq(th_http("DELETE", url, NULL, NULL, NULL), 200);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadAccounts", "{}", NULL), 200);
    /* shifting the emulator's clock an hour makes curl's real-time signatures stale */
    snprintf(url, sizeof url, "%s/_sim/clock", s.url);
    cr_assert_eq(th_http("POST", url, "{\"advance_s\":3600}", NULL, NULL), 200);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadAccounts", "{}", NULL), 401);
    cr_assert_eq(th_http("POST", url, "{\"offset_s\":0}", NULL, NULL), 200);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "ReadAccounts", "{}", NULL), 200);
    sim_stop(&s);
}

struct slow_call {
    const struct sim *s;
    long status;
};

static void *slow_read(void *arg) {
    struct slow_call *c = arg;
    c->status = osc(c->s, SELLER_AK, SELLER_SK, "ReadVms", "{}", NULL);
    return NULL;
}

Test(cloudsim_curl, sigterm_drains_in_flight_calls) {
    struct sim s;
    sim_start(&s, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/_sim/faults", s.url);
    cr_assert_eq(th_http("POST", url, "{\"operations\":[\"ReadVms\"],\"latency_ms\":1000}", NULL, NULL), 200);
    struct slow_call call = {.s = &s};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, slow_read, &call), 0);
    th_sleep_ms(300); /* the call is now in flight, sleeping in the emulator */
    sim_stop(&s);
    pthread_join(t, NULL);
    cr_assert_eq(call.status, 200, "the call in flight at SIGTERM is answered");
}

Test(cloudsim_curl, host_named_endpoint_and_what_the_specification_allows) {
    struct sim s0;
    sim_start(&s0, NULL);
    struct sim s = named(&s0, REGION);
    json_t *j = NULL;
    char body[512];
    /* ReadVmTypes (no signature needed, signed works too) and ReadSubregions */
    cr_assert_eq(tool(&s, "ReadVmTypes", "{\"Filters\":{\"VmTypeNames\":[\"tinav5.c2r4p2\"]}}", &j), 200);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "VmTypes"), 0), "VcoreCount")), 2);
    json_decref(j);
    cr_assert_eq(tool(&s, "ReadSubregions", "{}", &j), 200);
    cr_assert_str_eq(str_at(json_array_get(json_object_get(j, "Subregions"), 0), "SubregionName"), REGION "a");
    json_decref(j);
    /* a VM, then an OMI from it without a name */
    cr_assert_eq(tool(&s, "ReadImages", "{\"Filters\":{\"ImageNames\":[\"Debian*\"],\"ProductCodeNames\":[\"Linux\"],"
                                        "\"Architectures\":[\"x86_64\"],\"RootDeviceTypes\":[\"bsu\"]}}",
                      &j),
                 200);
    char base[32];
    snprintf(base, sizeof base, "%s", str_at(json_array_get(json_object_get(j, "Images"), 0), "ImageId"));
    json_decref(j);
    snprintf(body, sizeof body, "{\"ImageId\":\"%s\",\"VmType\":\"tinav5.c2r4p2\"}", base);
    cr_assert_eq(tool(&s, "CreateVms", body, &j), 200);
    const json_t *vm = json_array_get(json_object_get(j, "Vms"), 0);
    char vm_id[32];
    snprintf(vm_id, sizeof vm_id, "%s", str_at(vm, "VmId"));
    cr_assert(json_is_array(json_object_get(vm, "Nics")) && str_at(vm, "PrivateIp") && str_at(vm, "ReservationId"));
    json_decref(j);
    snprintf(body, sizeof body, "{\"VmId\":\"%s\",\"NoReboot\":true}", vm_id);
    cr_assert_eq(tool(&s, "CreateImage", body, &j), 200);
    const json_t *im = json_object_get(j, "Image");
    cr_assert_str_eq(str_at(im, "ImageName"), str_at(im, "ImageId"));
    cr_assert(json_is_array(json_object_get(im, "BootModes")) && str_at(im, "AccountAlias"));
    json_decref(j);
    cr_assert_eq(tool(&s, "ReadVms", "{\"Filters\":{\"VmStateCodes\":[16],\"SubregionNames\":[\"" REGION "a\"],"
                                     "\"VmTypes\":[\"tinav5.c2r4p2\"]}}",
                      &j),
                 200);
    cr_assert_eq(json_array_size(json_object_get(j, "Vms")), 1);
    json_decref(j);
    /* UpdateAccessKey with AccessKeyId only */
    cr_assert_eq(tool(&s, "UpdateAccessKey", "{\"AccessKeyId\":\"" SELLER_AK "\"}", &j), 200);
    cr_assert_str_eq(str_at(json_object_get(j, "AccessKey"), "State"), "ACTIVE");
    json_decref(j);
    /* consumption: whole days only */
    cr_assert_eq(tool(&s, "ReadConsumptionAccount", "{\"FromDate\":\"2026-01-01\",\"ToDate\":\"2026-01-02\"}", &j),
                 200);
    cr_assert(json_is_array(json_object_get(j, "ConsumptionEntries")));
    json_decref(j);
    cr_assert_eq(tool(&s, "ReadConsumptionAccount",
                      "{\"FromDate\":\"2026-01-01T10:00:00Z\",\"ToDate\":\"2026-01-02\"}", &j),
                 400);
    cr_assert_str_eq(code_of(j), "4000");
    json_decref(j);
    /* unknown keys are still refused; another Region's host is another Region */
    cr_assert_eq(tool(&s, "ReadVms", "{\"Filters\":{\"Bogus\":[]}}", &j), 400);
    cr_assert_str_eq(code_of(j), "3001");
    json_decref(j);
    struct sim gouv = named(&s0, "cloudgouv-eu-west-1");
    cr_assert_eq(tool(&gouv, "ReadVms", "{}", &j), 200);
    cr_assert_eq(json_array_size(json_object_get(j, "Vms")), 0, "the VM is in " REGION);
    json_decref(j);
    struct sim east = named(&s0, "us-east-2");
    cr_assert_eq(tool(&east, "ReadVms", "{}", &j), 401, "the seller has no us-east-2 here");
    json_decref(j);
    sim_stop(&s0);
}

Test(cloudsim_curl, conflict_status_400_as_the_cloud) {
    struct sim s;
    const char *const extra[] = {"--conflict-status", "400", NULL};
    sim_start_with(&s, NULL, extra);
    json_t *j = NULL;
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "CreateUser", "{\"UserName\":\"twice\"}", NULL), 200);
    cr_assert_eq(osc(&s, SELLER_AK, SELLER_SK, "CreateUser", "{\"UserName\":\"twice\"}", &j), 400);
    cr_assert_str_eq(code_of(j), "9011");
    json_decref(j);
    sim_stop(&s);
}
