/* SQL of organizations (ORG-1..5) and of their OUTSCALE accounts (ORG-6) with the platform's
 * sealed EIM key and the detach teardown's bookkeeping. */
#include "store_internal.h"

#define ORG_COLUMNS                                                                                           \
    "o.id, o.name, 'buyer' = ANY(o.types), 'seller' = ANY(o.types), o.region, o.status, o.ugap, o.created_at, " \
    "o.validated_at, (SELECT x.account_id FROM outscale_accounts x WHERE x.organization_id = o.id AND "       \
    "x.is_primary AND x.state <> 'detached' LIMIT 1), o.partner_number, o.partner_status, o.partner_reason"

static void org_from_row(const PGresult *r, int i, void *out) {
    struct store_org *o = out;
    memset(o, 0, sizeof *o);
    store__copy(o->id, sizeof o->id, r, i, 0);
    store__copy(o->name, sizeof o->name, r, i, 1);
    o->types = (store__bool(r, i, 2) ? TYPE_BUYER : 0) | (store__bool(r, i, 3) ? TYPE_SELLER : 0);
    store__copy(o->region, sizeof o->region, r, i, 4);
    store__copy(o->status, sizeof o->status, r, i, 5);
    o->ugap = store__bool(r, i, 6);
    o->created_at = db_time_value(r, i, 7);
    o->validated_at = db_time_value(r, i, 8);
    store__copy(o->outscale_account_id, sizeof o->outscale_account_id, r, i, 9);
    store__copy(o->partner_number, sizeof o->partner_number, r, i, 10);
    store__copy(o->partner_status, sizeof o->partner_status, r, i, 11);
    store__copy(o->partner_reason, sizeof o->partner_reason, r, i, 12);
}

void store_org_list_cleanup(struct store_org_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

err_code store_org_insert(PGconn *tx, const struct store_org *o, struct err *e) {
    char types[32], created[40];
    return db_exec(tx, e, NULL,
                   "INSERT INTO organizations (id, name, types, region, status, ugap, created_at, partner_number,"
                   " partner_status) VALUES ($1, $2, $3, $4, 'pending', false, $5, $6,"
                   " CASE WHEN $6 = '' THEN '' ELSE 'pending' END)",
                   DB_PARAMS(o->id, o->name, store__mask_array(o->types, false, types, sizeof types), o->region,
                             STORE__TIME(o->created_at, created), o->partner_number));
}

err_code store_org_set_partner(PGconn *c, const char *id, const char *number, struct err *e) {
    long n = 0;
    err_code code = db_exec(c, e, &n,
                            "UPDATE organizations SET partner_number = $2, partner_status = 'pending', partner_reason = ''"
                            " WHERE id = $1 AND (partner_number <> $2 OR partner_status = '')",
                            DB_PARAMS(id, number));
    (void)n; /* the same number again changes nothing */
    return code;
}

err_code store_org_decide_partner(PGconn *tx, const char *id, const char *decision, const char *reason,
                                  struct err *e) {
    long n = 0;
    err_code code = db_exec(tx, e, &n,
                            "UPDATE organizations SET partner_status = $2, partner_reason = $3"
                            " WHERE id = $1 AND partner_status = 'pending'",
                            DB_PARAMS(id, decision, reason ? reason : ""));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_CONFLICT, "organization %s has no partner-programme number waiting for a decision", id);
    return code;
}

err_code store_org_get(PGconn *c, const char *id, struct store_org *out, struct err *e) {
    return store__one(c, org_from_row, out, e, "SELECT " ORG_COLUMNS " FROM organizations o WHERE o.id = $1",
                      DB_PARAMS(id), "organization %s", id);
}

err_code store_org_set_name(PGconn *c, const char *id, const char *name, struct err *e) {
    long n = 0;
    err_code code = db_exec(c, e, &n, "UPDATE organizations SET name = $2 WHERE id = $1", DB_PARAMS(id, name));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_NOT_FOUND, "organization %s", id);
    return code;
}

err_code store_org_validate(PGconn *tx, const char *id, mkt_time now, bool *changed, struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(tx, e, &n,
                            "UPDATE organizations SET status = 'validated', validated_at = $2 "
                            "WHERE id = $1 AND status = 'pending'",
                            DB_PARAMS(id, STORE__TIME(now, t)));
    if (code == ERR_OK)
        *changed = n > 0;
    return code;
}

err_code store_org_set_ugap(PGconn *tx, const char *id, bool ugap, bool *changed, struct err *e) {
    long n = 0;
    err_code code = db_exec(tx, e, &n, "UPDATE organizations SET ugap = $2 WHERE id = $1 AND ugap <> $2",
                            DB_PARAMS(id, ugap ? "true" : "false"));
    if (code == ERR_OK)
        *changed = n > 0;
    return code;
}

err_code store_org_list(PGconn *c, const char *status, const struct cursor_page *page, struct store_org_list *out,
                        struct err *e) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", cursor_page_fetch(page));
    /* Keyset on the primary key, never OFFSET (stable under inserts). */
    return store__list(c, STORE__LIST(out), org_from_row, e,
                       "SELECT " ORG_COLUMNS " FROM organizations o "
                       "WHERE ($1 = '' OR o.status = $1) AND ($2::uuid IS NULL OR o.id > $2::uuid) "
                       "ORDER BY o.id LIMIT $3::int",
                       DB_PARAMS(status, page->has_after ? page->after.id : NULL, lim));
}

/* ---- OUTSCALE accounts ---------------------------------------------------------------------------- */

#define OUTSCALE_COLUMNS                                                                                     \
    "x.id, x.organization_id, x.account_id, x.email, x.region, x.is_primary, x.access_key_id, "              \
    "x.secret_sealed, x.state, x.eim_state, x.eim_detail, x.attached_at"

static void outscale_from_row(const PGresult *r, int i, void *out) {
    struct store_outscale *o = out;
    memset(o, 0, sizeof *o);
    store__copy(o->id, sizeof o->id, r, i, 0);
    store__copy(o->organization_id, sizeof o->organization_id, r, i, 1);
    store__copy(o->account_id, sizeof o->account_id, r, i, 2);
    store__copy(o->email, sizeof o->email, r, i, 3);
    store__copy(o->region, sizeof o->region, r, i, 4);
    o->primary = store__bool(r, i, 5);
    store__copy(o->access_key_id, sizeof o->access_key_id, r, i, 6);
    store__copy(o->secret_sealed, sizeof o->secret_sealed, r, i, 7);
    store__copy(o->state, sizeof o->state, r, i, 8);
    store__copy(o->eim_state, sizeof o->eim_state, r, i, 9);
    store__copy(o->eim_detail, sizeof o->eim_detail, r, i, 10);
    o->attached_at = db_time_value(r, i, 11);
}

void store_outscale_list_cleanup(struct store_outscale_list *l) {
    if (l->v)
        memset(l->v, 0, l->n * sizeof *l->v); /* sealed secrets: no plaintext, but no need to linger */
    free(l->v);
    memset(l, 0, sizeof *l);
}

void store_outscale_secret_context(const char *row_id, char out[64]) {
    snprintf(out, 64, "outscale_accounts.secret:%s", row_id);
}

err_code store_outscale_insert(PGconn *tx, const struct store_outscale *o, struct err *e) {
    char t[40];
    return db_exec(tx, e, NULL,
                   "INSERT INTO outscale_accounts (id, organization_id, account_id, email, region, is_primary, "
                   "access_key_id, secret_sealed, state, eim_state, attached_at, reconciled_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', 'ready', $9, $9)",
                   DB_PARAMS(o->id, o->organization_id, o->account_id, o->email, o->region,
                             o->primary ? "true" : "false", o->access_key_id, o->secret_sealed,
                             STORE__TIME(o->attached_at, t)));
}

err_code store_outscale_taken(PGconn *c, const char *account_id, bool *taken, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT 1 FROM outscale_accounts WHERE account_id = $1 AND state <> 'detached'",
                             DB_PARAMS(account_id));
    if (code == ERR_OK) {
        *taken = PQntuples(r) > 0;
        PQclear(r);
    }
    return code;
}

err_code store_outscale_list(PGconn *c, const char *organization_id, bool with_detaching,
                             struct store_outscale_list *out, struct err *e) {
    return store__list(c, STORE__LIST(out), outscale_from_row, e,
                       "SELECT " OUTSCALE_COLUMNS " FROM outscale_accounts x WHERE x.organization_id = $1 "
                       "AND (x.state = 'active' OR ($2 AND x.state = 'detaching')) "
                       "ORDER BY x.is_primary DESC, x.attached_at, x.id",
                       DB_PARAMS(organization_id, with_detaching ? "true" : "false"));
}

err_code store_outscale_page(PGconn *c, const char *organization_id, const struct cursor_page *page,
                             struct store_outscale_list *out, struct err *e) {
    char after[40], lim[16];
    snprintf(lim, sizeof lim, "%d", cursor_page_fetch(page));
    return store__list(c, STORE__LIST(out), outscale_from_row, e,
                       "SELECT " OUTSCALE_COLUMNS " FROM outscale_accounts x WHERE x.organization_id = $1 "
                       "AND x.state = 'active' "
                       "AND ($2::timestamptz IS NULL OR (x.attached_at, x.id) > ($2::timestamptz, $3::uuid)) "
                       "ORDER BY x.attached_at, x.id LIMIT $4::int",
                       DB_PARAMS(organization_id, page->has_after ? STORE__TIME(page->after.num, after) : NULL,
                                 page->has_after ? page->after.id : NULL, lim));
}

err_code store_outscale_find(PGconn *c, const char *organization_id, const char *id_or_account,
                             struct store_outscale *out, struct err *e) {
    bool by_uuid = validation_uuid("id", id_or_account, NULL) == ERR_OK;
    return store__one(c, outscale_from_row, out, e,
                      by_uuid ? "SELECT " OUTSCALE_COLUMNS " FROM outscale_accounts x WHERE x.organization_id = $1 "
                                "AND x.state = 'active' AND x.id = $2::uuid"
                              : "SELECT " OUTSCALE_COLUMNS " FROM outscale_accounts x WHERE x.organization_id = $1 "
                                "AND x.state = 'active' AND x.account_id = $2",
                      DB_PARAMS(organization_id, id_or_account), "OUTSCALE account %s", id_or_account);
}

err_code store_outscale_get(PGconn *c, const char *id, struct store_outscale *out, struct err *e) {
    return store__one(c, outscale_from_row, out, e,
                      "SELECT " OUTSCALE_COLUMNS " FROM outscale_accounts x WHERE x.id = $1", DB_PARAMS(id),
                      "OUTSCALE account %s", id);
}

err_code store_outscale_start_detach(PGconn *tx, const char *id, mkt_time now, struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(tx, e, &n,
                            "UPDATE outscale_accounts SET state = 'detaching', attempts = 0, next_attempt_at = $2, lease_owner = NULL "
                            "WHERE id = $1 AND state = 'active' AND NOT is_primary",
                            DB_PARAMS(id, STORE__TIME(now, t)));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_CONFLICT, "the primary OUTSCALE account cannot be detached");
    return code;
}

err_code store_outscale_all_active(PGconn *c, struct store_outscale_list *out, struct err *e) {
    return store__list(c, STORE__LIST(out), outscale_from_row, e,
                       "SELECT " OUTSCALE_COLUMNS " FROM outscale_accounts x WHERE x.state = 'active' ORDER BY x.id",
                       DB_NO_PARAMS);
}

void store_detach_jobs(struct job_table *t, mkt_time retry_every) {
    *t = (struct job_table){
        .name = "detach",
        .table = "outscale_accounts",
        .due = "state = 'detaching' AND NOT EXISTS (SELECT 1 FROM eim_users u"
               " WHERE u.outscale_account_id = outscale_accounts.id AND u.state <> 'deleted')",
        .done_set = "state = 'detached', secret_sealed = NULL, detached_at = $3, next_attempt_at = NULL",
        .failed_set = "eim_detail = eim_detail", /* never given up */
        .error_column = "eim_detail",
        .select = "SELECT " OUTSCALE_COLUMNS " FROM claimed x",
        .max_attempts = 0,
        .backoff = {.base = retry_every, .cap = retry_every},
    };
}

err_code store_outscale_claim_detach(PGconn *c, const struct job_table *t, const char *owner, mkt_time now,
                                     mkt_time lease_until, int limit, struct store_outscale_list *out,
                                     struct err *e) {
    PGresult *r = NULL;
    err_code code = job_claim(c, t, owner, now, lease_until, limit, &r, e);
    if (code != ERR_OK)
        return code;
    return store__rows_take(r, STORE__LIST(out), outscale_from_row, e);
}

err_code store_outscale_reconciled(PGconn *c, const char *id, const char *eim_state, const char *detail,
                                   mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE outscale_accounts SET eim_state = $2, eim_detail = NULLIF($3, ''), reconciled_at = $4 "
                   "WHERE id = $1",
                   DB_PARAMS(id, eim_state, detail ? detail : "", STORE__TIME(now, t)));
}
