/* Product codes (PROD-3) and the publisher's svc hooks (see publisher.h). The maintenance hook
 * claims due product_codes rows (lib/job, with a lease) and, outside any transaction, finds or
 * makes the product's product type in the distribution account: ReadProductTypes first, looking
 * for the deterministic marker "marketplace product <uuid>" in a Description, and only when none
 * carries it CreateProductType (Vendor: the seller organization). So a repeat (a redelivered
 * event, a crash between the create and the outcome, kill -9, a lease that ran out) finds the
 * type made before instead of making a second one. The outcome and its event
 * (publisher.product_code.created, or .failed on giving up) commit together (job_done/job_retry
 * hooks, outbox). */
#include <stdio.h>
#include <string.h>

#include "cloud.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "outbox.h"
#include "publisher.h"
#include "publisher.pb-c.h"
#include "store.h"

#define JOBS_PER_CLAIM 8
#define JOBS_PER_TICK 64
#define MARKER_PREFIX "marketplace product "

struct code_outcome {
    const struct store_code_job *j;
    const char *product_code; /* done */
    const char *reason;       /* failed */
};

/* tx (job_done's hook): the code on the row and the event. */
static err_code emit_created(PGconn *tx, void *arg, struct err *e) {
    const struct code_outcome *o = arg;
    if (store_code_set(tx, o->j->product_id, o->product_code, e) != ERR_OK)
        return e->code;
    Mkt__Publisher__ProductCodeEvent ev = MKT__PUBLISHER__PRODUCT_CODE_EVENT__INIT;
    ev.product_id = (char *)o->j->product_id;
    ev.organization_id = (char *)o->j->organization_id;
    ev.product_code = (char *)o->product_code;
    return outbox_emit(tx, "publisher.product_code.created", o->j->organization_id, NULL, o->j->product_id, &ev.base,
                       e);
}

/* tx (job_retry's give-up hook). */
static err_code emit_failed(PGconn *tx, void *arg, struct err *e) {
    const struct code_outcome *o = arg;
    Mkt__Publisher__ProductCodeFailed ev = MKT__PUBLISHER__PRODUCT_CODE_FAILED__INIT;
    ev.product_id = (char *)o->j->product_id;
    ev.organization_id = (char *)o->j->organization_id;
    ev.reason = (char *)o->reason;
    return outbox_emit(tx, "publisher.product_code.failed", o->j->organization_id, NULL, o->j->product_id, &ev.base,
                       e);
}

static err_code distribution_client(struct publisher *p, struct cloud **out, struct err *e) {
    if (p->cloud) {
        *out = p->cloud;
        return ERR_OK;
    }
    struct cloud_config cfg = {
        .endpoint = p->cfg.cloud_endpoint,
        .region = p->cfg.distribution_region,
        .access_key = p->cfg.distribution_access_key,
        .secret_key = p->cfg.distribution_secret_key,
        .timeout_ms = (int)p->cfg.cloud_timeout_ms,
        .max_tries = (int)p->cfg.cloud_max_tries,
    };
    err_code code = cloud_new(&cfg, &p->cloud, e);
    *out = p->cloud;
    return code;
}

/* Outside any transaction. The product's type: the one whose Description carries the marker
 * (the smallest id when a past race made several), else a new one. */
static err_code ensure_product_type(struct cloud *c, const struct store_code_job *j, char code_out[STORE_CODE],
                                    bool *created, struct err *e) {
    char marker[96];
    snprintf(marker, sizeof marker, MARKER_PREFIX "%s", j->product_id);
    struct cloud_product_types *l = NULL;
    *created = false;
    err_code code = cloud_read_product_types(c, NULL, &l, e);
    if (code != ERR_OK)
        goto done;
    const char *found = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct cloud_product_type *t = &l->items[i];
        if (t->description && t->product_type_id && strstr(t->description, marker) &&
            (!found || strcmp(t->product_type_id, found) < 0))
            found = t->product_type_id;
    }
    if (found) {
        snprintf(code_out, STORE_CODE, "%s", found);
        goto done;
    }
    cloud_product_types_free(l);
    l = NULL;
    code = cloud_create_product_type(c, marker, j->organization_id[0] ? j->organization_id : "marketplace", &l, e);
    if (code != ERR_OK)
        goto done;
    if (l->n < 1 || !l->items[0].product_type_id || !l->items[0].product_type_id[0]) {
        code = err_set(e, ERR_UNAVAILABLE, "CreateProductType: no ProductTypeId in the answer");
        goto done;
    }
    snprintf(code_out, STORE_CODE, "%s", l->items[0].product_type_id);
    *created = true;
done:
    cloud_product_types_free(l);
    return code;
}

static void run_job(struct publisher *p, const struct job_table *t, const char *owner, PGconn *db,
                    const struct store_code_job *j) {
    struct err e = {0}, why = {0};
    struct cloud *c = NULL;
    char product_code[STORE_CODE] = "";
    bool created = false, recorded = false;
    err_code code = distribution_client(p, &c, &why);
    if (code == ERR_OK)
        code = ensure_product_type(c, j, product_code, &created, &why);
    if (code == ERR_OK) {
        struct code_outcome o = {j, product_code, NULL};
        struct job_hook hook = {emit_created, &o};
        if (job_done(db, t, j->product_id, owner, clock_now(), &hook, &recorded, &e) != ERR_OK)
            log_warn("product code of %s: outcome not recorded (the job runs again): %s", j->product_id, e.msg);
        else if (recorded)
            log_info("product code of product %s: %s (%s, attempt %d)", j->product_id, product_code,
                     created ? "created" : "found", j->attempts);
        return;
    }
    /* A refusal of the request itself will not change by retrying. */
    bool permanent = code == ERR_INVALID;
    struct code_outcome o = {j, NULL, why.msg};
    struct job_hook hook = {emit_failed, &o};
    struct job_retry_result res = {0};
    mkt_time now = clock_now();
    if (job_retry(db, t, j->product_id, owner, j->attempts, now, why.msg, permanent, &hook, &res, &e) != ERR_OK) {
        log_warn("product code of %s: failure not recorded: %s", j->product_id, e.msg);
        return;
    }
    if (!res.recorded)
        return;
    if (res.gave_up)
        log_error("product code of product %s failed after %d attempt(s): %s", j->product_id, j->attempts, why.msg);
    else
        log_warn("product code of product %s failed (attempt %d, next in %ld s): %s", j->product_id, j->attempts,
                 (long)((res.next - now) / CLOCK_SECOND), why.msg);
}

static void run_jobs(struct publisher *p, PGconn *db) {
    struct job_table t;
    char owner[64];
    store_code_jobs_table(&t, (int)p->cfg.job_max_attempts, p->cfg.job_backoff_max_s * CLOCK_SECOND);
    job_owner("publisher", 0, owner);
    for (int done = 0; done < JOBS_PER_TICK && !publisher_stopping(p);) {
        struct store_code_jobs jobs = {0};
        struct err e = {0};
        mkt_time now = clock_now();
        if (store_code_claim(db, &t, owner, now, now + p->cfg.job_lease_s * CLOCK_SECOND, JOBS_PER_CLAIM, &jobs,
                             &e) != ERR_OK) {
            log_warn("product codes: claim: %s", e.msg);
            return;
        }
        size_t n = jobs.n;
        /* Jobs left unrun when the drain starts keep their lease: due again after it. */
        for (size_t i = 0; i < jobs.n && !publisher_stopping(p); i++, done++)
            run_job(p, &t, owner, db, &jobs.v[i]);
        store_code_jobs_cleanup(&jobs);
        if (n < JOBS_PER_CLAIM)
            return;
    }
}

void publisher_maintenance(struct svc *s, struct pool_worker *w) {
    (void)w; /* the hook keeps its own connection (p->maint_db) */
    struct publisher *p = s->app;
    struct err e = {0};
    if (!p->cfg.distribution_access_key[0])
        return; /* no distribution account: jobs wait (logged at start) */
    log_set_context(NULL, "maintenance");
    if (!p->maint_db && db_connect(s->cfg.pg_dsn, &p->maint_db, &e) != ERR_OK) {
        log_warn("maintenance: %s", e.msg);
        goto done;
    }
    if (db_ensure(p->maint_db, &e) != ERR_OK) {
        log_warn("maintenance: %s", e.msg);
        goto done;
    }
    run_jobs(p, p->maint_db);
done:
    log_set_context(NULL, NULL);
}

void publisher_on_drain(struct svc *s) {
    struct publisher *p = s->app;
    atomic_store(&p->stopping, true);
}

void publisher_cleanup(struct publisher *p) {
    db_close(p->maint_db);
    p->maint_db = NULL;
    cloud_free(p->cloud);
    p->cloud = NULL;
}
