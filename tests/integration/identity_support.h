/* Shared by the identity integration tests (tests/integration/identity_*.c): start identity (its
 * own schema, role, durable consumer and clock file) and the notifier; call identity over NATS as
 * the gateway does (resolve a token into an actor, pass it in the envelope); fresh emulator
 * accounts; links read from the mails the SMTP sink received; TOTP codes from the service's own
 * pure totp.c (included below, so the tests compute codes exactly as identity checks them).
 * Everything is static: each test file is its own program. */
#ifndef IDENTITY_IT_SUPPORT_H
#define IDENTITY_IT_SUPPORT_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus.h"
#include "clock.h"
#include "cloud.h"
#include "crypto.h"
#include "harness.h"
#include "identity.pb-c.h"

/* The pure TOTP of the service itself (and its SHA-1). */
#include "../../services/identity/sha1.c"
#include "../../services/identity/totp.c"

#define IDT_FN static __attribute__((unused))
#define IDT_PASSWORD "Correct-Horse-9-Battery"
#define IDT_PASSWORD2 "Another-Strong-8-Secret"
#define IDT_REGION "cloudgouv-eu-west-1"
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
    struct err e;
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
    struct err e;
    cr_assert_eq(bus_connect(th_env("MKT_TEST_NATS_URL"), "identity-it", &t->bus, &e), ERR_OK, "%s", e.msg);
    if (with_notifier) {
        char *ndsn = th_service_dsn("notifier");
        char nenv[5][400];
        snprintf(nenv[0], 400, "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
        snprintf(nenv[1], 400, "MKT_PG_DSN=%s", ndsn);
        snprintf(nenv[2], 400, "MKT_SMTP_URL=%s", th_env("MKT_TEST_SMTP_URL"));
        snprintf(nenv[3], 400, "MKT_TEMPLATES_DIR=%s/services/notifier/templates", th_env("MKT_TEST_ROOT"));
        snprintf(nenv[4], 400, "MKT_DRAIN_MS=5000");
        const char *ne[] = {nenv[0], nenv[1], nenv[2], nenv[3], nenv[4], NULL};
        t->notifier = th_spawn("notifier", NULL, ne);
        t->notifier_started = true;
        free(ndsn);
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
    struct err e;
    cr_assert_eq(idt_login_otp(t, w, NULL, &e), ERR_OK, "login %s: %s: %s", w->email, err_code_name(e.code), e.msg);
}

/* ---- mail --------------------------------------------------------------------------------------------- */

IDT_FN char *idt_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* Quoted-printable soft breaks and =XX escapes undone (good enough for links). */
IDT_FN void idt_qp_decode(char *s) {
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '=' && r[1] == '\r' && r[2] == '\n') {
            r += 3;
        } else if (r[0] == '=' && r[1] == '\n') {
            r += 2;
        } else if (r[0] == '=' && r[1] && r[2] && strchr("0123456789ABCDEF", r[1]) && strchr("0123456789ABCDEF", r[2])) {
            char hex[3] = {r[1], r[2], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

struct idt_mail_wait {
    const char *rcpt;
    const char *marker;   /* "set-password?token=", "reset-password?token=", or a text to find */
    char token[128];
    bool keep;            /* leave the file (else it is removed once read) */
};

IDT_FN bool idt_find_mail(void *arg) {
    struct idt_mail_wait *w = arg;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/new", th_env("MKT_TEST_MAILDIR"));
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *de; !found && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *raw = idt_read_file(path);
        if (!raw)
            continue;
        const char *h = strstr(raw, "X-RcptTo:");
        char rcpt[300] = "";
        if (h) {
            h += 9;
            while (*h == ' ')
                h++;
            snprintf(rcpt, sizeof rcpt, "%.*s", (int)strcspn(h, "\r\n"), h);
        }
        if (strcasecmp(rcpt, w->rcpt) == 0) {
            idt_qp_decode(raw);
            const char *p = strstr(raw, w->marker);
            if (p) {
                p += strlen(w->marker);
                size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
                snprintf(w->token, sizeof w->token, "%.*s", (int)n, p);
                found = true;
                if (!w->keep)
                    remove(path);
            }
        }
        free(raw);
    }
    closedir(d);
    return found;
}

/* The token of the next mail to rcpt holding `link` ("set-password" or "reset-password"). */
IDT_FN void idt_mail_token(const char *rcpt, const char *link, char out[128]) {
    char marker[64];
    snprintf(marker, sizeof marker, "%s?token=", link);
    struct idt_mail_wait w = {.rcpt = rcpt, .marker = marker};
    cr_assert(th_eventually(idt_find_mail, &w, IDT_WAIT_MS), "no %s mail for %s", link, rcpt);
    snprintf(out, 128, "%s", w.token);
}

/* ---- the cloud emulator ------------------------------------------------------------------------------------ */

struct idt_cloud {
    char account_id[16];
    char email[128];
    char access_key[24];
    char secret_key[48];
};

IDT_FN void idt_random(char *out, size_t n, const char *alphabet) {
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)k)];
    out[n] = '\0';
}

IDT_FN struct idt_cloud idt_cloud_new(const struct idt *t, const char *who) {
    struct idt_cloud a;
    idt_random(a.account_id, 12, "0123456789");
    a.account_id[0] = '8';
    snprintf(a.email, sizeof a.email, "%s-%s@example.com", who, t->run);
    idt_random(a.access_key, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    idt_random(a.secret_key, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    char url[200], body[600], *resp = NULL;
    snprintf(url, sizeof url, "%s/_sim/accounts", th_env("MKT_TEST_CLOUD_URL"));
    snprintf(body, sizeof body,
             "{\"account_id\":\"%s\",\"email\":\"%s\",\"access_key\":\"%s\",\"secret_key\":\"%s\","
             "\"regions\":[\"cloudgouv-eu-west-1\",\"eu-west-2\"]}",
             a.account_id, a.email, a.access_key, a.secret_key);
    int st = th_http("POST", url, body, NULL, &resp);
    cr_assert(st >= 200 && st < 300, "emulator account: %d %s", st, resp ? resp : "");
    free(resp);
    return a;
}

/* A client with the account's root key (to look, or to drift things behind identity's back). */
IDT_FN struct cloud *idt_cloud_client(const struct idt_cloud *a) {
    struct cloud_config cfg = {.endpoint = th_env("MKT_TEST_CLOUD_URL"), .region = IDT_REGION,
                               .access_key = a->access_key, .secret_key = a->secret_key, .max_tries = 3,
                               .backoff_base_ms = 20, .backoff_max_ms = 200};
    struct cloud *c = NULL;
    struct err e;
    cr_assert_eq(cloud_new(&cfg, &c, &e), ERR_OK, "%s", e.msg);
    return c;
}

IDT_FN void idt_faults(const char *json_body) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/_sim/faults", th_env("MKT_TEST_CLOUD_URL"));
    int st = json_body ? th_http("POST", url, json_body, NULL, &resp) : th_http("DELETE", url, NULL, NULL, &resp);
    cr_assert(st >= 200 && st < 300, "faults: %d %s", st, resp ? resp : "");
    free(resp);
}

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

IDT_FN struct idt_eim_view idt_eim_view(const struct idt_cloud *a) {
    struct idt_eim_view v;
    memset(&v, 0, sizeof v);
    struct cloud *c = idt_cloud_client(a);
    struct cloud_users *users = NULL;
    struct err e;
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

/* Sign-up with a fresh emulator account: returns the admin, password set from the mail, logged in. */
IDT_FN void idt_signup(struct idt *t, const char *who, const char *type, struct idt_cloud *cloud, struct idt_who *admin) {
    *cloud = idt_cloud_new(t, who);
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
    struct err e;
    cr_assert_eq(idt_call(t, "signup", NULL, &req.base, &mkt__identity__signup_reply__descriptor, &rep, &e), ERR_OK,
                 "signup: %s: %s", err_code_name(e.code), e.msg);
    Mkt__Identity__SignupReply *r = (Mkt__Identity__SignupReply *)rep;
    cr_expect_str_eq(r->status, "pending");
    memset(admin, 0, sizeof *admin);
    snprintf(admin->org_id, sizeof admin->org_id, "%s", r->organization_id);
    protobuf_c_message_free_unpacked(rep, NULL);
    snprintf(admin->email, sizeof admin->email, "%s", cloud->email); /* ORG-2: the OUTSCALE account's e-mail */
    snprintf(admin->password, sizeof admin->password, "%s", IDT_PASSWORD);
    char token[128];
    idt_mail_token(admin->email, "set-password", token);
    Mkt__Identity__TokenPassword tp = MKT__IDENTITY__TOKEN_PASSWORD__INIT;
    tp.token = token;
    tp.password = admin->password;
    cr_assert_eq(idt_call(t, "set_password", NULL, &tp.base, NULL, NULL, &e), ERR_OK, "set_password: %s", e.msg);
    idt_login(t, admin);
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
    struct err e;
    cr_assert_eq(idt_call(t, "create_account", idt_actor(admin), &req.base, &mkt__identity__account__descriptor, &rep,
                          &e), ERR_OK, "create_account: %s: %s", err_code_name(e.code), e.msg);
    protobuf_c_message_free_unpacked(rep, NULL);
    char token[128];
    idt_mail_token(out->email, "set-password", token);
    Mkt__Identity__TokenPassword tp = MKT__IDENTITY__TOKEN_PASSWORD__INIT;
    tp.token = token;
    tp.password = out->password;
    cr_assert_eq(idt_call(t, "set_password", NULL, &tp.base, NULL, NULL, &e), ERR_OK, "set_password: %s", e.msg);
    idt_login(t, out);
}

/* The TOTP code of `step_shift` steps from identity's now, for a base32 secret. */
IDT_FN void idt_totp(const struct idt *t, const char *b32, int step_shift, char out[7]) {
    uint8_t secret[64];
    long n = base32_decode(b32, secret, sizeof secret);
    cr_assert(n > 0);
    totp_code(secret, (size_t)n, totp_step(idt_now(t)) + step_shift, out);
}

#endif
