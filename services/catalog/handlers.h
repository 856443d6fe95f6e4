/* The catalog's request/reply methods (mkt.rpc.catalog.<name>) and the helpers their files
 * share. Every seller method starts with handlers_seller (the caller must belong to a seller
 * organization: ORG-4; users and admins alike: ACC-2; the organization is always the caller's,
 * never taken from the request, so another organization's id is simply not found); state changes
 * run in one transaction with their events (outbox) and end with handlers_end.
 *
 *   handlers.c           method table, caller checks, refusals with problems, merges, events
 *   handlers_showcase.c  SHOW-1, SHOW-2
 *   handlers_products.c  products (PROD-1..9) and offers (PROD-5, PROD-7)
 *   handlers_versions.c  versions (VER-1..9) and publication (PROD-2, PROD-6, PROD-8, PUB-4)
 *   handlers_terms.c     terms of use (PUB-3)
 *   handlers_reviews.c   listing review by operators (PUB-4)
 *   handlers_internal.c  for the platform's services: mail recipients (notifier), product codes (identity) */
#ifndef CATALOG_HANDLERS_H
#define CATALOG_HANDLERS_H

#include <libpq-fe.h>

#include "bus.h"
#include "catalog.h"
#include "catalog.pb-c.h"
#include "problems.h"

extern const struct bus_method catalog_methods[];
extern const size_t catalog_methods_count;

/* The caller's seller organization (borrowed from the call), or ERR_UNAUTHENTICATED /
 * ERR_FORBIDDEN. */
err_code handlers_seller(const struct bus_call *call, const char **org, struct err *e) MKT_MUST_USE;
bool handlers_org_validated(const struct bus_call *call);
struct catalog *handlers_app(const struct bus_call *call);
/* Commits when code is ERR_OK, else rolls back; returns code (or the commit's failure). */
err_code handlers_end(PGconn *db, err_code code, struct err *e);
/* handlers_end, then the reply (a message, or NULL) once committed. */
err_code handlers_finish(struct bus_call *call, err_code code, const void *reply, struct err *e);
/* ERR_OK when p is empty, else ERR_INVALID listing every problem. */
err_code handlers_refuse(struct bus_call *call, const struct problems *p, struct err *e) MKT_MUST_USE;
/* Replies a Checklist: ready when p is empty, its problems, and the state after the call. */
err_code handlers_reply_checklist(struct bus_call *call, const struct problems *p, const char *state, struct err *e);
/* Emits a catalog event for the caller's organization and account (in the open transaction). */
err_code handlers_emit(const struct bus_call *call, const char *type, const char *org, const ProtobufCMessage *payload,
                       struct err *e) MKT_MUST_USE;
/* The ProductEvent of a product (views borrow p's strings). */
void handlers_product_event(const Mkt__Catalog__Product *p, Mkt__Catalog__ProductEvent *out);
/* catalog.product.<verb> with the product's id, kind, state, Regions and code. */
err_code handlers_emit_product(const struct bus_call *call, const char *type, const Mkt__Catalog__Product *p,
                               struct err *e) MKT_MUST_USE;
/* catalog.version.<verb> for version v of product (state and VER-4 visibility of the copies). */
err_code handlers_emit_version(const struct bus_call *call, const char *type, const Mkt__Catalog__Product *product,
                               const Mkt__Catalog__Version *v, const char *state, const char *visibility,
                               struct err *e) MKT_MUST_USE;
/* VER-4: a version's copies are "public" when every offer is free or byol, else "private". */
const char *handlers_visibility(Mkt__Catalog__Offer **offers, size_t n);
/* ERR_OK when the caller is marketplace staff (operator), else ERR_UNAUTHENTICATED/FORBIDDEN. */
err_code handlers_operator(const struct bus_call *call, struct err *e) MKT_MUST_USE;
/* A copy of `current` with the top-level fields named in `present` (the request's
 * present_fields) taken from `req`, fields of the same name. Names in `handled` are the caller's
 * to apply (skipped here); any other name not in `allowed` is a "read_only" problem (refused at
 * once). Generic over the descriptors, through their JSON views. Both lists NULL-terminated.
 * *out is a new message of current's type. */
err_code handlers_merge(struct bus_call *call, const ProtobufCMessage *current, const ProtobufCMessage *req,
                        char *const *present, size_t n, const char *const *allowed, const char *const *handled,
                        ProtobufCMessage **out, struct problems *p, struct err *e) MKT_MUST_USE;
/* Opens a transaction and locks the caller's product `id` (its seller's; omi_only: an OMI
 * product, else ERR_CONFLICT). On failure nothing stays open. */
err_code handlers_begin_product(struct bus_call *call, const char *id, bool omi_only, const char **org,
                                Mkt__Catalog__Product **product, struct err *e) MKT_MUST_USE;
/* protobuf_c_message_free_unpacked for any message pointer; NULL is a no-op. */
void handlers_free(void *message);
/* Whether `name` is among the present fields. */
bool handlers_present(char *const *present, size_t n, const char *name);
/* A page of a list (lib/cursor): checks limit and cursor (refused as the problems `limit`
 * out_of_range or `cursor` not_a_cursor) and binds the cursor to `filter` (the parent's id). */
err_code handlers_page(struct bus_call *call, const struct cursor_list *list, const char *filter, int limit,
                       const char *cursor, struct cursor_page *page, struct err *e) MKT_MUST_USE;
/* The reply's next_cursor for `fetched` rows whose last shown row has id `last_id`. */
err_code handlers_next_cursor(const struct cursor_page *page, size_t fetched, const char *last_id,
                              char out[CURSOR_TEXT_MAX], struct err *e) MKT_MUST_USE;

/* Methods by file. */
err_code handlers_list_categories(struct bus_call *call, struct err *e);
err_code handlers_get_showcase(struct bus_call *call, struct err *e);
err_code handlers_put_showcase(struct bus_call *call, struct err *e);
err_code handlers_publish_showcase(struct bus_call *call, struct err *e);
err_code handlers_create_product(struct bus_call *call, struct err *e);
err_code handlers_get_product(struct bus_call *call, struct err *e);
err_code handlers_list_products(struct bus_call *call, struct err *e);
err_code handlers_update_product(struct bus_call *call, struct err *e);
err_code handlers_delete_product(struct bus_call *call, struct err *e);
err_code handlers_create_offer(struct bus_call *call, struct err *e);
err_code handlers_list_offers(struct bus_call *call, struct err *e);
err_code handlers_update_offer(struct bus_call *call, struct err *e);
err_code handlers_delete_offer(struct bus_call *call, struct err *e);
err_code handlers_create_version(struct bus_call *call, struct err *e);
err_code handlers_get_version(struct bus_call *call, struct err *e);
err_code handlers_list_versions(struct bus_call *call, struct err *e);
err_code handlers_update_version(struct bus_call *call, struct err *e);
err_code handlers_list_source_omis(struct bus_call *call, struct err *e);
err_code handlers_publish_product(struct bus_call *call, struct err *e);
err_code handlers_publish_version(struct bus_call *call, struct err *e);
err_code handlers_unpublish_product(struct bus_call *call, struct err *e);
err_code handlers_unpublish_version(struct bus_call *call, struct err *e);
err_code handlers_list_reviews(struct bus_call *call, struct err *e);
err_code handlers_approve_review(struct bus_call *call, struct err *e);
err_code handlers_reject_review(struct bus_call *call, struct err *e);
err_code handlers_mail_recipients(struct bus_call *call, struct err *e);
err_code handlers_product_codes(struct bus_call *call, struct err *e);
err_code handlers_list_terms(struct bus_call *call, struct err *e);
err_code handlers_create_terms(struct bus_call *call, struct err *e);
err_code handlers_update_terms(struct bus_call *call, struct err *e);
err_code handlers_activate_terms(struct bus_call *call, struct err *e);

#endif
