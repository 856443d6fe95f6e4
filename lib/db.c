/* libpq helpers: connect, run statements with text parameters, transactions, SQLSTATE mapping,
 * time parameters, and the migration runner. All SQL of the services lives in their store.c;
 * this file only carries the plumbing they share. */
#include "db.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

err_code db_error(PGconn *c, const PGresult *r, struct err *e, const char *what) {
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = c ? PQerrorMessage(c) : "no connection";
    err_code code = ERR_INTERNAL;
    if (!state || (c && PQstatus(c) != CONNECTION_OK) || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57", 2) == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0)
        code = ERR_UNAVAILABLE; /* connection lost, shutdown, serialization, deadlock: retryable */
    else if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
        code = ERR_CONFLICT;
    else if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
        code = ERR_INVALID;
    return err_set(e, code, "%s: %s%s%s", what, state ? state : "", state ? " " : "", msg);
}

/* Server notices ("relation already exists, skipping") go to the debug log, on one line. */
static void on_notice(void *arg, const char *message) {
    (void)arg;
    log_debug("postgres: %s", message);
}

err_code db_connect(const char *dsn, PGconn **out, struct err *e) {
    PGconn *c = PQconnectdb(dsn);
    if (c)
        PQsetNoticeProcessor(c, on_notice, NULL);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        err_set(e, ERR_UNAVAILABLE, "database: %s", c ? PQerrorMessage(c) : "out of memory");
        PQfinish(c);
        return ERR_UNAVAILABLE;
    }
    /* Every timestamp we format or parse is UTC. */
    PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
    PQclear(r);
    *out = c;
    return ERR_OK;
}

err_code db_ensure(PGconn *c, struct err *e) {
    if (PQstatus(c) == CONNECTION_OK)
        return ERR_OK;
    PQreset(c);
    if (PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "database: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
    PQclear(r);
    return ERR_OK;
}

void db_close(PGconn *c) {
    if (c)
        PQfinish(c);
}

err_code db_query(PGconn *c, PGresult **out, struct err *e, const char *sql, int n, const char *const *params) {
    if (!c)
        return err_set(e, ERR_UNAVAILABLE, "database: not connected");
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        err_code code = db_error(c, r, e, "query");
        PQclear(r);
        return code;
    }
    *out = r;
    return ERR_OK;
}

err_code db_exec(PGconn *c, struct err *e, long *affected, const char *sql, int n, const char *const *params) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, sql, n, params);
    if (code != ERR_OK)
        return code;
    if (affected)
        *affected = atol(PQcmdTuples(r));
    PQclear(r);
    return ERR_OK;
}

err_code db_begin(PGconn *c, struct err *e) { return db_exec(c, e, NULL, "BEGIN", DB_NO_PARAMS); }
err_code db_commit(PGconn *c, struct err *e) { return db_exec(c, e, NULL, "COMMIT", DB_NO_PARAMS); }
void db_rollback(PGconn *c) {
    if (c && PQtransactionStatus(c) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c, "ROLLBACK");
        PQclear(r);
    }
}

const char *db_time_param(mkt_time t, char *out, size_t n) {
    clock_format(t, out, n);
    return out;
}

mkt_time db_time_value(const PGresult *r, int row, int col) {
    if (PQgetisnull(r, row, col))
        return 0;
    /* PostgreSQL in UTC prints "2026-11-21 22:20:57.123456+00". */
    char buf[64];
    snprintf(buf, sizeof buf, "%s", PQgetvalue(r, row, col));
    if (strlen(buf) > 10 && buf[10] == ' ')
        buf[10] = 'T';
    size_t len = strlen(buf);
    if (len >= 3 && (buf[len - 3] == '+' || buf[len - 3] == '-'))
        snprintf(buf + len, sizeof buf - len, ":00");
    mkt_time t;
    return clock_parse(buf, &t) == 0 ? t : 0;
}

/* A fixed key for the session advisory lock that serialises migrations across replicas; the
 * schema name is mixed in so services sharing a database do not wait for each other. */
err_code db_migrate(PGconn *c, const struct db_migration *m, size_t n, struct err *e) {
    err_code code = ERR_OK;
    bool locked = false;
    code = db_exec(c, e, NULL, "SELECT pg_advisory_lock(hashtext(current_schema()))", DB_NO_PARAMS);
    if (code != ERR_OK)
        goto done;
    locked = true;
    code = db_exec(c, e, NULL,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                   DB_NO_PARAMS);
    if (code != ERR_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        PGresult *r = NULL;
        code = db_query(c, &r, e, "SELECT 1 FROM schema_migrations WHERE name = $1", DB_PARAMS(m[i].name));
        if (code != ERR_OK)
            goto done;
        bool applied = PQntuples(r) > 0;
        PQclear(r);
        if (applied)
            continue;
        if ((code = db_begin(c, e)) != ERR_OK)
            goto done;
        /* Multi-statement SQL files need the simple query protocol. */
        r = PQexec(c, m[i].sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            code = db_error(c, r, e, m[i].name);
            PQclear(r);
            db_rollback(c);
            goto done;
        }
        PQclear(r);
        code = db_exec(c, e, NULL, "INSERT INTO schema_migrations(name) VALUES ($1)", DB_PARAMS(m[i].name));
        if (code == ERR_OK)
            code = db_commit(c, e);
        if (code != ERR_OK) {
            db_rollback(c);
            goto done;
        }
        log_info("migration %s applied", m[i].name);
    }
done:
    if (locked && PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, "SELECT pg_advisory_unlock(hashtext(current_schema()))");
        PQclear(r);
    }
    return code;
}
