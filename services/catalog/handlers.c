/* Request/reply handlers of the catalog service: straight-line functions from request to reply,
 * run on a worker with its own database connection. */
#include "handlers.h"

#include "store.h"

static err_code list_regions(struct bus_call *call, struct err *e) {
    struct region_list l = {0};
    err_code code = store_list_regions(call->worker->db, &l, e);
    if (code != ERR_OK)
        return code;
    Mkt__Catalog__ListRegionsReply rep = MKT__CATALOG__LIST_REGIONS_REPLY__INIT;
    rep.n_regions = l.count;
    rep.regions = l.ptrs;
    bus_reply(call, &rep.base);
    region_list_cleanup(&l);
    return ERR_OK;
}

const struct bus_method catalog_methods[] = {
    {"list_regions", &mkt__catalog__list_regions_request__descriptor, list_regions},
};
const size_t catalog_methods_count = sizeof catalog_methods / sizeof catalog_methods[0];
