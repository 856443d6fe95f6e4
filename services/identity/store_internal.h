/* Helpers shared by the store_*.c files only: copying result columns into fixed-size fields,
 * time and boolean parameters, role and type arrays. */
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

#endif
