/* Driving the cloud emulator from integration tests: accounts of a test's own with random ids and
 * keys (a service under test proves control of an account with these keys), a root-key client to
 * inspect or drift its resources, and fault injection. */
#include "cloudsim.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "crypto.h"
#include "harness.h"

static void random_chars(char *out, size_t n, const char *alphabet) {
    size_t k = strlen(alphabet);
    crypto_init();
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)k)];
    out[n] = '\0';
}

struct th_cloudsim_account th_cloudsim_account_new(const char *who, const char *run) {
    struct th_cloudsim_account a;
    random_chars(a.account_id, 12, "0123456789");
    a.account_id[0] = '8'; /* never a seeded account (1...) nor the provider's 999999999999 */
    snprintf(a.email, sizeof a.email, "%s-%s@example.com", who, run);
    random_chars(a.access_key, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    random_chars(a.secret_key, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    char url[200], body[600], *resp = NULL;
    snprintf(url, sizeof url, "%s/_sim/accounts", th_env("MKT_TEST_CLOUD_URL"));
    snprintf(body, sizeof body,
             "{\"account_id\":\"%s\",\"email\":\"%s\",\"access_key\":\"%s\",\"secret_key\":\"%s\","
             "\"regions\":[\"" TH_CLOUDSIM_REGION "\",\"eu-west-2\"]}",
             a.account_id, a.email, a.access_key, a.secret_key);
    int st = th_http("POST", url, body, NULL, &resp);
    cr_assert(st >= 200 && st < 300, "emulator account: %d %s", st, resp ? resp : "");
    free(resp);
    return a;
}

struct cloud *th_cloudsim_client(const struct th_cloudsim_account *a) { return th_cloudsim_client_in(a, TH_CLOUDSIM_REGION); }

struct cloud *th_cloudsim_client_in(const struct th_cloudsim_account *a, const char *region) {
    struct cloud_config cfg = {.endpoint = th_env("MKT_TEST_CLOUD_URL"), .region = region,
                               .access_key = a->access_key, .secret_key = a->secret_key, .max_tries = 3,
                               .backoff_base_ms = 20, .backoff_max_ms = 200};
    struct cloud *c = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_new(&cfg, &c, &e), ERR_OK, "%s", e.msg);
    return c;
}

void th_cloudsim_faults(const char *json_body) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/_sim/faults", th_env("MKT_TEST_CLOUD_URL"));
    int st = json_body ? th_http("POST", url, json_body, NULL, &resp) : th_http("DELETE", url, NULL, NULL, &resp);
    cr_assert(st >= 200 && st < 300, "faults: %d %s", st, resp ? resp : "");
    free(resp);
}
