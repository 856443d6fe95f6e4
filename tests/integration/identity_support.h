/* Shared by the identity integration tests (tests/integration/identity_*.c): start identity (its
 * own schema, role, durable consumer and clock file) and the notifier; call identity over NATS as
 * the gateway does (resolve a token into an actor, pass it in the envelope); sign-up with a fresh
 * emulator account (tests/support/cloudsim.h) and links read from the mails the SMTP sink received
 * (tests/support/maildir.h); what identity built in the emulator; TOTP codes from lib/otp, the code
 * identity checks them with, at identity's shifted time. Everything is static: each test file is
 * its own program. */
#ifndef IDENTITY_IT_SUPPORT_H
#define IDENTITY_IT_SUPPORT_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "cloud.h"
#include "cloudsim.h"
#include "crypto.h"
#include "harness.h"
#include "identity.pb-c.h"
#include "maildir.h"
#include "otp.h"

#define IDT_FN static __attribute__((unused))
#define IDT_PASSWORD "Correct-Horse-9-Battery"
#define IDT_PASSWORD2 "Another-Strong-8-Secret"
#define IDT_WAIT_MS 30000

struct idt {
    char run[16];                /* unique suffix of this test's names */
    char schema[40];
    char *dsn;
    char clock_file[300];
    double clock_offset_s;
    char env[24][400];
    const char *envp[25];
    int n_env;
    struct th_proc identity, notifier;
    bool notifier_started;
    struct bus *bus;
};

/* The running test's processes, stopped by idt_fini when an assertion ended the test early (so
 * that no identity from a failed test keeps answering in the "identity" queue group). */
static struct idt *idt_current;

IDT_FN void idt_env_add(struct idt *t, const char *fmt, const char *value) {
    cr_assert(t->n_env < 24);
    snprintf(t->env[t->n_env], sizeof t->env[0], fmt, value);
    t->envp[t->n_env] = t->env[t->n_env];
    t->n_env++;
    t->envp[t->n_env] = NULL;
}

IDT_FN void idt_clock_set(struct idt *t, double offset_s) {
    FILE *f = fopen(t->clock_file, "w");
    cr_assert(f, "clock file %s", t->clock_file);
    fprintf(f, "%.3f\n", offset_s);
    fclose(f);
    t->clock_offset_s = offset_s;
    th_sleep_ms(60); /* services re-read the file at most every 20 ms */
}

/* Identity's wall clock as the test set it. */
IDT_FN mkt_time idt_now(const struct idt *t) {
    return clock_now() + (mkt_time)(t->clock_offset_s * 1e6);
}

/* Moves identity's clock forward to the middle of a 30 s TOTP step, so that codes computed here
 * are checked within the same step (no flake at a step boundary). */
IDT_FN void idt_clock_mid_step(struct idt *t) {
    double now_s = (double)idt_now(t) / 1e6;
    double into = now_s - 30.0 * (double)(long long)(now_s / 30.0);
    idt_clock_set(t, t->clock_offset_s + (into <= 15.0 ? 15.0 - into : 45.0 - into));
}

IDT_FN bool idt_identity_ready(void *arg) {
    struct idt *t = arg;
    struct err e = {0};
    Mkt__PingRequest req = MKT__PING_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    err_code code = bus_call(t->bus, "identity", "ping", NULL, &req.base, &mkt__ping_reply__descriptor, &rep, 500, &e);
    if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return code == ERR_OK;
}

IDT_FN void idt_start_identity(struct idt *t) {
    t->identity = th_spawn("identity", NULL, t->envp);
    cr_assert(th_eventually(idt_identity_ready, t, 60000), "identity not answering within 60 s");
}

/* Starts identity (own schema and consumer, shifted clock at 0) and the notifier. `extra` are
 * more "KEY=VALUE" settings for identity (NULL-terminated, may be NULL). */
IDT_FN void idt_start(struct idt *t, const char *const *extra, bool with_notifier) {
    memset(t, 0, sizeof *t);
    idt_current = t;
    th_unique("", t->run, sizeof t->run);
    snprintf(t->schema, sizeof t->schema, "idt_%s", t->run);
    t->dsn = th_service_dsn(t->schema);
    snprintf(t->clock_file, sizeof t->clock_file, "%s/clock-%s", th_env("MKT_TEST_TMP"), t->run);
    idt_clock_set(t, 0);
    uint8_t key[32];
    char b64[64];
    crypto_random(key, sizeof key);
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    idt_env_add(t, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    idt_env_add(t, "MKT_PG_DSN=%s", t->dsn);
    idt_env_add(t, "MKT_VAULT_KEY=%s", b64);
    idt_env_add(t, "OSC_ENDPOINT_API=%s", th_env("MKT_TEST_CLOUD_URL"));
    idt_env_add(t, "MKT_CLOCK_FILE=%s", t->clock_file);
    idt_env_add(t, "MKT_ARGON2_OPS=%s", "1");
    idt_env_add(t, "MKT_ARGON2_MEM_KIB=%s", "64");
    idt_env_add(t, "MKT_MAINTENANCE_MS=%s", "200");
    idt_env_add(t, "MKT_DRAIN_MS=%s", "10000");
    idt_env_add(t, "MKT_CLOUD_MAX_TRIES=%s", "2");
    idt_env_add(t, "MKT_IDENTITY_CONSUMER=idt-%s", t->run);
    idt_env_add(t, "MKT_OPERATOR_EMAIL=operator-%s@marketplace.example", t->run);
    idt_env_add(t, "MKT_OPERATOR_PASSWORD=%s", IDT_PASSWORD);
    for (int i = 0; extra && extra[i]; i++)
        idt_env_add(t, "%s", extra[i]);
    struct err e = {0};
    cr_assert_eq(bus_new(th_env("MKT_TEST_NATS_URL"), "identity-it", &t->bus, &e), ERR_OK, "%s", e.msg);
    if (with_notifier) {
        t->notifier = th_spawn_notifier();
        t->notifier_started = true;
    }
    idt_start_identity(t);
}

IDT_FN void idt_stop(struct idt *t) {
    if (t->identity.pid > 0)
        cr_expect_eq(th_stop(&t->identity, SIGTERM, 30000), 0, "identity did not exit 0 after SIGTERM");
    t->identity.pid = 0;
    if (t->notifier_started)
        cr_expect_eq(th_stop(&t->notifier, SIGTERM, 30000), 0, "notifier did not exit 0 after SIGTERM");
    t->notifier_started = false;
    bus_free(t->bus);
    t->bus = NULL;
    free(t->dsn);
    t->dsn = NULL;
    idt_current = NULL;
}

/* .fini of every identity test: after a failed assertion, stop what the test started. */
IDT_FN void idt_fini(void) {
    struct idt *t = idt_current;
    if (!t)
        return;
    if (t->identity.pid > 0 && th_alive(&t->identity))
        th_stop(&t->identity, SIGTERM, 15000);
    if (t->notifier_started && th_alive(&t->notifier))
        th_stop(&t->notifier, SIGTERM, 15000);
    idt_current = NULL;
}

/* ---- calls ---------------------------------------------------------------------------------------- */

/* Calls identity.<method>; on ERR_OK *out (when reply_desc) is the unpacked reply (free with
 * protobuf_c_message_free_unpacked). */
IDT_FN err_code idt_call(struct idt *t, const char *method, const Mkt__Actor *actor, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out, struct err *e) {
    struct bus_ctx ctx = {.actor = actor};
    ProtobufCMessage *rep = NULL;
    memset(e, 0, sizeof *e);
    err_code code = bus_call(t->bus, "identity", method, &ctx, req, reply_desc, &rep, 20000, e);
    if (out)
        *out = rep;
    else if (rep)
        protobuf_c_message_free_unpacked(rep, NULL);
    return code;
}

/* A logged-in person: credentials, session token, and the actor identity resolves it to. */
struct idt_who {
    char email[128];
    char password[64];
    char token[128];
    char account_id[40];
    char org_id[40];
    Mkt__Identity__ResolveReply *resolved; /* owned; its actor is what the gateway would pass */
};

IDT_FN const Mkt__Actor *idt_actor(const struct idt_who *w) { return w->resolved ? w->resolved->actor : NULL; }

IDT_FN void idt_who_cleanup(struct idt_who *w) {
    if (w->resolved)
        protobuf_c_message_free_unpacked(&w->resolved->base, NULL);
    w->resolved = NULL;
}

/* resolve(token) as the gateway does; ERR_OK fills w->resolved. */
IDT_FN err_code idt_resolve(struct idt *t, struct idt_who *w, struct err *e) {
    Mkt__Identity__TokenRequest req = MKT__IDENTITY__TOKEN_REQUEST__INIT;
    req.token = w->token;
    ProtobufCMessage *rep = NULL;
    err_code code = idt_call(t, "resolve", NULL, &req.base, &mkt__identity__resolve_reply__descriptor, &rep, e);
    if (code == ERR_OK) {
        idt_who_cleanup(w);
        w->resolved = (Mkt__Identity__ResolveReply *)rep;
        snprintf(w->account_id, sizeof w->account_id, "%s", w->resolved->actor->account_id);
        snprintf(w->org_id, sizeof w->org_id, "%s", w->resolved->actor->organization_id);
    }
    return code;
}

IDT_FN err_code idt_login_otp(struct idt *t, struct idt_who *w, const char *otp, struct err *e) {
    Mkt__Identity__LoginRequest req = MKT__IDENTITY__LOGIN_REQUEST__INIT;
    req.email = w->email;
    req.password = w->password;
    req.otp = (char *)(otp ? otp : "");
    req.client_addr = "192.0.2.10";
    ProtobufCMessage *rep = NULL;
    err_code code = idt_call(t, "login", NULL, &req.base, &mkt__identity__login_reply__descriptor, &rep, e);
    if (code != ERR_OK)
        return code;
    snprintf(w->token, sizeof w->token, "%s", ((Mkt__Identity__LoginReply *)rep)->token);
    protobuf_c_message_free_unpacked(rep, NULL);
    return idt_resolve(t, w, e);
}

IDT_FN void idt_login(struct idt *t, struct idt_who *w) {
    struct err e = {0};
    cr_assert_eq(idt_login_otp(t, w, NULL, &e), ERR_OK, "login %s: %s: %s", w->email, err_code_name(e.code), e.msg);
}

/* ---- the cloud emulator ------------------------------------------------------------------------------------ */

/* What the emulator holds for the platform in one account. */
struct idt_eim_view {
    bool group;                 /* marketplace_group exists */
    bool group_has_policy;      /* marketplace_policy linked to it */
    bool platform_has_policy;   /* ... and to marketplace_platform directly */
    int users;                  /* EIM users named marketplace_* (the platform's included) */
    char members[1024];         /* group members, space-separated */
    char names[1024];           /* all user names, space-separated */
    int active_platform_keys;
};

IDT_FN struct idt_eim_view idt_eim_view(const struct th_cloudsim_account *a) {
    struct idt_eim_view v;
    memset(&v, 0, sizeof v);
    struct cloud *c = th_cloudsim_client(a);
    struct cloud_users *users = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_users(c, NULL, &users, &e), ERR_OK, "%s", e.msg);
    for (size_t i = 0; i < users->n; i++) {
        if (strncmp(users->items[i].user_name, "marketplace_", 12) == 0)
            v.users++;
        size_t used = strlen(v.names);
        snprintf(v.names + used, sizeof v.names - used, "%s ", users->items[i].user_name);
    }
    cloud_users_free(users);
    json_t *g = NULL;
    if (cloud_call(c, "ReadUserGroup", json_pack("{s:s}", "UserGroupName", "marketplace_group"), &g, &e) == ERR_OK) {
        v.group = true;
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(g, "Users"), i, u) {
            size_t used = strlen(v.members);
            snprintf(v.members + used, sizeof v.members - used, "%s ", json_string_value(json_object_get(u, "UserName")));
        }
        json_decref(g);
        json_t *l = NULL;
        cr_assert_eq(cloud_call(c, "ReadManagedPoliciesLinkedToUserGroup",
                                json_pack("{s:s}", "UserGroupName", "marketplace_group"), &l, &e), ERR_OK, "%s", e.msg);
        json_array_foreach(json_object_get(l, "Policies"), i, u)
            v.group_has_policy |= strcmp(json_string_value(json_object_get(u, "PolicyName")), "marketplace_policy") == 0;
        json_decref(l);
    }
    json_t *l = NULL;
    if (cloud_call(c, "ReadLinkedPolicies", json_pack("{s:s}", "UserName", "marketplace_platform"), &l, &e) == ERR_OK) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(l, "Policies"), i, p)
            v.platform_has_policy |= strcmp(json_string_value(json_object_get(p, "PolicyName")), "marketplace_policy") == 0;
        json_decref(l);
    }
    struct cloud_access_keys *keys = NULL;
    if (cloud_read_access_keys(c, "marketplace_platform", &keys, &e) == ERR_OK) {
        for (size_t i = 0; i < keys->n; i++)
            v.active_platform_keys += strcmp(keys->items[i].state, "ACTIVE") == 0;
        cloud_access_keys_free(keys);
    }
    cloud_free(c);
    return v;
}

/* The EIM user name identity derives from an account id (services/identity/store_eim.c). */
IDT_FN void idt_eim_name(const char *account_id, char out[64]) {
    char hex[33];
    size_t n = 0;
    for (const char *p = account_id; *p && n < 32; p++)
        if (*p != '-')
            hex[n++] = *p;
    hex[n] = '\0';
    snprintf(out, 64, "marketplace_%s", hex + n - 16);
}

/* "<name> " is among the space-separated names. */
IDT_FN bool idt_has_name(const char *names, const char *name) {
    char needle[80];
    snprintf(needle, sizeof needle, "%s ", name);
    for (const char *p = strstr(names, needle); p; p = strstr(p + 1, needle))
        if (p == names || p[-1] == ' ')
            return true;
    return false;
}

/* ---- SQL in the test's schema ---------------------------------------------------------------------------- */

IDT_FN long idt_count(const struct idt *t, const char *table_and_where) {
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.%s", t->schema, table_and_where);
    char *v = th_sql_try(sql);
    long n = v ? atol(v) : -1;
    free(v);
    return n;
}

/* ---- flows ------------------------------------------------------------------------------------------------- */

/* Reads the set-password mail of w->email, sets w->password with its link, logs in. */
IDT_FN void idt_set_password_and_login(struct idt *t, struct idt_who *w) {
    char token[TH_MAILDIR_TOKEN_MAX];
    th_maildir_token(w->email, "set-password", token);
    Mkt__Identity__TokenPassword tp = MKT__IDENTITY__TOKEN_PASSWORD__INIT;
    tp.token = token;
    tp.password = w->password;
    struct err e = {0};
    cr_assert_eq(idt_call(t, "set_password", NULL, &tp.base, NULL, NULL, &e), ERR_OK, "set_password: %s", e.msg);
    idt_login(t, w);
}

/* Sign-up with a fresh emulator account: returns the admin, password set from the mail, logged in. */
IDT_FN void idt_signup(struct idt *t, const char *who, const char *type, struct th_cloudsim_account *cloud,
                       struct idt_who *admin) {
    *cloud = th_cloudsim_account_new(who, t->run);
    char name[80];
    snprintf(name, sizeof name, "Org %s %s", who, t->run);
    char *types[] = {(char *)type};
    Mkt__Identity__SignupRequest req = MKT__IDENTITY__SIGNUP_REQUEST__INIT;
    req.organization_name = name;
    req.types = types;
    req.n_types = 1;
    req.access_key = cloud->access_key;
    req.secret_key = cloud->secret_key;
    req.admin_name = (char *)who;
    req.admin_language = "en";
    ProtobufCMessage *rep = NULL;
    struct err e = {0};
    cr_assert_eq(idt_call(t, "signup", NULL, &req.base, &mkt__identity__signup_reply__descriptor, &rep, &e), ERR_OK,
                 "signup: %s: %s", err_code_name(e.code), e.msg);
    Mkt__Identity__SignupReply *r = (Mkt__Identity__SignupReply *)rep;
    cr_expect_str_eq(r->status, "pending");
    memset(admin, 0, sizeof *admin);
    snprintf(admin->org_id, sizeof admin->org_id, "%s", r->organization_id);
    protobuf_c_message_free_unpacked(rep, NULL);
    snprintf(admin->email, sizeof admin->email, "%s", cloud->email); /* ORG-2: the OUTSCALE account's e-mail */
    snprintf(admin->password, sizeof admin->password, "%s", IDT_PASSWORD);
    idt_set_password_and_login(t, admin);
}

/* An account created by `admin` with `role`, its password set from its mail, logged in. */
IDT_FN void idt_add_account(struct idt *t, struct idt_who *admin, const char *who, const char *role,
                            struct idt_who *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->email, sizeof out->email, "%s-%s@example.com", who, t->run);
    snprintf(out->password, sizeof out->password, "%s", IDT_PASSWORD);
    char *roles[] = {(char *)role};
    Mkt__Identity__CreateAccount req = MKT__IDENTITY__CREATE_ACCOUNT__INIT;
    req.name = (char *)who;
    req.email = out->email;
    req.roles = roles;
    req.n_roles = 1;
    req.language = "fr";
    ProtobufCMessage *rep = NULL;
    struct err e = {0};
    cr_assert_eq(idt_call(t, "create_account", idt_actor(admin), &req.base, &mkt__identity__account__descriptor, &rep,
                          &e), ERR_OK, "create_account: %s: %s", err_code_name(e.code), e.msg);
    protobuf_c_message_free_unpacked(rep, NULL);
    idt_set_password_and_login(t, out);
}

/* The TOTP code of `step_shift` steps from identity's now, for a base32 secret. */
IDT_FN void idt_totp(const struct idt *t, const char *b32, int step_shift, char out[OTP_DIGITS + 1]) {
    cr_assert(otp_code_at(b32, idt_now(t), step_shift, out), "not a base32 secret: '%s'", b32);
}

#endif
