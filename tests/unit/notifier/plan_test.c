/* From commands to ledger rows (plan.c): the valid case with its keys and secret split, and the
 * table of poison inputs that must be refused as ERR_INVALID (dead-lettered, never retried). */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "../../../services/notifier/plan.h"

static struct tmpl_set *set;

static void load(void) {
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(th_templates_dir(), &set, &e), ERR_OK, "%s", e.msg);
}
static void unload(void) { tmpl_set_free(set); }

TestSuite(plan, .init = load, .fini = unload);

static const struct plan_recipient two[] = {
    {"Jane@Example.com", "Jane", "fr-FR"},
    {"john@example.com", "", ""},
};
static const char *const names[] = {"organization_name", "token", "unrelated"};
static const char *const values[] = {"ACME", "s3cr3t-token", "ignored"};

static struct plan_request command(void) {
    return (struct plan_request){
        .template_name = "set_password",
        .recipients = two,
        .n_recipients = 2,
        .var_names = names,
        .var_values = values,
        .n_vars = 3,
        .event_key = "0190c2f1-0000-7000-8000-0000000000aa",
        .event_id = "0190c2f1-0000-7000-8000-0000000000aa",
        .event_type = "set_password",
        .organization_id = "org-1",
        .correlation_id = "req-1",
    };
}

Test(plan, valid_command) {
    struct plan p;
    struct err e = {0};
    struct plan_request r = command();
    cr_assert_eq(plan_init(set, &r, 1000 * CLOCK_SECOND, 60 * CLOCK_SECOND, &p, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(p.n, 2);
    cr_expect_str_eq(p.mails[0].row.recipient, "jane@example.com", "normalized");
    cr_expect_str_eq(p.mails[0].row.language, "fr");
    cr_expect_str_eq(p.mails[1].row.language, "en", "empty language falls back to English");
    cr_expect_str_eq(p.mails[0].row.template_name, "set_password");
    cr_expect_eq(p.mails[0].row.created_at, 1000 * CLOCK_SECOND);
    cr_expect_eq(p.mails[0].row.give_up_at, 1060 * CLOCK_SECOND);
    cr_expect_str_eq(p.vars_json, "{\"organization_name\":\"ACME\"}", "public variables only");
    cr_expect_str_eq(p.secret_json, "{\"token\":\"s3cr3t-token\"}");
    cr_expect(strstr(p.vars_json, "unrelated") == NULL, "undeclared variables are not stored");
    char mid[MAIL_MESSAGE_ID_MAX];
    mail_message_id("0190c2f1-0000-7000-8000-0000000000aa", "jane@example.com", mid);
    cr_expect_str_eq(p.mails[0].row.message_id, mid);
    cr_expect_str_neq(p.mails[0].row.id, p.mails[1].row.id);
    cr_expect_str_neq(p.mails[0].row.message_id, p.mails[1].row.message_id);
    plan_cleanup(&p);
}

Test(plan, duplicate_recipients_collapse) {
    static const struct plan_recipient dup[] = {{"jane@example.com", "", "en"}, {"JANE@example.com", "", "fr"}};
    struct plan_request r = command();
    r.recipients = dup;
    struct plan p;
    struct err e = {0};
    cr_assert_eq(plan_init(set, &r, 0, 0, &p, &e), ERR_OK);
    cr_expect_eq(p.n, 1);
    plan_cleanup(&p);
}

Test(plan, template_without_secret) {
    static const char *const n2[] = {"organization_name"};
    static const char *const v2[] = {"ACME"};
    struct plan_request r = command();
    r.template_name = "org_validated";
    r.var_names = n2;
    r.var_values = v2;
    r.n_vars = 1;
    struct plan p;
    struct err e = {0};
    cr_assert_eq(plan_init(set, &r, 0, 0, &p, &e), ERR_OK, "%s", e.msg);
    cr_expect_null(p.secret_json);
    plan_cleanup(&p);
}

Test(plan, events_skip_bad_recipients) {
    static const struct plan_recipient mixed[] = {{"not an address", "", "en"}, {"ok@example.com", "", "en"},
                                                   {"bad@name.example", "Evil\r\nBcc: x", "en"}};
    struct plan_request r = command();
    r.recipients = mixed;
    r.n_recipients = 3;
    r.skip_bad_recipients = true;
    struct plan p;
    struct err e = {0};
    cr_assert_eq(plan_init(set, &r, 0, 0, &p, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(p.n, 1);
    cr_expect_eq(p.skipped, 2);
    cr_expect_str_eq(p.mails[0].recipient, "ok@example.com");
    plan_cleanup(&p);
    r.n_recipients = 0;
    cr_assert_eq(plan_init(set, &r, 0, 0, &p, &e), ERR_OK, "an event may concern nobody");
    cr_expect_eq(p.n, 0);
    plan_cleanup(&p);
}

/* ---- poison ---- */

struct poison {
    const char *what;
    void (*mutate)(struct plan_request *r);
    const char *reason;
};

static const struct plan_recipient bad_addr[] = {{"jane(at)example.com", "", "en"}};
static const struct plan_recipient bad_name[] = {{"jane@example.com", "x\ny", "en"}};
static const char *const missing_names[] = {"organization_name"};
static const char *const missing_values[] = {"ACME"};
static const char *const empty_values[] = {"ACME", "", "x"};
static const char *const ctl_values[] = {"ACME\a", "tok", "x"};
static char long_key[300];

static void unknown_template(struct plan_request *r) { r->template_name = "set_passwrd"; }
static void no_template(struct plan_request *r) { r->template_name = ""; }
static void missing_var(struct plan_request *r) {
    r->var_names = missing_names;
    r->var_values = missing_values;
    r->n_vars = 1;
}
static void empty_var(struct plan_request *r) { r->var_values = empty_values; }
static void control_var(struct plan_request *r) { r->var_values = ctl_values; }
static void malformed_address(struct plan_request *r) {
    r->recipients = bad_addr;
    r->n_recipients = 1;
}
static void control_in_name(struct plan_request *r) {
    r->recipients = bad_name;
    r->n_recipients = 1;
}
static void no_recipient(struct plan_request *r) { r->n_recipients = 0; }
static void key_too_long(struct plan_request *r) {
    memset(long_key, 'k', sizeof long_key - 1);
    r->event_key = long_key;
}

static const struct poison poisons[] = {
    {"unknown template", unknown_template, "unknown template 'set_passwrd'"},
    {"no template", no_template, "unknown template ''"},
    {"missing variable", missing_var, "template 'set_password': missing variable 'token'"},
    {"empty variable", empty_var, "missing variable 'token'"},
    {"control character", control_var, "variable 'organization_name': control character"},
    {"malformed address", malformed_address, "recipient address 'jane(at)example.com'"},
    {"control in name", control_in_name, "recipient name: control character"},
    {"no recipient", no_recipient, "no recipient"},
    {"key too long", key_too_long, "idempotency key"},
};

Test(plan, poison_table) {
    for (size_t i = 0; i < sizeof poisons / sizeof poisons[0]; i++) {
        struct plan_request r = command();
        poisons[i].mutate(&r);
        struct plan p = {.n = 12345};
        struct err e = {0};
        cr_expect_eq(plan_init(set, &r, 0, 0, &p, &e), ERR_INVALID, "%s", poisons[i].what);
        cr_expect(strstr(e.msg, poisons[i].reason) != NULL, "%s: '%s' should contain '%s'", poisons[i].what, e.msg,
                  poisons[i].reason);
        cr_expect_eq(p.n, 12345, "out untouched");
    }
}
