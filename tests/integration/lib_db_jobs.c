/* lib/db and lib/job against a real PostgreSQL: statements prepared once per connection and
 * again after the server killed the session, the LISTEN/NOTIFY wait woken by a notification, a
 * timeout and a stop request, multi-row INSERT and COPY round trips, and the job helper: two
 * workers racing for the same rows (each job runs once), a crashed worker's lease ending, the
 * give-up after the bound with its outbox event in the same transaction, the lease holder alone
 * recording an outcome, and release. Each test has its own schema and role. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "db.h"
#include "harness.h"
#include "id.h"
#include "job.h"
#include "log.h"

static PGconn *db;
static char *dsn;
static char schema[40];

static void setup(void) {
    log_init("it", "warn");
    th_unique("lj_", schema, sizeof schema);
    dsn = th_service_dsn(schema);
    struct err e = {0};
    cr_assert_eq(db_connect(dsn, &db, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_migrate(db, mkt_migrations, mkt_migrations_count, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_exec(db, &e, NULL,
                         "CREATE TABLE work (id uuid PRIMARY KEY, payload text NOT NULL,"
                         " state text NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0,"
                         " next_attempt_at timestamptz, lease_owner text, last_error text, updated_at timestamptz,"
                         " runs int NOT NULL DEFAULT 0)",
                         DB_NO_PARAMS),
                 ERR_OK, "%s", e.msg);
}

static void teardown(void) {
    db_close(db);
    db = NULL;
    free(dsn);
    dsn = NULL;
}

TestSuite(lib_db, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(lib_job, .init = setup, .fini = teardown, .timeout = 60);

static long sql_long(PGconn *c, const char *sql) {
    PGresult *r = NULL;
    struct err e = {0};
    cr_assert_eq(db_query(c, &r, &e, sql, DB_NO_PARAMS), ERR_OK, "%s: %s", sql, e.msg);
    long n = PQgetisnull(r, 0, 0) ? -1 : atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* ---- prepared statements ------------------------------------------------------------------------ */

Test(lib_db, prepared_once_per_connection_and_again_after_a_reconnect) {
    struct err e = {0};
    PGresult *r = NULL;
    for (int i = 0; i < 3; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        cr_assert_eq(db_prepared(db, &r, &e, "t_add", "SELECT $1::int + 1", DB_PARAMS(v)), ERR_OK, "%s", e.msg);
        cr_expect_eq(atoi(PQgetvalue(r, 0, 0)), i + 1);
        PQclear(r);
    }
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM pg_prepared_statements WHERE name = 't_add'"), 1,
                 "prepared once");
    /* Inside a transaction too (no failed statement aborts it). */
    cr_assert_eq(db_begin(db, &e), ERR_OK);
    cr_assert_eq(db_prepared(db, &r, &e, "t_two", "SELECT 2", DB_NO_PARAMS), ERR_OK, "%s", e.msg);
    PQclear(r);
    cr_assert_eq(db_commit(db, &e), ERR_OK, "%s", e.msg);

    /* The server kills the session: the next call fails (connection lost), db_ensure reconnects,
     * and the statement is prepared again on the new session. */
    int pid = PQbackendPID(db);
    char kill[96];
    snprintf(kill, sizeof kill, "SELECT pg_terminate_backend(%d)", pid);
    free(th_sql(kill));
    err_code code = db_prepared(db, &r, &e, "t_add", "SELECT $1::int + 1", DB_PARAMS("41"));
    if (code == ERR_OK) /* the loss may not be visible before the first round trip */
        PQclear(r);
    cr_assert_eq(db_ensure(db, &e), ERR_OK, "%s", e.msg);
    cr_expect_neq(PQbackendPID(db), pid, "a new session");
    cr_assert_eq(db_prepared(db, &r, &e, "t_add", "SELECT $1::int + 1", DB_PARAMS("41")), ERR_OK, "%s", e.msg);
    cr_expect_eq(atoi(PQgetvalue(r, 0, 0)), 42);
    PQclear(r);
}

Test(lib_db, prepared_on_two_connections_of_one_thread) {
    PGconn *other = NULL;
    struct err e = {0};
    PGresult *r = NULL;
    cr_assert_eq(db_connect(dsn, &other, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_prepared(db, &r, &e, "t_x", "SELECT 'a'", DB_NO_PARAMS), ERR_OK, "%s", e.msg);
    PQclear(r);
    cr_assert_eq(db_prepared(other, &r, &e, "t_x", "SELECT 'a'", DB_NO_PARAMS), ERR_OK, "%s", e.msg);
    PQclear(r);
    cr_assert_eq(db_prepared(db, &r, &e, "t_x", "SELECT 'a'", DB_NO_PARAMS), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(PQgetvalue(r, 0, 0), "a");
    PQclear(r);
    db_close(other);
}

/* ---- LISTEN/NOTIFY ------------------------------------------------------------------------------ */

Test(lib_db, wait_notify_wakes_on_notify_timeout_and_stop) {
    PGconn *l = NULL;
    struct err e = {0};
    char channel[96];
    enum db_wake why;
    cr_assert_eq(db_connect(dsn, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(db_channel(l, "mkt_test_", channel, sizeof channel, &e), ERR_OK, "%s", e.msg);
    char want[96];
    snprintf(want, sizeof want, "mkt_test_%s", schema);
    cr_expect_str_eq(channel, want);
    cr_assert_eq(db_listen(l, channel, &e), ERR_OK, "%s", e.msg);

    int64_t t0 = clock_mono_us();
    cr_assert_eq(db_wait_notify(l, 100, -1, &why, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(why, DB_WAKE_TIMEOUT);
    cr_expect_geq(clock_mono_us() - t0, 90 * 1000, "waited for the timeout");

    char notify[160];
    snprintf(notify, sizeof notify, "SELECT pg_notify('%s', 'x')", channel);
    free(th_sql(notify));
    t0 = clock_mono_us();
    cr_assert_eq(db_wait_notify(l, 5000, -1, &why, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(why, DB_WAKE_NOTIFY);
    cr_expect_lt(clock_mono_us() - t0, 4000 * 1000, "woken before the timeout");
    cr_assert_eq(db_wait_notify(l, 50, -1, &why, &e), ERR_OK);
    cr_expect_eq(why, DB_WAKE_TIMEOUT, "the notification was consumed");

    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint64_t one = 1;
    cr_assert_eq(write(fd, &one, sizeof one), (ssize_t)sizeof one);
    t0 = clock_mono_us();
    cr_assert_eq(db_wait_notify(l, 5000, fd, &why, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(why, DB_WAKE_STOP);
    cr_expect_lt(clock_mono_us() - t0, 4000 * 1000);
    close(fd);

    char kill[96];
    snprintf(kill, sizeof kill, "SELECT pg_terminate_backend(%d)", PQbackendPID(l));
    free(th_sql(kill));
    err_code code = ERR_OK;
    for (int i = 0; i < 20 && code == ERR_OK; i++)
        code = db_wait_notify(l, 100, -1, &why, &e);
    cr_expect_eq(code, ERR_UNAVAILABLE, "a lost connection is reported");
    db_close(l);
}

/* ---- bulk writes -------------------------------------------------------------------------------- */

Test(lib_db, insert_rows_and_copy_rows_round_trip) {
    struct err e = {0};
    cr_assert_eq(db_exec(db, &e, NULL, "CREATE TABLE bulk (k int PRIMARY KEY, v text)", DB_NO_PARAMS), ERR_OK);
    enum { N = 2500 };
    static char keys[N][16], vals[N][40];
    static const char *values[2 * N];
    static const char *const cols[] = {"k", "v"};
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "%d", i);
        snprintf(vals[i], sizeof vals[i], "row %d\ttab\\back\nline", i);
        values[2 * i] = keys[i];
        values[2 * i + 1] = i % 10 == 0 ? NULL : vals[i];
    }
    long n = 0;
    cr_assert_eq(db_insert_rows(db, "bulk", cols, 2, values, N, NULL, &n, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(n, N, "in several statements");
    cr_assert_eq(db_insert_rows(db, "bulk", cols, 2, values, 10, "ON CONFLICT DO NOTHING", &n, &e), ERR_OK, "%s",
                 e.msg);
    cr_expect_eq(n, 0);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM bulk WHERE v IS NULL"), N / 10);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM bulk WHERE v = 'row 7' || chr(9) || 'tab\\back' || chr(10) || 'line'"),
                 1);

    cr_assert_eq(db_exec(db, &e, NULL, "CREATE TABLE bulk2 (k int PRIMARY KEY, v text)", DB_NO_PARAMS), ERR_OK);
    cr_assert_eq(db_copy_rows(db, "bulk2", cols, 2, values, N, &n, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(n, N);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM bulk2 b JOIN bulk a USING (k) WHERE a.v IS NOT DISTINCT FROM b.v"),
                 N, "COPY stores the same values as INSERT (NULLs, tabs, backslashes, newlines)");
    /* A failing COPY (duplicate key) reports the error and leaves the connection usable. */
    cr_expect_eq(db_copy_rows(db, "bulk2", cols, 2, values, 3, &n, &e), ERR_CONFLICT);
    cr_expect_eq(sql_long(db, "SELECT 1"), 1);
}

/* ---- jobs --------------------------------------------------------------------------------------- */

static const struct job_table work = {
    .name = "work",
    .table = "work",
    .due = "state = 'pending'",
    .done_set = "state = 'done'",
    .failed_set = "state = 'failed'",
    .touch = "updated_at = $3",
    .error_column = "last_error",
    .select = "SELECT id, payload, attempts FROM claimed ORDER BY payload",
    .max_attempts = 3,
    .backoff = {.base = 10 * CLOCK_SECOND, .cap = 60 * CLOCK_SECOND},
};

static const mkt_time T0 = 1800000000LL * CLOCK_SECOND;

static void add_work(int n, mkt_time due) {
    struct err e = {0};
    char t[40];
    for (int i = 0; i < n; i++) {
        char id[40], payload[16];
        id_uuid(id);
        snprintf(payload, sizeof payload, "p%04d", i);
        cr_assert_eq(db_exec(db, &e, NULL, "INSERT INTO work (id, payload, next_attempt_at) VALUES ($1, $2, $3)",
                             DB_PARAMS(id, payload, db_time_param(due, t, sizeof t))),
                     ERR_OK, "%s", e.msg);
    }
}

struct racer {
    int index;
    int ran;
    char error[256];
};

/* One worker: claims in small batches, "runs" each job (runs + 1), records it done. */
static void *race(void *arg) {
    struct racer *w = arg;
    PGconn *c = NULL;
    struct err e = {0};
    char owner[64];
    job_owner("race", w->index, owner);
    if (db_connect(dsn, &c, &e) != ERR_OK) {
        snprintf(w->error, sizeof w->error, "%s", e.msg);
        return NULL;
    }
    for (;;) {
        PGresult *r = NULL;
        if (job_claim(c, &work, owner, T0, T0 + 60 * CLOCK_SECOND, 3, &r, &e) != ERR_OK) {
            snprintf(w->error, sizeof w->error, "%s", e.msg);
            break;
        }
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            bool recorded = false;
            const char *id = PQgetvalue(r, i, 0);
            if (db_exec(c, &e, NULL, "UPDATE work SET runs = runs + 1 WHERE id = $1", DB_PARAMS(id)) != ERR_OK ||
                job_done(c, &work, id, owner, T0, NULL, &recorded, &e) != ERR_OK || !recorded) {
                snprintf(w->error, sizeof w->error, "%s", recorded ? e.msg : "outcome not recorded");
                break;
            }
            w->ran++;
        }
        PQclear(r);
        if (n == 0)
            break;
    }
    db_close(c);
    return NULL;
}

Test(lib_job, two_workers_racing_run_each_job_once) {
    enum { JOBS = 200 };
    add_work(JOBS, T0);
    struct racer w[2] = {{.index = 0}, {.index = 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, race, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++)
        cr_expect_str_empty(w[i].error, "worker %d: %s", i, w[i].error);
    cr_expect_eq(w[0].ran + w[1].ran, JOBS);
    cr_expect_gt(w[0].ran, 0, "both workers got work");
    cr_expect_gt(w[1].ran, 0, "both workers got work");
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE runs = 1 AND state = 'done' AND attempts = 1"
                              " AND lease_owner IS NULL"),
                 JOBS, "every job ran exactly once");
}

Test(lib_job, a_crashed_workers_job_is_claimed_again_after_the_lease) {
    add_work(2, T0);
    add_work(1, T0 + 100 * CLOCK_SECOND); /* not due yet */
    struct err e = {0};
    PGresult *r = NULL;
    char a[64], b[64];
    job_owner("a", 0, a);
    job_owner("b", 1, b);
    cr_assert_eq(job_claim(db, &work, a, T0, T0 + 60 * CLOCK_SECOND, 10, &r, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(PQntuples(r), 2, "due rows only");
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    cr_expect_eq(atoi(PQgetvalue(r, 0, 2)), 1, "the claim counts an attempt");
    PQclear(r);
    /* Worker a "crashes": during its lease nobody else gets the rows. */
    cr_assert_eq(job_claim(db, &work, b, T0 + 30 * CLOCK_SECOND, T0 + 90 * CLOCK_SECOND, 10, &r, &e), ERR_OK);
    cr_expect_eq(PQntuples(r), 0, "leased rows are not claimed twice");
    PQclear(r);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE lease_owner IS NOT NULL"), 2, "running");
    /* After the lease, b claims them (and the third, due now). */
    cr_assert_eq(job_claim(db, &work, b, T0 + 101 * CLOCK_SECOND, T0 + 160 * CLOCK_SECOND, 10, &r, &e), ERR_OK);
    cr_expect_eq(PQntuples(r), 3);
    PQclear(r);
    cr_expect_eq(sql_long(db, "SELECT max(attempts) FROM work"), 2);
    /* The late outcome of a is not recorded: b holds the lease. */
    bool recorded = true;
    cr_assert_eq(job_done(db, &work, id, a, T0 + 102 * CLOCK_SECOND, NULL, &recorded, &e), ERR_OK, "%s", e.msg);
    cr_expect_not(recorded);
    cr_assert_eq(job_done(db, &work, id, b, T0 + 102 * CLOCK_SECOND, NULL, &recorded, &e), ERR_OK, "%s", e.msg);
    cr_expect(recorded);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE state = 'done'"), 1);
}

struct probe {
    int calls;
};

static err_code emit_gave_up(PGconn *tx, void *arg, struct err *e) {
    struct probe *p = arg;
    p->calls++;
    /* The caller names its event; a row in the outbox table stands for outbox_emit here. */
    return db_exec(tx, e, NULL, "INSERT INTO outbox (event_id, subject, data) VALUES (gen_random_uuid(), $1, 'x')",
                   DB_PARAMS("mkt.evt.test.work.failed"));
}

Test(lib_job, retry_backs_off_then_gives_up_after_the_bound_with_its_event) {
    add_work(1, T0);
    struct err e = {0};
    char owner[64];
    job_owner("w", 0, owner);
    struct probe probe = {0};
    struct job_hook hook = {emit_gave_up, &probe};
    mkt_time now = T0;
    for (int attempt = 1; attempt <= 3; attempt++) {
        PGresult *r = NULL;
        cr_assert_eq(job_claim(db, &work, owner, now, now + 60 * CLOCK_SECOND, 1, &r, &e), ERR_OK, "%s", e.msg);
        cr_assert_eq(PQntuples(r), 1, "attempt %d", attempt);
        char id[40];
        snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
        int attempts = atoi(PQgetvalue(r, 0, 2));
        PQclear(r);
        cr_expect_eq(attempts, attempt);
        struct job_retry_result res = {0};
        cr_assert_eq(job_retry(db, &work, id, owner, attempts, now, "boom", false, &hook, &res, &e), ERR_OK, "%s",
                     e.msg);
        cr_expect(res.recorded);
        if (attempt < 3) {
            cr_expect_not(res.gave_up);
            mkt_time ceiling = attempt == 1 ? 10 * CLOCK_SECOND : 20 * CLOCK_SECOND;
            cr_expect(res.next - now >= 10 * CLOCK_SECOND && res.next - now <= ceiling, "attempt %d: %lld", attempt,
                      (long long)(res.next - now));
            cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE state = 'pending' AND last_error = 'boom'"
                                      " AND lease_owner IS NULL"),
                         1);
            /* Not due before its backoff. */
            cr_assert_eq(job_claim(db, &work, owner, res.next - 1, res.next + 60 * CLOCK_SECOND, 1, &r, &e), ERR_OK);
            cr_expect_eq(PQntuples(r), 0);
            PQclear(r);
            now = res.next;
        } else {
            cr_expect(res.gave_up, "given up after max_attempts");
        }
    }
    cr_expect_eq(probe.calls, 1, "the hook runs once, on giving up");
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE state = 'failed' AND last_error = 'boom'"), 1);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM outbox WHERE subject = 'mkt.evt.test.work.failed'"), 1,
                 "the event committed with the state");
    PGresult *r = NULL;
    cr_assert_eq(job_claim(db, &work, owner, now + CLOCK_HOUR, now + 2 * CLOCK_HOUR, 5, &r, &e), ERR_OK);
    cr_expect_eq(PQntuples(r), 0, "a failed job is not claimed again");
    PQclear(r);
}

static err_code failing_hook(PGconn *tx, void *arg, struct err *e) {
    (void)tx;
    (void)arg;
    return err_set(e, ERR_UNAVAILABLE, "outbox down");
}

Test(lib_job, a_failing_hook_rolls_the_outcome_back) {
    add_work(1, T0);
    struct err e = {0};
    char owner[64];
    job_owner("w", 0, owner);
    PGresult *r = NULL;
    cr_assert_eq(job_claim(db, &work, owner, T0, T0 + 60 * CLOCK_SECOND, 1, &r, &e), ERR_OK, "%s", e.msg);
    char id[40];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    struct job_hook hook = {failing_hook, NULL};
    bool recorded = true;
    cr_expect_eq(job_done(db, &work, id, owner, T0, &hook, &recorded, &e), ERR_UNAVAILABLE);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE state = 'pending' AND lease_owner IS NOT NULL"), 1,
                 "still claimed: due again when the lease ends");
    cr_expect_eq(sql_long(db, "SELECT 1"), 1, "the connection is usable (no transaction left open)");
    cr_expect_eq(PQtransactionStatus(db), PQTRANS_IDLE);
}

Test(lib_job, release_gives_rows_back_without_an_attempt) {
    add_work(3, T0);
    struct err e = {0};
    char owner[64], other[64];
    job_owner("w", 0, owner);
    job_owner("o", 1, other);
    PGresult *r = NULL;
    cr_assert_eq(job_claim(db, &work, owner, T0, T0 + 60 * CLOCK_SECOND, 3, &r, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(PQntuples(r), 3);
    const char *ids[3] = {PQgetvalue(r, 0, 0), PQgetvalue(r, 1, 0), PQgetvalue(r, 2, 0)};
    cr_assert_eq(job_release(db, &work, ids, 2, other, T0, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE lease_owner IS NULL"), 0, "not the owner: no effect");
    cr_assert_eq(job_release(db, &work, ids, 2, owner, T0 + CLOCK_SECOND, &e), ERR_OK, "%s", e.msg);
    PQclear(r);
    cr_expect_eq(sql_long(db, "SELECT count(*) FROM work WHERE lease_owner IS NULL AND attempts = 0"), 2);
    cr_assert_eq(job_claim(db, &work, other, T0 + CLOCK_SECOND, T0 + 60 * CLOCK_SECOND, 3, &r, &e), ERR_OK);
    cr_expect_eq(PQntuples(r), 2, "released rows are due at once");
    PQclear(r);
}
