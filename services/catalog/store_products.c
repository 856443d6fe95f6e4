/* SQL of products (PROD-1..9) and their offers with revisions (PROD-5, PROD-7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"

static const char *en(const Mkt__Catalog__Text *t) { return t && t->en ? t->en : ""; }
static const char *fr(const Mkt__Catalog__Text *t) { return t && t->fr ? t->fr : ""; }
static const char *str(const char *s) { return s ? s : ""; }

/* One product as the Product message. */
#define PRODUCT_JSON                                                                                                   \
    "json_build_object('id', p.id, 'organization_id', p.organization_id, 'kind', p.kind, 'delivery', p.delivery,"     \
    " 'name', txt(p.name_en, p.name_fr), 'short_description', txt(p.short_en, p.short_fr),"                          \
    " 'description', txt(p.description_en, p.description_fr),"                                                       \
    " 'instructions', txt(p.instructions_en, p.instructions_fr), 'support_contact', txt(p.support_en, p.support_fr),"\
    " 'documentation_links', p.documentation, 'categories', to_json(p.categories), 'regions', to_json(p.regions),"   \
    " 'product_code', coalesce(p.product_code, ''), 'state', p.state, 'private', p.private,"                        \
    " 'audience', to_json(p.audience), 'latest_version_id', coalesce(p.latest_version_id::text, ''),"               \
    " 'created_at', iso(p.created_at), 'updated_at', iso(p.updated_at), 'published_at', iso(p.published_at))"

err_code store_product_insert(PGconn *c, const char *id, const char *org, const Mkt__Catalog__ProductRequest *in,
                              const char *const *regions, size_t n_regions, mkt_time now, struct err *e) {
    char t[40];
    char *docs = store_json_messages((ProtobufCMessage *const *)in->documentation_links, in->n_documentation_links);
    char *cats = store_json_strings(in->categories, in->n_categories);
    char *regs = store_json_strings((char *const *)regions, n_regions);
    char *aud = store_json_strings(in->audience, in->n_audience);
    err_code code;
    if (!docs || !cats || !regs || !aud) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    code = db_exec(
        c, e, NULL,
        "INSERT INTO products (id, organization_id, kind, delivery, name_en, name_fr, short_en, short_fr,"
        " description_en, description_fr, instructions_en, instructions_fr, support_en, support_fr, documentation,"
        " categories, regions, private, audience, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb,"
        " ARRAY(SELECT json_array_elements_text($16::json)), ARRAY(SELECT json_array_elements_text($17::json)),"
        " $18::boolean, ARRAY(SELECT json_array_elements_text($19::json))::uuid[], $20, $20)",
        DB_PARAMS(id, org, str(in->kind), str(in->delivery), en(in->name), fr(in->name), en(in->short_description),
                  fr(in->short_description), en(in->description), fr(in->description), en(in->instructions),
                  fr(in->instructions), en(in->support_contact), fr(in->support_contact), docs, cats, regs,
                  in->private_ ? "true" : "false", aud, db_time_param(now, t, sizeof t)));
done:
    free(docs), free(cats), free(regs), free(aud);
    return code;
}

err_code store_product_get(PGconn *c, const char *org, const char *id, bool lock, Mkt__Catalog__Product **out,
                           struct err *e) {
    return store_message(c, &mkt__catalog__product__descriptor, (ProtobufCMessage **)out, "product", id, e,
                         lock ? "SELECT " PRODUCT_JSON " FROM products p WHERE p.id = $1::uuid AND p.organization_id = "
                                "$2::uuid AND p.deleted_at IS NULL FOR UPDATE"
                              : "SELECT " PRODUCT_JSON " FROM products p WHERE p.id = $1::uuid AND p.organization_id = "
                                "$2::uuid AND p.deleted_at IS NULL",
                         DB_PARAMS(id, org));
}

err_code store_product_get_any(PGconn *c, const char *id, bool lock, Mkt__Catalog__Product **out, struct err *e) {
    return store_message(c, &mkt__catalog__product__descriptor, (ProtobufCMessage **)out, "product", id, e,
                         lock ? "SELECT " PRODUCT_JSON " FROM products p WHERE p.id = $1::uuid AND p.deleted_at IS NULL"
                                " FOR UPDATE"
                              : "SELECT " PRODUCT_JSON " FROM products p WHERE p.id = $1::uuid AND p.deleted_at IS NULL",
                         DB_PARAMS(id));
}

err_code store_product_list(PGconn *c, const char *org, const char *after_id, int limit,
                            Mkt__Catalog__Product ***out, size_t *n, struct err *e) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    return store_messages(
        c, &mkt__catalog__product__descriptor, (ProtobufCMessage ***)out, n, e,
        "SELECT " PRODUCT_JSON " FROM products p WHERE p.organization_id = $1::uuid AND p.deleted_at IS NULL"
        " AND ($2 = '' OR p.id > nullif($2, '')::uuid) ORDER BY p.id LIMIT $3::int",
        DB_PARAMS(org, str(after_id), lim));
}

err_code store_product_update(PGconn *c, const Mkt__Catalog__Product *p, mkt_time now, struct err *e) {
    char t[40];
    char *docs = store_json_messages((ProtobufCMessage *const *)p->documentation_links, p->n_documentation_links);
    char *cats = store_json_strings(p->categories, p->n_categories);
    char *aud = store_json_strings(p->audience, p->n_audience);
    err_code code;
    if (!docs || !cats || !aud) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    code = db_exec(c, e, NULL,
                   "UPDATE products SET delivery = $2, name_en = $3, name_fr = $4, short_en = $5, short_fr = $6,"
                   " description_en = $7, description_fr = $8, instructions_en = $9, instructions_fr = $10,"
                   " support_en = $11, support_fr = $12, documentation = $13::jsonb,"
                   " categories = ARRAY(SELECT json_array_elements_text($14::json)), private = $15::boolean,"
                   " audience = ARRAY(SELECT json_array_elements_text($16::json))::uuid[], updated_at = $17"
                   " WHERE id = $1::uuid",
                   DB_PARAMS(p->id, str(p->delivery), en(p->name), fr(p->name), en(p->short_description),
                             fr(p->short_description), en(p->description), fr(p->description), en(p->instructions),
                             fr(p->instructions), en(p->support_contact), fr(p->support_contact), docs, cats,
                             p->private_ ? "true" : "false", aud, db_time_param(now, t, sizeof t)));
done:
    free(docs), free(cats), free(aud);
    return code;
}

err_code store_product_set_state(PGconn *c, const char *id, const char *state, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE products SET state = $2, updated_at = $3,"
                   " published_at = CASE WHEN $2 = 'published' THEN $3 ELSE published_at END WHERE id = $1::uuid",
                   DB_PARAMS(id, state, db_time_param(now, t, sizeof t)));
}

err_code store_product_codes(PGconn *c, const char *org, Mkt__Catalog__ProductCode ***out, size_t *n,
                             struct err *e) {
    return store_messages(c, &mkt__catalog__product_code__descriptor, (ProtobufCMessage ***)out, n, e,
                          "SELECT json_build_object('product_id', p.id, 'name', txt(p.name_en, p.name_fr),"
                          " 'product_code', p.product_code) FROM products p WHERE p.organization_id = $1::uuid"
                          " AND p.kind = 'omi' AND p.product_code IS NOT NULL AND p.deleted_at IS NULL ORDER BY p.id",
                          DB_PARAMS(org));
}

err_code store_product_set_code(PGconn *c, const char *id, const char *code, mkt_time now, bool *changed,
                                struct err *e) {
    char t[40];
    long n = 0;
    err_code rc = db_exec(c, e, &n,
                          "UPDATE products SET product_code = $2, updated_at = $3 WHERE id = $1::uuid"
                          " AND product_code IS NULL AND deleted_at IS NULL",
                          DB_PARAMS(id, code, db_time_param(now, t, sizeof t)));
    if (rc == ERR_OK)
        *changed = n > 0;
    return rc;
}

err_code store_product_delete(PGconn *c, const char *id, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL, "UPDATE products SET deleted_at = $2 WHERE id = $1::uuid AND state = 'draft'",
                   DB_PARAMS(id, db_time_param(now, t, sizeof t)));
}

/* ---- offers ---------------------------------------------------------------------------------- */

#define OFFER_JSON                                                                                                     \
    "json_build_object('id', o.id, 'product_id', o.product_id, 'revision', r.revision, 'kind', r.kind,"              \
    " 'prices', r.prices, 'period', r.period, 'price_cents', r.price_cents, 'currency', r.currency,"                 \
    " 'licence_url', r.licence_url, 'ugap', r.ugap, 'created_at', iso(o.created_at), 'updated_at', iso(r.created_at))"

/* The lowest price a buyer could pay, for sorting the public catalog. */
static long long min_cents(const Mkt__Catalog__Offer *o) {
    if (o->n_prices == 0)
        return o->price_cents;
    long long m = o->prices[0]->cents_per_hour;
    for (size_t i = 1; i < o->n_prices; i++)
        if (o->prices[i]->cents_per_hour < m)
            m = o->prices[i]->cents_per_hour;
    return m;
}

static err_code insert_revision(PGconn *c, const Mkt__Catalog__Offer *o, bool published, mkt_time now,
                                struct err *e) {
    char t[40], rev[16], price[24], minc[24];
    char *prices = store_json_messages((ProtobufCMessage *const *)o->prices, o->n_prices);
    if (!prices)
        return err_set(e, ERR_INTERNAL, "out of memory");
    snprintf(rev, sizeof rev, "%d", o->revision);
    snprintf(price, sizeof price, "%lld", (long long)o->price_cents);
    snprintf(minc, sizeof minc, "%lld", min_cents(o));
    err_code code = db_exec(
        c, e, NULL,
        "INSERT INTO offer_revisions (offer_id, revision, kind, prices, period, price_cents, currency, licence_url,"
        " ugap, min_cents, ever_published, created_at)"
        " VALUES ($1::uuid, $2::int, $3, $4::jsonb, $5, $6::bigint, $7, $8, $9::boolean, $10::bigint, $11::boolean, $12)"
        " ON CONFLICT (offer_id, revision) DO UPDATE SET kind = $3, prices = $4::jsonb, period = $5,"
        " price_cents = $6::bigint, currency = $7, licence_url = $8, ugap = $9::boolean, min_cents = $10::bigint,"
        " created_at = $12",
        DB_PARAMS(o->id, rev, str(o->kind), prices, str(o->period), price, o->currency && *o->currency ? o->currency : "EUR",
                  str(o->licence_url), o->ugap ? "true" : "false", minc, published ? "true" : "false",
                  db_time_param(now, t, sizeof t)));
    free(prices);
    return code;
}

err_code store_offer_insert(PGconn *c, const char *id, const char *product, const Mkt__Catalog__Offer *o,
                            bool published, mkt_time now, struct err *e) {
    char t[40];
    err_code code = db_exec(c, e, NULL,
                            "INSERT INTO offers (id, product_id, current_revision, created_at) VALUES ($1::uuid, $2::uuid, 1, $3)",
                            DB_PARAMS(id, product, db_time_param(now, t, sizeof t)));
    if (code != ERR_OK)
        return code;
    return insert_revision(c, o, published, now, e);
}

err_code store_offer_get(PGconn *c, const char *product, const char *id, Mkt__Catalog__Offer **out,
                         bool *ever_published, struct err *e) {
    Mkt__Catalog__Offer *o = NULL;
    err_code code = store_message(c, &mkt__catalog__offer__descriptor, (ProtobufCMessage **)&o, "offer", id, e,
                                  "SELECT " OFFER_JSON " FROM offers o JOIN offer_revisions r ON r.offer_id = o.id"
                                  " AND r.revision = o.current_revision WHERE o.id = $1::uuid AND o.product_id = $2::uuid"
                                  " AND o.retired_at IS NULL FOR UPDATE OF o",
                                  DB_PARAMS(id, product));
    if (code != ERR_OK)
        return code;
    PGresult *r = NULL;
    char rev[16];
    snprintf(rev, sizeof rev, "%d", o->revision);
    code = db_query(c, &r, e, "SELECT ever_published FROM offer_revisions WHERE offer_id = $1::uuid AND revision = $2::int",
                    DB_PARAMS(id, rev));
    if (code != ERR_OK) {
        protobuf_c_message_free_unpacked(&o->base, NULL);
        return code;
    }
    *ever_published = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    *out = o;
    return ERR_OK;
}

err_code store_offer_list(PGconn *c, const char *product, Mkt__Catalog__Offer ***out, size_t *n, struct err *e) {
    return store_messages(c, &mkt__catalog__offer__descriptor, (ProtobufCMessage ***)out, n, e,
                          "SELECT " OFFER_JSON " FROM offers o JOIN offer_revisions r ON r.offer_id = o.id"
                          " AND r.revision = o.current_revision WHERE o.product_id = $1::uuid AND o.retired_at IS NULL"
                          " ORDER BY o.created_at, o.id",
                          DB_PARAMS(product));
}

err_code store_offer_write(PGconn *c, const Mkt__Catalog__Offer *o, bool new_revision, bool published, mkt_time now,
                           struct err *e) {
    err_code code = insert_revision(c, o, published, now, e);
    if (code != ERR_OK || !new_revision)
        return code;
    char rev[16];
    snprintf(rev, sizeof rev, "%d", o->revision);
    return db_exec(c, e, NULL, "UPDATE offers SET current_revision = $2::int WHERE id = $1::uuid", DB_PARAMS(o->id, rev));
}

err_code store_offer_retire(PGconn *c, const char *id, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL, "UPDATE offers SET retired_at = $2 WHERE id = $1::uuid AND retired_at IS NULL",
                   DB_PARAMS(id, db_time_param(now, t, sizeof t)));
}

err_code store_offer_count(PGconn *c, const char *product, long *n, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT count(*) FROM offers WHERE product_id = $1::uuid AND retired_at IS NULL",
                             DB_PARAMS(product));
    if (code == ERR_OK)
        *n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return code;
}

err_code store_offers_published(PGconn *c, const char *product, struct err *e) {
    return db_exec(c, e, NULL,
                   "UPDATE offer_revisions r SET ever_published = true FROM offers o WHERE r.offer_id = o.id"
                   " AND r.revision = o.current_revision AND o.product_id = $1::uuid AND o.retired_at IS NULL",
                   DB_PARAMS(product));
}
