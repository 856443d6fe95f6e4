/* The notifier's guarantees under failure (MAIL-2), against a real SMTP server, PostgreSQL and
 * JetStream: kill -9 in the middle of 1,000 mails then restart loses none and duplicates none
 * (at worst an in-flight mail twice, with the same Message-ID); an SMTP server stopped for a
 * while delays mails without dropping any; a permanently refused recipient ends failed (with
 * mail.failed) without blocking the others; temporary refusals are retried. */
#include "notifier_util.h"

TestSuite(notifier_resilience, .fini = nt_fini);

struct sent_arg {
    struct nt *t;
    long n;
};
static bool ledger_final(void *arg) {
    struct sent_arg *a = arg;
    return nt_sql_long(a->t, "SELECT count(*) FROM %s.mail_ledger WHERE state <> 'pending'") >= a->n;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

Test(notifier_resilience, kill9_midway_through_1000_mails, .timeout = 240) {
    const int N = 1000, CONCURRENCY = 4;
    const char *extra[] = {"MKT_MAIL_CONCURRENCY=4", "MKT_MAIL_LEASE_S=6", "MKT_SMTP_TIMEOUT_MS=2000",
                           "MKT_LOG_LEVEL=warn", NULL};
    struct nt t;
    nt_init(&t, extra);
    /* the commands first, then the notifier: intake and delivery overlap when it dies */
    char (*ids)[40] = calloc((size_t)N, sizeof *ids);
    for (int i = 0; i < N; i++) {
        char addr[64], token[32];
        snprintf(addr, sizeof addr, "user%d@crash.example", i);
        snprintf(token, sizeof token, "tok-%d", i);
        nt_set_password(&t, addr, i % 2 ? "fr" : "en", token, ids[i]);
    }
    /* MKT_LOG_LEVEL=warn hides "ready": wait for the ledger instead */
    t.proc = th_spawn("notifier", NULL, t.envp);
    cr_assert(nt_wait_mails(&t.sink, (size_t)N / 4, 60000), "no progress: %zu mails", nt_count(&t.sink));
    th_kill9(&t.proc);
    size_t at_kill = nt_count(&t.sink);
    cr_expect_lt(at_kill, (size_t)N, "killed midway (%zu mails out)", at_kill);
    t.proc = th_spawn("notifier", NULL, t.envp);
    struct sent_arg a = {&t, N};
    cr_assert(th_eventually(ledger_final, &a, 120000), "ledger not complete: %ld final",
              nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state <> 'pending'"));
    cr_assert(nt_wait_mails(&t.sink, (size_t)N, 30000));
    th_sleep_ms(1000);
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state = 'sent'"), N);

    size_t n;
    struct nt_mail *m = nt_mails(&t.sink, &n);
    cr_expect_geq(n, (size_t)N);
    cr_expect_leq(n, (size_t)(N + CONCURRENCY), "at most the in-flight mails twice: %zu mails for %d", n, N);
    /* every expected Message-ID present; duplicates only of the same Message-ID (identical copies) */
    char **got = calloc(n, sizeof *got);
    for (size_t i = 0; i < n; i++)
        got[i] = m[i].message_id;
    qsort(got, n, sizeof *got, cmp_str);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || strcmp(got[i], got[i - 1]) != 0;
    cr_expect_eq(distinct, (size_t)N, "every mail arrived");
    fprintf(stderr, "kill9: killed after %zu mails; in the end %zu mails for %d (%zu identical re-sends)\n", at_kill, n,
            N, n - distinct);
    for (int i = 0; i < N; i++) {
        char addr[64], want[160];
        snprintf(addr, sizeof addr, "user%d@crash.example", i);
        nt_message_id(ids[i], addr, want);
        const char *key = want;
        cr_expect_not_null(bsearch(&key, got, n, sizeof *got, cmp_str), "mail %d (%s) missing", i, addr);
    }
    /* a duplicate is an identical copy: same recipient, same Message-ID, same body */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(m[i].message_id, m[j].message_id) == 0) {
                cr_expect_str_eq(m[i].rcpt, m[j].rcpt);
                cr_expect_str_eq(m[i].text, m[j].text);
            }
    free(got);
    nt_mails_free(m, n);
    free(ids);
    nt_stop(&t);
    nt_cleanup(&t);
}

Test(notifier_resilience, smtp_server_down_mails_wait_then_go, .timeout = 120) {
    const char *extra[] = {"MKT_MAIL_BACKOFF_MAX_S=2", NULL};
    struct nt t;
    nt_init(&t, extra);
    nt_start(&t);
    nt_sink_stop(&t.sink);
    char ev[40];
    for (int i = 0; i < 50; i++) {
        char addr[64];
        snprintf(addr, sizeof addr, "wait%d@down.example", i);
        nt_set_password(&t, addr, "en", "tok", ev);
    }
    th_sleep_ms(4000);
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state = 'pending'"), 50,
                 "queued while the server is down, none failed");
    cr_expect_geq(nt_sql_long(&t, "SELECT max(attempts) FROM %s.mail_ledger"), 1, "the server was tried");
    cr_expect_leq(nt_sql_long(&t, "SELECT sum(attempts) FROM %s.mail_ledger"), 20,
                  "paused while down, not hammered: one probe per pause");
    cr_expect(nt_log_has(&t.proc, "smtp server unavailable"));
    nt_sink_run(&t.sink);
    cr_assert(nt_wait_mails(&t.sink, 50, 30000), "all delivered once the server is back (%zu)", nt_count(&t.sink));
    struct sent_arg a = {&t, 50};
    cr_assert(th_eventually(ledger_final, &a, 10000));
    th_sleep_ms(500);
    cr_expect_eq(nt_count(&t.sink), 50, "none twice");
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state = 'sent'"), 50);
    cr_expect(nt_log_has(&t.proc, "smtp server reachable again"));
    nt_stop(&t);
    nt_cleanup(&t);
}

/* mail.sent / mail.failed come out of the outbox on EVENTS. */
static size_t drain_events(natsSubscription *sub, const char *secret, int want, int timeout_ms,
                           Mkt__Mail__MailFailed **failed_out, int *n_failed) {
    size_t got = 0;
    int64_t until = clock_mono_us() + (int64_t)timeout_ms * 1000;
    while ((int)got < want && clock_mono_us() < until) {
        natsMsg *msg = NULL;
        if (natsSubscription_NextMsg(&msg, sub, 200) != NATS_OK)
            continue;
        const char *d = natsMsg_GetData(msg);
        int len = natsMsg_GetDataLength(msg);
        cr_expect(memmem(d, (size_t)len, secret, strlen(secret)) == NULL, "no secret in %s", natsMsg_GetSubject(msg));
        Mkt__Event *ev = mkt__event__unpack(NULL, (size_t)len, (const uint8_t *)d);
        if (ev && strcmp(ev->type, "notifier.mail.failed") == 0 && *n_failed < 4)
            failed_out[(*n_failed)++] = mkt__mail__mail_failed__unpack(NULL, ev->payload.len, ev->payload.data);
        if (ev)
            mkt__event__free_unpacked(ev, NULL);
        natsMsg_Destroy(msg);
        got++;
    }
    return got;
}

Test(notifier_resilience, permanent_refusal_fails_alone, .timeout = 90) {
    struct nt t;
    nt_init(&t, NULL);
    natsSubscription *sub = NULL;
    cr_assert_eq(natsConnection_SubscribeSync(&sub, bus_nats(t.bus), "mkt.evt.notifier.mail.>"), NATS_OK);
    nt_start(&t);
    const char *to[] = {"ok1@perm.example", "reject-me@perm.example", "ok2@perm.example", "baddata-x@perm.example",
                        "ok3@perm.example"};
    char ev[40];
    for (int i = 0; i < 5; i++)
        nt_set_password(&t, to[i], "en", "tok-PERMSECRET", ev);
    struct sent_arg a = {&t, 5};
    cr_assert(th_eventually(ledger_final, &a, 30000));
    th_sleep_ms(300);
    cr_expect_eq(nt_count(&t.sink), 3, "the others are delivered");
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state = 'failed' AND attempts = 1 AND "
                                 "secret_vars IS NULL"),
                 2, "refused once, never retried");
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE recipient = 'reject-me@perm.example' AND "
                                 "last_error LIKE '%%550%%'"),
                 1);
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE recipient = 'baddata-x@perm.example' AND "
                                 "last_error <> ''"),
                 1);
    Mkt__Mail__MailFailed *failed[4] = {0};
    int n_failed = 0;
    size_t got = drain_events(sub, "PERMSECRET", 5, 20000, failed, &n_failed);
    cr_expect_eq(got, 5, "3 mail.sent and 2 mail.failed");
    cr_expect_eq(n_failed, 2);
    for (int i = 0; i < n_failed; i++) {
        cr_assert_not_null(failed[i]);
        cr_expect(strstr(failed[i]->recipient, "@perm.example") != NULL);
        cr_expect_str_eq(failed[i]->template_, "set_password");
        cr_expect_eq(failed[i]->attempts, 1);
        cr_expect(*failed[i]->reason, "a reason");
        mkt__mail__mail_failed__free_unpacked(failed[i], NULL);
    }
    natsSubscription_Destroy(sub);
    nt_stop(&t);
    nt_cleanup(&t);
}

Test(notifier_resilience, temporary_refusals_are_retried, .timeout = 90) {
    const char *extra[] = {"MKT_MAIL_BACKOFF_MAX_S=1", NULL};
    struct nt t;
    nt_init(&t, extra);
    nt_start(&t);
    char ev[40];
    nt_set_password(&t, "flaky-1@temp.example", "en", "tok", ev);
    nt_set_password(&t, "steady@temp.example", "en", "tok", ev);
    cr_assert(nt_wait_mails(&t.sink, 2, 30000), "the greylisted mail goes out on its third attempt");
    struct sent_arg a = {&t, 2};
    cr_assert(th_eventually(ledger_final, &a, 10000));
    cr_expect_eq(nt_sql_long(&t, "SELECT attempts FROM %s.mail_ledger WHERE recipient = 'flaky-1@temp.example' AND "
                                 "state = 'sent'"),
                 3);
    cr_expect_eq(nt_sql_long(&t, "SELECT attempts FROM %s.mail_ledger WHERE recipient = 'steady@temp.example'"), 1);
    nt_stop(&t);
    nt_cleanup(&t);
}

Test(notifier_resilience, retry_period_ends_in_failure, .timeout = 90) {
    const char *extra[] = {"MKT_MAIL_BACKOFF_MAX_S=1", "MKT_MAIL_RETRY_FOR_S=3", NULL};
    struct nt t;
    nt_init(&t, extra);
    nt_start(&t);
    char ev[40];
    nt_set_password(&t, "tempfail-forever@temp.example", "en", "tok", ev);
    struct sent_arg a = {&t, 1};
    cr_assert(th_eventually(ledger_final, &a, 30000), "gives up after MKT_MAIL_RETRY_FOR_S");
    cr_expect_eq(nt_sql_long(&t, "SELECT count(*) FROM %s.mail_ledger WHERE state = 'failed' AND attempts >= 2 AND "
                                 "last_error LIKE 'gave up after%%451%%'"),
                 1);
    nt_stop(&t);
    nt_cleanup(&t);
}
