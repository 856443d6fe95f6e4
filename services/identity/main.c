/* The identity service: organizations, accounts and roles, passwords, sessions, 2FA, OUTSCALE
 * accounts and the platform's EIM users in them (ORG, ACC and AUTH rules). This file is the boot
 * script: the settings table and the wiring (the vault, the database and the configured
 * operator, NATS, the methods, the EIM consumer, the maintenance duties); identity.c holds the
 * start-up logic and the svc hooks. */
#include <curl/curl.h>
#include <stddef.h>

#include "consumers.h"
#include "handlers.h"
#include "identity.h"
#include "log.h"
#include "operator.h"
#include "svc.h"

#define C(field) offsetof(struct identity_config, field)
static const struct config_field identity_fields[] = {
    {"MKT_VAULT_KEY", CONFIG_STRING, NULL, 40, 64, true, C(vault_key),
     "master key of the vault (base64 of 32 random bytes): seals EIM secret keys and TOTP secrets"},
    {"MKT_VAULT_PREVIOUS_KEYS", CONFIG_STRING, "", 0, 1024, true, C(vault_previous_keys),
     "former master keys, comma-separated: still open what they sealed (rotation)"},
    {"OSC_ENDPOINT_API", CONFIG_STRING, "", 0, 512, false, C(cloud_endpoint),
     "OUTSCALE API endpoint; empty: https://api.<region>.outscale.com"},
    {"MKT_CLOUD_MAX_TRIES", CONFIG_INT, "3", 1, 10, false, C(cloud_max_tries), "attempts per cloud call"},
    {"MKT_CLOUD_TIMEOUT_MS", CONFIG_INT, "15000", 100, 120000, false, C(cloud_timeout_ms),
     "time limit of one cloud call attempt"},
    {"MKT_DEFAULT_REGION", CONFIG_STRING, "cloudgouv-eu-west-1", 1, 64, false, C(default_region),
     "Region of organizations that name none (ORG-1)"},
    {"MKT_SESSION_IDLE_S", CONFIG_INT, "86400", 60, 30LL * 86400, false, C(session_idle_s),
     "a session ends after this long without activity (AUTH-5)"},
    {"MKT_SESSION_TOUCH_S", CONFIG_INT, "10", 0, 3600, false, C(session_touch_s),
     "activity is recorded at most this often per session"},
    {"MKT_SET_PASSWORD_TTL_S", CONFIG_INT, "86400", 60, 30LL * 86400, false, C(set_password_ttl_s),
     "validity of set-password links (ORG-2, ACC-3)"},
    {"MKT_RESET_TTL_S", CONFIG_INT, "300", 30, 86400, false, C(reset_ttl_s),
     "validity of reset-password links (AUTH-4)"},
    {"MKT_LOGIN_MAX_FAILURES", CONFIG_INT, "5", 1, 64, false, C(login_max_failures),
     "failed logins of one account within the window before throttling (AUTH-8)"},
    {"MKT_LOGIN_ADDR_MAX_FAILURES", CONFIG_INT, "20", 1, 64, false, C(login_addr_max_failures),
     "failed logins from one client address within the window before throttling (AUTH-8; offices share "
     "addresses)"},
    {"MKT_LOGIN_WINDOW_S", CONFIG_INT, "900", 1, 86400, false, C(login_window_s),
     "sliding window of failed logins (AUTH-8)"},
    {"MKT_ARGON2_OPS", CONFIG_INT, "2", 1, 100, false, C(argon2_ops), "argon2id passes (AUTH-2)"},
    {"MKT_ARGON2_MEM_KIB", CONFIG_INT, "19456", 8, 4194304, false, C(argon2_mem_kib),
     "argon2id memory in KiB (AUTH-2)"},
    {"MKT_OPERATOR_EMAIL", CONFIG_STRING, "", 0, 254, false, C(operator_email),
     "operator account ensured at start (with MKT_OPERATOR_PASSWORD)"},
    {"MKT_OPERATOR_PASSWORD", CONFIG_STRING, "", 0, 256, true, C(operator_password), "the operator's password"},
    {"MKT_CURSOR_KEY", CONFIG_STRING, "", 0, 256, true, C(cursor_key),
     "MAC key of list cursors (the same on every replica; empty = development key)"},
    {"MKT_OPERATOR_NAME", CONFIG_STRING, "Operator", 1, 100, false, C(operator_name), "the operator's name"},
    {"MKT_EIM_RECONCILE_S", CONFIG_INT, "300", 1, 86400, false, C(eim_reconcile_s),
     "period of the EIM drift reconciliation (ACC-4)"},
    {"MKT_EIM_LEASE_S", CONFIG_INT, "120", 1, 3600, false, C(eim_lease_s),
     "a claimed EIM job whose outcome is not recorded (crash) is due again after this"},
    {"MKT_EIM_MAX_ATTEMPTS", CONFIG_INT, "10", 1, 1000, false, C(eim_max_attempts),
     "attempts of an EIM job before it is marked failed (until the next reconciliation)"},
    {"MKT_EIM_BACKOFF_MAX_S", CONFIG_INT, "300", 1, 86400, false, C(eim_backoff_max_s),
     "longest wait between two attempts of an EIM job"},
    {"MKT_OTP_ISSUER", CONFIG_STRING, "OUTSCALE Marketplace", 1, 64, false, C(otp_issuer),
     "issuer shown by authenticator apps (AUTH-6)"},
    {"MKT_IDENTITY_CONSUMER", CONFIG_STRING, "identity-eim", 1, 64, false, C(consumer_name),
     "durable name of the EIM consumer"},
};
#undef C

int main(void) {
    static struct identity id;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    id.svc = &s;
    if (svc_init(&s, "identity", &id, true, &e) != ERR_OK ||
        config_load(identity_fields, CONFIG_COUNT(identity_fields), &id.cfg, &e) != ERR_OK) {
        err_wrap(&e, "configuration");
        goto fail;
    }
    config_log(identity_fields, CONFIG_COUNT(identity_fields), &id.cfg);
    if (identity_prepare(&id, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        operator_ensure(&id, s.cfg.pg_dsn, &e) != ERR_OK || svc_connect(&s, &e) != ERR_OK ||
        svc_serve(&s, handlers_methods, handlers_methods_count, &e) != ERR_OK || consumers_start(&id, &s, &e) != ERR_OK)
        goto fail;
    s.maintenance = identity_maintenance;
    s.on_drain = identity_on_drain;
    rc = svc_run(&s);
    goto done;
fail:
    log_error("start: %s: %s", err_code_name(e.code), e.msg);
done:
    svc_cleanup(&s);
    identity_cleanup(&id);
    curl_global_cleanup();
    return rc;
}
