/* The catalog's data access (the only file with SQL is store.c). */
#ifndef CATALOG_STORE_H
#define CATALOG_STORE_H

#include <libpq-fe.h>

#include "catalog.pb-c.h"
#include "err.h"

/* Regions borrow their strings from `result`; release everything with region_list_cleanup. */
struct region_list {
    Mkt__Catalog__Region *regions;
    Mkt__Catalog__Region **ptrs;
    size_t count;
    PGresult *result;
};
err_code store_list_regions(PGconn *c, struct region_list *out, struct err *e) MKT_MUST_USE;
void region_list_cleanup(struct region_list *l);

#endif
