/* The notifier end to end against a real SMTP server (aiosmtpd writing a Maildir), PostgreSQL and
 * JetStream: a mail command yields one mail per recipient, in the recipient's language, with both
 * parts, the headers and the link; redelivered commands and events send nothing new, across a
 * restart too; bad commands are dead-lettered with a clear log line and never retried; events are
 * resolved through the owning service; operators see the ledger without secrets. */
#include <stdatomic.h>
#include "notifier_util.h"
#include "cursor.h"

TestSuite(notifier_mail, .fini = nt_fini);

Test(notifier_mail, command_one_mail_per_recipient_in_its_language, .timeout = 90) {
    struct nt t;
    nt_init(&t, NULL);
    nt_start(&t);
    struct nt_rcpt r[] = {
        {"Jane.Doe@Example.com", "Jane Doe", "en"},
        {"jerome@example.fr", "Jérôme Dupont", "fr-FR"},
        {"nolang@example.com", "", ""},
    };
    const char *vars[] = {"organization_name", "ACME & Sons", "token", "tok_SECRET-abc123", "ignored", "x"};
    char ev[40];
    size_t len;
    uint8_t *data = nt_command("set_password", r, 3, vars, 3, NULL, "org-1", ev, &len);
    nt_publish(&t, "set_password", data, len, ev);
    free(data);
    cr_assert(nt_wait_mails(&t.sink, 3, 30000), "3 mails expected, got %zu", nt_count(&t.sink));
    th_sleep_ms(500);
    size_t n;
    struct nt_mail *m = nt_mails(&t.sink, &n);
    cr_assert_eq(n, 3, "exactly one mail per recipient");
    const char *link = "https://marketplace.test/set-password?token=tok_SECRET-abc123";
    for (size_t i = 0; i < n; i++) {
        bool fr = strcmp(m[i].rcpt, "jerome@example.fr") == 0;
        char want_id[160];
        nt_message_id(ev, m[i].rcpt, want_id);
        cr_expect_str_eq(m[i].message_id, want_id, "Message-ID derived from (event, recipient)");
        cr_expect(strncmp(m[i].content_type, "multipart/alternative;", 22) == 0, "%s", m[i].content_type);
        cr_assert_not_null(m[i].text, "text part");
        cr_assert_not_null(m[i].html, "html part");
        cr_expect(strstr(m[i].text, link) != NULL, "link in the text part of %s", m[i].rcpt);
        cr_expect(strstr(m[i].html, "href=\"https://marketplace.test/set-password?token=tok_SECRET-abc123\"") != NULL,
                  "link in the html part of %s", m[i].rcpt);
        cr_expect(strstr(m[i].raw, "From: \"OUTSCALE Marketplace\" <noreply@marketplace.test>") != NULL);
        cr_expect(strstr(m[i].raw, "\nDate: ") != NULL || strncmp(m[i].raw, "Date: ", 6) == 0);
        cr_expect(strstr(m[i].raw, "X-MailFrom: noreply@marketplace.test") != NULL);
        if (fr) {
            cr_expect_str_eq(m[i].language, "fr");
            cr_expect_str_eq(m[i].subject, "Définissez votre mot de passe OUTSCALE Marketplace");
            cr_expect_str_eq(m[i].to, "Jérôme Dupont <jerome@example.fr>");
            cr_expect(strstr(m[i].text, "Bonjour Jérôme Dupont,") != NULL);
            cr_expect(strstr(m[i].text, "24 heures") != NULL);
            cr_expect(strstr(m[i].html, "l'organisation ACME &amp; Sons") != NULL, "escaped in HTML");
        } else {
            cr_expect_str_eq(m[i].language, "en");
            cr_expect_str_eq(m[i].subject, "Set your password for OUTSCALE Marketplace");
            cr_expect(strstr(m[i].text, "24 hours") != NULL);
            cr_expect(strstr(m[i].text, "organization ACME & Sons.") != NULL);
        }
    }
    nt_mails_free(m, n);
    /* the ledger: sent, secrets erased, only declared variables kept */
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state = 'sent' AND attempts = 1 AND "
                                 "secret_vars IS NULL AND sent_at IS NOT NULL"),
                 3);
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE vars::text LIKE '%%SECRET%%' OR "
                                 "vars ? 'ignored'"),
                 0);
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE recipient = 'jane.doe@example.com'"), 1,
                 "addresses normalized");
    nt_stop(&t);
    nt_cleanup(&t);
}

Test(notifier_mail, redelivered_command_sends_nothing_new, .timeout = 90) {
    struct nt t;
    nt_init(&t, NULL);
    nt_start(&t);
    struct nt_rcpt r = {"once@example.com", "Once", "en"};
    const char *vars[] = {"organization_name", "ACME", "token", "tok-once"};
    char ev[40], ev2[40];
    size_t len, len2;
    uint8_t *data = nt_command("set_password", &r, 1, vars, 2, "set_password:token-42", "org-1", ev, &len);
    /* the same envelope three times under distinct Nats-Msg-Ids: JetStream keeps them all */
    nt_publish(&t, "set_password", data, len, ev);
    char copy[64];
    snprintf(copy, sizeof copy, "%s-copy1", ev);
    nt_publish(&t, "set_password", data, len, copy);
    snprintf(copy, sizeof copy, "%s-copy2", ev);
    nt_publish(&t, "set_password", data, len, copy);
    /* a new envelope with the same idempotency key: the producer retried with a new event */
    uint8_t *data2 = nt_command("set_password", &r, 1, vars, 2, "set_password:token-42", "org-1", ev2, &len2);
    nt_publish(&t, "set_password", data2, len2, ev2);
    cr_assert(nt_wait_mails(&t.sink, 1, 30000));
    th_sleep_ms(1500);
    cr_expect_eq(nt_count(&t.sink), 1, "one mail, whatever the redeliveries");
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger"), 1);
    cr_expect(nt_log_has(&t.proc, "already in the ledger (not sent again)"), "the duplicate key is logged");
    size_t n;
    struct nt_mail *m = nt_mails(&t.sink, &n);
    char want[160];
    nt_message_id("set_password:token-42", "once@example.com", want);
    cr_expect_str_eq(n ? m[0].message_id : "", want, "the idempotency key is the ledger key");
    nt_mails_free(m, n);

    /* restart, and deliver the first envelope again: still nothing new */
    nt_stop(&t);
    nt_start(&t);
    snprintf(copy, sizeof copy, "%s-copy3", ev);
    nt_publish(&t, "set_password", data, len, copy);
    th_sleep_ms(2000);
    cr_expect_eq(nt_count(&t.sink), 1, "nothing new after a restart");
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger"), 1);
    free(data);
    free(data2);
    nt_stop(&t);
    nt_cleanup(&t);
}

/* Dead letters arrive on mkt.dlq.<durable> with the reason in a header. */
struct dlq {
    natsSubscription *sub;
};

static char *next_dlq_reason(struct dlq *d, int timeout_ms) {
    natsMsg *msg = NULL;
    if (natsSubscription_NextMsg(&msg, d->sub, timeout_ms) != NATS_OK)
        return NULL;
    const char *reason = NULL;
    natsMsgHeader_Get(msg, "Mkt-Dlq-Reason", &reason);
    char *r = strdup(reason ? reason : "");
    natsMsg_Destroy(msg);
    return r;
}

Test(notifier_mail, bad_commands_are_dead_lettered_not_retried, .timeout = 90) {
    struct nt t;
    nt_init(&t, NULL);
    char subject[160];
    snprintf(subject, sizeof subject, "mkt.dlq.%s-mail", t.id);
    struct dlq d;
    cr_assert_eq(natsConnection_SubscribeSync(&d.sub, bus_nats(t.bus), subject), NATS_OK);
    nt_start(&t);
    struct nt_rcpt good = {"good@example.com", "Good", "en"}, bad_addr = {"not-an-address", "Bad", "en"};
    const char *vars[] = {"organization_name", "ACME", "token", "tok-1"};
    const char *missing[] = {"organization_name", "ACME"};
    char ev[40];
    size_t len;
    uint8_t *data;
    data = nt_command("set_pasword", &good, 1, vars, 2, NULL, "org-1", ev, &len);
    nt_publish(&t, "set_pasword", data, len, ev);
    free(data);
    data = nt_command("set_password", &good, 1, missing, 1, NULL, "org-1", ev, &len);
    nt_publish(&t, "set_password", data, len, ev);
    free(data);
    data = nt_command("set_password", &bad_addr, 1, vars, 2, NULL, "org-1", ev, &len);
    nt_publish(&t, "set_password", data, len, ev);
    free(data);
    nt_set_password(&t, "good@example.com", "en", "tok-good", ev);

    const char *expect[] = {"unknown template 'set_pasword'", "missing variable 'token'",
                            "recipient address 'not-an-address'"};
    bool seen[3] = {false, false, false};
    for (int i = 0; i < 3; i++) {
        char *reason = next_dlq_reason(&d, 20000);
        cr_assert_not_null(reason, "dead letter %d missing", i + 1);
        for (int k = 0; k < 3; k++)
            if (strstr(reason, expect[k]))
                seen[k] = true;
        cr_expect(strstr(reason, "invalid after 1 deliveries") != NULL, "not retried: %s", reason);
        free(reason);
    }
    for (int k = 0; k < 3; k++)
        cr_expect(seen[k], "dead letter for: %s", expect[k]);
    char *extra = next_dlq_reason(&d, 1500);
    cr_expect_null(extra, "no further dead letter: %s", extra ? extra : "");
    free(extra);
    cr_assert(nt_wait_mails(&t.sink, 1, 20000), "the good command still goes out");
    th_sleep_ms(300);
    cr_expect_eq(nt_count(&t.sink), 1);
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger"), 1);
    /* one clear log line per bad command */
    cr_expect_eq(nt_log_count(&t.proc, "unknown template 'set_pasword'"), 1);
    cr_expect_eq(nt_log_count(&t.proc, "missing variable 'token'"), 1);
    cr_expect_eq(nt_log_count(&t.proc, "recipient address 'not-an-address'"), 1);
    natsSubscription_Destroy(d.sub);
    nt_stop(&t);
    nt_cleanup(&t);
}

/* ---- events: a fake owning service answers mail_recipients ---- */

struct owner {
    char org[40];
    atomic_int calls;
};

static void on_recipients(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)sub;
    struct owner *o = closure;
    Mkt__Request *req =
        mkt__request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg), (const uint8_t *)natsMsg_GetData(msg));
    Mkt__Mail__RecipientsRequest *in =
        req ? mkt__mail__recipients_request__unpack(NULL, req->payload.len, req->payload.data) : NULL;
    Mkt__Reply rep = MKT__REPLY__INIT;
    uint8_t payload[4096];
    if (!in || !in->event || strcmp(in->event->organization_id, o->org) != 0) {
        rep.code = ERR_NOT_FOUND; /* an event of another test */
        rep.message = (char *)"not ours";
    } else {
        atomic_fetch_add(&o->calls, 1);
        Mkt__Mail__Recipient a = MKT__MAIL__RECIPIENT__INIT, b = MKT__MAIL__RECIPIENT__INIT,
                             c = MKT__MAIL__RECIPIENT__INIT;
        a.address = (char *)"admin@buyer.example";
        a.name = (char *)"Alice Admin";
        a.language = (char *)"en";
        b.address = (char *)"abonne@acheteur.example";
        b.name = (char *)"Bernard";
        b.language = (char *)"fr";
        c.address = (char *)"broken address@x"; /* skipped, the others still get their mail */
        Mkt__Mail__Recipient *rs[] = {&a, &b, &c};
        Mkt__Mail__RecipientsReply__VarsEntry v1 = MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT,
                                              v2 = MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT,
                                              v3 = MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT;
        v1.key = (char *)"product_name";
        v1.value = (char *)"Ubuntu Pro";
        v2.key = (char *)"product_id";
        v2.value = (char *)"PROD-42";
        v3.key = (char *)"version";
        v3.value = (char *)"24.04.1";
        Mkt__Mail__RecipientsReply__VarsEntry *vs[] = {&v1, &v2, &v3};
        Mkt__Mail__RecipientsReply out = MKT__MAIL__RECIPIENTS_REPLY__INIT;
        out.recipients = rs;
        out.n_recipients = 3;
        out.vars = vs;
        out.n_vars = 3;
        rep.payload.len = mkt__mail__recipients_reply__pack(&out, payload);
        rep.payload.data = payload;
    }
    uint8_t buf[8192];
    size_t len = mkt__reply__pack(&rep, buf);
    natsConnection_Publish(nc, natsMsg_GetReply(msg), buf, (int)len);
    if (in)
        mkt__mail__recipients_request__free_unpacked(in, NULL);
    if (req)
        mkt__request__free_unpacked(req, NULL);
    natsMsg_Destroy(msg);
}

Test(notifier_mail, event_recipients_from_the_owning_service, .timeout = 90) {
    struct nt t;
    const char *extra[] = {"MKT_MAIL_EVENTS=true", NULL};
    nt_init(&t, extra);
    struct owner o = {0};
    th_unique("org-", o.org, sizeof o.org);
    natsSubscription *sub = NULL;
    cr_assert_eq(natsConnection_Subscribe(&sub, bus_nats(t.bus), "mkt.rpc.catalog.mail_recipients", on_recipients, &o),
                 NATS_OK);
    natsConnection_Flush(bus_nats(t.bus));
    nt_start(&t);
    Mkt__Event ev;
    struct event_storage st;
    events_envelope(&ev, &st, "catalog.version.published", o.org, "acct-1", "corr-1", NULL);
    size_t len = mkt__event__get_packed_size(&ev);
    uint8_t *data = malloc(len);
    mkt__event__pack(&ev, data);
    struct err e = {0};
    cr_assert_eq(events_publish(t.bus, "mkt.evt.catalog.version.published", data, len, ev.id, 5000, &e), ERR_OK);
    cr_assert(nt_wait_mails(&t.sink, 2, 30000), "2 mails expected, got %zu", nt_count(&t.sink));
    /* redelivered under another Nats-Msg-Id: the inbox absorbs it */
    char copy[64];
    snprintf(copy, sizeof copy, "%s-again", ev.id);
    cr_assert_eq(events_publish(t.bus, "mkt.evt.catalog.version.published", data, len, copy, 5000, &e), ERR_OK);
    th_sleep_ms(1500);
    size_t n;
    struct nt_mail *m = nt_mails(&t.sink, &n);
    cr_expect_eq(n, 2, "one mail per valid recipient, once");
    for (size_t i = 0; i < n; i++) {
        bool fr = strcmp(m[i].rcpt, "abonne@acheteur.example") == 0;
        cr_expect(fr || strcmp(m[i].rcpt, "admin@buyer.example") == 0, "%s", m[i].rcpt);
        cr_expect_str_eq(m[i].subject, fr ? "Ubuntu Pro 24.04.1 est disponible" : "Ubuntu Pro 24.04.1 is available");
        cr_expect(m[i].text && strstr(m[i].text, "https://marketplace.test/products/PROD-42") != NULL);
        char want[160];
        nt_message_id(ev.id, m[i].rcpt, want);
        cr_expect_str_eq(m[i].message_id, want);
    }
    nt_mails_free(m, n);
    cr_expect_eq(atomic_load(&o.calls), 1, "the owner is asked once");
    cr_expect(nt_log_has(&t.proc, "recipient skipped: recipient address 'broken address@x'"));
    free(data);
    events_storage_cleanup(&st);
    natsSubscription_Destroy(sub);
    nt_stop(&t);
    nt_cleanup(&t);
}

Test(notifier_mail, operators_list_the_ledger_without_secrets, .timeout = 90) {
    struct nt t;
    nt_init(&t, NULL);
    nt_start(&t);
    char ev[40];
    nt_set_password(&t, "list-a@example.com", "en", "tok-LISTSECRET-a", ev);
    nt_set_password(&t, "reject-b@example.com", "fr", "tok-LISTSECRET-b", ev);
    cr_assert(nt_wait_mails(&t.sink, 1, 30000));
    for (int i = 0; i < 100 && nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state <> 'pending'") < 2; i++)
        th_sleep_ms(100);
    Mkt__Actor op = MKT__ACTOR__INIT;
    op.operator_ = true;
    op.account_id = (char *)"operator-1";
    struct bus_ctx ctx = {.actor = &op};
    Mkt__Mail__ListMailsRequest in = MKT__MAIL__LIST_MAILS_REQUEST__INIT;
    Mkt__Mail__ListMailsReply *out = NULL;
    struct err e = {0};
    cr_assert_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_OK, "%s", e.msg);
    cr_expect_eq(out->n_mails, 2);
    cr_expect_eq(out->sent, 1);
    cr_expect_eq(out->failed, 1);
    size_t packed_len = mkt__mail__list_mails_reply__get_packed_size(out);
    uint8_t *packed = malloc(packed_len);
    mkt__mail__list_mails_reply__pack(out, packed);
    cr_expect(memmem(packed, packed_len, "LISTSECRET", 10) == NULL, "no token in the operators' view");
    free(packed);
    for (size_t i = 0; i < out->n_mails; i++) {
        cr_expect_eq(out->mails[i]->n_vars, 1, "organization_name only");
        if (strcmp(out->mails[i]->state, "failed") == 0) {
            cr_expect_str_eq(out->mails[i]->recipient, "reject-b@example.com");
            cr_expect(strstr(out->mails[i]->last_error, "550") != NULL, "%s", out->mails[i]->last_error);
        }
    }
    char newest[40];
    snprintf(newest, sizeof newest, "%s", out->n_mails ? out->mails[0]->id : "");
    cr_expect_str_eq(out->next_cursor, "", "everything fits on the first page");
    mkt__mail__list_mails_reply__free_unpacked(out, NULL);
    out = NULL;
    /* One a page: the cursor leads to the other one, then to the end. */
    in.limit = 1;
    cr_assert_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_OK, "%s", e.msg);
    cr_assert_eq(out->n_mails, 1);
    cr_expect_str_eq(out->mails[0]->id, newest, "newest first");
    cr_assert(strlen(out->next_cursor) > 0);
    char cursor[CURSOR_TEXT_MAX];
    snprintf(cursor, sizeof cursor, "%s", out->next_cursor);
    mkt__mail__list_mails_reply__free_unpacked(out, NULL);
    out = NULL;
    in.cursor = cursor;
    cr_assert_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_OK, "%s", e.msg);
    cr_assert_eq(out->n_mails, 1);
    cr_expect_str_neq(out->mails[0]->id, newest, "the second page repeats the first");
    cr_expect_str_eq(out->next_cursor, "");
    mkt__mail__list_mails_reply__free_unpacked(out, NULL);
    out = NULL;
    /* The cursor is bound to its filters and to list_mails. */
    in.state = (char *)"failed";
    cr_expect_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_INVALID);
    cr_expect_str_eq(e.msg, CURSOR_REFUSED);
    in.cursor = newest; /* an id: the convention before lib/cursor */
    in.state = (char *)"";
    cr_expect_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_INVALID);
    in.cursor = (char *)"";
    in.limit = 501;
    cr_expect_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_INVALID);
    cr_expect(strstr(e.msg, "limit") != NULL, "%s", e.msg);
    in.limit = 0;
    in.state = (char *)"failed";
    cr_assert_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_OK, "%s", e.msg);
    cr_expect_eq(out->n_mails, 1);
    mkt__mail__list_mails_reply__free_unpacked(out, NULL);
    out = NULL;
    /* not an operator */
    Mkt__Actor user = MKT__ACTOR__INIT;
    user.account_id = (char *)"user-1";
    struct bus_ctx uctx = {.actor = &user};
    cr_expect_eq(bus_call(t.bus, "notifier", "list_mails", &uctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_FORBIDDEN);
    in.state = (char *)"bogus";
    cr_expect_eq(bus_call(t.bus, "notifier", "list_mails", &ctx, &in.base, &mkt__mail__list_mails_reply__descriptor,
                          (ProtobufCMessage **)&out, 5000, &e),
                 ERR_INVALID);
    nt_stop(&t);
    nt_cleanup(&t);
}
