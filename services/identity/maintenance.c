/* Identity's periodic duties (see maintenance.h): EIM jobs with retries, the detach teardown,
 * reconciliation of drift, pruning. Cloud calls block, which is why this runs on a worker. The
 * EIM jobs and the teardowns are lib/job jobs (lease, backoff, give-up): each outcome is recorded
 * with its event in one transaction on the hook's own connection. */
#include "maintenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "eim.h"
#include "identity.pb-c.h"
#include "job.h"
#include "log.h"
#include "outbox.h"
#include "outscale.h"
#include "store.h"

#define JOBS_PER_CLAIM 8
#define JOBS_PER_TICK 64
#define PRUNE_EVERY (10 * CLOCK_MINUTE)
#define KEEP_ENDED (7 * 24 * CLOCK_HOUR)

/* tx. One EimEvent. */
static err_code emit_eim(PGconn *tx, const char *type, const char *org, const char *account, const char *outscale,
                         const char *user, const char *detail, const char *correlation, struct err *e) {
    Mkt__Identity__EimEvent ev = MKT__IDENTITY__EIM_EVENT__INIT;
    ev.organization_id = (char *)org;
    ev.account_id = (char *)(account ? account : "");
    ev.outscale_account_id = (char *)outscale;
    ev.eim_user_name = (char *)(user ? user : "");
    ev.detail = (char *)(detail ? detail : "");
    return outbox_emit(tx, type, org, NULL, correlation, &ev.base, e);
}

/* ---- 1. EIM jobs ---------------------------------------------------------------------------------------- */

/* The tables of lib/job this pass works on, with the current settings, and its lease owner. */
struct jobs {
    struct job_table eim, detach;
    char owner[64];
};

struct eim_outcome {
    const struct store_eim_job *j;
    const char *type;
    const char *detail;
};

/* tx (lib/job's hook). The job's event, committed with its new state. */
static err_code emit_outcome(PGconn *tx, void *arg, struct err *e) {
    const struct eim_outcome *o = arg;
    return emit_eim(tx, o->type, o->j->organization_id, o->j->account_id, o->j->outscale.account_id,
                    o->j->user_name, o->detail, o->j->id, e);
}

static void job_succeeded(const struct jobs *jt, PGconn *db, const struct store_eim_job *j) {
    struct err e = {0};
    bool present = strcmp(j->want, "present") == 0, applied = false;
    mkt_time now = clock_now();
    struct eim_outcome o = {j, present ? "identity.eim.user_ready" : "identity.eim.user_deleted", ""};
    struct job_hook hook = {emit_outcome, &o};
    if (job_done(db, &jt->eim, j->id, jt->owner, now, &hook, &applied, &e) != ERR_OK) {
        log_warn("EIM: outcome of %s not recorded (the job runs again): %s", j->user_name, e.msg);
        return;
    }
    if (applied)
        log_info("EIM: user %s %s in OUTSCALE account %s (attempt %d)", j->user_name, present ? "ready" : "deleted",
                 j->outscale.account_id, j->attempts);
    else if (present && store_eim_redo_delete(db, j->id, now, &e) != ERR_OK) /* deleted meanwhile */
        log_warn("EIM: %s: %s", j->user_name, e.msg);
}

static void job_failed(const struct jobs *jt, PGconn *db, const struct store_eim_job *j, const struct err *why) {
    struct err e = {0};
    struct job_retry_result res = {0};
    mkt_time now = clock_now();
    struct eim_outcome o = {j, "identity.eim.failed", why->msg};
    struct job_hook hook = {emit_outcome, &o};
    if (job_retry(db, &jt->eim, j->id, jt->owner, j->attempts, now, why->msg, false, &hook, &res, &e) != ERR_OK) {
        log_warn("EIM: failure of %s not recorded: %s", j->user_name, e.msg);
        return;
    }
    if (!res.recorded)
        return; /* re-planned meanwhile: the new plan runs */
    if (res.gave_up)
        log_error("EIM: %s of %s in OUTSCALE account %s failed after %d attempts: %s", j->want, j->user_name,
                  j->outscale.account_id, j->attempts, why->msg);
    else
        log_warn("EIM: %s of %s in OUTSCALE account %s failed (attempt %d, next in %ld s): %s", j->want,
                 j->user_name, j->outscale.account_id, j->attempts, (long)((res.next - now) / CLOCK_SECOND), why->msg);
}

static void run_job(struct identity *id, const struct jobs *jt, PGconn *db, const struct store_eim_job *j) {
    struct err e = {0};
    struct cloud *c = NULL;
    bool present = strcmp(j->want, "present") == 0;
    err_code code = outscale_platform_client(id, &j->outscale, &c, &e);
    if (code == ERR_CONFLICT && !present) /* the account is detached: the user went with the teardown */
        code = ERR_OK;
    else if (code == ERR_OK)
        code = present ? eim_ensure_user(c, j->user_name, &e) : eim_remove_user(c, j->user_name, &e);
    cloud_free(c);
    if (code == ERR_OK)
        job_succeeded(jt, db, j);
    else
        job_failed(jt, db, j, &e);
}

static void run_jobs(struct identity *id, const struct jobs *jt, PGconn *db) {
    for (int done = 0; done < JOBS_PER_TICK && !identity_stopping(id);) {
        struct store_eim_jobs jobs = {0};
        struct err e = {0};
        mkt_time now = clock_now();
        if (store_eim_claim(db, &jt->eim, jt->owner, now, now + id->cfg.eim_lease_s * CLOCK_SECOND, JOBS_PER_CLAIM,
                            &jobs, &e) != ERR_OK) {
            log_warn("EIM: claim: %s", e.msg);
            return;
        }
        size_t n = jobs.n;
        /* Jobs left unrun when the drain starts keep their lease: due again after it. */
        for (size_t i = 0; i < jobs.n && !identity_stopping(id); i++, done++)
            run_job(id, jt, db, &jobs.v[i]);
        store_eim_jobs_cleanup(&jobs);
        if (n < JOBS_PER_CLAIM)
            return;
    }
}

/* ---- 2. detach teardown --------------------------------------------------------------------------------- */

static void run_detach(struct identity *id, const struct jobs *jt, PGconn *db) {
    struct store_outscale_list l = {0};
    struct err e = {0};
    mkt_time now = clock_now();
    if (store_outscale_claim_detach(db, &jt->detach, jt->owner, now, now + id->cfg.eim_lease_s * CLOCK_SECOND, 4, &l,
                                    &e) != ERR_OK) {
        log_warn("detach: claim: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < l.n && !identity_stopping(id); i++) {
        const struct store_outscale *o = &l.v[i];
        struct cloud *c = NULL;
        bool recorded = false;
        err_code code = outscale_platform_client(id, o, &c, &e);
        if (code == ERR_OK)
            code = eim_teardown(c, o->access_key_id, &e);
        cloud_free(c);
        if (code == ERR_UNAUTHENTICATED) /* our key was deactivated: the teardown's last step happened */
            code = ERR_OK;
        if (code == ERR_OK)
            code = job_done(db, &jt->detach, o->id, jt->owner, clock_now(), NULL, &recorded, &e);
        if (code == ERR_OK) {
            if (recorded)
                log_info("detach: OUTSCALE account %s released (platform key deactivated, secret forgotten)",
                         o->account_id);
        } else {
            struct err ignored;
            struct job_retry_result res;
            log_warn("detach: teardown of OUTSCALE account %s failed (retried): %s", o->account_id, e.msg);
            if (job_retry(db, &jt->detach, o->id, jt->owner, 1, clock_now(), e.msg, false, NULL, &res, &ignored) !=
                ERR_OK)
                log_warn("detach: %s", ignored.msg);
        }
    }
    store_outscale_list_cleanup(&l);
}

/* ---- 3. reconciliation ------------------------------------------------------------------------------------ */

static void reconcile_one(struct identity *id, PGconn *db, const struct store_outscale *o) {
    struct store_eim_users wanted = {0};
    struct eim_report report = {0};
    struct cloud *c = NULL;
    const char **names = NULL;
    struct err e = {0};
    err_code code = store_eim_wanted(db, o->id, &wanted, &e);
    if (code == ERR_OK && !(names = calloc(wanted.n ? wanted.n : 1, sizeof *names)))
        code = err_set(&e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; code == ERR_OK && i < wanted.n; i++)
        if (strcmp(wanted.v[i].state, "ready") == 0) /* others are the jobs' business */
            names[n++] = wanted.v[i].user_name;
    if (code == ERR_OK)
        code = outscale_platform_client(id, o, &c, &e);
    if (code == ERR_OK)
        code = eim_reconcile(c, names, n, &report, &e);
    cloud_free(c);
    mkt_time now = clock_now();
    struct err rec = {0};
    err_code rc = db_begin(db, &rec);
    if (rc == ERR_OK)
        rc = store_outscale_reconciled(db, o->id, code == ERR_OK ? "ready" : "failed", code == ERR_OK ? "" : e.msg,
                                       now, &rec);
    if (rc == ERR_OK && code == ERR_OK && report.fixes > 0)
        rc = emit_eim(db, "identity.eim.repaired", o->organization_id, NULL, o->account_id, NULL, report.text, o->id,
                      &rec);
    if (rc == ERR_OK)
        rc = db_commit(db, &rec);
    if (rc != ERR_OK) {
        db_rollback(db);
        log_warn("reconcile: outcome for %s not recorded: %s", o->account_id, rec.msg);
    }
    if (code != ERR_OK)
        log_warn("reconcile: OUTSCALE account %s: %s", o->account_id, e.msg);
    else if (report.fixes > 0)
        log_warn("reconcile: OUTSCALE account %s: drift repaired: %s", o->account_id, report.text);
    free(names);
    store_eim_users_cleanup(&wanted);
}

static void run_reconcile(struct identity *id, PGconn *db) {
    struct store_outscale_list l = {0};
    struct err e = {0};
    bool due = false;
    long restarted = 0;
    mkt_time now = clock_now();
    if (store_schedule_claim(db, "eim_reconcile", now, now + id->cfg.eim_reconcile_s * CLOCK_SECOND, &due, &e) !=
        ERR_OK) {
        log_warn("reconcile: %s", e.msg);
        return;
    }
    if (!due)
        return;
    if (store_eim_restart_failed(db, now, &restarted, &e) != ERR_OK)
        log_warn("reconcile: %s", e.msg);
    else if (restarted > 0)
        log_info("reconcile: %ld failed EIM job(s) restarted", restarted);
    if (store_outscale_all_active(db, &l, &e) != ERR_OK) {
        log_warn("reconcile: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < l.n && !identity_stopping(id); i++)
        reconcile_one(id, db, &l.v[i]);
    store_outscale_list_cleanup(&l);
}

/* ---- 4. pruning ------------------------------------------------------------------------------------------ */

static void run_prune(struct identity *id, PGconn *db) {
    mkt_time now = clock_now();
    if (now < id->next_prune_at)
        return;
    id->next_prune_at = now + PRUNE_EVERY;
    struct err e = {0};
    if (store_prune(db, now - id->cfg.login_window_s * CLOCK_SECOND,
                    now - id->cfg.session_idle_s * CLOCK_SECOND - KEEP_ENDED, now - KEEP_ENDED, &e) != ERR_OK)
        log_warn("prune: %s", e.msg);
}

void maintenance_run(struct identity *id) {
    struct err e = {0};
    log_set_context(NULL, "maintenance");
    if (!id->maint_db && db_connect(id->svc->cfg.pg_dsn, &id->maint_db, &e) != ERR_OK) {
        log_warn("maintenance: %s", e.msg);
        goto done;
    }
    if (db_ensure(id->maint_db, &e) != ERR_OK) {
        log_warn("maintenance: %s", e.msg);
        goto done;
    }
    /* The lease owner is this pass (maintenance passes never overlap in a process). */
    struct jobs jt;
    store_eim_jobs_table(&jt.eim, (int)id->cfg.eim_max_attempts, id->cfg.eim_backoff_max_s * CLOCK_SECOND);
    store_detach_jobs(&jt.detach, id->cfg.eim_backoff_max_s * CLOCK_SECOND);
    job_owner("identity", 0, jt.owner);
    run_jobs(id, &jt, id->maint_db);
    if (!identity_stopping(id))
        run_detach(id, &jt, id->maint_db);
    if (!identity_stopping(id))
        run_reconcile(id, id->maint_db);
    if (!identity_stopping(id))
        run_prune(id, id->maint_db);
done:
    log_set_context(NULL, NULL);
}

void maintenance_cleanup(struct identity *id) {
    db_close(id->maint_db);
    id->maint_db = NULL;
}
