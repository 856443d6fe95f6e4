/* PostgreSQL access shared by the services: connecting (each worker thread holds its own
 * connection), statements with text parameters, statements prepared once per connection,
 * bulk writes (multi-row INSERT, COPY), transactions, SQLSTATE to error-code mapping, the
 * LISTEN/NOTIFY wait loop, and numbered migrations applied at start under an advisory lock.
 *
 * Threads: a connection is used by one thread at a time (its owner's); the functions below keep
 * no state of their own except the registry of prepared statements, which is locked.
 *
 * Each service connects as its own login role whose search_path is its own schema (see
 * deploy/db/init.sql), so table names in SQL are unqualified. Times are passed from lib/clock as
 * parameters (db_time_param), never taken from now(), so that tests can shift them. */
#ifndef MKT_DB_H
#define MKT_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"

struct db_migration {
    const char *name; /* "catalog/001_regions.sql" */
    const char *sql;
};

/* Every program has its migrations embedded at build time (tools/build/embed-sql.sh):
 * the SQL files of lib/migrations first, then those of the program folder's migrations. */
extern const struct db_migration mkt_migrations[];
extern const size_t mkt_migrations_count;

/* Counts and arrays for text parameters: db_exec(c, e, "... $1, $2", DB_PARAMS(a, b)). */
#define DB_PARAMS(...) (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[]){__VA_ARGS__}
#define DB_NO_PARAMS 0, NULL

err_code db_connect(const char *dsn, PGconn **out, struct err *e) MKT_MUST_USE;
/* Reconnects a connection that went bad (after a server restart); ERR_OK when usable. The new
 * session has no prepared statement: db_prepared prepares them again on their next use. */
err_code db_ensure(PGconn *c, struct err *e) MKT_MUST_USE;
/* Closes and forgets the connection's prepared statements; NULL is a no-op. */
void db_close(PGconn *c);

/* Runs a statement; the result is discarded. *affected (may be NULL) gets the row count. */
err_code db_exec(PGconn *c, struct err *e, long *affected, const char *sql, int n, const char *const *params) MKT_MUST_USE;
/* Runs a query; on success *out is a PGresult the caller PQclear()s. */
err_code db_query(PGconn *c, PGresult **out, struct err *e, const char *sql, int n, const char *const *params) MKT_MUST_USE;

/* Same as db_query with a named statement prepared once per connection (session): the first call
 * on a connection (or the first after a reconnect, which starts a new backend) prepares `sql`
 * under `name`, later calls only execute it. The same name must always come with the same SQL
 * and number of parameters. Preparing happens before the execution, never as a retry after a
 * failure, so it is safe inside a transaction. Use it for statements run thousands of times a
 * second, where planning costs more than executing. */
err_code db_prepared(PGconn *c, PGresult **out, struct err *e, const char *name, const char *sql, int n,
                     const char *const *params) MKT_MUST_USE;

/* Bulk writes. `values` holds nrows * ncols text values, row after row; a NULL pointer is SQL
 * NULL. `columns` and `table` are trusted identifiers (from the code, never from input).
 *
 * db_insert_rows: INSERT INTO table (columns) VALUES (...), (...) ... `suffix` (may be NULL, e.g.
 * "ON CONFLICT DO NOTHING"), in statements of at most 1000 rows (and 65535 parameters); inside
 * the caller's transaction if one is open. *affected (may be NULL) gets the rows inserted.
 * db_copy_rows: COPY table (columns) FROM STDIN (text format, values escaped): the fastest path
 * for many rows, no ON CONFLICT; *affected (may be NULL) gets the rows copied. */
err_code db_insert_rows(PGconn *c, const char *table, const char *const *columns, size_t ncols,
                        const char *const *values, size_t nrows, const char *suffix, long *affected,
                        struct err *e) MKT_MUST_USE;
err_code db_copy_rows(PGconn *c, const char *table, const char *const *columns, size_t ncols,
                      const char *const *values, size_t nrows, long *affected, struct err *e) MKT_MUST_USE;

/* LISTEN/NOTIFY, once for every loop that waits for work (the outbox relay, the notifier's
 * delivery listener). A waiting connection is dedicated to it: nothing else runs on it.
 *
 * db_channel writes `prefix` + current_schema() into out (the per-service channel convention:
 * "mkt_outbox_<schema>", "mkt_mail_<schema>"). db_listen runs LISTEN on the (quoted) channel.
 * db_wait_notify returns when a notification arrived (all pending ones are consumed), after
 * timeout_ms, or when `stop_fd` (an eventfd or pipe, -1 for none) is readable; it never reads
 * stop_fd, so a stop request stays visible. ERR_UNAVAILABLE when the connection is lost: the
 * caller reconnects and LISTENs again (notifications sent meanwhile are lost: look for work). */
enum db_wake { DB_WAKE_TIMEOUT, DB_WAKE_NOTIFY, DB_WAKE_STOP };
err_code db_channel(PGconn *c, const char *prefix, char *out, size_t n, struct err *e) MKT_MUST_USE;
err_code db_listen(PGconn *c, const char *channel, struct err *e) MKT_MUST_USE;
err_code db_wait_notify(PGconn *c, int timeout_ms, int stop_fd, enum db_wake *why, struct err *e) MKT_MUST_USE;

err_code db_begin(PGconn *c, struct err *e) MKT_MUST_USE;
err_code db_commit(PGconn *c, struct err *e) MKT_MUST_USE;
void db_rollback(PGconn *c);

/* Maps a failed result to an error code (23505 unique -> conflict, 08* -> unavailable, ...). */
err_code db_error(PGconn *c, const PGresult *r, struct err *e, const char *what);
/* Formats t as a timestamptz literal into out (>= 40 bytes) and returns out. */
const char *db_time_param(mkt_time t, char *out, size_t n);
/* Parses a timestamptz column value; 0 when NULL or unparsable. */
mkt_time db_time_value(const PGresult *r, int row, int col);

/* Applies the migrations not yet recorded in schema_migrations, each in its own transaction,
 * holding a session advisory lock so that replicas starting together apply them once. */
err_code db_migrate(PGconn *c, const struct db_migration *m, size_t n, struct err *e) MKT_MUST_USE;

#endif
