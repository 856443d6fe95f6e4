/* Every SQL statement of the notifier, over the ledger table. Rows are claimed with FOR UPDATE
 * SKIP LOCKED inside one autocommitted UPDATE that pushes next_attempt_at past a lease, so no
 * transaction stays open while SMTP runs and replicas never claim the same row twice. The hot
 * statements are prepared once per connection. */
#include "store.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char *opt(const char *s) { return s ? s : ""; }

/* ---- prepared statements ------------------------------------------------------------------------
 * The delivery path runs a handful of statements thousands of times a second; planning them each
 * time (PQexecParams) cost more PostgreSQL CPU than executing them. Each is prepared once per
 * connection. A connection belongs to one thread (a worker's), so the record of what was
 * prepared is thread-local and keyed by the connection and its backend pid: a reset connection
 * (new backend) is prepared again. Preparing happens before use, never as a retry after a
 * failure, because a failed statement would abort the caller's transaction. */

enum stmt { ST_INSERT, ST_CLAIM, ST_SENT, ST_FAILED, ST_RETRY, ST__COUNT };

static const char *const stmt_sql[ST__COUNT] = {
    [ST_INSERT] = "WITH ins AS ("
                  " INSERT INTO mail_ledger (id, event_key, event_id, event_type, recipient, recipient_name, language,"
                  "  template, organization_id, correlation_id, vars, secret_vars, state, attempts, next_attempt_at,"
                  "  give_up_at, created_at, updated_at, message_id)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, 'pending', 0, $13, $14,"
                  "  $13, $13, $15)"
                  " ON CONFLICT (event_key, recipient) DO NOTHING RETURNING 1)"
                  " SELECT pg_notify('mkt_mail_' || current_schema(), '') FROM ins",
    [ST_CLAIM] = "WITH due AS ("
                 " SELECT id FROM mail_ledger WHERE state = 'pending' AND next_attempt_at <= $1"
                 " ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
                 " UPDATE mail_ledger m SET next_attempt_at = $2 FROM due WHERE m.id = due.id"
                 " RETURNING m.id, m.event_key, m.event_id, m.recipient, m.recipient_name, m.language, m.template,"
                 "  m.organization_id, m.correlation_id, m.message_id, m.vars::text, m.secret_vars::text, m.attempts,"
                 "  m.created_at, m.give_up_at",
    [ST_SENT] = "UPDATE mail_ledger SET state = 'sent', attempts = $2, sent_at = $3, updated_at = $3,"
                " secret_vars = NULL, last_error = $4 WHERE id = $1 AND state = 'pending'",
    [ST_FAILED] = "UPDATE mail_ledger SET state = 'failed', attempts = $2, updated_at = $3, secret_vars = NULL,"
                  " last_error = $4 WHERE id = $1 AND state = 'pending'",
    [ST_RETRY] = "UPDATE mail_ledger SET attempts = $2, next_attempt_at = $3, last_error = $4,"
                 " updated_at = $5 WHERE id = $1 AND state = 'pending'",
};
static const char *const stmt_name[ST__COUNT] = {"notifier_insert", "notifier_claim", "notifier_sent",
                                                 "notifier_failed", "notifier_retry"};

static __thread PGconn *prepared_conn;
static __thread int prepared_pid;
static __thread unsigned prepared_mask;

static err_code run(PGconn *c, enum stmt st, int n, const char *const *params, PGresult **out, struct err *e) {
    if (!c || PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "database: not connected");
    if (prepared_conn != c || prepared_pid != PQbackendPID(c)) {
        prepared_conn = c;
        prepared_pid = PQbackendPID(c);
        prepared_mask = 0;
    }
    if (!(prepared_mask & (1u << st))) {
        PGresult *p = PQprepare(c, stmt_name[st], stmt_sql[st], n, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            err_code code = db_error(c, p, e, stmt_name[st]);
            PQclear(p);
            return code;
        }
        PQclear(p);
        prepared_mask |= 1u << st;
    }
    PGresult *r = PQexecPrepared(c, stmt_name[st], n, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        err_code code = db_error(c, r, e, stmt_name[st]);
        PQclear(r);
        return code;
    }
    *out = r;
    return ERR_OK;
}

err_code store_insert_mail(PGconn *tx, const struct store_new_mail *m, bool *inserted, struct err *e) {
    char created[40], give_up[40];
    db_time_param(m->created_at, created, sizeof created);
    db_time_param(m->give_up_at, give_up, sizeof give_up);
    PGresult *r = NULL;
    err_code code = run(tx, ST_INSERT, 15,
                        (const char *[]){m->id, m->event_key, m->event_id, opt(m->event_type), m->recipient,
                                         opt(m->recipient_name), m->language, m->template_name,
                                         opt(m->organization_id), opt(m->correlation_id), m->vars_json,
                                         m->secret_vars_json, created, give_up, m->message_id},
                        &r, e);
    if (code != ERR_OK)
        return err_wrap(e, "ledger insert");
    *inserted = PQntuples(r) > 0;
    PQclear(r);
    return ERR_OK;
}

void store_batch_cleanup(struct store_batch *b) {
    free(b->rows);
    PQclear(b->result);
    memset(b, 0, sizeof *b);
}

static const char *nullable(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

err_code store_claim(PGconn *c, mkt_time now, mkt_time lease_until, int limit, struct store_batch *out,
                     struct err *e) {
    char now_s[40], lease_s[40], limit_s[16];
    db_time_param(now, now_s, sizeof now_s);
    db_time_param(lease_until, lease_s, sizeof lease_s);
    snprintf(limit_s, sizeof limit_s, "%d", limit);
    PGresult *r = NULL;
    err_code code = run(c, ST_CLAIM, 3, (const char *[]){now_s, lease_s, limit_s}, &r, e);
    if (code != ERR_OK)
        return err_wrap(e, "ledger claim");
    struct store_batch b = {.result = r, .n = (size_t)PQntuples(r)};
    b.rows = calloc(b.n ? b.n : 1, sizeof *b.rows);
    if (!b.rows) {
        store_batch_cleanup(&b);
        return err_set(e, ERR_INTERNAL, "ledger claim: out of memory");
    }
    for (int i = 0; i < (int)b.n; i++) {
        struct store_mail *m = &b.rows[i];
        m->id = PQgetvalue(r, i, 0);
        m->event_key = PQgetvalue(r, i, 1);
        m->event_id = PQgetvalue(r, i, 2);
        m->recipient = PQgetvalue(r, i, 3);
        m->recipient_name = PQgetvalue(r, i, 4);
        m->language = PQgetvalue(r, i, 5);
        m->template_name = PQgetvalue(r, i, 6);
        m->organization_id = PQgetvalue(r, i, 7);
        m->correlation_id = PQgetvalue(r, i, 8);
        m->message_id = PQgetvalue(r, i, 9);
        m->vars_json = PQgetvalue(r, i, 10);
        m->secret_vars_json = nullable(r, i, 11);
        m->attempts = atoi(PQgetvalue(r, i, 12));
        m->created_at = db_time_value(r, i, 13);
        m->give_up_at = db_time_value(r, i, 14);
    }
    *out = b;
    return ERR_OK;
}

static err_code finish(PGconn *c, enum stmt st, const char *id, int attempts, const char *reason, mkt_time now,
                       bool *changed, const char *what, struct err *e) {
    char now_s[40], attempts_s[16];
    db_time_param(now, now_s, sizeof now_s);
    snprintf(attempts_s, sizeof attempts_s, "%d", attempts);
    PGresult *r = NULL;
    err_code code = run(c, st, 4, (const char *[]){id, attempts_s, now_s, opt(reason)}, &r, e);
    if (code != ERR_OK)
        return err_wrap(e, "%s", what);
    *changed = atol(PQcmdTuples(r)) > 0;
    PQclear(r);
    return ERR_OK;
}

err_code store_mark_sent(PGconn *tx, const char *id, int attempts, mkt_time now, bool *changed, struct err *e) {
    return finish(tx, ST_SENT, id, attempts, "", now, changed, "ledger mark sent", e);
}

err_code store_mark_failed(PGconn *tx, const char *id, int attempts, const char *reason, mkt_time now, bool *changed,
                           struct err *e) {
    return finish(tx, ST_FAILED, id, attempts, reason, now, changed, "ledger mark failed", e);
}

err_code store_mark_retry(PGconn *c, const char *id, int attempts, mkt_time next_attempt_at, const char *reason,
                          mkt_time now, struct err *e) {
    char now_s[40], next_s[40], attempts_s[16];
    db_time_param(now, now_s, sizeof now_s);
    db_time_param(next_attempt_at, next_s, sizeof next_s);
    snprintf(attempts_s, sizeof attempts_s, "%d", attempts);
    PGresult *r = NULL;
    err_code code = run(c, ST_RETRY, 5, (const char *[]){id, attempts_s, next_s, opt(reason), now_s}, &r, e);
    if (code != ERR_OK)
        return err_wrap(e, "ledger mark retry");
    PQclear(r);
    return ERR_OK;
}

err_code store_release(PGconn *c, const char *const *ids, size_t n, mkt_time due, struct err *e) {
    if (n == 0)
        return ERR_OK;
    /* ids are UUIDs read back from the ledger: safe inside an array literal. */
    size_t cap = n * 38 + 3;
    char *arr = malloc(cap);
    if (!arr)
        return err_set(e, ERR_INTERNAL, "ledger release: out of memory");
    size_t used = 0;
    arr[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(arr + used, cap - used, "%s%s", i ? "," : "", ids[i]);
    snprintf(arr + used, cap - used, "}");
    char due_s[40];
    db_time_param(due, due_s, sizeof due_s);
    err_code code = db_exec(c, e, NULL,
                            "UPDATE mail_ledger SET next_attempt_at = $2"
                            " WHERE id = ANY($1::uuid[]) AND state = 'pending'",
                            DB_PARAMS(arr, due_s));
    free(arr);
    return code == ERR_OK ? ERR_OK : err_wrap(e, "ledger release");
}

err_code store_prune(PGconn *c, mkt_time before, int limit, long *deleted, struct err *e) {
    char before_s[40], limit_s[16];
    db_time_param(before, before_s, sizeof before_s);
    snprintf(limit_s, sizeof limit_s, "%d", limit);
    err_code code = db_exec(c, e, deleted,
                            "DELETE FROM mail_ledger WHERE id IN (SELECT id FROM mail_ledger"
                            " WHERE created_at < $1 AND state <> 'pending' LIMIT $2)",
                            DB_PARAMS(before_s, limit_s));
    return code == ERR_OK ? ERR_OK : err_wrap(e, "ledger prune");
}

err_code store_listen(PGconn *c, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT 'mkt_mail_' || current_schema()", DB_NO_PARAMS);
    if (code != ERR_OK)
        return err_wrap(e, "listen");
    char *ident = PQescapeIdentifier(c, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)));
    PQclear(r);
    if (!ident)
        return err_set(e, ERR_INTERNAL, "listen: %s", PQerrorMessage(c));
    char sql[160];
    snprintf(sql, sizeof sql, "LISTEN %s", ident);
    PQfreemem(ident);
    code = db_exec(c, e, NULL, sql, DB_NO_PARAMS);
    return code == ERR_OK ? ERR_OK : err_wrap(e, "listen");
}

static bool drain_notifies(PGconn *c) {
    bool any = false;
    for (PGnotify *n; (n = PQnotifies(c)); PQfreemem(n))
        any = true;
    return any;
}

err_code store_wait_notify(PGconn *c, int timeout_ms, bool *notified, struct err *e) {
    *notified = false;
    if (PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "listen: connection lost");
    if (drain_notifies(c)) {
        *notified = true;
        return ERR_OK;
    }
    struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        return err_set(e, ERR_UNAVAILABLE, "listen: poll: %s", strerror(errno));
    if (rc > 0) {
        if (!PQconsumeInput(c))
            return err_set(e, ERR_UNAVAILABLE, "listen: %s", PQerrorMessage(c));
        *notified = drain_notifies(c);
    }
    return ERR_OK;
}

/* ---- operators' view ---------------------------------------------------------------------------- */

void store_list_cleanup(struct store_list *l) {
    free(l->rows);
    PQclear(l->result);
    memset(l, 0, sizeof *l);
}

static err_code count_states(PGconn *c, struct store_list *l, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT state, count(*) FROM mail_ledger GROUP BY state", DB_NO_PARAMS);
    if (code != ERR_OK)
        return err_wrap(e, "ledger counts");
    for (int i = 0; i < PQntuples(r); i++) {
        long long n = atoll(PQgetvalue(r, i, 1));
        const char *s = PQgetvalue(r, i, 0);
        if (strcmp(s, "pending") == 0)
            l->pending = n;
        else if (strcmp(s, "sent") == 0)
            l->sent = n;
        else if (strcmp(s, "failed") == 0)
            l->failed = n;
    }
    PQclear(r);
    return ERR_OK;
}

err_code store_list_mails(PGconn *c, const struct store_list_filter *f, struct store_list *out, struct err *e) {
    /* Only the conditions asked for, so that each filter can use its index. */
    char sql[1024], limit_s[16];
    const char *params[5];
    int n = 0;
    size_t used = (size_t)snprintf(sql, sizeof sql,
                                   "SELECT id, event_key, template, recipient, language, state, last_error, message_id,"
                                   " organization_id, vars::text, attempts, created_at, updated_at, sent_at,"
                                   " next_attempt_at FROM mail_ledger WHERE true");
    static const char *const conds[] = {" AND state = $%d", " AND recipient = $%d", " AND template = $%d",
                                        " AND id < $%d::uuid"};
    const char *values[] = {f->state, f->recipient, f->template_name, f->before};
    for (int i = 0; i < 4; i++) {
        if (!values[i] || !*values[i])
            continue;
        params[n++] = values[i];
        used += (size_t)snprintf(sql + used, sizeof sql - used, conds[i], n);
    }
    snprintf(limit_s, sizeof limit_s, "%d", f->limit);
    params[n++] = limit_s;
    snprintf(sql + used, sizeof sql - used, " ORDER BY id DESC LIMIT $%d", n);
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, sql, n, params);
    if (code != ERR_OK)
        return err_wrap(e, "ledger list");
    struct store_list l = {.result = r, .n = (size_t)PQntuples(r)};
    l.rows = calloc(l.n ? l.n : 1, sizeof *l.rows);
    if (!l.rows) {
        store_list_cleanup(&l);
        return err_set(e, ERR_INTERNAL, "ledger list: out of memory");
    }
    for (int i = 0; i < (int)l.n; i++) {
        struct store_entry *x = &l.rows[i];
        x->id = PQgetvalue(r, i, 0);
        x->event_key = PQgetvalue(r, i, 1);
        x->template_name = PQgetvalue(r, i, 2);
        x->recipient = PQgetvalue(r, i, 3);
        x->language = PQgetvalue(r, i, 4);
        x->state = PQgetvalue(r, i, 5);
        x->last_error = PQgetvalue(r, i, 6);
        x->message_id = PQgetvalue(r, i, 7);
        x->organization_id = PQgetvalue(r, i, 8);
        x->vars_json = PQgetvalue(r, i, 9);
        x->attempts = atoi(PQgetvalue(r, i, 10));
        x->created_at = db_time_value(r, i, 11);
        x->updated_at = db_time_value(r, i, 12);
        x->sent_at = db_time_value(r, i, 13);
        x->next_attempt_at = db_time_value(r, i, 14);
    }
    if ((code = count_states(c, &l, e)) != ERR_OK) {
        store_list_cleanup(&l);
        return code;
    }
    *out = l;
    return ERR_OK;
}
