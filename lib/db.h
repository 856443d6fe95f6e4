/* PostgreSQL access shared by the services: connecting (each worker thread holds its own
 * connection), statements with text parameters, transactions, SQLSTATE to error-code mapping,
 * and numbered migrations applied at start under an advisory lock.
 *
 * Each service connects as its own login role whose search_path is its own schema (see
 * deploy/db/init.sql), so table names in SQL are unqualified. Times are passed from lib/clock as
 * parameters (db_time_param), never taken from now(), so that tests can shift them. */
#ifndef MKT_DB_H
#define MKT_DB_H

#include <libpq-fe.h>
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
/* Reconnects a connection that went bad (after a server restart); ERR_OK when usable. */
err_code db_ensure(PGconn *c, struct err *e) MKT_MUST_USE;
void db_close(PGconn *c);

/* Runs a statement; the result is discarded. *affected (may be NULL) gets the row count. */
err_code db_exec(PGconn *c, struct err *e, long *affected, const char *sql, int n, const char *const *params) MKT_MUST_USE;
/* Runs a query; on success *out is a PGresult the caller PQclear()s. */
err_code db_query(PGconn *c, PGresult **out, struct err *e, const char *sql, int n, const char *const *params) MKT_MUST_USE;

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
