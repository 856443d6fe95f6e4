/* Listing review (PUB-4), for marketplace operators. With MKT_CATALOG_REVIEW=required a seller's
 * publication submits the listing (product and/or version go `in_review`); an operator approves
 * it, which publishes at once when the seller asked for automatic publication and otherwise
 * leaves it `approved` for the seller to publish, or rejects it with a comment, which sends it
 * back to `draft`. Each decision is one transaction with its events (the notifier mails the
 * seller from catalog.review.*). */
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "id.h"
#include "rules.h"
#include "store.h"
#include "validation.h"

#define REVIEW_COMMENT_MAX 2000

static const struct cursor_list reviews_list = {"catalog.reviews", CURSOR_ID, 0, 0};

err_code handlers_list_reviews(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__ListRequest *in = (const Mkt__Catalog__ListRequest *)call->in;
    struct cursor_page page;
    err_code code = handlers_operator(call, e);
    if (code != ERR_OK || (code = handlers_page(call, &reviews_list, "pending", in->limit, in->cursor, &page, e)) != ERR_OK)
        return code;
    Mkt__Catalog__Review **rows = NULL;
    size_t n = 0;
    if ((code = store_review_list(call->worker->db, page.has_after ? page.after.id : "", cursor_page_fetch(&page),
                                  &rows, &n, e)) != ERR_OK)
        return code;
    size_t shown = cursor_page_shown(&page, n);
    char next[CURSOR_TEXT_MAX];
    code = handlers_next_cursor(&page, n, shown ? rows[shown - 1]->id : "", next, e);
    if (code == ERR_OK) {
        Mkt__Catalog__ReviewList rep = MKT__CATALOG__REVIEW_LIST__INIT;
        rep.n_reviews = shown;
        rep.reviews = rows;
        rep.next_cursor = next;
        bus_reply(call, &rep.base);
    }
    store_messages_free((ProtobufCMessage **)rows, n);
    return code;
}

/* The product's and version's next states for a decision (table: rules.c). */
static err_code next_states(const Mkt__Catalog__Product *product, const Mkt__Catalog__Version *v, bool approve,
                            bool auto_publish, enum product_state *ps, enum version_state *vs, bool *product_moves,
                            struct err *e) {
    err_code code;
    if (!rules_product_state_parse(product->state, ps) || (v && !rules_version_state_parse(v->state, vs)))
        return err_set(e, ERR_INTERNAL, "product %s: unknown state", product->id);
    *product_moves = *ps == PRODUCT_IN_REVIEW;
    if (*product_moves) {
        enum product_event ev = !approve ? PRODUCT_EV_REJECT : auto_publish ? PRODUCT_EV_APPROVE : PRODUCT_EV_APPROVE_MANUAL;
        if ((code = rules_product_next(*ps, ev, ps, e)) != ERR_OK)
            return code;
        /* No version, no copies: an approved outsourced or LLM product is published at once. */
        if (!v && *ps == PRODUCT_PUBLISHING && (code = rules_product_next(*ps, PRODUCT_EV_VERSION_PUBLISHED, ps, e)) != ERR_OK)
            return code;
    }
    if (v) {
        enum version_event ev = !approve ? VERSION_EV_REJECT : auto_publish ? VERSION_EV_APPROVE : VERSION_EV_APPROVE_MANUAL;
        if ((code = rules_version_next(*vs, ev, vs, e)) != ERR_OK)
            return code;
    }
    return ERR_OK;
}

static err_code decide(struct bus_call *call, bool approve, struct err *e) {
    const Mkt__Catalog__ReviewDecision *in = (const Mkt__Catalog__ReviewDecision *)call->in;
    PGconn *db = call->worker->db;
    Mkt__Catalog__Review *r = NULL, *out = NULL;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *v = NULL;
    Mkt__Catalog__Offer **offers = NULL;
    size_t n_offers = 0;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_operator(call, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "review %s", in->id);
    validation_label(&p, "comment", in->comment, REVIEW_COMMENT_MAX, !approve); /* the seller is told why */
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        return code;
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    if ((code = store_review_get(db, in->id, true, &r, e)) != ERR_OK)
        goto done;
    if (strcmp(r->state, "pending") != 0) {
        code = err_set(e, ERR_CONFLICT, "review %s is already %s", r->id, r->state);
        goto done;
    }
    if ((code = store_product_get_any(db, r->product_id, true, &product, e)) != ERR_OK ||
        (*r->version_id && (code = store_version_get(db, product->id, r->version_id, true, &v, e)) != ERR_OK) ||
        (code = store_offer_list(db, product->id, &offers, &n_offers, e)) != ERR_OK)
        goto done;
    enum product_state ps = PRODUCT_DRAFT;
    enum version_state vs = VERSION_DRAFT;
    bool product_moves = false;
    if ((code = next_states(product, v, approve, r->auto_publish, &ps, &vs, &product_moves, e)) != ERR_OK)
        goto done;
    mkt_time now = clock_now();
    const Mkt__Actor *a = call->req->actor;
    if ((code = store_review_decide(db, r->id, approve ? "approved" : "rejected", in->comment, a->account_id, now,
                                    e)) != ERR_OK)
        goto done;
    if (product_moves) {
        if ((code = store_product_set_state(db, product->id, rules_product_state_name(ps), now, e)) != ERR_OK ||
            (ps == PRODUCT_PUBLISHED && (code = store_offers_published(db, product->id, e)) != ERR_OK))
            goto done;
        char *was = product->state;
        product->state = (char *)rules_product_state_name(ps);
        const char *type = ps == PRODUCT_PUBLISHED ? "catalog.product.published"
                           : ps == PRODUCT_PUBLISHING ? "catalog.product.publishing"
                                                      : "catalog.product.reviewed";
        code = handlers_emit_product(call, type, product, e);
        product->state = was;
        if (code != ERR_OK)
            goto done;
    }
    if (v) {
        const char *name = rules_version_state_name(vs);
        const char *type = vs == VERSION_PUBLISHING ? "catalog.version.publishing" : "catalog.version.reviewed";
        if ((code = store_version_set_state(db, v->id, name, now, e)) != ERR_OK ||
            (code = handlers_emit_version(call, type, product, v, name, handlers_visibility(offers, n_offers), e)) !=
                ERR_OK)
            goto done;
    }
    if ((code = store_review_get(db, r->id, false, &out, e)) != ERR_OK)
        goto done;
    Mkt__Catalog__ReviewEvent ev = MKT__CATALOG__REVIEW_EVENT__INIT;
    ev.review_id = out->id;
    ev.organization_id = out->organization_id;
    ev.product_id = out->product_id;
    ev.version_id = out->version_id;
    ev.state = out->state;
    ev.comment = out->comment;
    code = handlers_emit(call, approve ? "catalog.review.approved" : "catalog.review.rejected", out->organization_id,
                         &ev.base, e);
done:
    code = handlers_finish(call, code, out, e);
    store_messages_free((ProtobufCMessage **)offers, n_offers);
    handlers_free(r), handlers_free(out), handlers_free(product), handlers_free(v);
    return code;
}

err_code handlers_approve_review(struct bus_call *call, struct err *e) { return decide(call, true, e); }
err_code handlers_reject_review(struct bus_call *call, struct err *e) { return decide(call, false, e); }
