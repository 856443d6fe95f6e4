/* Every SQL statement of the notifier, over the ledger table. Pending rows are lib/job jobs: the
 * claim (FOR UPDATE SKIP LOCKED inside one autocommitted UPDATE that pushes next_attempt_at past
 * a lease and records the lease owner) and the outcomes are lib/job's, described by
 * store_mail_jobs, so no transaction stays open while SMTP runs and replicas never claim the same
 * row twice. The hot statements are prepared once per connection (db_prepared). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char *opt(const char *s) { return s ? s : ""; }

/* The delivery path runs the insert, the claim and the outcomes thousands of times a second:
 * planning them each time cost more PostgreSQL CPU than executing them, so they are prepared
 * once per connection (lib/db's registry prepares them again after a reconnect). */
static const char insert_sql[] =
    "WITH ins AS ("
    " INSERT INTO mail_ledger (id, event_key, event_id, event_type, recipient, recipient_name, language,"
    "  template, organization_id, correlation_id, vars, secret_vars, state, attempts, next_attempt_at,"
    "  give_up_at, created_at, updated_at, message_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, 'pending', 0, $13, $14,"
    "  $13, $13, $15)"
    " ON CONFLICT (event_key, recipient) DO NOTHING RETURNING 1)"
    " SELECT pg_notify('" STORE_MAIL_CHANNEL "' || current_schema(), '') FROM ins";

void store_mail_jobs(struct job_table *t, mkt_time backoff_max) {
    *t = (struct job_table){
        .name = "mail",
        .table = "mail_ledger",
        .due = "state = 'pending'",
        .done_set = "state = 'sent', sent_at = $3, secret_vars = NULL, last_error = ''",
        .failed_set = "state = 'failed', secret_vars = NULL",
        .touch = "updated_at = $3",
        .error_column = "last_error",
        .select = "SELECT id, event_key, event_id, recipient, recipient_name, language, template, organization_id,"
                  " correlation_id, message_id, vars::text, secret_vars::text, attempts, created_at, give_up_at"
                  " FROM claimed ORDER BY created_at, id",
        .max_attempts = 0,
        .backoff = {.base = 2 * CLOCK_SECOND, .cap = backoff_max},
    };
}

err_code store_insert_mail(PGconn *tx, const struct store_new_mail *m, bool *inserted, struct err *e) {
    char created[40], give_up[40];
    db_time_param(m->created_at, created, sizeof created);
    db_time_param(m->give_up_at, give_up, sizeof give_up);
    PGresult *r = NULL;
    err_code code = db_prepared(tx, &r, e, "notifier_insert", insert_sql, 15,
                                (const char *[]){m->id, m->event_key, m->event_id, opt(m->event_type), m->recipient,
                                                 opt(m->recipient_name), m->language, m->template_name,
                                                 opt(m->organization_id), opt(m->correlation_id), m->vars_json,
                                                 m->secret_vars_json, created, give_up, m->message_id});
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

err_code store_claim(PGconn *c, const struct job_table *t, const char *owner, mkt_time now, mkt_time lease_until,
                     int limit, struct store_batch *out, struct err *e) {
    PGresult *r = NULL;
    err_code code = job_claim(c, t, owner, now, lease_until, limit, &r, e);
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
