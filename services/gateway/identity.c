/* HTTP routes of the identity service for people: signup (ORG-1/2), password links (ACC-3,
 * AUTH-4), sessions (AUTH-5/6/7/8), the logged-in account, its password (AUTH-3) and two-factor
 * authentication (AUTH-6). Each handler checks its body with its jsonv table, builds the
 * identity request, calls mkt.rpc.identity.<method> with the caller as actor and maps the reply
 * to the documented JSON. Replies that carry secrets (tokens, TOTP secrets) are never cached. */
#include <string.h>

#include "gateway.h"

static const char *jstr(const json_t *obj, const char *name) {
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

/* The strings of a JSON array as a char * array (borrowed from the array); NULL when empty. */
static char **jstrings(const json_t *arr, size_t *n, char *buf[], size_t max) {
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(arr) && k < max; i++)
        buf[k++] = (char *)json_string_value(json_array_get(arr, i));
    *n = k;
    return k ? buf : NULL;
}

static void no_store(struct http_response *res) {
    http_response_header(res, "Cache-Control", "no-store");
}

/* ---- public --------------------------------------------------------------------------------- */

GATEWAY_HANDLER(gateway_post_signup) {
    json_t *body = gateway_body(r, res, &gateway_schema_signup);
    if (!body)
        return;
    const json_t *org = json_object_get(body, "organization"), *osc = json_object_get(body, "outscale"),
                 *admin = json_object_get(body, "admin");
    char *types[2];
    Mkt__Identity__SignupRequest in = MKT__IDENTITY__SIGNUP_REQUEST__INIT;
    in.organization_name = (char *)jstr(org, "name");
    in.types = jstrings(json_object_get(org, "types"), &in.n_types, types, 2);
    in.region = (char *)jstr(org, "region");
    in.access_key = (char *)jstr(osc, "access_key");
    in.secret_key = (char *)jstr(osc, "secret_key");
    in.admin_name = (char *)jstr(admin, "name");
    in.admin_language = *jstr(admin, "language") ? (char *)jstr(admin, "language") : "en";
    in.partner_number = (char *)jstr(org, "partner_number");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "signup", &in.base, &mkt__identity__signup_reply__descriptor, &out)) {
        const Mkt__Identity__SignupReply *rep = (const Mkt__Identity__SignupReply *)out;
        http_response_json(res, 202,
                           json_pack("{s:s,s:s}", "organization_id", rep->organization_id ? rep->organization_id : "",
                                     "status", rep->status && *rep->status ? rep->status : "pending"));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    json_decref(body);
}

static void token_password(struct gateway *g, const struct gateway_req *r, struct http_response *res,
                           const char *method) {
    json_t *body = gateway_body(r, res, &gateway_schema_token_password);
    if (!body)
        return;
    Mkt__Identity__TokenPassword in = MKT__IDENTITY__TOKEN_PASSWORD__INIT;
    in.token = (char *)jstr(body, "token");
    in.password = (char *)jstr(body, "password");
    if (gateway_call(g, r, res, "identity", method, &in.base, NULL, NULL))
        gateway_no_content(res);
    json_decref(body);
}

GATEWAY_HANDLER(gateway_post_password_set) {
    token_password(g, r, res, "set_password");
}

GATEWAY_HANDLER(gateway_post_password_reset) {
    token_password(g, r, res, "reset_password");
}

GATEWAY_HANDLER(gateway_post_password_forgot) {
    json_t *body = gateway_body(r, res, &gateway_schema_forgot);
    if (!body)
        return;
    Mkt__Identity__ForgotPassword in = MKT__IDENTITY__FORGOT_PASSWORD__INIT;
    in.email = (char *)jstr(body, "email");
    /* AUTH-4: the same answer whether or not the address is known (identity makes sure of it). */
    if (gateway_call(g, r, res, "identity", "forgot_password", &in.base, NULL, NULL))
        http_response_json(res, 202, json_pack("{s:s}", "status", "accepted"));
    json_decref(body);
}

GATEWAY_HANDLER(gateway_post_sessions) {
    json_t *body = gateway_body(r, res, &gateway_schema_login);
    if (!body)
        return;
    Mkt__Identity__LoginRequest in = MKT__IDENTITY__LOGIN_REQUEST__INIT;
    in.email = (char *)jstr(body, "email");
    in.password = (char *)jstr(body, "password");
    in.otp = (char *)jstr(body, "otp");
    in.client_addr = (char *)(r->http->client_addr ? r->http->client_addr : "");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "login", &in.base, &mkt__identity__login_reply__descriptor, &out)) {
        const Mkt__Identity__LoginReply *rep = (const Mkt__Identity__LoginReply *)out;
        http_response_json(res, 201,
                           json_pack("{s:s,s:o}", "token", rep->token ? rep->token : "", "expires_at",
                                     gateway_time_json(rep->expires_at_us)));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    no_store(res);
    json_decref(body);
}

/* ---- the session's account ------------------------------------------------------------------ */

GATEWAY_HANDLER(gateway_delete_session) {
    json_t *body = gateway_body(r, res, &gateway_schema_empty);
    if (!body)
        return;
    Mkt__Identity__TokenRequest in = MKT__IDENTITY__TOKEN_REQUEST__INIT;
    in.token = (char *)r->token;
    if (gateway_call(g, r, res, "identity", "logout", &in.base, NULL, NULL)) {
        /* This replica forgets the token at once; others within the cache TTL (1 s). */
        gateway_token_cache_drop(g->tokens, r->token_key);
        gateway_no_content(res);
    }
    json_decref(body);
}

GATEWAY_HANDLER(gateway_get_me) {
    Mkt__Identity__Empty in = MKT__IDENTITY__EMPTY__INIT;
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "me", &in.base, &mkt__identity__account__descriptor, &out)) {
        http_response_json(res, 200, gateway_account_json((const Mkt__Identity__Account *)out));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    no_store(res);
}

GATEWAY_HANDLER(gateway_put_me_password) {
    json_t *body = gateway_body(r, res, &gateway_schema_change_password);
    if (!body)
        return;
    Mkt__Identity__ChangePassword in = MKT__IDENTITY__CHANGE_PASSWORD__INIT;
    in.old_password = (char *)jstr(body, "old_password");
    in.new_password = (char *)jstr(body, "new_password");
    if (gateway_call(g, r, res, "identity", "change_password", &in.base, NULL, NULL))
        gateway_no_content(res);
    json_decref(body);
}

GATEWAY_HANDLER(gateway_post_me_2fa) {
    json_t *body = gateway_body(r, res, &gateway_schema_empty);
    if (!body)
        return;
    Mkt__Identity__Empty in = MKT__IDENTITY__EMPTY__INIT;
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "enroll_2fa", &in.base, &mkt__identity__enroll2fa_reply__descriptor,
                     &out)) {
        const Mkt__Identity__Enroll2faReply *rep = (const Mkt__Identity__Enroll2faReply *)out;
        http_response_json(res, 201,
                           json_pack("{s:s,s:s}", "secret", rep->secret ? rep->secret : "", "otpauth_uri",
                                     rep->otpauth_uri ? rep->otpauth_uri : ""));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    no_store(res);
    json_decref(body);
}

GATEWAY_HANDLER(gateway_post_me_2fa_confirm) {
    json_t *body = gateway_body(r, res, &gateway_schema_otp_code);
    if (!body)
        return;
    Mkt__Identity__OtpCode in = MKT__IDENTITY__OTP_CODE__INIT;
    in.code = (char *)jstr(body, "code");
    if (gateway_call(g, r, res, "identity", "confirm_2fa", &in.base, NULL, NULL))
        gateway_no_content(res);
    json_decref(body);
}

/* AUTH-7: client certificates are not supported; identity says so (501), the route exists so that
 * a frontend asking gets a clear answer rather than a 404. */
GATEWAY_HANDLER(gateway_post_me_certificate) {
    json_t *body = gateway_body(r, res, &gateway_schema_empty);
    if (!body)
        return;
    Mkt__Identity__Empty in = MKT__IDENTITY__EMPTY__INIT;
    if (gateway_call(g, r, res, "identity", "enroll_certificate", &in.base, NULL, NULL))
        gateway_no_content(res); /* should identity ever accept it */
    json_decref(body);
}

GATEWAY_HANDLER(gateway_delete_me_2fa) {
    json_t *body = gateway_body(r, res, &gateway_schema_disable_2fa);
    if (!body)
        return;
    Mkt__Identity__Disable2fa in = MKT__IDENTITY__DISABLE2FA__INIT;
    in.code = (char *)jstr(body, "code");
    in.password = (char *)jstr(body, "password");
    if (gateway_call(g, r, res, "identity", "disable_2fa", &in.base, NULL, NULL))
        gateway_no_content(res);
    json_decref(body);
}
