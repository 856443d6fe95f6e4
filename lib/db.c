/* libpq helpers: connect, run statements with text parameters, prepared statements per
 * connection, bulk writes, transactions, SQLSTATE mapping, time parameters, the LISTEN/NOTIFY
 * wait, and the migration runner. All SQL of the services lives in their store.c; this file only
 * carries the plumbing they share. */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sbuf.h"

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

static void prepared_forget(PGconn *c);

err_code db_ensure(PGconn *c, struct err *e) {
    if (PQstatus(c) == CONNECTION_OK)
        return ERR_OK;
    prepared_forget(c);
    PQreset(c);
    if (PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "database: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
    PQclear(r);
    return ERR_OK;
}

void db_close(PGconn *c) {
    if (!c)
        return;
    prepared_forget(c);
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

/* ---- prepared statements --------------------------------------------------------------------------
 * What was prepared on which session. A connection is keyed by its pointer and its backend pid: a
 * connection reset behind our back (new backend) is seen as new. The registry is process-wide and
 * locked (a connection may be closed by another thread than the one that used it); it holds a
 * few entries per worker, and the lock is held for a lookup only, never across a round trip. */

struct prepared_conn {
    PGconn *conn;
    int pid;
    char **names;
    size_t n, cap;
    struct prepared_conn *next;
};

static pthread_mutex_t prepared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prepared_conn *prepared_list;

static void prepared_entry_free(struct prepared_conn *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->names[i]);
    free(p->names);
    free(p);
}

static void prepared_forget(PGconn *c) {
    pthread_mutex_lock(&prepared_lock);
    for (struct prepared_conn **pp = &prepared_list; *pp; pp = &(*pp)->next) {
        if ((*pp)->conn == c) {
            struct prepared_conn *p = *pp;
            *pp = p->next;
            prepared_entry_free(p);
            break;
        }
    }
    pthread_mutex_unlock(&prepared_lock);
}

/* Whether `name` is prepared on c's current session. */
static bool prepared_has(PGconn *c, int pid, const char *name) {
    bool found = false;
    pthread_mutex_lock(&prepared_lock);
    for (struct prepared_conn *p = prepared_list; p; p = p->next) {
        if (p->conn != c)
            continue;
        if (p->pid != pid) { /* a new session: nothing is prepared on it */
            for (size_t i = 0; i < p->n; i++)
                free(p->names[i]);
            p->n = 0;
            p->pid = pid;
        }
        for (size_t i = 0; i < p->n && !found; i++)
            found = strcmp(p->names[i], name) == 0;
        break;
    }
    pthread_mutex_unlock(&prepared_lock);
    return found;
}

static bool prepared_add(PGconn *c, int pid, const char *name) {
    bool ok = false;
    pthread_mutex_lock(&prepared_lock);
    struct prepared_conn *p = prepared_list;
    while (p && p->conn != c)
        p = p->next;
    if (!p && (p = calloc(1, sizeof *p)) != NULL) {
        p->conn = c;
        p->pid = pid;
        p->next = prepared_list;
        prepared_list = p;
    }
    if (p && p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        char **v = realloc(p->names, cap * sizeof *v);
        if (v) {
            p->names = v;
            p->cap = cap;
        }
    }
    if (p && p->n < p->cap && (p->names[p->n] = strdup(name)) != NULL) {
        p->n++;
        ok = true;
    }
    pthread_mutex_unlock(&prepared_lock);
    return ok;
}

err_code db_prepared(PGconn *c, PGresult **out, struct err *e, const char *name, const char *sql, int n,
                     const char *const *params) {
    if (!c || PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "database: not connected");
    int pid = PQbackendPID(c);
    if (!prepared_has(c, pid, name)) {
        PGresult *p = PQprepare(c, name, sql, n, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            err_code code = db_error(c, p, e, name);
            PQclear(p);
            return code;
        }
        PQclear(p);
        if (!prepared_add(c, pid, name)) {
            /* Unrecorded, the next call would prepare again and fail with "already exists". */
            PGresult *d = PQexec(c, "DEALLOCATE ALL");
            PQclear(d);
            prepared_forget(c);
            return err_set(e, ERR_INTERNAL, "%s: out of memory", name);
        }
    }
    PGresult *r = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        err_code code = db_error(c, r, e, name);
        PQclear(r);
        return code;
    }
    *out = r;
    return ERR_OK;
}

/* ---- bulk writes ------------------------------------------------------------------------------------ */

#define INSERT_ROWS_MAX 1000
#define INSERT_PARAMS_MAX 65535

static void sql_head(struct sbuf *b, const char *verb, const char *table, const char *const *columns,
                      size_t ncols) {
    sbuf_adds(b, verb);
    sbuf_adds(b, table);
    sbuf_adds(b, " (");
    for (size_t i = 0; i < ncols; i++) {
        sbuf_adds(b, i ? ", " : "");
        sbuf_adds(b, columns[i]);
    }
    sbuf_adds(b, ")");
}

err_code db_insert_rows(PGconn *c, const char *table, const char *const *columns, size_t ncols,
                        const char *const *values, size_t nrows, const char *suffix, long *affected,
                        struct err *e) {
    if (ncols == 0 || ncols > INSERT_PARAMS_MAX)
        return err_set(e, ERR_INTERNAL, "insert into %s: %zu columns", table, ncols);
    size_t per = INSERT_PARAMS_MAX / ncols;
    if (per > INSERT_ROWS_MAX)
        per = INSERT_ROWS_MAX;
    long total = 0;
    err_code code = ERR_OK;
    for (size_t from = 0; from < nrows && code == ERR_OK; from += per) {
        size_t rows = nrows - from < per ? nrows - from : per;
        struct sbuf b = {0};
        char num[24];
        sql_head(&b, "INSERT INTO ", table, columns, ncols);
        sbuf_adds(&b, " VALUES ");
        for (size_t r = 0; r < rows; r++) {
            sbuf_adds(&b, r ? ", (" : "(");
            for (size_t k = 0; k < ncols; k++) {
                snprintf(num, sizeof num, "%s$%zu", k ? ", " : "", r * ncols + k + 1);
                sbuf_adds(&b, num);
            }
            sbuf_adds(&b, ")");
        }
        if (suffix) {
            sbuf_adds(&b, " ");
            sbuf_adds(&b, suffix);
        }
        long n = 0;
        if (b.oom)
            code = err_set(e, ERR_INTERNAL, "insert into %s: out of memory", table);
        else
            code = db_exec(c, e, &n, b.data, (int)(rows * ncols), values + from * ncols);
        free(b.data);
        total += n;
    }
    if (code == ERR_OK && affected)
        *affected = total;
    return code;
}

/* COPY text format: backslash, tab, newline and carriage return are escaped; NULL is \N. */
static void copy_value(struct sbuf *b, const char *v) {
    if (!v) {
        sbuf_adds(b, "\\N");
        return;
    }
    const char *start = v;
    for (; *v; v++) {
        const char *esc = *v == '\\' ? "\\\\" : *v == '\t' ? "\\t" : *v == '\n' ? "\\n" : *v == '\r' ? "\\r" : NULL;
        if (!esc)
            continue;
        sbuf_add(b, start, (size_t)(v - start));
        sbuf_adds(b, esc);
        start = v + 1;
    }
    sbuf_add(b, start, (size_t)(v - start));
}

err_code db_copy_rows(PGconn *c, const char *table, const char *const *columns, size_t ncols,
                      const char *const *values, size_t nrows, long *affected, struct err *e) {
    if (!c || PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "database: not connected");
    struct sbuf sql = {0}, data = {0};
    err_code code = ERR_OK;
    PGresult *r = NULL;
    sql_head(&sql, "COPY ", table, columns, ncols);
    sbuf_adds(&sql, " FROM STDIN");
    if (sql.oom) {
        code = err_set(e, ERR_INTERNAL, "copy into %s: out of memory", table);
        goto done;
    }
    r = PQexec(c, sql.data);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        code = db_error(c, r, e, "copy");
        goto done;
    }
    PQclear(r);
    r = NULL;
    /* Rows go out in chunks of about 64 KiB. */
    for (size_t i = 0; i < nrows && code == ERR_OK; i++) {
        for (size_t k = 0; k < ncols; k++) {
            if (k)
                sbuf_adds(&data, "\t");
            copy_value(&data, values[i * ncols + k]);
        }
        sbuf_adds(&data, "\n");
        if (data.oom)
            code = err_set(e, ERR_INTERNAL, "copy into %s: out of memory", table);
        else if ((data.len >= 65536 || i + 1 == nrows) && PQputCopyData(c, data.data, (int)data.len) != 1)
            code = err_set(e, ERR_UNAVAILABLE, "copy into %s: %s", table, PQerrorMessage(c));
        else if (data.len >= 65536 || i + 1 == nrows)
            data.len = 0;
    }
    if (PQputCopyEnd(c, code == ERR_OK ? NULL : "aborted by the client") != 1 && code == ERR_OK)
        code = err_set(e, ERR_UNAVAILABLE, "copy into %s: %s", table, PQerrorMessage(c));
    /* Read every result so the connection is usable again. */
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && code == ERR_OK)
            code = db_error(c, r, e, "copy");
        else if (code == ERR_OK && affected)
            *affected = atol(PQcmdTuples(r));
        PQclear(r);
    }
done:
    PQclear(r);
    free(sql.data);
    free(data.data);
    return code;
}

/* ---- LISTEN/NOTIFY ---------------------------------------------------------------------------------- */

err_code db_channel(PGconn *c, const char *prefix, char *out, size_t n, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT current_schema()", DB_NO_PARAMS);
    if (code != ERR_OK)
        return err_wrap(e, "channel");
    snprintf(out, n, "%s%s", prefix, PQgetvalue(r, 0, 0));
    PQclear(r);
    return ERR_OK;
}

err_code db_listen(PGconn *c, const char *channel, struct err *e) {
    if (!c || PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "listen: not connected");
    char *ident = PQescapeIdentifier(c, channel, strlen(channel));
    if (!ident)
        return err_set(e, ERR_INTERNAL, "listen: %s", PQerrorMessage(c));
    char sql[300];
    snprintf(sql, sizeof sql, "LISTEN %s", ident);
    PQfreemem(ident);
    err_code code = db_exec(c, e, NULL, sql, DB_NO_PARAMS);
    return code == ERR_OK ? ERR_OK : err_wrap(e, "listen");
}

static bool drain_notifies(PGconn *c) {
    bool any = false;
    for (PGnotify *n; (n = PQnotifies(c)) != NULL; PQfreemem(n))
        any = true;
    return any;
}

err_code db_wait_notify(PGconn *c, int timeout_ms, int stop_fd, enum db_wake *why, struct err *e) {
    *why = DB_WAKE_TIMEOUT;
    if (!c || PQstatus(c) != CONNECTION_OK)
        return err_set(e, ERR_UNAVAILABLE, "listen: connection lost");
    if (drain_notifies(c)) {
        *why = DB_WAKE_NOTIFY;
        return ERR_OK;
    }
    struct pollfd fds[2] = {{.fd = PQsocket(c), .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    int rc = poll(fds, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0 && errno != EINTR)
        return err_set(e, ERR_UNAVAILABLE, "listen: poll: %s", strerror(errno));
    if (rc > 0 && fds[0].revents) {
        if (!PQconsumeInput(c))
            return err_set(e, ERR_UNAVAILABLE, "listen: %s", PQerrorMessage(c));
        if (drain_notifies(c))
            *why = DB_WAKE_NOTIFY;
        else if (PQstatus(c) != CONNECTION_OK)
            return err_set(e, ERR_UNAVAILABLE, "listen: connection lost");
    }
    if (rc > 0 && stop_fd >= 0 && fds[1].revents)
        *why = DB_WAKE_STOP;
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
