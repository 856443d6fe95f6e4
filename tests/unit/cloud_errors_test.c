/* Unit tests for the cloud client's pure decisions: parsing the OUTSCALE error envelope, mapping
 * statuses and cloud codes to our error codes, and the retry decision (the delays are
 * lib/backoff.h's, tested in backoff_test.c). All table-driven: each row is one rule of
 * docs/cloud-client.md. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <string.h>

#include "cloud_internal.h"

Test(cloud_errors, parse_envelope) {
    static const char body[] =
        "{\"Errors\":[{\"Code\":\"5023\",\"Type\":\"InvalidResource\",\"Details\":\"image ami-1 not found\"},"
        "{\"Code\":\"1\",\"Type\":\"Other\",\"Details\":\"\"}],"
        "\"ResponseContext\":{\"RequestId\":\"1f3e0d2c-aaaa-bbbb-cccc-000000000000\"}}";
    struct cloud__envelope env;
    cloud__parse_envelope(body, strlen(body), &env);
    cr_assert_eq(env.n_errors, 2);
    cr_assert_str_eq(env.type, "InvalidResource");
    cr_assert_str_eq(env.code, "5023");
    cr_assert_str_eq(env.details, "image ami-1 not found");
    cr_assert_str_eq(env.request_id, "1f3e0d2c-aaaa-bbbb-cccc-000000000000");
}

Test(cloud_errors, parse_envelope_tolerates_odd_bodies) {
    static const char *const bodies[] = {
        "", "not json", "[]", "{}", "{\"Errors\":[]}", "{\"Errors\":\"x\"}", "<html>502 Bad Gateway</html>",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct cloud__envelope env;
        cloud__parse_envelope(bodies[i], strlen(bodies[i]), &env);
        cr_expect_eq(env.n_errors, 0, "%s", bodies[i]);
        cr_expect_str_empty(env.type);
        cr_expect_str_empty(env.code);
    }
    struct cloud__envelope env;
    cloud__parse_envelope(NULL, 0, &env);
    cr_expect_eq(env.n_errors, 0);
    /* A numeric Code (not what the API sends) is still understood. */
    static const char num[] = "{\"Errors\":[{\"Code\":5023,\"Type\":\"InvalidResource\"}]}";
    cloud__parse_envelope(num, strlen(num), &env);
    cr_expect_str_eq(env.code, "5023");
    cr_expect_str_empty(env.details);
    cr_expect_str_empty(env.request_id);
}

Test(cloud_errors, mapping_table) {
    static const struct {
        long status;
        const char *type, *code;
        err_code want;
    } rows[] = {
        {400, "InvalidResource", "5023", ERR_NOT_FOUND},
        {400, "InvalidResource", "5063", ERR_NOT_FOUND},
        {400, "InvalidResource", "5999", ERR_NOT_FOUND},
        {400, "InvalidResource", "4000", ERR_INVALID},
        {400, "InvalidResource", "", ERR_INVALID},
        {400, "InvalidParameterValue", "5023", ERR_INVALID},
        {400, "MissingParameter", "7000", ERR_INVALID},
        {400, "", "", ERR_INVALID},
        {401, "AccessDenied", "1", ERR_UNAUTHENTICATED},
        {401, "AccessDenied", "13", ERR_UNAUTHENTICATED},
        {401, "AccessDenied", "5", ERR_FORBIDDEN},
        {401, "", "", ERR_UNAUTHENTICATED},
        {403, "", "", ERR_FORBIDDEN},
        {404, "InvalidAction", "4118", ERR_UNSUPPORTED},
        {405, "AccessDenied", "2", ERR_INVALID},
        {409, "ResourceConflict", "9011", ERR_CONFLICT},
        {409, "InvalidState", "6003", ERR_CONFLICT},
        {400, "ResourceConflict", "9011", ERR_CONFLICT}, /* how the cloud answers conflicts */
        {400, "InvalidState", "6003", ERR_CONFLICT},
        {413, "", "", ERR_INVALID},
        {429, "AccessDenied", "24", ERR_THROTTLED},
        {429, "", "", ERR_THROTTLED},
        {500, "InternalError", "2000", ERR_UNAVAILABLE},
        {502, "", "", ERR_UNAVAILABLE},
        {503, "ServiceUnavailable", "2001", ERR_UNAVAILABLE},
        {504, "", "", ERR_UNAVAILABLE},
        {302, "", "", ERR_INTERNAL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(cloud__map_status(rows[i].status, rows[i].type, rows[i].code), rows[i].want,
                     "row %zu: %ld %s %s -> %s", i, rows[i].status, rows[i].type, rows[i].code,
                     err_code_name(cloud__map_status(rows[i].status, rows[i].type, rows[i].code)));
}

Test(cloud_errors, http_error_message_keeps_the_cloud_details) {
    static const char body[] =
        "{\"Errors\":[{\"Code\":\"5023\",\"Type\":\"InvalidResource\",\"Details\":\"The image does not exist\"}],"
        "\"ResponseContext\":{\"RequestId\":\"1f3e0d2c-1111-2222-3333-444455556666\"}}";
    struct err e = {0};
    cr_assert_eq(cloud__http_error("ReadImages", 400, body, strlen(body), &e), ERR_NOT_FOUND);
    cr_assert_eq(e.code, ERR_NOT_FOUND);
    cr_assert_str_eq(e.msg, "ReadImages: InvalidResource 5023 (The image does not exist) request "
                            "1f3e0d2c-1111-2222-3333-444455556666");

    static const char no_details[] = "{\"Errors\":[{\"Code\":\"24\",\"Type\":\"AccessDenied\",\"Details\":\"\"}]}";
    cr_assert_eq(cloud__http_error("ReadVms", 429, no_details, strlen(no_details), &e), ERR_THROTTLED);
    cr_assert_str_eq(e.msg, "ReadVms: AccessDenied 24");

    static const char html[] = "<html>bad gateway</html>";
    cr_assert_eq(cloud__http_error("ReadVms", 502, html, strlen(html), &e), ERR_UNAVAILABLE);
    cr_assert_str_eq(e.msg, "ReadVms: HTTP 502");
}

Test(cloud_errors, long_details_are_truncated_not_overflowed) {
    char body[4096];
    char details[2000];
    memset(details, 'x', sizeof details - 1);
    details[sizeof details - 1] = '\0';
    snprintf(body, sizeof body,
             "{\"Errors\":[{\"Code\":\"4000\",\"Type\":\"InvalidParameterValue\",\"Details\":\"%s\"}],"
             "\"ResponseContext\":{\"RequestId\":\"rid\"}}",
             details);
    struct err e = {0};
    cr_assert_eq(cloud__http_error("CreateImage", 400, body, strlen(body), &e), ERR_INVALID);
    cr_assert(strlen(e.msg) < ERR_MSG_MAX);
    cr_assert(strncmp(e.msg, "CreateImage: InvalidParameterValue 4000 (xxx", 44) == 0, "%s", e.msg);
}

Test(cloud_errors, transport_errors) {
    struct err e = {0};
    cr_expect_eq(cloud__transport_error("ReadVms", CURLE_OPERATION_TIMEDOUT, "Operation timed out", &e),
                 ERR_TIMEOUT);
    cr_expect(strstr(e.msg, "ReadVms: ") == e.msg, "%s", e.msg);
    cr_expect_eq(cloud__transport_error("ReadVms", CURLE_COULDNT_CONNECT, NULL, &e), ERR_UNAVAILABLE);
    cr_expect_eq(cloud__transport_error("ReadVms", CURLE_RECV_ERROR, "", &e), ERR_UNAVAILABLE);
    cr_expect_eq(cloud__transport_error("ReadVms", CURLE_GOT_NOTHING, "", &e), ERR_UNAVAILABLE);
    cr_expect_eq(cloud__transport_error("ReadVms", CURLE_URL_MALFORMAT, "", &e), ERR_INVALID);
    cr_expect_eq(cloud__transport_error("ReadVms", CURLE_UNSUPPORTED_PROTOCOL, "", &e), ERR_INVALID);
}

Test(cloud_errors, retry_decision_table) {
    static const struct {
        long status;
        int curl_code;
        bool want;
    } rows[] = {
        {0, CURLE_COULDNT_CONNECT, true},
        {0, CURLE_OPERATION_TIMEDOUT, true},
        {0, CURLE_RECV_ERROR, true},
        {0, CURLE_SEND_ERROR, true},
        {0, CURLE_GOT_NOTHING, true},
        {0, CURLE_COULDNT_RESOLVE_HOST, true},
        {0, CURLE_URL_MALFORMAT, false},
        {0, CURLE_UNSUPPORTED_PROTOCOL, false},
        {0, CURLE_WRITE_ERROR, false},
        {429, CURLE_OK, true},
        {500, CURLE_OK, true},
        {502, CURLE_OK, true},
        {503, CURLE_OK, true},
        {504, CURLE_OK, true},
        {400, CURLE_OK, false},
        {401, CURLE_OK, false},
        {403, CURLE_OK, false},
        {404, CURLE_OK, false},
        {409, CURLE_OK, false},
        {200, CURLE_OK, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(cloud__retryable(rows[i].status, rows[i].curl_code), rows[i].want, "row %zu: %ld/%d",
                     i, rows[i].status, rows[i].curl_code);
}

