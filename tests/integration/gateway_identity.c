/* The HTTP side of identity, end to end: gateway -> NATS -> identity -> PostgreSQL (and the cloud
 * emulator, the notifier and the SMTP sink for the e-mailed links). Actors are built through the
 * real flow: sign-up over HTTP with fresh emulator accounts, set-password tokens read from the
 * mails, logins; the operator from identity's MKT_OPERATOR_* settings.
 *   - authorization matrix: every route x (visitor, buyer user, seller user, seller admin, other
 *     organization's admin, operator, buyer admin) -> the expected status; other organizations'
 *     resources are 404; 2FA enrol/confirm with real TOTP codes; logout last;
 *   - sessions: logout and password change end sessions at once; a deleted account's token stops
 *     working within the cache TTL (1 s); login with 2FA needs the code (otp_required);
 *   - bad input: wrong types, missing and unknown fields, unknown enums, invalid e-mails,
 *     oversized strings and bodies, weak passwords, malformed tokens and ids -> the right 4xx,
 *     and nothing written (row counts of identity's tables unchanged);
 *   - pages: a walk of an organization's accounts with inserts and deletes between pages (no
 *     duplicate, no gap), the maximum page size, tampered and foreign cursors refused;
 *   - throttling: failed logins (AUTH-8) and the gateway's own rate limit -> 429 + Retry-After. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cloudsim.h"
#include "cursor.h"
#include "harness.h"
#include "maildir.h"
#include "otp.h"

/* ---- HTTP --------------------------------------------------------------------------------------- */

struct resp {
    long status;
    json_t *json;       /* parsed body, or NULL */
    char *body;
    char retry_after[16];
    char www_auth[32];
};

static void resp_free(struct resp *r) {
    json_decref(r->json);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* method url [Bearer token] [JSON body]; the response is the caller's (resp_free). */
static struct resp http(const char *method, const char *url, const char *token, const char *body) {
    struct resp r = {0};
    char auth[512], *head = NULL;
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: %s%s", strchr(token, ' ') ? "" : "Bearer ", token);
        headers[1] = auth;
    }
    r.status = th_http_full(method, url, body, headers, &r.body, &head);
    cr_assert(r.status != 0, "%s %s: no response", method, url);
    r.json = json_loads(r.body, JSON_DECODE_ANY, NULL);
    th_header(head, "Retry-After", r.retry_after, sizeof r.retry_after);
    th_header(head, "WWW-Authenticate", r.www_auth, sizeof r.www_auth);
    free(head);
    return r;
}

static const char *jstr(const json_t *j, const char *key) {
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

static const char *resp_code(const struct resp *r) {
    return jstr(json_object_get(r->json, "error"), "code");
}

static const char *err_msg(const struct resp *r) {
    return jstr(json_object_get(r->json, "error"), "message");
}

/* ---- the platform under test ---------------------------------------------------------------------- */

struct it {
    struct th_proc identity, notifier, gateway;
    char url[64];
    char run[24];           /* unique per test: e-mails, names */
    char schema[40];        /* identity's own schema and role for this test */
    char op_email[96], op_password[64];
    char env[2][12][400];   /* settings of identity and of the gateway */
};

#define PASSWORD "Str0ng!Passw0rd"
#define PASSWORD2 "An0ther!Passw0rd"

static void start_identity(struct it *t, const char *const *extra) {
    char(*env)[400] = t->env[0];
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    char *dsn = th_service_dsn(t->schema);
    int i = 0;
    snprintf(env[i++], 400, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(env[i++], 400, "MKT_PG_DSN=%s", dsn);
    snprintf(env[i++], 400, "MKT_VAULT_KEY=%s", b64);
    snprintf(env[i++], 400, "OSC_ENDPOINT_API=%s", th_env("MKT_TEST_CLOUD_URL"));
    snprintf(env[i++], 400, "MKT_ARGON2_OPS=1");
    snprintf(env[i++], 400, "MKT_ARGON2_MEM_KIB=256");
    snprintf(env[i++], 400, "MKT_OPERATOR_EMAIL=%s", t->op_email);
    snprintf(env[i++], 400, "MKT_OPERATOR_PASSWORD=%s", t->op_password);
    snprintf(env[i++], 400, "MKT_DRAIN_MS=5000");
    snprintf(env[i++], 400, "MKT_IDENTITY_CONSUMER=%s-eim", t->schema);
    const char *e[16];
    int n = 0;
    for (int k = 0; k < i; k++)
        e[n++] = env[k];
    for (int k = 0; extra && extra[k] && n < 15; k++)
        e[n++] = extra[k];
    e[n] = NULL;
    t->identity = th_spawn("identity", NULL, e);
    free(dsn);
}

static struct th_proc start_gateway(struct it *t, char url[64], const char *rate_per_s, const char *burst) {
    char(*env)[400] = t->env[1];
    int port = th_free_port();
    snprintf(url, 64, "http://127.0.0.1:%d", port);
    snprintf(env[0], 400, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(env[1], 400, "MKT_HTTP_ADDR=127.0.0.1:%d", port);
    snprintf(env[2], 400, "MKT_RATE_PER_S=%s", rate_per_s);
    snprintf(env[3], 400, "MKT_RATE_BURST=%s", burst);
    snprintf(env[4], 400, "MKT_RPC_TIMEOUT_MS=20000");
    const char *e[] = {env[0], env[1], env[2], env[3], env[4], NULL};
    return th_spawn("gateway", NULL, e);
}

struct ready_arg {
    const char *url;
    const char *service;
};

/* /readyz lists the service as up (the rest of the platform is not started here). */
static bool service_up(void *arg) {
    struct ready_arg *a = arg;
    char u[128];
    snprintf(u, sizeof u, "%s/readyz", a->url);
    char *body = NULL;
    th_http("GET", u, NULL, NULL, &body);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    bool up = strcmp(jstr(json_object_get(json_object_get(j, "services"), a->service), "state"), "up") == 0;
    json_decref(j);
    free(body);
    return up;
}

static void it_start(struct it *t, const char *const *identity_env) {
    memset(t, 0, sizeof *t);
    th_unique("g", t->run, sizeof t->run);
    /* Identity on a schema and durable consumer of its own: this test's rows (and login failures,
     * counted per address) are not mixed with other tests' of the same run. */
    snprintf(t->schema, sizeof t->schema, "gi_%s", t->run);
    snprintf(t->op_email, sizeof t->op_email, "operator-%s@example.com", t->run);
    snprintf(t->op_password, sizeof t->op_password, "0perator!Pw-%s", t->run);
    start_identity(t, identity_env);
    t->notifier = th_spawn_notifier();
    t->gateway = start_gateway(t, t->url, "0", "100");
    struct ready_arg a = {t->url, "identity"}, b = {t->url, "notifier"};
    if (!th_eventually(service_up, &a, 60000) || !th_eventually(service_up, &b, 30000)) {
        th_dump_log(&t->identity);
        th_dump_log(&t->notifier);
        th_dump_log(&t->gateway);
        th_kill9(&t->gateway);
        th_kill9(&t->notifier);
        th_kill9(&t->identity);
        cr_assert_fail("identity or notifier not up (logs above)");
    }
}

static void it_stop(struct it *t) {
    cr_expect_eq(th_stop(&t->gateway, SIGTERM, 20000), 0, "gateway did not exit 0 after SIGTERM");
    cr_expect_eq(th_stop(&t->notifier, SIGTERM, 20000), 0, "notifier did not exit 0 after SIGTERM");
    cr_expect_eq(th_stop(&t->identity, SIGTERM, 20000), 0, "identity did not exit 0 after SIGTERM");
}

static struct resp call(const struct it *t, const char *method, const char *path, const char *token,
                        const char *body) {
    char u[600];
    snprintf(u, sizeof u, "%s%s", t->url, path);
    return http(method, u, token, body);
}

/* ---- actors ------------------------------------------------------------------------------------------ */

struct actor {
    const char *name;
    char email[96];
    char password[64];
    char token[256];
    char account_id[40];
    char org_id[40];
    char otp_secret[80];
};

static void login(const struct it *t, struct actor *a) {
    char body[400];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", a->email, a->password);
    struct resp r = call(t, "POST", "/v1/sessions", NULL, body);
    cr_assert_eq(r.status, 201, "login %s: %ld %s", a->email, r.status, r.body);
    snprintf(a->token, sizeof a->token, "%s", jstr(r.json, "token"));
    cr_assert(strlen(a->token) >= 16);
    cr_expect(strlen(jstr(r.json, "expires_at")) > 0 && jstr(r.json, "expires_at")[strlen(jstr(r.json, "expires_at")) - 1] == 'Z',
              "expires_at: %s", r.body);
    resp_free(&r);
    r = call(t, "GET", "/v1/me", a->token, NULL);
    cr_assert_eq(r.status, 200, "me: %ld %s", r.status, r.body);
    snprintf(a->account_id, sizeof a->account_id, "%s", jstr(r.json, "id"));
    snprintf(a->org_id, sizeof a->org_id, "%s", jstr(r.json, "organization_id"));
    resp_free(&r);
}

/* Reads the set-password mail of a->email, sets the password, logs in. */
static void set_password_and_login(const struct it *t, struct actor *a) {
    char tok[TH_MAILDIR_TOKEN_MAX], body[600];
    th_maildir_token(a->email, "set-password", tok);
    snprintf(a->password, sizeof a->password, "%s", PASSWORD);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"password\":\"%s\"}", tok, a->password);
    struct resp r = call(t, "POST", "/v1/password/set", NULL, body);
    cr_assert_eq(r.status, 204, "set password %s: %ld %s", a->email, r.status, r.body);
    resp_free(&r);
    /* The link works once. */
    r = call(t, "POST", "/v1/password/set", NULL, body);
    cr_expect(r.status >= 400 && r.status < 500, "set-password link reused: %ld", r.status);
    resp_free(&r);
    login(t, a);
}

/* Signs an organization up over HTTP and logs its first administrator in. */
static void signup(const struct it *t, struct actor *admin, const char *types, struct th_cloudsim_account *ca) {
    *ca = th_cloudsim_account_new(admin->name, t->run);
    char body[1000];
    snprintf(body, sizeof body,
             "{\"organization\":{\"name\":\"%s %s\",\"types\":%s},\"outscale\":{\"access_key\":\"%s\",\"secret_key\":"
             "\"%s\"},\"admin\":{\"name\":\"%s\",\"language\":\"en\"}}",
             admin->name, t->run, types, ca->access_key, ca->secret_key, admin->name);
    struct resp r = call(t, "POST", "/v1/signup", NULL, body);
    cr_assert_eq(r.status, 202, "signup %s: %ld %s", admin->name, r.status, r.body);
    cr_expect_str_eq(jstr(r.json, "status"), "pending");
    cr_expect_eq(strlen(jstr(r.json, "organization_id")), 36);
    resp_free(&r);
    snprintf(admin->email, sizeof admin->email, "%s", ca->email);
    set_password_and_login(t, admin);
}

/* An account created by an admin (ACC-1..3), with its password set; returns the account id. */
static void add_member(const struct it *t, const struct actor *admin, struct actor *a, const char *roles,
                       bool log_in) {
    snprintf(a->email, sizeof a->email, "%s-%s@example.com", a->name, t->run);
    char body[400];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"email\":\"%s\",\"roles\":%s}", a->name, a->email, roles);
    struct resp r = call(t, "POST", "/v1/organization/accounts", admin->token, body);
    cr_assert_eq(r.status, 201, "create account %s: %ld %s", a->name, r.status, r.body);
    snprintf(a->account_id, sizeof a->account_id, "%s", jstr(r.json, "id"));
    cr_expect_str_eq(jstr(r.json, "email"), a->email);
    cr_expect_str_eq(jstr(r.json, "organization_id"), admin->org_id);
    resp_free(&r);
    if (log_in)
        set_password_and_login(t, a);
}

static void operator_login(const struct it *t, struct actor *op) {
    snprintf(op->email, sizeof op->email, "%s", t->op_email);
    snprintf(op->password, sizeof op->password, "%s", t->op_password);
    login(t, op);
}

/* ---- TOTP, to confirm 2FA like an authenticator app ------------------------------------------------- */

/* The code of the step `shift` steps from now, for a base32 secret. */
static void totp_now(const char *b32, int shift, char out[OTP_DIGITS + 1]) {
    cr_assert(otp_code_at(b32, clock_now(), shift, out), "not a base32 secret: '%s'", b32);
}

Test(gateway_identity, totp_vector) {
    /* RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 -> 6 digits 287082 (HOTP counter 1). */
    cr_expect_eq(otp_hotp((const uint8_t *)"12345678901234567890", 20, 1, 8), 94287082u);
    char code[OTP_DIGITS + 1];
    cr_assert(otp_code_at("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59 * CLOCK_SECOND, 0, code));
    cr_expect_str_eq(code, "287082");
}

/* ---- the authorization matrix ------------------------------------------------------------------------- */

enum who { VISITOR, BUYER_USER, SELLER_USER, SELLER_ADMIN, OTHER_ADMIN, OPERATOR, BUYER_ADMIN, N_WHO };
static const char *const who_name[] = {"visitor", "buyer user", "seller user", "seller admin",
                                       "other organization's admin", "operator", "buyer admin"};

struct world {
    struct it t;
    struct actor who[N_WHO];
    struct actor buyer_victim;          /* an account of the buyer organization to delete */
    struct th_cloudsim_account buyer_cloud, seller_cloud, other_cloud;
    char buyer_attached_id[40];         /* an extra OUTSCALE account of the buyer organization */
    char other_org_id[40];
};

/* A request of the matrix for one actor: path and body may depend on the actor. */
typedef void (*prep_fn)(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn);

static void prep_patch_org(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)w, (void)pn;
    (void)path;
    snprintf(body, bn, "{\"name\":\"Renamed by %s\"}", who_name[a]);
}

static void prep_create_account(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)path, (void)pn;
    snprintf(body, bn, "{\"name\":\"New %d\",\"email\":\"new%d-%s@example.com\",\"roles\":[\"user\"],\"language\":\"fr\"}",
             (int)a, (int)a, w->t.run);
}

static void prep_patch_account(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)a;
    snprintf(path, pn, "/v1/organization/accounts/%s", w->who[BUYER_USER].account_id);
    snprintf(body, bn, "{\"name\":\"Renamed user\"}");
}

static void prep_delete_account(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)a, (void)body, (void)bn;
    snprintf(path, pn, "/v1/organization/accounts/%s", w->buyer_victim.account_id);
}

static void prep_attach(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)path, (void)pn;
    char name[32];
    snprintf(name, sizeof name, "attach%d", (int)a);
    struct th_cloudsim_account ca = th_cloudsim_account_new(name, w->t.run);
    snprintf(body, bn, "{\"access_key\":\"%s\",\"secret_key\":\"%s\"}", ca.access_key, ca.secret_key);
}

static void prep_detach(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)a, (void)body, (void)bn;
    snprintf(path, pn, "/v1/organization/outscale-accounts/%s", w->buyer_attached_id);
}

static void prep_get_org(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)a, (void)body, (void)bn;
    snprintf(path, pn, "/v1/operator/organizations/%s", w->other_org_id);
}

static void prep_validate(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)a, (void)body, (void)bn;
    snprintf(path, pn, "/v1/operator/organizations/%s/validate", w->other_org_id);
}

static void prep_ugap(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)a;
    snprintf(path, pn, "/v1/operator/organizations/%s/ugap", w->other_org_id);
    snprintf(body, bn, "{\"ugap\":true}");
}

static void prep_change_password(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)path, (void)pn;
    const char *old = a == VISITOR ? PASSWORD : w->who[a].password;
    snprintf(body, bn, "{\"old_password\":\"%s\",\"new_password\":\"%s\"}", old, PASSWORD2);
}

static void prep_confirm_2fa(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)path, (void)pn;
    char code[7] = "000000";
    if (a != VISITOR)
        totp_now(w->who[a].otp_secret, 0, code);
    snprintf(body, bn, "{\"code\":\"%s\"}", code);
}

static void prep_disable_2fa(struct world *w, enum who a, char *path, size_t pn, char *body, size_t bn) {
    (void)path, (void)pn;
    snprintf(body, bn, "{\"password\":\"%s\"}", a == VISITOR ? "x" : w->who[a].password);
}

/* Per actor in enum who order (visitor, buyer user, seller user, seller admin, other admin,
 * operator, buyer admin): the expected status. Admin-owned resources of the buyer organization
 * come last for the buyer admin, so the others meet them existing (and get 404). */
static const struct row {
    const char *method, *path, *body;
    prep_fn prep;
    int want[N_WHO];
} matrix[] = {
    {"GET", "/v1/me", NULL, NULL, {401, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/organization", NULL, NULL, {401, 200, 200, 200, 200, 403, 200}},
    {"PATCH", "/v1/organization", NULL, prep_patch_org, {401, 403, 403, 200, 200, 403, 200}},
    {"GET", "/v1/organization/accounts", NULL, NULL, {401, 403, 403, 200, 200, 403, 200}},
    {"POST", "/v1/organization/accounts", NULL, prep_create_account, {401, 403, 403, 201, 201, 403, 201}},
    {"PATCH", "(account)", NULL, prep_patch_account, {401, 403, 403, 404, 404, 403, 200}},
    {"DELETE", "(account)", NULL, prep_delete_account, {401, 403, 403, 404, 404, 403, 204}},
    {"GET", "/v1/organization/outscale-accounts", NULL, NULL, {401, 200, 200, 200, 200, 403, 200}},
    {"POST", "/v1/organization/outscale-accounts", NULL, prep_attach, {401, 403, 403, 201, 201, 403, 201}},
    {"DELETE", "(outscale account)", NULL, prep_detach, {401, 403, 403, 404, 404, 403, 204}},
    {"GET", "/v1/operator/organizations?status=pending&limit=200", NULL, NULL, {401, 403, 403, 403, 403, 200, 403}},
    {"GET", "(organization)", NULL, prep_get_org, {401, 403, 403, 403, 403, 200, 403}},
    {"POST", "(validate)", NULL, prep_validate, {401, 403, 403, 403, 403, 200, 403}},
    {"PUT", "(ugap)", NULL, prep_ugap, {401, 403, 403, 403, 403, 200, 403}},
    {"GET", "/v1/operator/mails?limit=20", NULL, NULL, {401, 403, 403, 403, 403, 200, 403}},
    {"PUT", "/v1/me/password", NULL, prep_change_password, {401, 204, 204, 204, 204, 204, 204}},
    {"POST", "/v1/me/2fa", NULL, NULL, {401, 201, 201, 201, 201, 201, 201}},
    {"POST", "/v1/me/2fa/confirm", NULL, prep_confirm_2fa, {401, 204, 204, 204, 204, 204, 204}},
    {"DELETE", "/v1/me/2fa", NULL, prep_disable_2fa, {401, 204, 204, 204, 204, 204, 204}},
    {"POST", "/v1/me/certificate", NULL, NULL, {401, 501, 501, 501, 501, 501, 501}},
    {"POST", "/v1/password/forgot", "{\"email\":\"nobody@example.com\"}", NULL, {202, 202, 202, 202, 202, 202, 202}},
    {"POST", "/v1/sessions", "{\"method\":\"certificate\"}", NULL, {501, 501, 501, 501, 501, 501, 501}},
    {"DELETE", "/v1/sessions/current", NULL, NULL, {401, 204, 204, 204, 204, 204, 204}},
};

static void world_build(struct world *w) {
    struct it *t = &w->t;
    static const char *const names[] = {"visitor", "buyer-user", "seller-user", "seller-admin", "other-admin",
                                        "operator", "buyer-admin"};
    for (int i = 0; i < N_WHO; i++)
        w->who[i].name = names[i];
    w->buyer_victim.name = "victim";
    signup(t, &w->who[BUYER_ADMIN], "[\"buyer\"]", &w->buyer_cloud);
    signup(t, &w->who[SELLER_ADMIN], "[\"seller\"]", &w->seller_cloud);
    signup(t, &w->who[OTHER_ADMIN], "[\"buyer\",\"seller\"]", &w->other_cloud);
    snprintf(w->other_org_id, sizeof w->other_org_id, "%s", w->who[OTHER_ADMIN].org_id);
    add_member(t, &w->who[BUYER_ADMIN], &w->who[BUYER_USER], "[\"user\"]", true);
    add_member(t, &w->who[SELLER_ADMIN], &w->who[SELLER_USER], "[\"user\"]", true);
    add_member(t, &w->who[BUYER_ADMIN], &w->buyer_victim, "[\"user\"]", false);
    operator_login(t, &w->who[OPERATOR]);
    /* An extra OUTSCALE account for the buyer organization (ORG-6), to detach later. */
    struct th_cloudsim_account extra = th_cloudsim_account_new("buyer-extra", t->run);
    char body[200];
    snprintf(body, sizeof body, "{\"access_key\":\"%s\",\"secret_key\":\"%s\"}", extra.access_key, extra.secret_key);
    struct resp r = call(t, "POST", "/v1/organization/outscale-accounts", w->who[BUYER_ADMIN].token, body);
    cr_assert_eq(r.status, 201, "attach: %ld %s", r.status, r.body);
    snprintf(w->buyer_attached_id, sizeof w->buyer_attached_id, "%s", jstr(r.json, "id"));
    cr_expect_str_eq(jstr(r.json, "account_id"), extra.account_id);
    cr_expect(json_is_false(json_object_get(r.json, "primary")));
    resp_free(&r);
}

static void check_shapes(struct world *w, const struct row *row, enum who a, const struct resp *r) {
    if (strcmp(row->path, "/v1/me") == 0 && r->status == 200) {
        cr_expect_str_eq(jstr(r->json, "email"), w->who[a].email);
        cr_expect(json_is_array(json_object_get(r->json, "roles")));
        cr_expect(json_is_object(json_object_get(r->json, "eim")));
        cr_expect_null(json_object_get(r->json, "password_hash"));
        cr_expect(json_is_true(json_object_get(r->json, "operator")) == (a == OPERATOR));
    } else if (strcmp(row->path, "/v1/organization") == 0 && r->status == 200 && !strcmp(row->method, "GET")) {
        cr_expect_str_eq(jstr(r->json, "id"), w->who[a].org_id, "%s sees another organization", who_name[a]);
        cr_expect_str_eq(jstr(r->json, "status"), "pending");
        cr_expect(json_is_null(json_object_get(r->json, "validated_at")));
    } else if (strcmp(row->path, "/v1/organization/accounts") == 0 && r->status == 200) {
        json_t *accs = json_object_get(r->json, "accounts");
        size_t i;
        json_t *acc;
        json_array_foreach(accs, i, acc) {
            cr_expect_str_eq(jstr(acc, "organization_id"), w->who[a].org_id, "foreign account listed");
        }
        cr_expect(json_array_size(accs) >= 1);
        cr_expect(json_is_null(json_object_get(r->json, "next_cursor")), "one page: %s", r->body);
    } else if (strcmp(row->path, "/v1/me/2fa") == 0 && r->status == 201) {
        snprintf(w->who[a].otp_secret, sizeof w->who[a].otp_secret, "%s", jstr(r->json, "secret"));
        cr_expect(strncmp(jstr(r->json, "otpauth_uri"), "otpauth://totp/", 15) == 0, "%s", r->body);
    } else if (strcmp(row->path, "/v1/me/password") == 0 && r->status == 204) {
        snprintf(w->who[a].password, sizeof w->who[a].password, "%s", PASSWORD2);
    } else if (strcmp(row->path, "/v1/operator/mails?limit=20") == 0 && r->status == 200) {
        cr_expect(json_is_array(json_object_get(r->json, "mails")));
        cr_expect_null(strstr(r->body, "token="), "a link leaked: %s", r->body);
    } else if (strncmp(row->path, "/v1/operator/organizations?", 27) == 0 && r->status == 200) {
        bool other = false;
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(r->json, "organizations"), i, o) {
            cr_expect_str_eq(jstr(o, "status"), "pending");
            other |= strcmp(jstr(o, "id"), w->other_org_id) == 0;
        }
        cr_expect(other, "the pending organization is not listed: %s", r->body);
    } else if (strcmp(row->path, "(validate)") == 0 && r->status == 200) {
        cr_expect_str_eq(jstr(r->json, "status"), "validated");
        cr_expect(json_is_string(json_object_get(r->json, "validated_at")));
    } else if (strcmp(row->path, "(ugap)") == 0 && r->status == 200) {
        cr_expect(json_is_true(json_object_get(r->json, "ugap")));
    }
}

Test(gateway_identity, authorization_matrix, .timeout = 240) {
    struct world *w = calloc(1, sizeof *w);
    it_start(&w->t, NULL);
    world_build(w);
    struct it *t = &w->t;

    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
        const struct row *row = &matrix[i];
        for (int a = 0; a < N_WHO; a++) {
            char path[300], body[600] = "";
            snprintf(path, sizeof path, "%s", row->path);
            if (row->body)
                snprintf(body, sizeof body, "%s", row->body);
            if (row->prep)
                row->prep(w, (enum who)a, path, sizeof path, body, sizeof body);
            struct resp r = call(t, row->method, path, a == VISITOR ? NULL : w->who[a].token, body[0] ? body : NULL);
            cr_expect_eq(r.status, row->want[a], "%s %s as %s: %ld %s", row->method, path, who_name[a], r.status,
                         r.body);
            if (r.status >= 400) {
                cr_expect(json_is_string(json_object_get(json_object_get(r.json, "error"), "request_id")),
                          "error body: %s", r.body);
                if (r.status == 401 && a == VISITOR && strcmp(row->method, "POST") != 0)
                    cr_expect_str_eq(r.www_auth, "Bearer");
            }
            check_shapes(w, row, (enum who)a, &r);
            resp_free(&r);
        }
    }

    /* Nothing of the buyer organization was touched by the others: the user's name is the buyer
     * admin's change (the 404s did not write), the victim is gone, the detached account too. */
    struct actor *ba = &w->who[BUYER_ADMIN];
    login(t, ba); /* the matrix ended with a logout */
    struct resp r = call(t, "GET", "/v1/organization/accounts", ba->token, NULL);
    cr_assert_eq(r.status, 200);
    bool user_seen = false, victim_seen = false;
    size_t i;
    json_t *acc;
    json_array_foreach(json_object_get(r.json, "accounts"), i, acc) {
        if (strcmp(jstr(acc, "id"), w->who[BUYER_USER].account_id) == 0) {
            user_seen = true;
            cr_expect_str_eq(jstr(acc, "name"), "Renamed user");
        }
        victim_seen |= strcmp(jstr(acc, "id"), w->buyer_victim.account_id) == 0;
    }
    cr_expect(user_seen && !victim_seen, "%s", r.body);
    resp_free(&r);
    r = call(t, "GET", "/v1/organization", ba->token, NULL);
    cr_expect_str_eq(jstr(r.json, "name"), "Renamed by buyer admin");
    resp_free(&r);
    /* After the logout row, every old token is refused at once. */
    for (int a = BUYER_USER; a < N_WHO; a++) {
        if (a == BUYER_ADMIN)
            continue;
        r = call(t, "GET", "/v1/me", w->who[a].token, NULL);
        cr_expect_eq(r.status, 401, "%s still logged in after logout", who_name[a]);
        resp_free(&r);
    }
    it_stop(t);
    free(w);
}

/* ---- sessions -------------------------------------------------------------------------------------------- */

struct poll_arg {
    const struct it *t;
    const char *token;
};

static bool me_refused(void *arg) {
    struct poll_arg *p = arg;
    struct resp r = call(p->t, "GET", "/v1/me", p->token, NULL);
    long st = r.status;
    resp_free(&r);
    return st == 401;
}

Test(gateway_identity, sessions_end_when_they_should, .timeout = 180) {
    struct it t;
    it_start(&t, NULL);
    struct actor admin = {.name = "sess-admin"}, user = {.name = "sess-user"}, second;
    struct th_cloudsim_account ca;
    signup(&t, &admin, "[\"buyer\"]", &ca);

    /* Two sessions; changing the password from one ends the other (AUTH-5) within the cache TTL. */
    second = admin;
    login(&t, &second);
    struct resp r = call(&t, "GET", "/v1/me", second.token, NULL);
    cr_assert_eq(r.status, 200);
    resp_free(&r);
    char body[300];
    snprintf(body, sizeof body, "{\"old_password\":\"%s\",\"new_password\":\"%s\"}", PASSWORD, PASSWORD2);
    r = call(&t, "PUT", "/v1/me/password", admin.token, body);
    cr_assert_eq(r.status, 204, "%s", r.body);
    resp_free(&r);
    snprintf(admin.password, sizeof admin.password, "%s", PASSWORD2);
    struct poll_arg pa = {&t, second.token};
    cr_expect(th_eventually(me_refused, &pa, 3000), "the other session survived a password change");
    r = call(&t, "GET", "/v1/me", admin.token, NULL);
    cr_expect_eq(r.status, 200, "the session that changed the password must live on");
    resp_free(&r);
    /* The old password no longer logs in. */
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", admin.email, PASSWORD);
    r = call(&t, "POST", "/v1/sessions", NULL, body);
    cr_expect_eq(r.status, 401, "%s", r.body);
    cr_expect_str_eq(resp_code(&r), "unauthenticated");
    resp_free(&r);

    /* A deleted account's session stops working within the cache TTL (1 s), not later. */
    add_member(&t, &admin, &user, "[\"user\"]", true);
    r = call(&t, "GET", "/v1/me", user.token, NULL); /* now cached */
    cr_assert_eq(r.status, 200);
    resp_free(&r);
    char path[120];
    snprintf(path, sizeof path, "/v1/organization/accounts/%s", user.account_id);
    r = call(&t, "DELETE", path, admin.token, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    resp_free(&r);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pa.token = user.token;
    cr_expect(th_eventually(me_refused, &pa, 3000), "a deleted account's token still works after 3 s");
    clock_gettime(CLOCK_MONOTONIC, &b);
    double waited = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    cr_expect(waited < 1.5, "the deleted account got through for %.2f s (cache TTL is 1 s)", waited);

    /* 2FA (AUTH-6): enrol, confirm with a real code; login then needs the code. */
    r = call(&t, "POST", "/v1/me/2fa", admin.token, NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char secret[80], code[7];
    snprintf(secret, sizeof secret, "%s", jstr(r.json, "secret"));
    resp_free(&r);
    r = call(&t, "POST", "/v1/me/2fa/confirm", admin.token, "{\"code\":\"000000\"}");
    cr_expect(r.status == 401 || r.status == 400, "a wrong code confirmed 2FA: %ld", r.status);
    resp_free(&r);
    totp_now(secret, 0, code);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    r = call(&t, "POST", "/v1/me/2fa/confirm", admin.token, body);
    cr_assert_eq(r.status, 204, "%s", r.body);
    resp_free(&r);
    r = call(&t, "GET", "/v1/me", admin.token, NULL);
    cr_expect(json_is_true(json_object_get(r.json, "otp_enabled")), "%s", r.body);
    resp_free(&r);
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", admin.email, admin.password);
    r = call(&t, "POST", "/v1/sessions", NULL, body);
    cr_expect_eq(r.status, 401);
    cr_expect_str_eq(resp_code(&r), "otp_required", "%s", r.body);
    resp_free(&r);
    totp_now(secret, 1, code); /* the next step: the confirmed one cannot be used twice */
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\",\"otp\":\"%s\"}", admin.email, admin.password,
             code);
    r = call(&t, "POST", "/v1/sessions", NULL, body);
    cr_expect_eq(r.status, 201, "login with the code: %s", r.body);
    resp_free(&r);

    /* Logout ends the session at once on this gateway (no cache delay). */
    r = call(&t, "GET", "/v1/me", admin.token, NULL); /* cached */
    cr_assert_eq(r.status, 200);
    resp_free(&r);
    r = call(&t, "DELETE", "/v1/sessions/current", admin.token, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    resp_free(&r);
    r = call(&t, "GET", "/v1/me", admin.token, NULL);
    cr_expect_eq(r.status, 401, "logged-out token accepted: %s", r.body);
    resp_free(&r);
    it_stop(&t);
}

/* ---- pages: one cursor convention for every list ------------------------------------------------------------ */

#define WALK_FIRST 7   /* accounts before the walk: the admin and six members */
#define WALK_MAX 32

struct walk {
    char ids[WALK_MAX][40];
    int n;
    int pages;
};

static int walk_find(const struct walk *w, const char *id) {
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->ids[i], id) == 0)
            return i;
    return -1;
}

/* One page of /v1/organization/accounts?limit=3&cursor=...: its ids are appended to w (a duplicate
 * fails the test); the next cursor goes into next ("" on the last page). */
static void walk_page(const struct it *t, const struct actor *admin, struct walk *w, char next[CURSOR_TEXT_MAX]) {
    char path[CURSOR_TEXT_MAX + 64];
    snprintf(path, sizeof path, "/v1/organization/accounts?limit=3%s%s", next[0] ? "&cursor=" : "", next);
    struct resp r = call(t, "GET", path, admin->token, NULL);
    cr_assert_eq(r.status, 200, "page %d: %ld %s", w->pages + 1, r.status, r.body);
    json_t *accs = json_object_get(r.json, "accounts"), *nc = json_object_get(r.json, "next_cursor");
    cr_assert(json_is_array(accs), "%s", r.body);
    cr_assert(json_is_null(nc) || json_is_string(nc), "next_cursor: %s", r.body);
    cr_expect_leq(json_array_size(accs), 3, "the page is larger than its limit: %s", r.body);
    size_t i;
    json_t *acc;
    json_array_foreach(accs, i, acc) {
        const char *id = jstr(acc, "id");
        cr_expect_eq(walk_find(w, id), -1, "account %s listed twice (page %d)", id, w->pages + 1);
        cr_assert_lt(w->n, WALK_MAX);
        snprintf(w->ids[w->n++], sizeof w->ids[0], "%s", id);
    }
    w->pages++;
    snprintf(next, CURSOR_TEXT_MAX, "%s", json_is_string(nc) ? json_string_value(nc) : "");
    cr_expect(next[0] || json_array_size(accs) <= 3);
    resp_free(&r);
}

Test(gateway_identity, pages_are_stable_under_inserts_and_deletes, .timeout = 240) {
    struct it t;
    it_start(&t, NULL);
    struct actor admin = {.name = "page-admin"}, other = {.name = "page-other"};
    struct actor members[WALK_FIRST - 1 + 6];
    char names[WALK_FIRST - 1 + 6][16];
    struct th_cloudsim_account ca, cb;
    signup(&t, &admin, "[\"buyer\"]", &ca);
    char before[WALK_FIRST][40];
    snprintf(before[0], sizeof before[0], "%s", admin.account_id);
    for (int i = 0; i < WALK_FIRST - 1; i++) {
        snprintf(names[i], sizeof names[i], "member%d", i);
        members[i] = (struct actor){.name = names[i]};
        add_member(&t, &admin, &members[i], "[\"user\"]", false);
        snprintf(before[i + 1], sizeof before[i + 1], "%s", members[i].account_id);
    }

    /* Walk three at a time; between pages, two accounts arrive and an account already shown leaves. */
    struct walk w = {0};
    char next[CURSOR_TEXT_MAX] = "", added[6][40];
    int n_added = 0;
    walk_page(&t, &admin, &w, next);
    cr_assert_eq(w.n, 3, "the first page is full");
    cr_assert(next[0], "seven accounts do not fit on one page of three");
    for (int round = 0; next[0] && round < 10; round++) {
        if (n_added < 6) {
            for (int k = 0; k < 2; k++, n_added++) {
                int m = WALK_FIRST - 1 + n_added;
                snprintf(names[m], sizeof names[m], "late%d", n_added);
                members[m] = (struct actor){.name = names[m]};
                add_member(&t, &admin, &members[m], "[\"user\"]", false);
                snprintf(added[n_added], sizeof added[n_added], "%s", members[m].account_id);
            }
            char path[120];
            snprintf(path, sizeof path, "/v1/organization/accounts/%s", w.ids[w.n - 1]); /* shown already */
            struct resp r = call(&t, "DELETE", path, admin.token, NULL);
            cr_expect_eq(r.status, 204, "%s", r.body);
            resp_free(&r);
        }
        walk_page(&t, &admin, &w, next);
    }
    cr_expect_eq(next[0], '\0', "the walk never ended");
    for (int i = 0; i < WALK_FIRST; i++)
        cr_expect_neq(walk_find(&w, before[i]), -1, "account %s (there before the walk) was skipped", before[i]);
    /* The late ones sort after every page already read (creation order), so the walk meets them. */
    for (int i = 0; i < n_added; i++)
        cr_expect_neq(walk_find(&w, added[i]), -1, "account %s (added during the walk) was skipped", added[i]);
    cr_expect_geq(w.pages, 4, "%d pages", w.pages);

    /* Every list has a maximum page size, named in the refusal. */
    struct resp r = call(&t, "GET", "/v1/organization/accounts?limit=1000", admin.token, NULL);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect_str_eq(resp_code(&r), "invalid");
    cr_expect(strstr(err_msg(&r), "'limit'"), "%s", err_msg(&r));
    resp_free(&r);
    r = call(&t, "GET", "/v1/organization/outscale-accounts?limit=1000", admin.token, NULL);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect(strstr(err_msg(&r), "'limit'"), "%s", err_msg(&r));
    resp_free(&r);

    /* A cursor of this list, modified, truncated, or replayed by another organization: refused. */
    r = call(&t, "GET", "/v1/organization/accounts?limit=2", admin.token, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char good[CURSOR_TEXT_MAX];
    snprintf(good, sizeof good, "%s", jstr(r.json, "next_cursor"));
    resp_free(&r);
    cr_assert(strlen(good) > 8);
    char bad[3][CURSOR_TEXT_MAX];
    snprintf(bad[0], sizeof bad[0], "%s", good);
    bad[0][strlen(bad[0]) / 2] = bad[0][strlen(bad[0]) / 2] == 'A' ? 'B' : 'A';
    snprintf(bad[1], sizeof bad[1], "%.*s", (int)strlen(good) - 2, good);
    snprintf(bad[2], sizeof bad[2], "not-a-cursor");
    for (int i = 0; i < 3; i++) {
        char path[CURSOR_TEXT_MAX + 64];
        snprintf(path, sizeof path, "/v1/organization/accounts?limit=2&cursor=%s", bad[i]);
        r = call(&t, "GET", path, admin.token, NULL);
        cr_expect_eq(r.status, 400, "bad cursor %d: %s", i, r.body);
        cr_expect_str_eq(err_msg(&r), CURSOR_REFUSED);
        resp_free(&r);
    }
    signup(&t, &other, "[\"seller\"]", &cb);
    char path[CURSOR_TEXT_MAX + 64];
    snprintf(path, sizeof path, "/v1/organization/accounts?limit=2&cursor=%s", good);
    r = call(&t, "GET", path, other.token, NULL);
    cr_expect_eq(r.status, 400, "another organization's cursor: %s", r.body);
    cr_expect_str_eq(err_msg(&r), CURSOR_REFUSED);
    resp_free(&r);
    /* ... and the other lists speak the same shape. */
    r = call(&t, "GET", "/v1/organization/outscale-accounts?limit=1", admin.token, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_array_size(json_object_get(r.json, "outscale_accounts")), 1);
    cr_expect(json_is_null(json_object_get(r.json, "next_cursor")), "one OUTSCALE account, one page: %s", r.body);
    resp_free(&r);
    it_stop(&t);
}

/* ---- bad input: the right 4xx and nothing written ------------------------------------------------------------ */

static long long count(const struct it *t, const char *table) {
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.%s", t->schema, table);
    char *v = th_sql(sql);
    long long n = v ? atoll(v) : -1;
    free(v);
    return n;
}

Test(gateway_identity, bad_input_writes_nothing, .timeout = 180) {
    struct it t;
    it_start(&t, NULL);
    struct actor admin = {.name = "bad-admin"};
    struct th_cloudsim_account ca;
    signup(&t, &admin, "[\"seller\"]", &ca);
    struct th_cloudsim_account fresh = th_cloudsim_account_new("bad-fresh", t.run);

    long long orgs = count(&t, "organizations"), accounts = count(&t, "accounts"), osc = count(&t, "outscale_accounts");
    char keys[200], big_name[400], body[2000];
    snprintf(keys, sizeof keys, "\"access_key\":\"%s\",\"secret_key\":\"%s\"", fresh.access_key, fresh.secret_key);
    memset(big_name, 'n', 201);
    big_name[201] = '\0';

    struct {
        const char *method, *path;
        bool as_admin;
        char body[1200];
        long status;
        const char *code, *mentions;
    } cases[] = {
        {"POST", "/v1/signup", false, "", 400, "invalid", "organization"},
        {"POST", "/v1/signup", false, "{\"organization\":", 400, "invalid", "JSON"},
        {"POST", "/v1/signup", false, "[1,2]", 400, "invalid", "object"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "organization.types[0]"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "organization.name"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "organization.region"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "admin.language"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "admin.name"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "organization.name"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "outscale.vat"},
        {"POST", "/v1/signup", false, "", 400, "invalid", "outscale.secret_key"},
        {"POST", "/v1/password/forgot", false, "{\"email\":\"not-an-address\"}", 400, "invalid", "email"},
        {"POST", "/v1/password/forgot", false, "{\"email\":42}", 400, "invalid", "email"},
        {"POST", "/v1/password/set", false, "{\"token\":\"a b c d e f g h i j k\",\"password\":\"x\"}", 400, "invalid",
         "token"},
        {"POST", "/v1/sessions", false, "{\"email\":\"x@example.com\",\"password\":\"p\",\"otp\":\"12\"}", 400,
         "invalid", "otp"},
        {"POST", "/v1/organization/accounts", true, "{\"name\":\"X\",\"email\":\"x@\",\"roles\":[\"user\"]}", 400,
         "invalid", "email"},
        {"POST", "/v1/organization/accounts", true, "{\"name\":\"X\",\"email\":\"x@example.com\",\"roles\":[\"owner\"]}",
         400, "invalid", "roles[0]"},
        {"POST", "/v1/organization/accounts", true,
         "{\"name\":\"X\",\"email\":\"x@example.com\",\"roles\":[\"user\"],\"language\":\"de\"}", 400, "invalid",
         "language"},
        {"POST", "/v1/organization/accounts", true,
         "{\"name\":\"X\",\"email\":\"x@example.com\",\"roles\":[\"user\"],\"admin\":true}", 400, "invalid", "admin"},
        {"POST", "/v1/organization/accounts", true, "{\"name\":[],\"email\":\"x@example.com\",\"roles\":[\"user\"]}",
         400, "invalid", "name"},
        {"POST", "/v1/organization/outscale-accounts", true, "{\"access_key\":\"AK\"}", 400, "invalid", "access_key"},
        {"PATCH", "/v1/organization", true, "{}", 400, "invalid", "nothing to change"},
        {"PATCH", "/v1/organization/accounts/not-a-uuid", true, "{\"name\":\"x\"}", 400, "invalid", "'id'"},
        {"DELETE", "/v1/organization/outscale-accounts/123456789012", true, "", 400, "invalid", "'id'"},
        {"DELETE", "/v1/organization/accounts/0190a0a0-0000-7000-8000-000000000000", true, "", 404, "not_found", ""},
        {"PUT", "/v1/me/password", true, "{\"old_password\":\"" PASSWORD "\",\"new_password\":\"weak\"}", 400,
         "invalid", ""},
        {"POST", "/v1/me/2fa/confirm", true, "{\"code\":123456}", 400, "invalid", "code"},
        {"GET", "/v1/me", false, "", 401, "unauthenticated", ""},
        {"POST", "/v1/sessions", false, "{\"method\":\"certificate\"}", 501, "unsupported", "certificate"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    /* The bodies that need formatting. */
    snprintf(cases[3].body, sizeof cases[3].body,
             "{\"organization\":{\"name\":\"X\",\"types\":[\"broker\"]},\"outscale\":{%s},\"admin\":{\"name\":\"A\"}}", keys);
    snprintf(cases[4].body, sizeof cases[4].body,
             "{\"organization\":{\"name\":7,\"types\":[\"buyer\"]},\"outscale\":{%s},\"admin\":{\"name\":\"A\"}}", keys);
    snprintf(cases[5].body, sizeof cases[5].body,
             "{\"organization\":{\"name\":\"X\",\"types\":[\"buyer\"],\"region\":\"us-east-1\"},\"outscale\":{%s},"
             "\"admin\":{\"name\":\"A\"}}",
             keys);
    snprintf(cases[6].body, sizeof cases[6].body,
             "{\"organization\":{\"name\":\"X\",\"types\":[\"buyer\"]},\"outscale\":{%s},\"admin\":{\"name\":\"A\","
             "\"language\":\"de\"}}",
             keys);
    snprintf(cases[7].body, sizeof cases[7].body,
             "{\"organization\":{\"name\":\"X\",\"types\":[\"buyer\"]},\"outscale\":{%s},\"admin\":{}}", keys);
    snprintf(cases[8].body, sizeof cases[8].body,
             "{\"organization\":{\"name\":\"%s\",\"types\":[\"buyer\"]},\"outscale\":{%s},\"admin\":{\"name\":\"A\"}}",
             big_name, keys);
    snprintf(cases[9].body, sizeof cases[9].body,
             "{\"organization\":{\"name\":\"X\",\"types\":[\"buyer\"]},\"outscale\":{%s,\"vat\":\"FR\"},\"admin\":{\"name\":"
             "\"A\"}}",
             keys);
    snprintf(cases[10].body, sizeof cases[10].body,
             "{\"organization\":{\"name\":\"X\",\"types\":[\"buyer\"]},\"outscale\":{\"access_key\":\"%s\"},\"admin\":"
             "{\"name\":\"A\"}}",
             fresh.access_key);
    for (size_t i = 0; i < n; i++) {
        struct resp r = call(&t, cases[i].method, cases[i].path, cases[i].as_admin ? admin.token : NULL,
                             cases[i].body[0] ? cases[i].body : NULL);
        cr_expect_eq(r.status, cases[i].status, "case %zu %s %s: %ld %s", i, cases[i].method, cases[i].path, r.status,
                     r.body);
        cr_expect_str_eq(resp_code(&r), cases[i].code, "case %zu: %s", i, r.body);
        cr_expect(strstr(err_msg(&r), cases[i].mentions), "case %zu: '%s' does not mention '%s'", i, err_msg(&r),
                  cases[i].mentions);
        resp_free(&r);
    }

    /* Malformed tokens: 401 (identity is not asked; nothing to see but the status). */
    static const char *const bad_tokens[] = {"Bearer x", "Bearer a.b.c.d.e.f.g.h.i.j.k", "Basic dXNlcjpwYXNz",
                                             "Bearer =================="};
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        struct resp r = call(&t, "GET", "/v1/me", bad_tokens[i], NULL);
        cr_expect_eq(r.status, 401, "%s: %ld", bad_tokens[i], r.status);
        cr_expect_str_eq(resp_code(&r), "unauthenticated");
        resp_free(&r);
    }
    /* A well-formed token nobody issued: identity says no. */
    struct resp r = call(&t, "GET", "/v1/me", "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL);
    cr_expect_eq(r.status, 401);
    resp_free(&r);

    /* An oversized body never reaches a handler. */
    size_t big = 2u << 20;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    r = call(&t, "POST", "/v1/signup", NULL, huge);
    cr_expect_eq(r.status, 413);
    cr_expect_str_eq(resp_code(&r), "too_large");
    resp_free(&r);
    free(huge);

    /* A weak password on a valid link is refused by identity (AUTH-1, the rule named) and the link
     * stays usable. */
    struct actor second = {.name = "bad-second"};
    add_member(&t, &admin, &second, "[\"user\"]", false);
    accounts = count(&t, "accounts");
    char tok[TH_MAILDIR_TOKEN_MAX];
    th_maildir_token(second.email, "set-password", tok);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"password\":\"short\"}", tok);
    r = call(&t, "POST", "/v1/password/set", NULL, body);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect_str_eq(resp_code(&r), "invalid");
    cr_expect(strlen(err_msg(&r)) > 0);
    resp_free(&r);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"password\":\"%s\"}", tok, PASSWORD);
    r = call(&t, "POST", "/v1/password/set", NULL, body);
    cr_expect_eq(r.status, 204, "the link died with the weak attempt: %s", r.body);
    resp_free(&r);

    cr_expect_eq(count(&t, "organizations"), orgs, "an organization was written by a refused request");
    cr_expect_eq(count(&t, "accounts"), accounts, "an account was written by a refused request");
    cr_expect_eq(count(&t, "outscale_accounts"), osc, "an OUTSCALE account was written by a refused request");
    it_stop(&t);
}

/* ---- throttling ------------------------------------------------------------------------------------------------ */

Test(gateway_identity, throttled_with_retry_after, .timeout = 180) {
    static const char *const identity_env[] = {"MKT_LOGIN_MAX_FAILURES=3", "MKT_LOGIN_WINDOW_S=60", NULL};
    struct it t;
    it_start(&t, identity_env);
    struct actor admin = {.name = "thr-admin"};
    struct th_cloudsim_account ca;
    signup(&t, &admin, "[\"buyer\"]", &ca);

    /* AUTH-8: failed logins for one account -> 429 from identity, Retry-After passed on. */
    char body[300];
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"Wrong!Passw0rd1\"}", admin.email);
    long last = 0;
    struct resp r = {0};
    for (int i = 0; i < 8 && last != 429; i++) {
        resp_free(&r);
        r = call(&t, "POST", "/v1/sessions", NULL, body);
        last = r.status;
        cr_expect(last == 401 || last == 429, "attempt %d: %ld %s", i, last, r.body);
    }
    cr_expect_eq(last, 429, "failed logins were never throttled");
    cr_expect_str_eq(resp_code(&r), "throttled");
    cr_expect(atoi(r.retry_after) >= 1, "Retry-After: '%s'", r.retry_after);
    resp_free(&r);
    /* Even the right password waits now. */
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", admin.email, admin.password);
    r = call(&t, "POST", "/v1/sessions", NULL, body);
    cr_expect_eq(r.status, 429, "%s", r.body);
    resp_free(&r);

    /* The gateway's own limit per client address: a second gateway at 1/s, burst 3. */
    char url2[64];
    struct th_proc gw2 = start_gateway(&t, url2, "1", "3");
    struct ready_arg ra = {url2, "identity"};
    cr_assert(th_eventually(service_up, &ra, 30000));
    char u[128];
    snprintf(u, sizeof u, "%s/v1/me", url2);
    long st = 0;
    for (int i = 0; i < 10 && st != 429; i++) {
        struct resp x = http("GET", u, admin.token, NULL);
        st = x.status;
        if (st == 429) {
            cr_expect_str_eq(x.retry_after, "1");
            cr_expect_str_eq(resp_code(&x), "throttled");
        }
        resp_free(&x);
    }
    cr_expect_eq(st, 429, "the gateway's rate limit never applied");
    snprintf(u, sizeof u, "%s/healthz", url2);
    struct resp h = http("GET", u, NULL, NULL);
    cr_expect_eq(h.status, 200, "probes are not rate-limited");
    resp_free(&h);
    cr_expect_eq(th_stop(&gw2, SIGTERM, 20000), 0);
    it_stop(&t);
}
