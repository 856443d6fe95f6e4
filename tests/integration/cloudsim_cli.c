/* The emulator accepts requests signed by the plain curl command line, exactly as an operator
 * would type them against the real API: `curl --aws-sigv4 "osc:osc:<region>:api"` (OSC4) and
 * `"aws:amz:<region>:oapi"` (AWS4), and refuses a wrong secret key. Addressed by host name
 * (api.<region>.localhost, or the cloud's own name through --resolve) it signs as OUTSCALE's
 * tools do: `--aws-sigv4 osc` takes the Region and the service from the host, and a host in a
 * Region the account lacks is refused. `platform.sh cloud-env` (what `make up` prints) gives a
 * working environment. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Runs a shell command; returns what it printed (malloc'd). */
static char *run(const char *cmd) {
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run %s", cmd);
    char *out = calloc(1, 65536);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

/* Runs curl with the given provider and secret against `base` (NULL = the harness's URL);
 * `extra` adds options. Returns what it printed (malloc'd). */
static char *curl_at(const char *base, const char *extra, const char *provider, const char *access_key,
                     const char *secret_key, const char *op, const char *body) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "curl -s %s --aws-sigv4 '%s' --user '%s:%s' -H 'Content-Type: application/json' -d '%s' '%s/api/v1/%s'",
             extra ? extra : "", provider, access_key, secret_key, body, base ? base : th_env("MKT_TEST_CLOUD_URL"),
             op);
    return run(cmd);
}

static char *curl_cli(const char *provider, const char *access_key, const char *secret_key, const char *op,
                      const char *body) {
    return curl_at(NULL, NULL, provider, access_key, secret_key, op, body);
}

/* The emulator's port, from MKT_TEST_CLOUD_URL. */
static int cloud_port(void) {
    const char *url = th_env("MKT_TEST_CLOUD_URL");
    return atoi(strrchr(url, ':') + 1);
}

struct demo {
    json_t *seed;
    const char *id, *ak, *sk;
};

/* The seed's buyer (cloudgouv-eu-west-1 and eu-west-2, not us-east-2). */
static struct demo buyer(void) {
    struct demo d = {.seed = json_load_file(th_env("MKT_TEST_CLOUD_SEED"), 0, NULL)};
    cr_assert(d.seed);
    json_t *acc = json_array_get(json_object_get(d.seed, "accounts"), 2);
    d.id = json_string_value(json_object_get(acc, "account_id"));
    d.ak = json_string_value(json_object_get(acc, "access_key"));
    d.sk = json_string_value(json_object_get(acc, "secret_key"));
    return d;
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

Test(cloudsim_cli, host_named_endpoints_sign_as_the_official_tools) {
    struct demo d = buyer();
    char base[128], gouv[128];
    snprintf(base, sizeof base, "http://api.eu-west-2.localhost:%d", cloud_port());
    snprintf(gouv, sizeof gouv, "http://api.cloudgouv-eu-west-1.localhost:%d", cloud_port());
    /* `osc` alone: Region and service from the host name, as oapi-cli and osc-sdk-c sign */
    static const char *const providers[] = {"osc", "aws:amz", "osc:api:eu-west-2:api", "osc:oapi:eu-west-2:oapi",
                                            "aws:amz:eu-west-2:oapi", "osc:osc:eu-west-2:api"};
    for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
        char *out = curl_at(base, NULL, providers[i], d.ak, d.sk, "ReadAccounts", "{}");
        cr_expect(strstr(out, d.id), "%s on %s: %s", providers[i], base, out);
        free(out);
    }
    char *out = curl_at(gouv, NULL, "osc", d.ak, d.sk, "ReadVms", "{}");
    cr_expect(strstr(out, "\"Vms\""), "cloudgouv-eu-west-1 from the host: %s", out);
    free(out);
    /* the cloud's own host name, pointed at the emulator with --resolve */
    char resolve[128], cloud[128];
    snprintf(resolve, sizeof resolve, "--resolve api.eu-west-2.outscale.com:%d:127.0.0.1", cloud_port());
    snprintf(cloud, sizeof cloud, "http://api.eu-west-2.outscale.com:%d", cloud_port());
    out = curl_at(cloud, resolve, "osc", d.ak, d.sk, "ReadAccounts", "{}");
    cr_expect(strstr(out, d.id), "api.eu-west-2.outscale.com via --resolve: %s", out);
    free(out);
    json_decref(d.seed);
}

Test(cloudsim_cli, wrong_region_in_the_host_is_refused) {
    struct demo d = buyer();
    char east[128], base[128];
    snprintf(east, sizeof east, "http://api.us-east-2.localhost:%d", cloud_port());
    snprintf(base, sizeof base, "http://api.eu-west-2.localhost:%d", cloud_port());
    char *out = curl_at(east, NULL, "osc", d.ak, d.sk, "ReadVms", "{}");
    cr_expect(strstr(out, "\"AccessDenied\"") && strstr(out, "us-east-2"), "a Region the buyer lacks: %s", out);
    free(out);
    out = curl_at(base, NULL, "osc:osc:cloudgouv-eu-west-1:api", d.ak, d.sk, "ReadVms", "{}");
    cr_expect(strstr(out, "\"AccessDenied\""), "scope and host disagree: %s", out);
    free(out);
    out = curl_at(base, NULL, "osc", d.ak, "0000000000000000000000000000000000000000", "ReadVms", "{}");
    cr_expect(strstr(out, "\"AccessDenied\""), "wrong secret: %s", out);
    free(out);
    json_decref(d.seed);
}

Test(cloudsim_cli, make_up_prints_a_working_environment_per_account) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "MKT_LOCAL_CLOUD_PORT=%d bash '%s/deploy/local/platform.sh' cloud-env", cloud_port(),
             th_env("MKT_TEST_ROOT"));
    char *listing = run(cmd);
    json_t *seed = json_load_file(th_env("MKT_TEST_CLOUD_SEED"), 0, NULL);
    cr_assert(seed);
    size_t i;
    json_t *acc;
    json_array_foreach(json_object_get(seed, "accounts"), i, acc) {
        const char *id = json_string_value(json_object_get(acc, "account_id"));
        const char *ak = json_string_value(json_object_get(acc, "access_key"));
        /* the export line of this account, pasted into a shell, then the documented curl */
        char needle[64];
        snprintf(needle, sizeof needle, "OSC_ACCESS_KEY=%s ", ak);
        char *hit = strstr(listing, needle);
        cr_assert(hit, "no environment for %s in:\n%s", id, listing);
        char *start = hit;
        while (start > listing && start[-1] != '\n')
            start--;
        char *end = strchr(hit, '\n');
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
        cr_assert(strstr(line, "export OSC_ENDPOINT_API=http://api.") && strstr(line, ".localhost:"), "%s", line);
        snprintf(cmd, sizeof cmd,
                 "%s; curl -s --aws-sigv4 osc --user \"$OSC_ACCESS_KEY:$OSC_SECRET_KEY\" "
                 "-H 'Content-Type: application/json' -d '{}' \"$OSC_ENDPOINT_API/api/v1/ReadAccounts\"",
                 line);
        char *out = run(cmd);
        cr_expect(strstr(out, id), "%s: %s", line, out);
        free(out);
    }
    json_decref(seed);
    free(listing);
}
