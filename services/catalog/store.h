/* The catalog's data access: every SQL statement of the service lives in store*.c.
 *
 * Reads return protobuf messages of proto/catalog.proto: each SELECT builds one JSON document
 * per row in the message's shape (with the SQL helpers `txt` and `iso` of the migrations) and
 * store_messages maps it onto the message by descriptor (lib/pbjson). Writes take the request
 * messages and pass texts, arrays and sub-messages as parameters (arrays as JSON). All
 * functions run on the caller's connection, inside the caller's transaction when there is one;
 * `org` scopes every seller read, so another organization's row is ERR_NOT_FOUND. Messages
 * returned in *out are owned by the caller (protobuf_c_message_free_unpacked). */
#ifndef CATALOG_STORE_H
#define CATALOG_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "catalog.pb-c.h"
#include "clock.h"
#include "err.h"

/* Regions borrow their strings from `result`; release everything with region_list_cleanup. */
struct region_list {
    Mkt__Catalog__Region *regions;
    Mkt__Catalog__Region **ptrs;
    size_t count;
    PGresult *result;
};
err_code store_list_regions(PGconn *c, struct region_list *out, struct err *e) MKT_MUST_USE;
void region_list_cleanup(struct region_list *l);

/* ---- the generic read (store.c) ---- */

/* Runs `sql`, whose only column is a JSON document per row, and maps each row onto a `desc`
 * message: *out is a new array of *count messages (free with store_messages_free). A document
 * that does not fit the message is ERR_INTERNAL (a bug in the SQL). */
err_code store_messages(PGconn *c, const ProtobufCMessageDescriptor *desc, ProtobufCMessage ***out, size_t *count,
                        struct err *e, const char *sql, int n, const char *const *params) MKT_MUST_USE;
/* Exactly one row: ERR_NOT_FOUND "<what> <id>" when there is none. */
err_code store_message(PGconn *c, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, const char *what,
                       const char *id, struct err *e, const char *sql, int n, const char *const *params) MKT_MUST_USE;
void store_messages_free(ProtobufCMessage **m, size_t n);
/* JSON text of repeated messages or strings, for a jsonb parameter (malloc'd; NULL on OOM). */
char *store_json_messages(ProtobufCMessage *const *items, size_t n);
char *store_json_strings(char *const *items, size_t n);

/* ---- showcases (store.c) ---- */
err_code store_showcase_get(PGconn *c, const char *org, Mkt__Catalog__Showcase **out, struct err *e) MKT_MUST_USE;
err_code store_showcase_put(PGconn *c, const char *org, const Mkt__Catalog__PutShowcase *in, mkt_time now,
                            struct err *e) MKT_MUST_USE;
err_code store_showcase_publish(PGconn *c, const char *org, mkt_time now, struct err *e) MKT_MUST_USE;

/* ---- products (store_products.c) ---- */
/* `in` carries the validated fields; regions as PROD-4 fixed them. */
err_code store_product_insert(PGconn *c, const char *id, const char *org, const Mkt__Catalog__ProductRequest *in,
                              const char *const *regions, size_t n_regions, mkt_time now, struct err *e) MKT_MUST_USE;
/* lock: SELECT ... FOR UPDATE (the row stays locked until the transaction ends). */
err_code store_product_get(PGconn *c, const char *org, const char *id, bool lock, Mkt__Catalog__Product **out,
                           struct err *e) MKT_MUST_USE;
/* The organization's products, oldest first (UUIDv7 ids sort by creation), with ids after
 * `after_id` ("" = from the start), at most limit. */
err_code store_product_list(PGconn *c, const char *org, const char *after_id, int limit,
                            Mkt__Catalog__Product ***out, size_t *n, struct err *e) MKT_MUST_USE;
/* Writes every descriptive field of `p` (the merged product) and its updated_at. */
err_code store_product_update(PGconn *c, const Mkt__Catalog__Product *p, mkt_time now, struct err *e) MKT_MUST_USE;
err_code store_product_set_state(PGconn *c, const char *id, const char *state, mkt_time now, struct err *e) MKT_MUST_USE;
/* PROD-3: records the code once (*changed false when the product already has one or is gone). */
err_code store_product_set_code(PGconn *c, const char *id, const char *code, mkt_time now, bool *changed,
                                struct err *e) MKT_MUST_USE;
err_code store_product_delete(PGconn *c, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;

/* ---- offers (store_products.c) ---- */
err_code store_offer_insert(PGconn *c, const char *id, const char *product, const Mkt__Catalog__Offer *o,
                            bool published, mkt_time now, struct err *e) MKT_MUST_USE;
/* The offer's current revision; *ever_published tells whether buyers could have seen it. */
err_code store_offer_get(PGconn *c, const char *product, const char *id, Mkt__Catalog__Offer **out,
                         bool *ever_published, struct err *e) MKT_MUST_USE;
err_code store_offer_list(PGconn *c, const char *product, Mkt__Catalog__Offer ***out, size_t *n,
                          struct err *e) MKT_MUST_USE;
/* Replaces the current revision in place (never seen by buyers), or adds revision o->revision. */
err_code store_offer_write(PGconn *c, const Mkt__Catalog__Offer *o, bool new_revision, bool published, mkt_time now,
                           struct err *e) MKT_MUST_USE;
err_code store_offer_retire(PGconn *c, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;
/* Current offers of a product (not retired). */
err_code store_offer_count(PGconn *c, const char *product, long *n, struct err *e) MKT_MUST_USE;
/* Marks the product's current revisions as seen by buyers (on publication). */
err_code store_offers_published(PGconn *c, const char *product, struct err *e) MKT_MUST_USE;
/* Subscriptions on the offer (0 until the buyer side exists: PROD-7 still holds through ever_published). */

/* ---- versions (store_versions.c) ---- */
err_code store_version_insert(PGconn *c, const Mkt__Catalog__Version *v, mkt_time now, struct err *e) MKT_MUST_USE;
err_code store_version_get(PGconn *c, const char *product, const char *id, bool lock, Mkt__Catalog__Version **out,
                           struct err *e) MKT_MUST_USE;
/* The newest version of the product (VER-2), ERR_NOT_FOUND when it has none. */
err_code store_version_last(PGconn *c, const char *product, Mkt__Catalog__Version **out, struct err *e) MKT_MUST_USE;
/* Newest first: ids before `after_id` ("" = from the newest). */
err_code store_version_list(PGconn *c, const char *product, const char *after_id, int limit,
                            Mkt__Catalog__Version ***out, size_t *n, struct err *e) MKT_MUST_USE;
err_code store_version_update(PGconn *c, const Mkt__Catalog__Version *v, mkt_time now, struct err *e) MKT_MUST_USE;
err_code store_version_set_state(PGconn *c, const char *id, const char *state, mkt_time now,
                                 struct err *e) MKT_MUST_USE;
/* Published versions of the product other than `except` (VER-7). */
err_code store_version_published_count(PGconn *c, const char *product, const char *except, long *n,
                                       struct err *e) MKT_MUST_USE;

/* ---- terms of use (store_terms.c) ---- */
err_code store_terms_list(PGconn *c, const char *org, Mkt__Catalog__Terms ***out, size_t *n, struct err *e) MKT_MUST_USE;
err_code store_terms_get(PGconn *c, const char *org, const char *id, bool lock, Mkt__Catalog__Terms **out,
                         struct err *e) MKT_MUST_USE;
/* The active terms, ERR_NOT_FOUND when the seller has none yet. */
err_code store_terms_active(PGconn *c, const char *org, Mkt__Catalog__Terms **out, struct err *e) MKT_MUST_USE;
err_code store_terms_insert(PGconn *c, const Mkt__Catalog__Terms *t, mkt_time now, struct err *e) MKT_MUST_USE;
err_code store_terms_update(PGconn *c, const Mkt__Catalog__Terms *t, mkt_time now, struct err *e) MKT_MUST_USE;
/* Archives the active version and activates `id` (PUB-3: exactly one active). */
err_code store_terms_activate(PGconn *c, const char *org, const char *id, mkt_time now, struct err *e) MKT_MUST_USE;

/* ---- listing reviews (store_terms.c) ---- */
err_code store_review_insert(PGconn *c, const char *id, const char *org, const char *product, const char *version,
                             bool auto_publish, const char *submitted_by, mkt_time now, struct err *e) MKT_MUST_USE;
/* Pending reviews, oldest first, after `after_id` ("" = from the start), at most limit (operators). */
err_code store_review_list(PGconn *c, const char *after_id, int limit, Mkt__Catalog__Review ***out, size_t *n,
                           struct err *e) MKT_MUST_USE;
err_code store_review_get(PGconn *c, const char *id, bool lock, Mkt__Catalog__Review **out, struct err *e) MKT_MUST_USE;
err_code store_review_decide(PGconn *c, const char *id, const char *state, const char *comment, const char *by,
                             mkt_time now, struct err *e) MKT_MUST_USE;
/* The organization's OMI products that have a product code (PROD-3), as ProductCode messages. */
err_code store_product_codes(PGconn *c, const char *org, Mkt__Catalog__ProductCode ***out, size_t *n,
                             struct err *e) MKT_MUST_USE;
/* The product of a review, whatever its organization (operators decide for every seller). */
err_code store_product_get_any(PGconn *c, const char *id, bool lock, Mkt__Catalog__Product **out,
                               struct err *e) MKT_MUST_USE;

#endif
