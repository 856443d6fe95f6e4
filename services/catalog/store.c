/* All SQL of the catalog service. Functions take the worker's connection and fill protobuf
 * messages; strings in the results are owned by the returned structure. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"

err_code store_list_regions(PGconn *c, struct region_list *out, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT name, display_name_en, display_name_fr FROM regions ORDER BY position",
                             DB_NO_PARAMS);
    if (code != ERR_OK)
        return code;
    out->result = r;
    out->count = (size_t)PQntuples(r);
    out->regions = calloc(out->count ? out->count : 1, sizeof *out->regions);
    out->ptrs = calloc(out->count ? out->count : 1, sizeof *out->ptrs);
    if (!out->regions || !out->ptrs) {
        region_list_cleanup(out);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < out->count; i++) {
        Mkt__Catalog__Region *g = &out->regions[i];
        mkt__catalog__region__init(g);
        g->name = PQgetvalue(r, (int)i, 0);
        g->display_name_en = PQgetvalue(r, (int)i, 1);
        g->display_name_fr = PQgetvalue(r, (int)i, 2);
        out->ptrs[i] = g;
    }
    return ERR_OK;
}

void region_list_cleanup(struct region_list *l) {
    free(l->regions);
    free(l->ptrs);
    PQclear(l->result);
    memset(l, 0, sizeof *l);
}
