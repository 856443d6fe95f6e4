/* The publisher's tables (see store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

err_code store_code_plan(PGconn *tx, const char *product_id, const char *organization_id, mkt_time now,
                         bool *planned, struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(tx, e, &n,
                            "INSERT INTO product_codes (product_id, organization_id, state, next_attempt_at, "
                            "created_at, updated_at) VALUES ($1, $2, 'pending', $3, $3, $3) "
                            "ON CONFLICT (product_id) DO NOTHING",
                            DB_PARAMS(product_id, organization_id, db_time_param(now, t, sizeof t)));
    if (planned)
        *planned = code == ERR_OK && n > 0;
    return code;
}

void store_code_jobs_table(struct job_table *t, int max_attempts, mkt_time backoff_max) {
    *t = (struct job_table){
        .name = "code",
        .table = "product_codes",
        .due = "state = 'pending'",
        .done_set = "state = 'done', last_error = NULL",
        .failed_set = "state = 'failed'",
        .touch = "updated_at = $3",
        .error_column = "last_error",
        .select = "SELECT c.product_id, c.organization_id, c.attempts FROM claimed c",
        .max_attempts = max_attempts,
        .backoff = {.base = CLOCK_SECOND, .cap = backoff_max},
    };
}

static void copy(char *dst, size_t n, const PGresult *r, int row, int col) {
    snprintf(dst, n, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

err_code store_code_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now,
                          mkt_time lease_until, int limit, struct store_code_jobs *out, struct err *e) {
    PGresult *r = NULL;
    err_code code = job_claim(c, t, owner, now, lease_until, limit, &r, e);
    if (code != ERR_OK)
        return code;
    int n = PQntuples(r);
    struct store_code_jobs l = {calloc(n ? (size_t)n : 1, sizeof *l.v), (size_t)n};
    if (!l.v) {
        PQclear(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        copy(l.v[i].product_id, sizeof l.v[i].product_id, r, i, 0);
        copy(l.v[i].organization_id, sizeof l.v[i].organization_id, r, i, 1);
        l.v[i].attempts = atoi(PQgetvalue(r, i, 2));
    }
    PQclear(r);
    *out = l;
    return ERR_OK;
}

void store_code_jobs_cleanup(struct store_code_jobs *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

err_code store_code_set(PGconn *tx, const char *product_id, const char *product_code, struct err *e) {
    return db_exec(tx, e, NULL, "UPDATE product_codes SET product_code = $2 WHERE product_id = $1",
                   DB_PARAMS(product_id, product_code));
}
