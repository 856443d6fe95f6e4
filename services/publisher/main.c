/* The publisher service: OMI copies, shares and deletions when versions are published or unpublished.
 * Its domain lands with its own issue; until then it runs the shared skeleton (database with
 * migrations, outbox relay, NATS, the built-in ping) so the platform runs whole. This file is the
 * boot script; see publisher.h (state) and handlers.c (methods). */
#include "publisher.h"
#include "handlers.h"
#include "log.h"
#include "svc.h"

int main(void) {
    static struct publisher app;
    struct svc s;
    struct err e = {0};
    int rc = 1;
    app.svc = &s;
    if (svc_init(&s, "publisher", &app, true, &e) != ERR_OK || svc_open_db(&s, &e) != ERR_OK ||
        svc_connect(&s, &e) != ERR_OK || svc_serve(&s, handlers_methods, handlers_methods_count, &e) != ERR_OK) {
        log_error("start: %s: %s", err_code_name(e.code), e.msg);
        goto done;
    }
    rc = svc_run(&s);
done:
    svc_cleanup(&s);
    return rc;
}
