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
