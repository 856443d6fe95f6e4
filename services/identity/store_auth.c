/* SQL of authentication state: single-use link tokens (ORG-2, ACC-3, AUTH-4), sessions (AUTH-5)
 * and failed logins (AUTH-8). Tokens are stored by their SHA-256 only, so a database leak gives
 * no usable link or session. */
#include "store_internal.h"

err_code store_token_insert(PGconn *tx, const char *id, const char *hash, const char *kind, const char *account_id,
                            mkt_time now, mkt_time expires_at, struct err *e) {
    char t1[40], t2[40];
    return db_exec(tx, e, NULL,
                   "INSERT INTO tokens (id, hash, kind, account_id, created_at, expires_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6)",
                   DB_PARAMS(id, hash, kind, account_id, STORE__TIME(now, t1), STORE__TIME(expires_at, t2)));
}

static void token_from_row(const PGresult *r, int i, void *out) {
    struct store_token *t = out;
    memset(t, 0, sizeof *t);
    store__copy(t->id, sizeof t->id, r, i, 0);
    store__copy(t->account_id, sizeof t->account_id, r, i, 1);
    t->expires_at = db_time_value(r, i, 2);
    t->used_at = db_time_value(r, i, 3);
}

err_code store_token_find(PGconn *c, const char *hash, const char *kind, bool lock, struct store_token *out,
                          struct err *e) {
    return store__one(c, token_from_row, out, e,
                      lock ? "SELECT id, account_id, expires_at, used_at FROM tokens WHERE hash = $1 AND kind = $2 "
                             "FOR UPDATE"
                           : "SELECT id, account_id, expires_at, used_at FROM tokens WHERE hash = $1 AND kind = $2",
                      DB_PARAMS(hash, kind), "unknown link");
}

err_code store_token_use(PGconn *tx, const char *id, mkt_time now, struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(tx, e, &n, "UPDATE tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
                            DB_PARAMS(id, STORE__TIME(now, t)));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_CONFLICT, "this link has already been used");
    return code;
}

err_code store_tokens_supersede(PGconn *tx, const char *account_id, const char *kind, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(tx, e, NULL,
                   "UPDATE tokens SET used_at = $3 WHERE account_id = $1 AND kind = $2 AND used_at IS NULL",
                   DB_PARAMS(account_id, kind, STORE__TIME(now, t)));
}

err_code store_session_insert(PGconn *c, const char *id, const char *hash, const char *account_id,
                              const char *client_addr, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "INSERT INTO sessions (id, hash, account_id, client_addr, created_at, last_seen_at) "
                   "VALUES ($1, $2, $3, $4, $5, $5)",
                   DB_PARAMS(id, hash, account_id, client_addr ? client_addr : "", STORE__TIME(now, t)));
}

err_code store_session_touch(PGconn *c, const char *id, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL AND last_seen_at < $2",
                   DB_PARAMS(id, STORE__TIME(now, t)));
}

err_code store_session_end(PGconn *c, const char *id, const char *hash, mkt_time now, bool *ended, struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(c, e, &n,
                            "UPDATE sessions SET ended_at = $3 WHERE ended_at IS NULL "
                            "AND (($1 <> '' AND id = NULLIF($1, '')::uuid) OR ($2 <> '' AND hash = $2))",
                            DB_PARAMS(id ? id : "", hash ? hash : "", STORE__TIME(now, t)));
    if (code == ERR_OK && ended)
        *ended = n > 0;
    return code;
}

err_code store_sessions_end_all(PGconn *tx, const char *account_id, const char *keep_id, mkt_time now,
                                struct err *e) {
    char t[40];
    return db_exec(tx, e, NULL,
                   "UPDATE sessions SET ended_at = $3 WHERE account_id = $1 AND ended_at IS NULL "
                   "AND ($2 = '' OR id <> NULLIF($2, '')::uuid)",
                   DB_PARAMS(account_id, keep_id ? keep_id : "", STORE__TIME(now, t)));
}

err_code store_failures_recent(PGconn *c, const char *key, mkt_time since, int max, mkt_time *out, size_t *n,
                               struct err *e) {
    char t[40], lim[16];
    if (max > STORE_FAILURES_MAX)
        max = STORE_FAILURES_MAX;
    snprintf(lim, sizeof lim, "%d", max);
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e,
                             "SELECT at FROM login_failures WHERE key = $1 AND at > $2 ORDER BY at DESC LIMIT $3::int",
                             DB_PARAMS(key, STORE__TIME(since, t), lim));
    if (code != ERR_OK)
        return code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++)
        out[i] = db_time_value(r, i, 0);
    *n = (size_t)rows;
    PQclear(r);
    return ERR_OK;
}

err_code store_failure_add(PGconn *c, const char *key1, const char *key2, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "INSERT INTO login_failures (key, at) SELECT k, $3::timestamptz FROM unnest(ARRAY[$1, $2]::text[]) k "
                   "WHERE k IS NOT NULL",
                   DB_PARAMS(key1, key2, STORE__TIME(now, t)));
}

err_code store_failures_clear(PGconn *c, const char *key, struct err *e) {
    return db_exec(c, e, NULL, "DELETE FROM login_failures WHERE key = $1", DB_PARAMS(key));
}
