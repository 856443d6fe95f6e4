/* Helpers shared by the store_*.c files only: copying result columns into fixed-size fields,
 * time and boolean parameters, role and type arrays, and (store.c) reading one row or a list of
 * rows into structs. */
#ifndef IDENTITY_STORE_INTERNAL_H
#define IDENTITY_STORE_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"

/* Copies column `col` of `row` ("" when NULL), truncating to n-1 bytes. */
static inline void store__copy(char *dst, size_t n, const PGresult *r, int row, int col) {
    snprintf(dst, n, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static inline bool store__bool(const PGresult *r, int row, int col) {
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static inline long long store__int(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : atoll(PQgetvalue(r, row, col));
}

/* A text[] literal of the role or type names of `mask` into out (>= 32 bytes). */
static inline const char *store__mask_array(unsigned mask, bool roles, char *out, size_t n) {
    const char *names[2];
    size_t k = roles ? validation_role_names(mask, names) : validation_type_names(mask, names);
    snprintf(out, n, "{%s%s%s}", k > 0 ? names[0] : "", k > 1 ? "," : "", k > 1 ? names[1] : "");
    return out;
}

#define STORE__TIME(t, buf) db_time_param((t), (buf), sizeof(buf))

/* Fills the row struct at `out` (a struct store_org, store_account, ...) from row `row` of r. */
typedef void (*store__from_row)(const PGresult *r, int row, void *out);

/* Runs a query for one row and fills *out from it; no row is ERR_NOT_FOUND with the reason
 * `missing` (printf-like). Nothing is written on failure. */
err_code store__one(PGconn *c, store__from_row from_row, void *out, struct err *e, const char *sql, int n,
                    const char *const *params, const char *missing, ...) MKT_PRINTF(8, 9) MKT_MUST_USE;

/* Runs a query for a list: *v gets a new array (owned: free) of *count structs of `size` bytes,
 * each filled from its row. Nothing is written on failure. STORE__LIST(l) passes the size, array
 * and count of a list struct `l` ({T *v; size_t n;}). */
err_code store__list(PGconn *c, size_t size, void **v, size_t *count, store__from_row from_row, struct err *e,
                     const char *sql, int n, const char *const *params) MKT_MUST_USE;
#define STORE__LIST(l) sizeof *(l)->v, (void **)&(l)->v, &(l)->n
/* The same from a result already at hand (a job claim's); r is taken (cleared, even on failure). */
err_code store__rows_take(PGresult *r, size_t size, void **v, size_t *count, store__from_row from_row,
                          struct err *e) MKT_MUST_USE;

#endif
