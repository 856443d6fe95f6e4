/* Products (PROD-1..9) and their offers (PROD-5, PROD-7), for the seller that owns them.
 * Products are drafts until published (handlers_versions.c); Regions are fixed at creation
 * (PROD-4); only drafts are deleted (PROD-6). Offers are revisions: an offer buyers could see is
 * never edited in place, its edit is a new revision, so subscriptions keep the terms they took. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "id.h"
#include "rules.h"
#include "store.h"
#include "validation.h"

static struct text_bilingual bi(const Mkt__Catalog__Text *t) {
    return (struct text_bilingual){t ? t->en : NULL, t ? t->fr : NULL};
}

static bool blank(const Mkt__Catalog__Text *t) {
    struct text_bilingual b = bi(t);
    return text_check(b.en, 0, true) == TEXT_BLANK && text_check(b.fr, 0, true) == TEXT_BLANK;
}

/* The descriptive fields of a product (create, update): form always; `complete` (a published
 * product) also requires the PROD-2 texts in both languages. */
struct product_view {
    const char *kind, *delivery;
    const Mkt__Catalog__Text *name, *short_description, *description, *instructions, *support_contact;
    Mkt__Catalog__Link *const *links;
    size_t n_links;
    char *const *categories;
    size_t n_categories;
    char *const *audience;
    size_t n_audience;
};

static void check_product(const struct product_view *v, bool complete, struct problems *p) {
    enum product_kind kind;
    if (!rules_product_kind_parse(v->kind, &kind)) {
        problems_add(p, v->kind && *v->kind ? "unknown_kind" : "required", "kind");
    } else if (kind == PRODUCT_OUTSOURCED) {
        if (!v->delivery || (strcmp(v->delivery, "saas") != 0 && strcmp(v->delivery, "paas") != 0))
            problems_add(p, v->delivery && *v->delivery ? "unknown_delivery" : "required", "delivery");
    } else if (v->delivery && *v->delivery) {
        problems_add(p, "outsourced_products_only", "delivery");
    }
    if (blank(v->name))
        problems_add(p, "required", "name"); /* a draft needs a name in at least one language */
    const struct {
        const char *field;
        const Mkt__Catalog__Text *t;
        size_t max;
        bool multiline, required;
    } texts[] = {
        {"name", v->name, CATALOG_NAME_MAX, false, complete},
        {"short_description", v->short_description, CATALOG_SHORT_MAX, false, complete},
        {"description", v->description, CATALOG_LONG_MAX, true, complete},
        {"instructions", v->instructions, CATALOG_LONG_MAX, true, false},
        {"support_contact", v->support_contact, CATALOG_SHORT_MAX, true, false},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct text_bilingual b = bi(texts[i].t);
        validation_bilingual(p, texts[i].field, &b, texts[i].max, texts[i].multiline, texts[i].required);
    }
    if (v->n_links > CATALOG_LINKS_MAX)
        problems_add(p, "too_many", "documentation_links");
    for (size_t i = 0; i < v->n_links && i < CATALOG_LINKS_MAX; i++) {
        char field[PROBLEM_FIELD_MAX];
        snprintf(field, sizeof field, "documentation_links[%zu].label", i);
        struct text_bilingual b = bi(v->links[i]->label);
        validation_bilingual(p, field, &b, CATALOG_NAME_MAX, false, false);
        snprintf(field, sizeof field, "documentation_links[%zu].url", i);
        validation_url(p, field, v->links[i]->url, true);
    }
    if (v->n_categories > 0 || complete)
        validation_categories(p, "categories", (const char *const *)v->categories, v->n_categories);
    for (size_t i = 0; i < v->n_audience; i++)
        if (!id_is_uuid(v->audience[i]))
            problems_add(p, "not_an_organization_id", "audience[%zu]", i);
}

static struct product_view view_of_request(const Mkt__Catalog__ProductRequest *r) {
    return (struct product_view){r->kind, r->delivery, r->name, r->short_description, r->description,
                                 r->instructions, r->support_contact, r->documentation_links,
                                 r->n_documentation_links, r->categories, r->n_categories, r->audience, r->n_audience};
}

static struct product_view view_of_product(const Mkt__Catalog__Product *r) {
    return (struct product_view){r->kind, r->delivery, r->name, r->short_description, r->description,
                                 r->instructions, r->support_contact, r->documentation_links,
                                 r->n_documentation_links, r->categories, r->n_categories, r->audience, r->n_audience};
}

err_code handlers_create_product(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__ProductRequest *in = (const Mkt__Catalog__ProductRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    struct product_view v = view_of_request(in);
    check_product(&v, false, &p);
    const char *regions[2];
    size_t n_regions = rules_regions_at_creation((const char *const *)in->regions, in->n_regions, regions, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        return code;
    char id[ID_UUID_LEN + 1];
    id_uuid(id);
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    if ((code = store_product_insert(db, id, org, in, regions, n_regions, clock_now(), e)) != ERR_OK ||
        (code = store_product_get(db, org, id, false, &out, e)) != ERR_OK)
        goto done;
    /* PROD-3: an OMI product's code is created by the publisher on this event. */
    code = handlers_emit_product(call, "catalog.product.created", out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(out);
    return code;
}

err_code handlers_get_product(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    const char *org;
    Mkt__Catalog__Product *out = NULL;
    err_code code = handlers_seller(call, &org, e);
    if (code == ERR_OK && !id_is_uuid(in->id))
        code = err_set(e, ERR_NOT_FOUND, "product %s", in->id);
    if (code == ERR_OK)
        code = store_product_get(call->worker->db, org, in->id, false, &out, e);
    if (code == ERR_OK)
        bus_reply(call, &out->base);
    handlers_free(out);
    return code;
}

static const struct cursor_list products_list = {"catalog.products", CURSOR_ID, 0, 0};

err_code handlers_list_products(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__ListRequest *in = (const Mkt__Catalog__ListRequest *)call->in;
    const char *org;
    struct cursor_page page;
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK || (code = handlers_page(call, &products_list, org, in->limit, in->cursor, &page, e)) != ERR_OK)
        return code;
    Mkt__Catalog__Product **rows = NULL;
    size_t n = 0;
    code = store_product_list(call->worker->db, org, page.has_after ? page.after.id : "", cursor_page_fetch(&page),
                              &rows, &n, e);
    if (code != ERR_OK)
        return code;
    size_t shown = cursor_page_shown(&page, n);
    char next[CURSOR_TEXT_MAX];
    code = handlers_next_cursor(&page, n, shown ? rows[shown - 1]->id : "", next, e);
    if (code == ERR_OK) {
        Mkt__Catalog__ProductList rep = MKT__CATALOG__PRODUCT_LIST__INIT;
        rep.n_products = shown;
        rep.products = rows;
        rep.next_cursor = next;
        bus_reply(call, &rep.base);
    }
    store_messages_free((ProtobufCMessage **)rows, n);
    return code;
}

/* What update_product may change (PROD-4: not the Regions; not the kind). */
static const char *const product_editable[] = {"delivery",     "name",     "short_description", "description",
                                               "instructions", "support_contact", "documentation_links",
                                               "categories",   "private",  "audience", NULL};

err_code handlers_update_product(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__ProductRequest *in = (const Mkt__Catalog__ProductRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *cur = NULL, *merged = NULL, *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_begin_product(call, in->id, false, &org, &cur, e);
    if (code != ERR_OK)
        return code;
    /* The Regions may be sent again unchanged; any change is refused (PROD-4). */
    if (handlers_present(in->present_fields, in->n_present_fields, "regions") &&
        (code = rules_regions_change((const char *const *)cur->regions, cur->n_regions,
                                     (const char *const *)in->regions, in->n_regions, e)) != ERR_OK)
        goto done;
    static const char *const handled[] = {"regions", NULL};
    if ((code = handlers_merge(call, &cur->base, &in->base, in->present_fields, in->n_present_fields,
                               product_editable, handled, (ProtobufCMessage **)&merged, &p, e)) != ERR_OK)
        goto done;
    struct product_view v = view_of_product(merged);
    check_product(&v, strcmp(cur->state, "published") == 0, &p); /* PROD-2: a published product stays complete */
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    if ((code = store_product_update(db, merged, clock_now(), e)) != ERR_OK ||
        (code = store_product_get(db, org, in->id, false, &out, e)) != ERR_OK)
        goto done;
    code = handlers_emit_product(call, "catalog.product.updated", out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(cur), handlers_free(merged), handlers_free(out);
    return code;
}

err_code handlers_delete_product(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *cur = NULL;
    enum product_state state;
    err_code code = handlers_begin_product(call, in->id, false, &org, &cur, e);
    if (code != ERR_OK)
        return code;
    if (!rules_product_state_parse(cur->state, &state)) {
        code = err_set(e, ERR_INTERNAL, "product %s: state %s", cur->id, cur->state);
        goto done;
    }
    if ((code = rules_product_deletable(state, e)) != ERR_OK ||
        (code = store_product_delete(db, cur->id, clock_now(), e)) != ERR_OK)
        goto done;
    code = handlers_emit_product(call, "catalog.product.deleted", cur, e);
done:
    code = handlers_finish(call, code, &(Mkt__Catalog__Empty)MKT__CATALOG__EMPTY__INIT, e);
    handlers_free(cur);
    return code;
}

/* ---- offers ---------------------------------------------------------------------------------------- */

static void check_offer(const struct bus_call *call, const Mkt__Catalog__Offer *o, const Mkt__Catalog__Product *product,
                        struct problems *p) {
    enum product_kind pk = PRODUCT_OMI;
    (void)rules_product_kind_parse(product->kind, &pk);
    struct offer_price prices[CATALOG_PRICES_MAX];
    size_t n = o->n_prices < CATALOG_PRICES_MAX ? o->n_prices : CATALOG_PRICES_MAX;
    for (size_t i = 0; i < n; i++)
        prices[i] = (struct offer_price){o->prices[i]->vm_type, o->prices[i]->cents_per_hour};
    struct offer_input in = {.kind = o->kind, .prices = prices, .n_prices = o->n_prices, .period = o->period,
                             .price_cents = o->price_cents, .licence_url = o->licence_url, .currency = o->currency,
                             .ugap = o->ugap};
    enum offer_kind k;
    const Mkt__Actor *a = call->req->actor;
    validation_offer(p, &in, pk, a && a->ugap, &k);
}

static err_code emit_offer(const struct bus_call *call, const char *type, const char *org, const Mkt__Catalog__Offer *o,
                           struct err *e) {
    Mkt__Catalog__OfferEvent ev = MKT__CATALOG__OFFER_EVENT__INIT;
    ev.offer_id = o->id;
    ev.product_id = o->product_id;
    ev.organization_id = (char *)org;
    ev.revision = o->revision;
    ev.kind = o->kind;
    return handlers_emit(call, type, org, &ev.base, e);
}

err_code handlers_create_offer(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__OfferRequest *in = (const Mkt__Catalog__OfferRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Offer *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_begin_product(call, in->id, false, &org, &product, e);
    if (code != ERR_OK)
        return code;
    char id[ID_UUID_LEN + 1];
    id_uuid(id);
    Mkt__Catalog__Offer o = MKT__CATALOG__OFFER__INIT;
    o.id = id;
    o.product_id = product->id;
    o.revision = 1;
    o.kind = in->kind;
    o.n_prices = in->n_prices;
    o.prices = in->prices;
    o.period = in->period;
    o.price_cents = in->price_cents;
    o.currency = in->currency && *in->currency ? in->currency : "EUR";
    o.licence_url = in->licence_url;
    o.ugap = in->ugap;
    check_offer(call, &o, product, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    bool visible = strcmp(product->state, "published") == 0;
    if ((code = store_offer_insert(db, id, product->id, &o, visible, clock_now(), e)) != ERR_OK)
        goto done;
    bool seen;
    if ((code = store_offer_get(db, product->id, id, &out, &seen, e)) != ERR_OK)
        goto done;
    code = emit_offer(call, "catalog.offer.created", org, out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(product), handlers_free(out);
    return code;
}

err_code handlers_list_offers(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Offer **rows = NULL;
    size_t n = 0;
    err_code code = handlers_seller(call, &org, e);
    if (code == ERR_OK && !id_is_uuid(in->id))
        code = err_set(e, ERR_NOT_FOUND, "product %s", in->id);
    if (code == ERR_OK)
        code = store_product_get(call->worker->db, org, in->id, false, &product, e);
    if (code == ERR_OK)
        code = store_offer_list(call->worker->db, product->id, &rows, &n, e);
    if (code == ERR_OK) {
        Mkt__Catalog__OfferList rep = MKT__CATALOG__OFFER_LIST__INIT;
        rep.n_offers = n;
        rep.offers = rows;
        bus_reply(call, &rep.base);
    }
    store_messages_free((ProtobufCMessage **)rows, n);
    handlers_free(product);
    return code;
}

static const char *const offer_editable[] = {"prices", "period", "price_cents", "currency", "licence_url", "ugap", NULL};

err_code handlers_update_offer(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__OfferRequest *in = (const Mkt__Catalog__OfferRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Offer *cur = NULL, *merged = NULL, *out = NULL;
    struct problems p;
    problems_init(&p);
    bool seen = false;
    err_code code = handlers_begin_product(call, in->id, false, &org, &product, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->offer_id)) {
        code = err_set(e, ERR_NOT_FOUND, "offer %s", in->offer_id);
        goto done;
    }
    if ((code = store_offer_get(db, product->id, in->offer_id, &cur, &seen, e)) != ERR_OK)
        goto done;
    if ((code = handlers_merge(call, &cur->base, &in->base, in->present_fields, in->n_present_fields, offer_editable,
                               NULL, (ProtobufCMessage **)&merged, &p, e)) != ERR_OK)
        goto done;
    check_offer(call, merged, product, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    /* PROD-7: what buyers could see is never rewritten. */
    bool revise = rules_offer_edit(seen, 0) == OFFER_EDIT_NEW_REVISION;
    if (revise)
        merged->revision = cur->revision + 1;
    bool visible = strcmp(product->state, "published") == 0;
    if ((code = store_offer_write(db, merged, revise, visible, clock_now(), e)) != ERR_OK ||
        (code = store_offer_get(db, product->id, cur->id, &out, &seen, e)) != ERR_OK)
        goto done;
    code = emit_offer(call, revise ? "catalog.offer.revised" : "catalog.offer.updated", org, out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(product), handlers_free(cur), handlers_free(merged), handlers_free(out);
    return code;
}

err_code handlers_delete_offer(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Offer *cur = NULL;
    bool seen;
    long count = 0;
    err_code code = handlers_begin_product(call, in->id, false, &org, &product, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->offer_id)) {
        code = err_set(e, ERR_NOT_FOUND, "offer %s", in->offer_id);
        goto done;
    }
    if ((code = store_offer_get(db, product->id, in->offer_id, &cur, &seen, e)) != ERR_OK ||
        (code = store_offer_count(db, product->id, &count, e)) != ERR_OK)
        goto done;
    if (strcmp(product->state, "published") == 0 && count <= 1) {
        code = err_set(e, ERR_CONFLICT, "a published product keeps at least one offer: add another first, or "
                                        "unpublish the product (PROD-5)");
        goto done;
    }
    if ((code = store_offer_retire(db, cur->id, clock_now(), e)) != ERR_OK)
        goto done;
    code = emit_offer(call, "catalog.offer.retired", org, cur, e);
done:
    code = handlers_finish(call, code, &(Mkt__Catalog__Empty)MKT__CATALOG__EMPTY__INIT, e);
    handlers_free(product), handlers_free(cur);
    return code;
}
