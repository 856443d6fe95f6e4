/* SQL of the EIM work (ACC-4, ORG-6): which EIM users should exist in which OUTSCALE account,
 * claimed by the maintenance loop through lib/job (a lease, so that replicas share the work and a
 * crash makes it due again); the schedules of periodic duties; the pruning of expired rows. */
#include "store_internal.h"

#include "crypto.h"

void store_eim_user_name(const char *account_id, char out[64]) {
    /* The last 16 hex digits of a UUIDv7 are random: unique enough inside one OUTSCALE account,
     * and the same name every time, so creation can look before it creates. */
    char hex[33];
    size_t n = 0;
    for (const char *p = account_id; *p && n < 32; p++)
        if (*p != '-')
            hex[n++] = *p;
    hex[n] = '\0';
    snprintf(out, 64, "marketplace_%s", n >= 16 ? hex + n - 16 : hex);
}

err_code store_eim_plan_account(PGconn *tx, const char *account_id, mkt_time now, int *planned, struct err *e) {
    char t[40], name[64];
    long n = 0;
    store_eim_user_name(account_id, name);
    err_code code = db_exec(
        tx, e, &n,
        "INSERT INTO eim_users (id, account_id, organization_id, outscale_account_id, user_name, want, state, "
        "next_attempt_at, created_at, updated_at) "
        "SELECT gen_random_uuid(), a.id, a.organization_id, x.id, $2, 'present', 'pending', $3, $3, $3 "
        "FROM accounts a JOIN outscale_accounts x ON x.organization_id = a.organization_id AND x.state = 'active' "
        "WHERE a.id = $1 ON CONFLICT (account_id, outscale_account_id) DO NOTHING",
        DB_PARAMS(account_id, name, STORE__TIME(now, t)));
    if (code == ERR_OK)
        *planned = (int)n;
    return code;
}

err_code store_eim_plan_outscale(PGconn *tx, const char *outscale_row_id, mkt_time now, int *planned,
                                 struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(
        tx, e, &n,
        "INSERT INTO eim_users (id, account_id, organization_id, outscale_account_id, user_name, want, state, "
        "next_attempt_at, created_at, updated_at) "
        "SELECT gen_random_uuid(), a.id, a.organization_id, x.id, "
        "'marketplace_' || right(replace(a.id::text, '-', ''), 16), 'present', 'pending', $2, $2, $2 "
        "FROM outscale_accounts x JOIN accounts a ON a.organization_id = x.organization_id "
        "WHERE x.id = $1 AND x.state = 'active' ON CONFLICT (account_id, outscale_account_id) DO NOTHING",
        DB_PARAMS(outscale_row_id, STORE__TIME(now, t)));
    if (code == ERR_OK)
        *planned = (int)n;
    return code;
}

static err_code unplan(PGconn *tx, const char *column, const char *value, mkt_time now, int *changed, struct err *e) {
    char t[40], sql[400];
    long n = 0;
    snprintf(sql, sizeof sql,
             "UPDATE eim_users SET want = 'absent', state = 'deleting', attempts = 0, next_attempt_at = $2, "
             "updated_at = $2, last_error = NULL, lease_owner = NULL WHERE %s = $1 AND state <> 'deleted' AND want = 'present'",
             column);
    err_code code = db_exec(tx, e, &n, sql, DB_PARAMS(value, STORE__TIME(now, t)));
    if (code == ERR_OK)
        *changed = (int)n;
    return code;
}

err_code store_eim_unplan_account(PGconn *tx, const char *account_id, mkt_time now, int *changed, struct err *e) {
    return unplan(tx, "account_id", account_id, now, changed, e);
}

err_code store_eim_unplan_outscale(PGconn *tx, const char *outscale_row_id, mkt_time now, int *changed,
                                   struct err *e) {
    return unplan(tx, "outscale_account_id", outscale_row_id, now, changed, e);
}

void store_eim_jobs_cleanup(struct store_eim_jobs *l) {
    if (l->v)
        memset(l->v, 0, l->n * sizeof *l->v);
    free(l->v);
    memset(l, 0, sizeof *l);
}

void store_eim_jobs_table(struct job_table *t, int max_attempts, mkt_time backoff_max) {
    *t = (struct job_table){
        .name = "eim",
        .table = "eim_users",
        .due = "state IN ('pending', 'deleting')",
        .done_set = "state = CASE WHEN want = 'present' THEN 'ready' ELSE 'deleted' END, attempts = 0, last_error = NULL",
        .failed_set = "state = 'failed'",
        .touch = "updated_at = $3",
        .error_column = "last_error",
        .select = "SELECT c.id, c.account_id, c.organization_id, c.user_name, c.want, c.attempts, "
                  "x.id, x.account_id, x.region, x.access_key_id, x.secret_sealed, x.state "
                  "FROM claimed c JOIN outscale_accounts x ON x.id = c.outscale_account_id",
        .max_attempts = max_attempts,
        .backoff = {.base = CLOCK_SECOND, .cap = backoff_max},
    };
}

err_code store_eim_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now, mkt_time lease_until,
                         int limit, struct store_eim_jobs *out, struct err *e) {
    PGresult *r = NULL;
    err_code code = job_claim(c, t, owner, now, lease_until, limit, &r, e);
    if (code != ERR_OK)
        return code;
    int n = PQntuples(r);
    struct store_eim_jobs l = {calloc(n ? (size_t)n : 1, sizeof *l.v), (size_t)n};
    if (!l.v) {
        PQclear(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        struct store_eim_job *j = &l.v[i];
        store__copy(j->id, sizeof j->id, r, i, 0);
        store__copy(j->account_id, sizeof j->account_id, r, i, 1);
        store__copy(j->organization_id, sizeof j->organization_id, r, i, 2);
        store__copy(j->user_name, sizeof j->user_name, r, i, 3);
        store__copy(j->want, sizeof j->want, r, i, 4);
        j->attempts = (int)store__int(r, i, 5);
        store__copy(j->outscale.id, sizeof j->outscale.id, r, i, 6);
        store__copy(j->outscale.organization_id, sizeof j->outscale.organization_id, r, i, 2);
        store__copy(j->outscale.account_id, sizeof j->outscale.account_id, r, i, 7);
        store__copy(j->outscale.region, sizeof j->outscale.region, r, i, 8);
        store__copy(j->outscale.access_key_id, sizeof j->outscale.access_key_id, r, i, 9);
        store__copy(j->outscale.secret_sealed, sizeof j->outscale.secret_sealed, r, i, 10);
        store__copy(j->outscale.state, sizeof j->outscale.state, r, i, 11);
    }
    PQclear(r);
    *out = l;
    return ERR_OK;
}

err_code store_eim_redo_delete(PGconn *c, const char *id, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE eim_users SET state = 'deleting', attempts = 0, next_attempt_at = $2, updated_at = $2, "
                   "lease_owner = NULL WHERE id = $1 AND want = 'absent'",
                   DB_PARAMS(id, STORE__TIME(now, t)));
}

void store_eim_users_cleanup(struct store_eim_users *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

err_code store_eim_wanted(PGconn *c, const char *outscale_row_id, struct store_eim_users *out, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e,
                             "SELECT id, account_id, user_name, state FROM eim_users "
                             "WHERE outscale_account_id = $1 AND want = 'present' ORDER BY user_name",
                             DB_PARAMS(outscale_row_id));
    if (code != ERR_OK)
        return code;
    int n = PQntuples(r);
    struct store_eim_users l = {calloc(n ? (size_t)n : 1, sizeof *l.v), (size_t)n};
    if (!l.v) {
        PQclear(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        store__copy(l.v[i].id, sizeof l.v[i].id, r, i, 0);
        store__copy(l.v[i].account_id, sizeof l.v[i].account_id, r, i, 1);
        store__copy(l.v[i].user_name, sizeof l.v[i].user_name, r, i, 2);
        store__copy(l.v[i].state, sizeof l.v[i].state, r, i, 3);
    }
    PQclear(r);
    *out = l;
    return ERR_OK;
}

err_code store_eim_requeue(PGconn *c, const char *id, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE eim_users SET state = CASE WHEN want = 'present' THEN 'pending' ELSE 'deleting' END, "
                   "attempts = 0, next_attempt_at = $2, updated_at = $2, lease_owner = NULL WHERE id = $1 AND state <> 'deleted'",
                   DB_PARAMS(id, STORE__TIME(now, t)));
}

err_code store_eim_restart_failed(PGconn *c, mkt_time now, long *n, struct err *e) {
    char t[40];
    return db_exec(c, e, n,
                   "UPDATE eim_users SET state = CASE WHEN want = 'present' THEN 'pending' ELSE 'deleting' END, "
                   "attempts = 0, next_attempt_at = $1, updated_at = $1, lease_owner = NULL WHERE state = 'failed'",
                   DB_PARAMS(STORE__TIME(now, t)));
}

err_code store_schedule_claim(PGconn *c, const char *name, mkt_time now, mkt_time next, bool *due, struct err *e) {
    char t1[40], t2[40];
    long n = 0;
    /* The first claim inserts the row; afterwards only the replica whose UPDATE matches runs it. */
    err_code code = db_exec(c, e, &n,
                            "INSERT INTO schedules (name, next_run_at) VALUES ($1, $3) ON CONFLICT (name) DO UPDATE "
                            "SET next_run_at = $3 WHERE schedules.next_run_at <= $2",
                            DB_PARAMS(name, STORE__TIME(now, t1), STORE__TIME(next, t2)));
    if (code == ERR_OK)
        *due = n > 0;
    return code;
}

err_code store_prune(PGconn *c, mkt_time failures_before, mkt_time sessions_before, mkt_time tokens_before,
                     struct err *e) {
    char t1[40], t2[40], t3[40];
    err_code code = db_exec(c, e, NULL, "DELETE FROM login_failures WHERE at < $1",
                            DB_PARAMS(STORE__TIME(failures_before, t1)));
    if (code == ERR_OK)
        code = db_exec(c, e, NULL, "DELETE FROM sessions WHERE COALESCE(ended_at, last_seen_at) < $1",
                       DB_PARAMS(STORE__TIME(sessions_before, t2)));
    if (code == ERR_OK)
        code = db_exec(c, e, NULL, "DELETE FROM tokens WHERE expires_at < $1", DB_PARAMS(STORE__TIME(tokens_before, t3)));
    return code;
}
