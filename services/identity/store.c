/* What the store_*.c files share (see store_internal.h): running a query whose one row, or whose
 * rows, become caller-owned structs through the entity's from_row function, so that an entity's
 * columns are mapped in one place and its queries do not repeat the result handling. */
#include "store_internal.h"

#include <stdarg.h>

err_code store__one(PGconn *c, store__from_row from_row, void *out, struct err *e, const char *sql, int n,
                    const char *const *params, const char *missing, ...) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, sql, n, params);
    if (code != ERR_OK)
        return code;
    if (PQntuples(r) > 0) {
        from_row(r, 0, out);
    } else {
        va_list ap;
        va_start(ap, missing);
        code = err_setv(e, ERR_NOT_FOUND, missing, ap);
        va_end(ap);
    }
    PQclear(r);
    return code;
}

err_code store__list(PGconn *c, size_t size, void **v, size_t *count, store__from_row from_row, struct err *e,
                     const char *sql, int n, const char *const *params) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, sql, n, params);
    if (code != ERR_OK)
        return code;
    return store__rows_take(r, size, v, count, from_row, e);
}

err_code store__rows_take(PGresult *r, size_t size, void **v, size_t *count, store__from_row from_row,
                          struct err *e) {
    err_code code = ERR_OK;
    int rows = PQntuples(r);
    char *list = calloc(rows ? (size_t)rows : 1, size);
    if (list) {
        for (int i = 0; i < rows; i++)
            from_row(r, i, list + (size_t)i * size);
        *v = list;
        *count = (size_t)rows;
    } else {
        code = err_set(e, ERR_INTERNAL, "out of memory");
    }
    PQclear(r);
    return code;
}
