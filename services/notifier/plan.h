/* Turning a mail command (or an event with its resolved recipients) into ledger rows: the checks
 * that make a poison message (unknown template, missing or bad variable, malformed address), the
 * ledger key and Message-ID of each recipient, the language (MAIL-1), and the variables split
 * into a public JSON object (operators may see it) and a secret one (links' tokens, kept only
 * until the mail is final). Pure: no database, no network; the caller inserts the rows. */
#ifndef NOTIFIER_PLAN_H
#define NOTIFIER_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"
#include "mail.h"
#include "store.h"
#include "templates.h"

struct plan_recipient {
    const char *address;
    const char *name;
    const char *language;
};

/* Everything borrowed for the call. */
struct plan_request {
    const char *template_name;
    const struct plan_recipient *recipients;
    size_t n_recipients;
    const char *const *var_names;   /* the variables offered (extra ones are ignored) */
    const char *const *var_values;
    size_t n_vars;
    const char *event_key;          /* idempotency key, or the event id */
    const char *event_id;
    const char *event_type;
    const char *organization_id;
    const char *correlation_id;
    bool skip_bad_recipients;       /* events: drop a malformed address (logged), keep the others;
                                       commands: the whole command is invalid */
};

struct plan_mail {
    char id[40];
    char recipient[MAIL_ADDRESS_MAX + 1];
    char message_id[MAIL_MESSAGE_ID_MAX];
    struct store_new_mail row;      /* points into this plan and the request */
};

struct plan {
    struct plan_mail *mails;        /* one per distinct valid recipient */
    size_t n;
    size_t skipped;                 /* malformed addresses dropped (skip_bad_recipients) */
    char *vars_json;                /* owned */
    char *secret_json;              /* owned; NULL when the template declares no secret */
};

/* Checks the request against `templates` and builds the rows (created_at = now, give_up_at =
 * now + retry_for). ERR_INVALID (a poison message) names what is wrong. `out` is written only on
 * success and must be released with plan_cleanup. The request must outlive the plan. */
err_code plan_init(const struct tmpl_set *templates, const struct plan_request *r, mkt_time now, mkt_time retry_for,
                    struct plan *out, struct err *e) MKT_MUST_USE;
void plan_cleanup(struct plan *p);

#endif
