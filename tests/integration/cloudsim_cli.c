/* The emulator accepts requests signed by the plain curl command line, exactly as an operator
 * would type them against the real API: `curl --aws-sigv4 "osc:osc:<region>:api"` (OSC4) and
 * `"aws:amz:<region>:oapi"` (AWS4), and refuses a wrong secret key. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Runs curl with the given provider and secret; returns what it printed (malloc'd). */
static char *curl_cli(const char *provider, const char *access_key, const char *secret_key, const char *op,
                      const char *body) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "curl -s --aws-sigv4 '%s' --user '%s:%s' -H 'Content-Type: application/json' -d '%s' '%s/api/v1/%s'",
             provider, access_key, secret_key, body, th_env("MKT_TEST_CLOUD_URL"), op);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run curl");
    char *out = calloc(1, 65536);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

Test(cloudsim_cli, curl_command_line_signatures) {
    json_t *seed = json_load_file(th_env("MKT_TEST_CLOUD_SEED"), 0, NULL);
    cr_assert(seed);
    json_t *acc = json_array_get(json_object_get(seed, "accounts"), 2);
    const char *id = json_string_value(json_object_get(acc, "account_id"));
    const char *ak = json_string_value(json_object_get(acc, "access_key"));
    const char *sk = json_string_value(json_object_get(acc, "secret_key"));

    char *out = curl_cli("osc:osc:eu-west-2:api", ak, sk, "ReadAccounts", "{}");
    cr_expect(strstr(out, id), "OSC4 ReadAccounts: %s", out);
    free(out);
    out = curl_cli("aws:amz:eu-west-2:oapi", ak, sk, "ReadImages", "{\"Filters\":{\"States\":[\"available\"]}}");
    cr_expect(strstr(out, "\"Images\""), "AWS4 ReadImages: %s", out);
    free(out);
    out = curl_cli("osc:osc:eu-west-2:api", ak, "0000000000000000000000000000000000000000", "ReadAccounts", "{}");
    cr_expect(strstr(out, "\"AccessDenied\""), "wrong secret accepted: %s", out);
    free(out);
    json_decref(seed);
}
