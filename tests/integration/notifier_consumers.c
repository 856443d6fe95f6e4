/* The notifier's EVENTS consumer calls the owning service with no transaction open (issue 8: no
 * RPC inside a transaction): while the fake owner answers mail_recipients, no connection of the
 * notifier's role is "idle in transaction" after touching the inbox; the inbox claim and the
 * ledger rows come after the call, and the mails go out once. */
#include <stdatomic.h>
#include "notifier_util.h"

TestSuite(notifier_consumers, .fini = nt_fini);

struct owner {
    char org[40];
    char role[40];
    atomic_int calls;
    atomic_long in_tx; /* connections of the notifier idle in a transaction that touched the inbox */
};

static void on_recipients(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)sub;
    struct owner *o = closure;
    Mkt__Request *req =
        mkt__request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg), (const uint8_t *)natsMsg_GetData(msg));
    Mkt__Mail__RecipientsRequest *in =
        req ? mkt__mail__recipients_request__unpack(NULL, req->payload.len, req->payload.data) : NULL;
    Mkt__Reply rep = MKT__REPLY__INIT;
    uint8_t payload[2048];
    if (!in || !in->event || strcmp(in->event->organization_id, o->org) != 0) {
        rep.code = ERR_NOT_FOUND; /* an event of another test */
        rep.message = (char *)"not ours";
    } else {
        /* The caller is waiting for this answer right now: is it holding a transaction? */
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pg_stat_activity WHERE usename = '%s'"
                 " AND state LIKE 'idle in transaction%%' AND query ILIKE '%%inbox%%'",
                 o->role);
        char *n = th_sql(sql);
        atomic_fetch_add(&o->in_tx, n ? atol(n) : 0);
        free(n);
        atomic_fetch_add(&o->calls, 1);
        Mkt__Mail__Recipient a = MKT__MAIL__RECIPIENT__INIT;
        a.address = (char *)"owner-call@buyer.example";
        a.name = (char *)"Olga";
        a.language = (char *)"en";
        Mkt__Mail__Recipient *rs[] = {&a};
        Mkt__Mail__RecipientsReply__VarsEntry v1 = MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT,
                                              v2 = MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT,
                                              v3 = MKT__MAIL__RECIPIENTS_REPLY__VARS_ENTRY__INIT;
        v1.key = (char *)"product_name";
        v1.value = (char *)"Debian";
        v2.key = (char *)"product_id";
        v2.value = (char *)"PROD-7";
        v3.key = (char *)"version";
        v3.value = (char *)"13";
        Mkt__Mail__RecipientsReply__VarsEntry *vs[] = {&v1, &v2, &v3};
        Mkt__Mail__RecipientsReply out = MKT__MAIL__RECIPIENTS_REPLY__INIT;
        out.recipients = rs;
        out.n_recipients = 1;
        out.vars = vs;
        out.n_vars = 3;
        rep.payload.len = mkt__mail__recipients_reply__pack(&out, payload);
        rep.payload.data = payload;
    }
    uint8_t buf[4096];
    size_t len = mkt__reply__pack(&rep, buf);
    natsConnection_Publish(nc, natsMsg_GetReply(msg), buf, (int)len);
    if (in)
        mkt__mail__recipients_request__free_unpacked(in, NULL);
    if (req)
        mkt__request__free_unpacked(req, NULL);
    natsMsg_Destroy(msg);
}

Test(notifier_consumers, the_owner_is_called_with_no_transaction_open, .timeout = 90) {
    struct nt t;
    const char *extra[] = {"MKT_MAIL_EVENTS=true", NULL};
    nt_init(&t, extra);
    struct owner o = {0};
    th_unique("org-", o.org, sizeof o.org);
    snprintf(o.role, sizeof o.role, "%s", t.schema);
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
    cr_assert(nt_wait_mails(&t.sink, 1, 30000), "1 mail expected, got %zu", nt_count(&t.sink));
    cr_expect_eq(atomic_load(&o.calls), 1);
    cr_expect_eq(atomic_load(&o.in_tx), 0, "no inbox transaction open during the call");
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.inbox WHERE event_id = '%s'", t.schema, ev.id);
    char *rows = th_sql(sql);
    cr_expect_str_eq(rows ? rows : "", "1", "the inbox row is written after the call");
    free(rows);
    /* A redelivery (another Nats-Msg-Id): seen in the inbox, the owner is not asked again. */
    char copy[64];
    snprintf(copy, sizeof copy, "%s-again", ev.id);
    cr_assert_eq(events_publish(t.bus, "mkt.evt.catalog.version.published", data, len, copy, 5000, &e), ERR_OK);
    th_sleep_ms(1500);
    cr_expect_eq(nt_count(&t.sink), 1, "sent once");
    cr_expect_eq(atomic_load(&o.calls), 1, "the owner is asked once");
    free(data);
    events_storage_cleanup(&st);
    natsSubscription_Destroy(sub);
    nt_stop(&t);
    nt_cleanup(&t);
}
