/* The catalog service: showcases, products, offers, versions, subscriptions, and the public
 * catalog queries. This file is the boot script; see handlers.c (methods), store.c (SQL) and
 * catalog.h (state). */
#include "catalog.h"
#include "handlers.h"
#include "log.h"
#include "svc.h"

int main(void) {
    static struct catalog cat;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    cat.svc = &s;
    if (svc_init(&s, "catalog", &cat, true, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        svc_connect(&s, &e) != ERR_OK || svc_serve(&s, catalog_methods, catalog_methods_count, &e) != ERR_OK) {
        log_error("start: %s: %s", err_code_name(e.code), e.msg);
        goto done;
    }
    rc = svc_run(&s);
done:
    svc_cleanup(&s);
    return rc;
}
