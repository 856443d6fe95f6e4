/* The shape of every request body the gateway accepts, as lib/jsonv tables: types, required
 * fields, lengths, enumerations, e-mail formats; unknown fields are refused. A few rules a table
 * cannot express (a link token's alphabet, an OTP's digits, "code or password", "something to
 * change", the unsupported certificate login) are checked here too, right after the table, so a
 * handler gets either a body it can trust or a 400 naming the field, before any call is made. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "gateway.h"

#define NAME_MAX_CHARS 200
#define EMAIL_MAX 254
#define PASSWORD_MAX 1024   /* the policy (AUTH-1) is identity's; this only bounds the input */
#define KEY_MAX 128
#define LINK_TOKEN_MAX 256

static const char *const org_types[] = {"buyer", "seller", NULL};
static const char *const regions[] = {"cloudgouv-eu-west-1", "eu-west-2", NULL};
static const char *const languages[] = {"en", "fr", NULL};
static const char *const roles[] = {"admin", "user", NULL};
static const char *const login_methods[] = {"password", "certificate", NULL};

const struct jsonv_schema gateway_schema_empty = {NULL, 0, false};

/* ---- POST /v1/signup ---- */
static const struct jsonv_field signup_org[] = {
    {.name = "name", .type = JSONV_STRING, .required = true, .min = 1, .max = NAME_MAX_CHARS},
    {.name = "types", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 2, .items = JSONV_STRING, .one_of = org_types,
     .unique = true},
    {.name = "region", .type = JSONV_STRING, .one_of = regions},
    {.name = "partner_number", .type = JSONV_STRING, .min = 1, .max = 32}, /* PUB-1 */
};
static const struct jsonv_schema signup_org_schema = JSONV_SCHEMA(signup_org);
static const struct jsonv_field outscale_keys[] = {
    {.name = "access_key", .type = JSONV_STRING, .required = true, .min = 16, .max = KEY_MAX},
    {.name = "secret_key", .type = JSONV_STRING, .required = true, .min = 16, .max = KEY_MAX},
};
static const struct jsonv_schema outscale_keys_schema = JSONV_SCHEMA(outscale_keys);
static const struct jsonv_field signup_admin[] = {
    {.name = "name", .type = JSONV_STRING, .required = true, .min = 1, .max = NAME_MAX_CHARS},
    {.name = "language", .type = JSONV_STRING, .one_of = languages},
};
static const struct jsonv_schema signup_admin_schema = JSONV_SCHEMA(signup_admin);
static const struct jsonv_field signup[] = {
    {.name = "organization", .type = JSONV_OBJECT, .required = true, .object = &signup_org_schema},
    {.name = "outscale", .type = JSONV_OBJECT, .required = true, .object = &outscale_keys_schema},
    {.name = "admin", .type = JSONV_OBJECT, .required = true, .object = &signup_admin_schema},
};
const struct jsonv_schema gateway_schema_signup = JSONV_SCHEMA(signup);

/* ---- passwords and sessions ---- */
static const struct jsonv_field token_password[] = {
    {.name = "token", .type = JSONV_STRING, .required = true, .min = 16, .max = LINK_TOKEN_MAX},
    {.name = "password", .type = JSONV_STRING, .required = true, .min = 1, .max = PASSWORD_MAX},
};
const struct jsonv_schema gateway_schema_token_password = JSONV_SCHEMA(token_password);

static const struct jsonv_field forgot[] = {
    {.name = "email", .type = JSONV_STRING, .required = true, .min = 3, .max = EMAIL_MAX, .format = JSONV_EMAIL},
};
const struct jsonv_schema gateway_schema_forgot = JSONV_SCHEMA(forgot);

static const struct jsonv_field login[] = {
    {.name = "email", .type = JSONV_STRING, .required = true, .min = 3, .max = EMAIL_MAX, .format = JSONV_EMAIL},
    {.name = "password", .type = JSONV_STRING, .required = true, .min = 1, .max = PASSWORD_MAX},
    {.name = "otp", .type = JSONV_STRING, .min = 6, .max = 6},
    {.name = "method", .type = JSONV_STRING, .one_of = login_methods},
};
const struct jsonv_schema gateway_schema_login = JSONV_SCHEMA(login);

static const struct jsonv_field change_password[] = {
    {.name = "old_password", .type = JSONV_STRING, .required = true, .min = 1, .max = PASSWORD_MAX},
    {.name = "new_password", .type = JSONV_STRING, .required = true, .min = 1, .max = PASSWORD_MAX},
};
const struct jsonv_schema gateway_schema_change_password = JSONV_SCHEMA(change_password);

static const struct jsonv_field otp_code[] = {
    {.name = "code", .type = JSONV_STRING, .required = true, .min = 6, .max = 6},
};
const struct jsonv_schema gateway_schema_otp_code = JSONV_SCHEMA(otp_code);

static const struct jsonv_field disable_2fa[] = {
    {.name = "code", .type = JSONV_STRING, .min = 6, .max = 6},
    {.name = "password", .type = JSONV_STRING, .min = 1, .max = PASSWORD_MAX},
};
const struct jsonv_schema gateway_schema_disable_2fa = JSONV_SCHEMA(disable_2fa);

/* ---- the organization ---- */
static const struct jsonv_field update_organization[] = {
    {.name = "name", .type = JSONV_STRING, .min = 1, .max = NAME_MAX_CHARS},
    {.name = "partner_number", .type = JSONV_STRING, .min = 1, .max = 32},
};
const struct jsonv_schema gateway_schema_update_organization = JSONV_SCHEMA(update_organization);

static const struct jsonv_field create_account[] = {
    {.name = "name", .type = JSONV_STRING, .required = true, .min = 1, .max = NAME_MAX_CHARS},
    {.name = "email", .type = JSONV_STRING, .required = true, .min = 3, .max = EMAIL_MAX, .format = JSONV_EMAIL},
    {.name = "roles", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 2, .items = JSONV_STRING, .one_of = roles,
     .unique = true},
    {.name = "language", .type = JSONV_STRING, .one_of = languages},
};
const struct jsonv_schema gateway_schema_create_account = JSONV_SCHEMA(create_account);

static const struct jsonv_field update_account[] = {
    {.name = "name", .type = JSONV_STRING, .min = 1, .max = NAME_MAX_CHARS},
    {.name = "email", .type = JSONV_STRING, .min = 3, .max = EMAIL_MAX, .format = JSONV_EMAIL},
    {.name = "roles", .type = JSONV_ARRAY, .min = 1, .max = 2, .items = JSONV_STRING, .one_of = roles, .unique = true},
    {.name = "language", .type = JSONV_STRING, .one_of = languages},
};
const struct jsonv_schema gateway_schema_update_account = JSONV_SCHEMA(update_account);

const struct jsonv_schema gateway_schema_attach_outscale = JSONV_SCHEMA(outscale_keys);

static const char *const partner_decisions[] = {"validated", "refused", NULL};
static const struct jsonv_field validate[] = {
    {.name = "partner_decision", .type = JSONV_STRING, .one_of = partner_decisions},
    {.name = "partner_reason", .type = JSONV_STRING, .min = 1, .max = 400},
};
const struct jsonv_schema gateway_schema_validate = JSONV_SCHEMA(validate);

static const struct jsonv_field ugap[] = {
    {.name = "ugap", .type = JSONV_BOOL, .required = true},
};
const struct jsonv_schema gateway_schema_ugap = JSONV_SCHEMA(ugap);

/* ---- rules beyond the tables ---- */

static bool all_digits(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool link_token_chars(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

static const char *str(const json_t *body, const char *name) {
    return json_string_value(json_object_get(body, name));
}

static err_code digits(const json_t *body, const char *name, struct err *e) {
    const char *v = str(body, name);
    if (v && !all_digits(v))
        return err_set(e, ERR_INVALID, "field '%s': must be 6 digits", name);
    return ERR_OK;
}

/* Before the table: a certificate login is refused as such, whatever else the body holds. */
static err_code pre_login(const json_t *body, struct err *e) {
    const char *m = str(body, "method");
    if (m && strcmp(m, "certificate") == 0)
        return err_set(e, ERR_UNSUPPORTED,
                       "client-certificate authentication is not supported (AUTH-7): log in with e-mail and "
                       "password, plus a TOTP code when two-factor authentication is on");
    return ERR_OK;
}

static err_code post(const struct jsonv_schema *schema, const json_t *body, struct err *e) {
    if (schema == &gateway_schema_token_password) {
        if (!link_token_chars(str(body, "token")))
            return err_set(e, ERR_INVALID, "field 'token': must be the token of a link (letters, digits, - and _)");
    } else if (schema == &gateway_schema_login || schema == &gateway_schema_otp_code) {
        return schema == &gateway_schema_login ? digits(body, "otp", e) : digits(body, "code", e);
    } else if (schema == &gateway_schema_disable_2fa) {
        bool code = json_is_string(json_object_get(body, "code"));
        bool password = json_is_string(json_object_get(body, "password"));
        if (code == password)
            return err_set(e, ERR_INVALID, "field 'code': give either 'code' or 'password', not both nor neither");
        return digits(body, "code", e);
    } else if (schema == &gateway_schema_update_organization || schema == &gateway_schema_update_account) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)body, key, v) {
            if (!json_is_null(v))
                return ERR_OK;
        }
        return err_set(e, ERR_INVALID, "body: nothing to change (give at least one of the fields)");
    }
    return ERR_OK;
}

err_code gateway_parse_body(const char *body, size_t len, const struct jsonv_schema *schema, json_t **out,
                            struct err *e) {
    json_t *v = NULL;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) { /* no body: as {} */
        body = "{}";
        len = 2;
    }
    if (schema == &gateway_schema_login) {
        json_t *raw = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        err_code pc = json_is_object(raw) ? pre_login(raw, e) : ERR_OK;
        json_decref(raw);
        if (pc != ERR_OK)
            return pc;
    }
    err_code code = jsonv_parse(body, len, schema, &v, e);
    if (code != ERR_OK)
        return code;
    code = post(schema, v, e);
    if (code != ERR_OK) {
        json_decref(v);
        return code;
    }
    *out = v;
    return ERR_OK;
}

err_code gateway_check_query(const char *name, const char *value, const struct jsonv_field *rule, struct err *e) {
    if (!value || !*value) /* "?status=" is no filter */
        return rule->required ? err_set(e, ERR_INVALID, "query parameter '%s': required", name) : ERR_OK;
    struct jsonv_field f = *rule;
    f.name = name;
    const struct jsonv_schema one = {&f, 1, false};
    json_t *obj = json_pack("{s:s}", name, value);
    if (!obj) /* not UTF-8 */
        return err_set(e, ERR_INVALID, "query parameter '%s': must be valid UTF-8", name);
    err_code code = jsonv_check(obj, &one, e);
    json_decref(obj);
    if (code != ERR_OK && e) { /* "field 'x': ..." -> "query parameter 'x': ..." */
        char msg[ERR_MSG_MAX];
        const char *rest = strstr(e->msg, "': ");
        snprintf(msg, sizeof msg, "query parameter '%s': %s", name, rest ? rest + 3 : e->msg);
        snprintf(e->msg, sizeof e->msg, "%s", msg);
    }
    return code;
}

err_code gateway_query_int(const char *name, const char *value, long long min, long long max, long long def,
                           long long *out, struct err *e) {
    if (!value || !*value) {
        *out = def;
        return ERR_OK;
    }
    long long v = 0;
    const char *p = value;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > max)
            return err_set(e, ERR_INVALID, "query parameter '%s': must be an integer from %lld to %lld", name, min,
                           max);
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max)
        return err_set(e, ERR_INVALID, "query parameter '%s': must be an integer from %lld to %lld", name, min, max);
    *out = v;
    return ERR_OK;
}

err_code gateway_query_page(const struct http_request *req, long long max, long long *limit, const char **cursor,
                            struct err *e) {
    static const struct jsonv_field cursor_rule = {.type = JSONV_STRING, .min = 1, .max = CURSOR_TEXT_MAX - 1};
    const char *c = http_query(req, "cursor");
    long long l = 0;
    err_code code = gateway_query_int("limit", http_query(req, "limit"), 1, max, 0, &l, e);
    if (code == ERR_OK)
        code = gateway_check_query("cursor", c, &cursor_rule, e);
    if (code != ERR_OK)
        return code;
    *limit = l;
    *cursor = c && *c ? c : "";
    return ERR_OK;
}
