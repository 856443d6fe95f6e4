/* SQL of the sellers' terms of use (PUB-3): numbered versions, one active per seller. */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "store.h"

static const char *en(const Mkt__Catalog__Text *t) { return t && t->en ? t->en : ""; }
static const char *fr(const Mkt__Catalog__Text *t) { return t && t->fr ? t->fr : ""; }

#define TERMS_JSON                                                                                                     \
    "json_build_object('id', t.id, 'organization_id', t.organization_id, 'number', t.number, 'state', t.state,"       \
    " 'title', txt(t.title_en, t.title_fr), 'body', txt(t.body_en, t.body_fr), 'created_at', iso(t.created_at),"    \
    " 'updated_at', iso(t.updated_at), 'activated_at', iso(t.activated_at))"

err_code store_terms_list(PGconn *c, const char *org, Mkt__Catalog__Terms ***out, size_t *n, struct err *e) {
    return store_messages(c, &mkt__catalog__terms__descriptor, (ProtobufCMessage ***)out, n, e,
                          "SELECT " TERMS_JSON " FROM terms t WHERE t.organization_id = $1::uuid ORDER BY t.number DESC",
                          DB_PARAMS(org));
}

err_code store_terms_get(PGconn *c, const char *org, const char *id, bool lock, Mkt__Catalog__Terms **out,
                         struct err *e) {
    return store_message(c, &mkt__catalog__terms__descriptor, (ProtobufCMessage **)out, "terms", id, e,
                         lock ? "SELECT " TERMS_JSON " FROM terms t WHERE t.id = $1::uuid AND t.organization_id = $2::uuid"
                                " FOR UPDATE"
                              : "SELECT " TERMS_JSON " FROM terms t WHERE t.id = $1::uuid AND t.organization_id = $2::uuid",
                         DB_PARAMS(id, org));
}

err_code store_terms_active(PGconn *c, const char *org, Mkt__Catalog__Terms **out, struct err *e) {
    return store_message(c, &mkt__catalog__terms__descriptor, (ProtobufCMessage **)out, "active terms of", org, e,
                         "SELECT " TERMS_JSON " FROM terms t WHERE t.organization_id = $1::uuid AND t.state = 'active'",
                         DB_PARAMS(org));
}

err_code store_terms_insert(PGconn *c, const Mkt__Catalog__Terms *t, mkt_time now, struct err *e) {
    char ts[40];
    return db_exec(c, e, NULL,
                   "INSERT INTO terms (id, organization_id, number, title_en, title_fr, body_en, body_fr, created_at,"
                   " updated_at) VALUES ($1::uuid, $2::uuid,"
                   " (SELECT coalesce(max(number), 0) + 1 FROM terms WHERE organization_id = $2::uuid),"
                   " $3, $4, $5, $6, $7, $7)",
                   DB_PARAMS(t->id, t->organization_id, en(t->title), fr(t->title), en(t->body), fr(t->body),
                             db_time_param(now, ts, sizeof ts)));
}

err_code store_terms_update(PGconn *c, const Mkt__Catalog__Terms *t, mkt_time now, struct err *e) {
    char ts[40];
    return db_exec(c, e, NULL,
                   "UPDATE terms SET title_en = $2, title_fr = $3, body_en = $4, body_fr = $5, updated_at = $6"
                   " WHERE id = $1::uuid AND state = 'draft'",
                   DB_PARAMS(t->id, en(t->title), fr(t->title), en(t->body), fr(t->body),
                             db_time_param(now, ts, sizeof ts)));
}

err_code store_terms_activate(PGconn *c, const char *org, const char *id, mkt_time now, struct err *e) {
    char ts[40];
    const char *t = db_time_param(now, ts, sizeof ts);
    err_code code = db_exec(c, e, NULL,
                            "UPDATE terms SET state = 'archived', updated_at = $2 WHERE organization_id = $1::uuid"
                            " AND state = 'active'",
                            DB_PARAMS(org, t));
    if (code != ERR_OK)
        return code;
    return db_exec(c, e, NULL,
                   "UPDATE terms SET state = 'active', activated_at = $3, updated_at = $3 WHERE id = $1::uuid"
                   " AND organization_id = $2::uuid AND state = 'draft'",
                   DB_PARAMS(id, org, t));
}

/* ---- listing reviews (PUB-4) ------------------------------------------------------------------ */

#define REVIEW_JSON                                                                                                    \
    "json_build_object('id', r.id, 'organization_id', r.organization_id, 'product_id', r.product_id,"                \
    " 'version_id', coalesce(r.version_id::text, ''), 'product_name', txt(p.name_en, p.name_fr),"                   \
    " 'product_kind', p.kind, 'state', r.state, 'auto_publish', r.auto_publish, 'comment', r.comment,"             \
    " 'submitted_at', iso(r.submitted_at), 'decided_at', iso(r.decided_at))"

err_code store_review_insert(PGconn *c, const char *id, const char *org, const char *product, const char *version,
                             bool auto_publish, const char *submitted_by, mkt_time now, struct err *e) {
    char ts[40];
    return db_exec(c, e, NULL,
                   "INSERT INTO reviews (id, organization_id, product_id, version_id, auto_publish, submitted_by,"
                   " submitted_at) VALUES ($1::uuid, $2::uuid, $3::uuid, nullif($4, '')::uuid, $5::boolean,"
                   " nullif($6, '')::uuid, $7)",
                   DB_PARAMS(id, org, product, version ? version : "", auto_publish ? "true" : "false",
                             submitted_by ? submitted_by : "", db_time_param(now, ts, sizeof ts)));
}

err_code store_review_list(PGconn *c, const char *after_id, int limit, Mkt__Catalog__Review ***out, size_t *n,
                           struct err *e) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    return store_messages(c, &mkt__catalog__review__descriptor, (ProtobufCMessage ***)out, n, e,
                          "SELECT " REVIEW_JSON " FROM reviews r JOIN products p ON p.id = r.product_id"
                          " WHERE r.state = 'pending' AND ($1 = '' OR r.id > nullif($1, '')::uuid)"
                          " ORDER BY r.id LIMIT $2::int",
                          DB_PARAMS(after_id ? after_id : "", lim));
}

err_code store_review_get(PGconn *c, const char *id, bool lock, Mkt__Catalog__Review **out, struct err *e) {
    return store_message(c, &mkt__catalog__review__descriptor, (ProtobufCMessage **)out, "review", id, e,
                         lock ? "SELECT " REVIEW_JSON " FROM reviews r JOIN products p ON p.id = r.product_id"
                                " WHERE r.id = $1::uuid FOR UPDATE OF r"
                              : "SELECT " REVIEW_JSON " FROM reviews r JOIN products p ON p.id = r.product_id"
                                " WHERE r.id = $1::uuid",
                         DB_PARAMS(id));
}

err_code store_review_decide(PGconn *c, const char *id, const char *state, const char *comment, const char *by,
                             mkt_time now, struct err *e) {
    char ts[40];
    return db_exec(c, e, NULL,
                   "UPDATE reviews SET state = $2, comment = $3, decided_by = nullif($4, '')::uuid, decided_at = $5"
                   " WHERE id = $1::uuid AND state = 'pending'",
                   DB_PARAMS(id, state, comment ? comment : "", by ? by : "", db_time_param(now, ts, sizeof ts)));
}
