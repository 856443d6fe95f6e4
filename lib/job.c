/* The job helper (see job.h): the claim with its lease, and the outcomes (done, retry with
 * lib/backoff, give-up with the caller's event, release), each statement built from the table's
 * description and prepared once per connection. This is the only SQL of the job columns. */
#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "db.h"

#define SQL_MAX 4096

void job_owner(const char *prefix, int worker, char out[64]) {
    uint32_t rnd;
    crypto_random(&rnd, sizeof rnd);
    snprintf(out, 64, "%.24s-%ld-%d-%08x", prefix, (long)getpid(), worker, (unsigned)rnd);
}

static const char *opt_touch(const struct job_table *t) { return t->touch ? t->touch : ""; }
static const char *opt_comma(const struct job_table *t) { return t->touch ? ", " : ""; }

err_code job_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now, mkt_time lease_until,
                   int limit, PGresult **out, struct err *e) {
    char sql[SQL_MAX], name[64], now_s[40], lease_s[40], limit_s[16];
    snprintf(sql, sizeof sql,
             "WITH due AS (SELECT id FROM %s WHERE (%s) AND next_attempt_at <= $1::timestamptz"
             " ORDER BY next_attempt_at LIMIT $3::int FOR UPDATE SKIP LOCKED),"
             " claimed AS (UPDATE %s j SET next_attempt_at = $2::timestamptz, attempts = j.attempts + 1,"
             " lease_owner = $4::text FROM due WHERE j.id = due.id RETURNING j.*) %s",
             t->table, t->due, t->table, t->select ? t->select : "SELECT * FROM claimed");
    snprintf(name, sizeof name, "job_%s_claim", t->name);
    snprintf(limit_s, sizeof limit_s, "%d", limit);
    err_code code = db_prepared(c, out, e, name, sql,
                                DB_PARAMS(db_time_param(now, now_s, sizeof now_s),
                                          db_time_param(lease_until, lease_s, sizeof lease_s), limit_s, owner));
    return code == ERR_OK ? ERR_OK : err_wrap(e, "%s claim", t->name);
}

/* Runs one outcome statement and, when it changed the row, the hook, in one transaction. */
static err_code outcome(PGconn *c, const struct job_table *t, const char *what, const char *sql, int n,
                        const char *const *params, const struct job_hook *hook, bool *recorded, struct err *e) {
    char name[64];
    PGresult *r = NULL;
    bool changed = false;
    snprintf(name, sizeof name, "job_%s_%s", t->name, what);
    err_code code = db_begin(c, e);
    if (code == ERR_OK)
        code = db_prepared(c, &r, e, name, sql, n, params);
    if (code == ERR_OK) {
        changed = atol(PQcmdTuples(r)) > 0;
        PQclear(r);
    }
    if (code == ERR_OK && changed && hook && hook->fn)
        code = hook->fn(c, hook->arg, e);
    if (code == ERR_OK)
        code = db_commit(c, e);
    if (code != ERR_OK) {
        db_rollback(c);
        return err_wrap(e, "%s %s", t->name, what);
    }
    *recorded = changed;
    return ERR_OK;
}

err_code job_done(PGconn *c, const struct job_table *t, const char *id, const char *owner, mkt_time now,
                  const struct job_hook *hook, bool *recorded, struct err *e) {
    char sql[SQL_MAX], now_s[40];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET %s, lease_owner = NULL%s%s WHERE id = $1 AND lease_owner = $2::text"
             " AND $3::timestamptz IS NOT NULL",
             t->table, t->done_set, opt_comma(t), opt_touch(t));
    return outcome(c, t, "done", sql, DB_PARAMS(id, owner, db_time_param(now, now_s, sizeof now_s)), hook,
                   recorded, e);
}

err_code job_fail(PGconn *c, const struct job_table *t, const char *id, const char *owner, mkt_time now,
                  const char *error, const struct job_hook *hook, bool *recorded, struct err *e) {
    char sql[SQL_MAX], now_s[40];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET %s, %s = $4::text, lease_owner = NULL%s%s WHERE id = $1 AND lease_owner = $2::text"
             " AND $3::timestamptz IS NOT NULL",
             t->table, t->failed_set, t->error_column, opt_comma(t), opt_touch(t));
    return outcome(c, t, "failed", sql,
                   DB_PARAMS(id, owner, db_time_param(now, now_s, sizeof now_s), error ? error : ""), hook,
                   recorded, e);
}

err_code job_retry(PGconn *c, const struct job_table *t, const char *id, const char *owner, int attempts,
                   mkt_time now, const char *error, bool give_up, const struct job_hook *on_give_up,
                   struct job_retry_result *out, struct err *e) {
    struct job_retry_result res = {0};
    err_code code;
    if (give_up || (t->max_attempts > 0 && attempts >= t->max_attempts)) {
        res.gave_up = true;
        code = job_fail(c, t, id, owner, now, error, on_give_up, &res.recorded, e);
    } else {
        char sql[SQL_MAX], now_s[40], next_s[40];
        res.next = now + backoff_next(&t->backoff, attempts);
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET next_attempt_at = $5::timestamptz, %s = $4::text, lease_owner = NULL%s%s"
                 " WHERE id = $1 AND lease_owner = $2::text AND $3::timestamptz IS NOT NULL",
                 t->table, t->error_column, opt_comma(t), opt_touch(t));
        code = outcome(c, t, "retry", sql,
                       DB_PARAMS(id, owner, db_time_param(now, now_s, sizeof now_s), error ? error : "",
                                 db_time_param(res.next, next_s, sizeof next_s)),
                       NULL, &res.recorded, e);
    }
    if (code == ERR_OK)
        *out = res;
    return code;
}

err_code job_release(PGconn *c, const struct job_table *t, const char *const *ids, size_t n, const char *owner,
                     mkt_time due, struct err *e) {
    if (n == 0)
        return ERR_OK;
    /* ids are read back from the table (UUIDs, numbers): safe inside a quoted array literal. */
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += strlen(ids[i]) + 3;
    char *arr = malloc(cap);
    if (!arr)
        return err_set(e, ERR_INTERNAL, "%s release: out of memory", t->name);
    size_t used = 0;
    arr[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(arr + used, cap - used, "%s\"%s\"", i ? "," : "", ids[i]);
    snprintf(arr + used, cap - used, "}");
    char sql[SQL_MAX], name[64], due_s[40];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET next_attempt_at = $3::timestamptz, attempts = greatest(attempts - 1, 0),"
             " lease_owner = NULL WHERE id = ANY($1::%s[]) AND lease_owner = $2::text",
             t->table, t->id_type ? t->id_type : "uuid");
    snprintf(name, sizeof name, "job_%s_release", t->name);
    PGresult *r = NULL;
    err_code code = db_prepared(c, &r, e, name, sql, DB_PARAMS(arr, owner, db_time_param(due, due_s, sizeof due_s)));
    free(arr);
    if (code != ERR_OK)
        return err_wrap(e, "%s release", t->name);
    PQclear(r);
    return ERR_OK;
}
