/* The notifier ledger's SQL (services/notifier/store.c, compiled into this test: integration
 * binaries link lib/ only) against the harness's PostgreSQL, with the notifier's migrations read
 * from the source tree: idempotent inserts and their NOTIFY, the lease claim (lib/job), the
 * outcomes by the lease holder only, release, the operators' view and pruning. Each test gets its
 * own schema and login role, like a service. (These ran only with MKT_TEST_PG_DSN set, as unit
 * tests; here `make test` runs them.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/notifier/store.c"
#include "crypto.h"
#include "db.h"
#include "harness.h"
#include "id.h"
#include "job.h"
#include "log.h"

static PGconn *db;
static char *dsn;
static struct job_table ledger;
static char owner[64];

/* lib's migrations (embedded), then the notifier's from the source tree, as the service does. */
static void migrate(void) {
    static const char *const files[] = {"001_ledger.sql", "002_job_lease.sql"};
    struct db_migration m[2];
    char *sql[2];
    for (int i = 0; i < 2; i++) {
        char path[1024], name[64];
        snprintf(path, sizeof path, "%s/services/notifier/migrations/%s", th_env("MKT_TEST_ROOT"), files[i]);
        sql[i] = th_read_file(path);
        cr_assert_not_null(sql[i], "cannot read %s", path);
        snprintf(name, sizeof name, "notifier/%s", files[i]);
        m[i] = (struct db_migration){strdup(name), sql[i]};
    }
    struct err e = {0};
    cr_assert_eq(db_migrate(db, mkt_migrations, mkt_migrations_count, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_migrate(db, m, 2, &e), ERR_OK, "%s", e.msg);
    for (int i = 0; i < 2; i++) {
        free((char *)m[i].name);
        free(sql[i]);
    }
}

static void setup(void) {
    log_init("it", "warn");
    char schema[40];
    th_unique("ns_", schema, sizeof schema);
    dsn = th_service_dsn(schema);
    struct err e = {0};
    cr_assert_eq(db_connect(dsn, &db, &e), ERR_OK, "%s", e.msg);
    migrate();
    store_mail_jobs(&ledger, 300 * CLOCK_SECOND);
    job_owner("test", 0, owner);
}

static void teardown(void) {
    db_close(db);
    db = NULL;
    free(dsn);
    dsn = NULL;
}

TestSuite(store, .init = setup, .fini = teardown);

static const mkt_time T0 = 1800000000LL * CLOCK_SECOND;

static void insert(const char *key, const char *rcpt, const char *tmpl, mkt_time at, bool expect_new) {
    char id[40];
    id_uuid(id);
    struct store_new_mail m = {
        .id = id,
        .event_key = key,
        .event_id = key,
        .event_type = "set_password",
        .recipient = rcpt,
        .recipient_name = "Jane",
        .language = "fr",
        .template_name = tmpl,
        .organization_id = "org-1",
        .correlation_id = "req-1",
        .vars_json = "{\"organization_name\":\"ACME\"}",
        .secret_vars_json = "{\"token\":\"SECRET-TOKEN\"}",
        .message_id = "<x@notifier.mkt>",
        .created_at = at,
        .give_up_at = at + CLOCK_HOUR,
    };
    struct err e = {0};
    bool fresh = !expect_new;
    cr_assert_eq(db_begin(db, &e), ERR_OK);
    cr_assert_eq(store_insert_mail(db, &m, &fresh, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_commit(db, &e), ERR_OK);
    cr_expect_eq(fresh, expect_new, "%s/%s", key, rcpt);
}

static long count(const char *where) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM mail_ledger WHERE %s", where);
    PGresult *r = NULL;
    struct err e = {0};
    cr_assert_eq(db_query(db, &r, &e, sql, DB_NO_PARAMS), ERR_OK, "%s", e.msg);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

Test(store, insert_is_idempotent_per_event_and_recipient) {
    insert("ev-1", "jane@example.com", "set_password", T0, true);
    insert("ev-1", "jane@example.com", "set_password", T0 + 5, false);
    insert("ev-1", "john@example.com", "set_password", T0, true);
    insert("ev-2", "jane@example.com", "set_password", T0, true);
    cr_expect_eq(count("true"), 3);
    cr_expect_eq(count("state = 'pending' AND attempts = 0"), 3);
}

Test(store, insert_notifies_listeners_on_commit) {
    PGconn *l = NULL;
    struct err e = {0};
    char channel[160];
    enum db_wake why;
    cr_assert_eq(db_connect(dsn, &l, &e), ERR_OK);
    cr_assert_eq(db_channel(l, STORE_MAIL_CHANNEL, channel, sizeof channel, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_listen(l, channel, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_wait_notify(l, 50, -1, &why, &e), ERR_OK);
    cr_expect_eq(why, DB_WAKE_TIMEOUT, "nothing yet");
    insert("ev-n", "jane@example.com", "set_password", T0, true);
    cr_assert_eq(db_wait_notify(l, 2000, -1, &why, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(why, DB_WAKE_NOTIFY);
    insert("ev-n", "jane@example.com", "set_password", T0, false);
    cr_assert_eq(db_wait_notify(l, 200, -1, &why, &e), ERR_OK);
    cr_expect_eq(why, DB_WAKE_TIMEOUT, "a duplicate does not wake deliveries");
    db_close(l);
}

Test(store, claim_leases_rows) {
    insert("ev-1", "a@example.com", "set_password", T0, true);
    insert("ev-1", "b@example.com", "set_password", T0 + 1, true);
    insert("ev-1", "c@example.com", "set_password", T0 + 100 * CLOCK_SECOND, true);
    struct store_batch b = {0};
    struct err e = {0};
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + 10 * CLOCK_SECOND, T0 + 70 * CLOCK_SECOND, 10, &b, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(b.n, 2, "the third is not due yet");
    cr_expect_str_eq(b.rows[0].recipient, "a@example.com", "oldest due first");
    cr_expect_str_eq(b.rows[0].secret_vars_json, "{\"token\": \"SECRET-TOKEN\"}");
    cr_expect_str_eq(b.rows[0].vars_json, "{\"organization_name\": \"ACME\"}");
    cr_expect_eq(b.rows[0].created_at, T0);
    cr_expect_eq(b.rows[0].give_up_at, T0 + CLOCK_HOUR);
    cr_expect_eq(b.rows[0].attempts, 1, "the claim counts the attempt");
    cr_expect_str_eq(b.rows[0].language, "fr");
    store_batch_cleanup(&b);
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + 20 * CLOCK_SECOND, T0 + 80 * CLOCK_SECOND, 10, &b, &e), ERR_OK);
    cr_expect_eq(b.n, 0, "leased rows are not claimed twice");
    store_batch_cleanup(&b);
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + 101 * CLOCK_SECOND, T0 + 200 * CLOCK_SECOND, 1, &b, &e), ERR_OK);
    cr_expect_eq(b.n, 1, "limit");
    store_batch_cleanup(&b);
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + 101 * CLOCK_SECOND, T0 + 200 * CLOCK_SECOND, 10, &b, &e), ERR_OK);
    cr_expect_eq(b.n, 2, "after the lease (a crashed delivery), the rows are due again");
    cr_expect_eq(b.n ? b.rows[0].attempts : -1, 2);
    store_batch_cleanup(&b);
}

static char claimed_id[40];

static void claim_one(mkt_time now) {
    struct store_batch b = {0};
    struct err e = {0};
    cr_assert_eq(store_claim(db, &ledger, owner, now, now + 60 * CLOCK_SECOND, 1, &b, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(b.n, 1);
    snprintf(claimed_id, sizeof claimed_id, "%s", b.rows[0].id);
    store_batch_cleanup(&b);
}

Test(store, outcomes) {
    struct err e = {0};
    bool changed = false;
    insert("ev-s", "sent@example.com", "set_password", T0, true);
    claim_one(T0);
    cr_assert_eq(job_done(db, &ledger, claimed_id, owner, T0 + 5, NULL, &changed, &e), ERR_OK, "%s", e.msg);
    cr_expect(changed);
    cr_expect_eq(count("state = 'sent' AND attempts = 1 AND secret_vars IS NULL AND sent_at IS NOT NULL"
                       " AND lease_owner IS NULL"),
                 1, "secrets erased once sent");
    cr_assert_eq(job_done(db, &ledger, claimed_id, owner, T0 + 6, NULL, &changed, &e), ERR_OK);
    cr_expect_not(changed, "recorded once");
    cr_assert_eq(job_fail(db, &ledger, claimed_id, owner, T0 + 6, "late", NULL, &changed, &e), ERR_OK);
    cr_expect_not(changed, "a sent mail never becomes failed");

    insert("ev-f", "failed@example.com", "set_password", T0, true);
    claim_one(T0);
    char other[64];
    job_owner("other", 1, other);
    cr_assert_eq(job_fail(db, &ledger, claimed_id, other, T0 + 5, "not mine", NULL, &changed, &e), ERR_OK);
    cr_expect_not(changed, "only the lease holder records an outcome");
    cr_assert_eq(job_fail(db, &ledger, claimed_id, owner, T0 + 5, "RCPT failed: 550", NULL, &changed, &e), ERR_OK);
    cr_expect(changed);
    cr_expect_eq(count("state = 'failed' AND last_error = 'RCPT failed: 550' AND secret_vars IS NULL"), 1);

    insert("ev-r", "retry@example.com", "set_password", T0, true);
    claim_one(T0);
    struct job_retry_result res = {0};
    cr_assert_eq(job_retry(db, &ledger, claimed_id, owner, 1, T0, "451 later", false, NULL, &res, &e), ERR_OK, "%s",
                 e.msg);
    cr_expect(res.recorded);
    cr_expect_not(res.gave_up, "the ledger has no attempt bound: the delivery gives up by time");
    cr_expect_eq(res.next, T0 + 2 * CLOCK_SECOND, "the first retry after 2 s");
    cr_expect_eq(count("state = 'pending' AND attempts = 1 AND last_error = '451 later' AND secret_vars IS NOT NULL"),
                 1, "a deferred mail keeps its secrets");
    struct store_batch b = {0};
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + CLOCK_SECOND, T0 + 90 * CLOCK_SECOND, 10, &b, &e), ERR_OK);
    cr_expect_eq(b.n, 0, "not before its next attempt");
    store_batch_cleanup(&b);
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + 3 * CLOCK_SECOND, T0 + 90 * CLOCK_SECOND, 10, &b, &e), ERR_OK);
    cr_expect_eq(b.n, 1);
    cr_expect_eq(b.n ? b.rows[0].attempts : -1, 2);
    store_batch_cleanup(&b);
}

Test(store, release_gives_rows_back) {
    struct err e = {0};
    insert("ev-1", "a@example.com", "set_password", T0, true);
    insert("ev-1", "b@example.com", "set_password", T0, true);
    struct store_batch b = {0};
    cr_assert_eq(store_claim(db, &ledger, owner, T0, T0 + CLOCK_HOUR, 10, &b, &e), ERR_OK);
    cr_assert_eq(b.n, 2);
    const char *ids[] = {b.rows[0].id, b.rows[1].id};
    cr_assert_eq(job_release(db, &ledger, ids, 2, owner, T0 + 1, &e), ERR_OK, "%s", e.msg);
    store_batch_cleanup(&b);
    cr_assert_eq(store_claim(db, &ledger, owner, T0 + 2, T0 + CLOCK_HOUR, 10, &b, &e), ERR_OK);
    cr_expect_eq(b.n, 2);
    cr_expect_eq(b.n ? b.rows[0].attempts : -1, 1, "a release is not an attempt");
    store_batch_cleanup(&b);
}

Test(store, list_filters_and_never_shows_secrets) {
    struct err e = {0};
    for (int i = 0; i < 5; i++) {
        char key[16];
        snprintf(key, sizeof key, "ev-%d", i);
        insert(key, i % 2 ? "odd@example.com" : "even@example.com", i < 4 ? "set_password" : "org_validated", T0 + i,
               true);
        usleep(2000); /* ids are UUIDv7: ordered by their millisecond */
    }
    bool changed;
    claim_one(T0);
    cr_assert_eq(job_fail(db, &ledger, claimed_id, owner, T0 + 9, "550", NULL, &changed, &e), ERR_OK);
    struct store_list l = {0};
    struct store_list_filter f = {.limit = 50};
    cr_assert_eq(store_list_mails(db, &f, &l, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(l.n, 5);
    cr_expect_eq(l.pending, 4);
    cr_expect_eq(l.failed, 1);
    cr_expect_eq(l.sent, 0);
    cr_expect_str_eq(l.rows[0].event_key, "ev-4", "newest first");
    for (size_t i = 0; i < l.n; i++)
        cr_expect(strstr(l.rows[i].vars_json, "SECRET") == NULL, "no secret in the operators' view");
    store_list_cleanup(&l);

    f = (struct store_list_filter){.state = "failed", .limit = 50};
    cr_assert_eq(store_list_mails(db, &f, &l, &e), ERR_OK);
    cr_expect_eq(l.n, 1);
    cr_expect_str_eq(l.n ? l.rows[0].last_error : "", "550");
    store_list_cleanup(&l);

    f = (struct store_list_filter){.recipient = "odd@example.com", .template_name = "set_password", .limit = 50};
    cr_assert_eq(store_list_mails(db, &f, &l, &e), ERR_OK);
    cr_expect_eq(l.n, 2);
    store_list_cleanup(&l);

    /* paging with the cursor */
    f = (struct store_list_filter){.limit = 2};
    cr_assert_eq(store_list_mails(db, &f, &l, &e), ERR_OK);
    cr_assert_eq(l.n, 2);
    char cursor[40];
    snprintf(cursor, sizeof cursor, "%s", l.rows[1].id);
    store_list_cleanup(&l);
    f.before = cursor;
    cr_assert_eq(store_list_mails(db, &f, &l, &e), ERR_OK);
    cr_expect_eq(l.n, 2);
    cr_expect_str_eq(l.n ? l.rows[0].event_key : "", "ev-2");
    store_list_cleanup(&l);
}

Test(store, prune_keeps_pending_and_recent) {
    struct err e = {0};
    bool changed;
    insert("old-sent", "a@example.com", "set_password", T0, true);
    insert("old-pending", "b@example.com", "set_password", T0 + 1, true);
    insert("new-sent", "c@example.com", "set_password", T0 + CLOCK_HOUR, true);
    claim_one(T0);
    cr_assert_eq(job_done(db, &ledger, claimed_id, owner, T0, NULL, &changed, &e), ERR_OK);
    cr_assert_eq(db_exec(db, &e, NULL, "UPDATE mail_ledger SET state = 'sent' WHERE event_key = 'new-sent'",
                         DB_NO_PARAMS),
                 ERR_OK);
    long deleted = -1;
    cr_assert_eq(store_prune(db, T0 + 10 * CLOCK_SECOND, 100, &deleted, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(deleted, 1);
    cr_expect_eq(count("event_key = 'old-pending'"), 1);
    cr_expect_eq(count("event_key = 'new-sent'"), 1);
}
