/* The catalog's method table and the helpers every handler file shares (see handlers.h): who the
 * caller is, ending transactions, refusals that list every problem, generic merges for the
 * methods that change only what the client sent, events. Regions and categories live here too. */
#include "handlers.h"

#include <jansson.h>
#include <string.h>

#include "db.h"
#include "mail.pb-c.h"
#include "id.h"
#include "outbox.h"
#include "pbjson.h"
#include "store.h"
#include "validation.h"

static err_code list_regions(struct bus_call *call, struct err *e);

const struct bus_method catalog_methods[] = {
    /* public */
    {"list_regions", &mkt__catalog__list_regions_request__descriptor, list_regions},
    {"list_categories", &mkt__catalog__empty__descriptor, handlers_list_categories},
    /* sellers: showcase */
    {"get_showcase", &mkt__catalog__empty__descriptor, handlers_get_showcase},
    {"put_showcase", &mkt__catalog__put_showcase__descriptor, handlers_put_showcase},
    {"publish_showcase", &mkt__catalog__publish_request__descriptor, handlers_publish_showcase},
    /* sellers: products and offers */
    {"create_product", &mkt__catalog__product_request__descriptor, handlers_create_product},
    {"get_product", &mkt__catalog__id_request__descriptor, handlers_get_product},
    {"list_products", &mkt__catalog__list_request__descriptor, handlers_list_products},
    {"update_product", &mkt__catalog__product_request__descriptor, handlers_update_product},
    {"delete_product", &mkt__catalog__id_request__descriptor, handlers_delete_product},
    {"create_offer", &mkt__catalog__offer_request__descriptor, handlers_create_offer},
    {"list_offers", &mkt__catalog__id_request__descriptor, handlers_list_offers},
    {"update_offer", &mkt__catalog__offer_request__descriptor, handlers_update_offer},
    {"delete_offer", &mkt__catalog__id_request__descriptor, handlers_delete_offer},
    /* sellers: versions and publication */
    {"create_version", &mkt__catalog__version_request__descriptor, handlers_create_version},
    {"get_version", &mkt__catalog__id_request__descriptor, handlers_get_version},
    {"list_versions", &mkt__catalog__list_request__descriptor, handlers_list_versions},
    {"update_version", &mkt__catalog__version_request__descriptor, handlers_update_version},
    {"list_source_omis", &mkt__catalog__id_request__descriptor, handlers_list_source_omis},
    {"publish_product", &mkt__catalog__publish_request__descriptor, handlers_publish_product},
    {"publish_version", &mkt__catalog__publish_request__descriptor, handlers_publish_version},
    {"unpublish_product", &mkt__catalog__id_request__descriptor, handlers_unpublish_product},
    {"unpublish_version", &mkt__catalog__id_request__descriptor, handlers_unpublish_version},
    /* operators: listing review */
    {"list_reviews", &mkt__catalog__list_request__descriptor, handlers_list_reviews},
    {"approve_review", &mkt__catalog__review_decision__descriptor, handlers_approve_review},
    {"reject_review", &mkt__catalog__review_decision__descriptor, handlers_reject_review},
    /* the notifier */
    {"mail_recipients", &mkt__mail__recipients_request__descriptor, handlers_mail_recipients},
    /* identity */
    {"product_codes", &mkt__catalog__id_request__descriptor, handlers_product_codes},
    /* sellers: terms of use */
    {"list_terms", &mkt__catalog__empty__descriptor, handlers_list_terms},
    {"create_terms", &mkt__catalog__terms_request__descriptor, handlers_create_terms},
    {"update_terms", &mkt__catalog__terms_request__descriptor, handlers_update_terms},
    {"activate_terms", &mkt__catalog__id_request__descriptor, handlers_activate_terms},
};
const size_t catalog_methods_count = sizeof catalog_methods / sizeof catalog_methods[0];

/* ---- the caller ---------------------------------------------------------------------------------- */

static bool has(char *const *list, size_t n, const char *want) {
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], want) == 0)
            return true;
    return false;
}

err_code handlers_seller(const struct bus_call *call, const char **org, struct err *e) {
    const Mkt__Actor *a = call->req->actor;
    if (!a || !a->account_id || !*a->account_id)
        return err_set(e, ERR_UNAUTHENTICATED, "a session is needed");
    if (!a->organization_id || !*a->organization_id || !has(a->org_types, a->n_org_types, "seller"))
        return err_set(e, ERR_FORBIDDEN, "only seller organizations manage a catalog (ORG-4)");
    *org = a->organization_id;
    return ERR_OK;
}

err_code handlers_operator(const struct bus_call *call, struct err *e) {
    const Mkt__Actor *a = call->req->actor;
    if (!a || !a->account_id || !*a->account_id)
        return err_set(e, ERR_UNAUTHENTICATED, "a session is needed");
    if (!a->operator_)
        return err_set(e, ERR_FORBIDDEN, "marketplace operators only");
    return ERR_OK;
}

bool handlers_org_validated(const struct bus_call *call) {
    const Mkt__Actor *a = call->req->actor;
    return a && a->org_status && strcmp(a->org_status, "validated") == 0;
}

struct catalog *handlers_app(const struct bus_call *call) { return call->worker->app; }

err_code handlers_end(PGconn *db, err_code code, struct err *e) {
    if (code == ERR_OK)
        return db_commit(db, e);
    db_rollback(db);
    return code;
}

err_code handlers_finish(struct bus_call *call, err_code code, const void *reply, struct err *e) {
    code = handlers_end(call->worker->db, code, e);
    if (code == ERR_OK && reply)
        bus_reply(call, reply);
    return code;
}

err_code handlers_refuse(struct bus_call *call, const struct problems *p, struct err *e) {
    return problems_any(p) ? bus_refuse(call, p, e) : ERR_OK;
}

err_code handlers_reply_checklist(struct bus_call *call, const struct problems *p, const char *state, struct err *e) {
    (void)e;
    Mkt__Catalog__Problem items[PROBLEMS_MAX], *ptrs[PROBLEMS_MAX];
    for (size_t i = 0; i < p->n; i++) {
        mkt__catalog__problem__init(&items[i]);
        items[i].field = (char *)p->items[i].field;
        items[i].rule = (char *)p->items[i].rule;
        ptrs[i] = &items[i];
    }
    Mkt__Catalog__Checklist rep = MKT__CATALOG__CHECKLIST__INIT;
    rep.ready = !problems_any(p);
    rep.n_problems = p->n;
    rep.problems = p->n ? ptrs : NULL;
    rep.state = (char *)state;
    bus_reply(call, &rep.base);
    return ERR_OK;
}

err_code handlers_emit(const struct bus_call *call, const char *type, const char *org, const ProtobufCMessage *payload,
                       struct err *e) {
    const Mkt__Actor *a = call->req->actor;
    return outbox_emit(call->worker->db, type, org, a ? a->account_id : "", call->req->request_id, payload, e);
}

void handlers_product_event(const Mkt__Catalog__Product *p, Mkt__Catalog__ProductEvent *out) {
    mkt__catalog__product_event__init(out);
    out->product_id = p->id;
    out->organization_id = p->organization_id;
    out->kind = p->kind;
    out->state = p->state;
    out->n_regions = p->n_regions;
    out->regions = p->regions;
    out->product_code = p->product_code;
}

err_code handlers_emit_product(const struct bus_call *call, const char *type, const Mkt__Catalog__Product *p,
                               struct err *e) {
    Mkt__Catalog__ProductEvent ev;
    handlers_product_event(p, &ev);
    return handlers_emit(call, type, p->organization_id, &ev.base, e);
}

bool handlers_present(char *const *present, size_t n, const char *name) { return has(present, n, name); }

static bool listed(const char *const *names, const char *name) {
    for (size_t k = 0; names && names[k]; k++)
        if (strcmp(names[k], name) == 0)
            return true;
    return false;
}

err_code handlers_merge(struct bus_call *call, const ProtobufCMessage *current, const ProtobufCMessage *req,
                        char *const *present, size_t n, const char *const *allowed, const char *const *handled,
                        ProtobufCMessage **out, struct problems *p, struct err *e) {
    json_t *cur = pbjson_from_message(current), *in = pbjson_from_message(req);
    err_code code = ERR_OK;
    if (!cur || !in) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (listed(handled, present[i]))
            continue;
        if (!listed(allowed, present[i])) {
            problems_add(p, "read_only", "%s", present[i]);
            continue;
        }
        json_t *v = json_object_get(in, present[i]);
        if (v)
            json_object_set(cur, present[i], v);
        else
            json_object_del(cur, present[i]);
    }
    if (problems_any(p)) {
        code = handlers_refuse(call, p, e);
        goto done;
    }
    code = pbjson_to_message(current->descriptor, cur, out, p, e);
    if (code != ERR_OK)
        code = err_set(e, ERR_INTERNAL, "merge %s: %s", current->descriptor->short_name, e->msg);
done:
    json_decref(cur);
    json_decref(in);
    return code;
}

err_code handlers_page(struct bus_call *call, const struct cursor_list *list, const char *filter, int limit,
                       const char *cursor, struct cursor_page *page, struct err *e) {
    struct err why = {0};
    if (cursor_page_init(page, list, &handlers_app(call)->cursor_key, filter, limit, cursor, &why) == ERR_OK)
        return ERR_OK;
    struct problems p;
    problems_init(&p);
    if (strncmp(why.msg, "limit", 5) == 0)
        problems_add(&p, "out_of_range", "limit");
    else
        problems_add(&p, "not_a_cursor", "cursor");
    return handlers_refuse(call, &p, e);
}

err_code handlers_next_cursor(const struct cursor_page *page, size_t fetched, const char *last_id,
                              char out[CURSOR_TEXT_MAX], struct err *e) {
    return cursor_page_next(page, fetched, 0, NULL, last_id, out, e);
}

void handlers_free(void *message) {
    if (message)
        protobuf_c_message_free_unpacked(message, NULL);
}

err_code handlers_begin_product(struct bus_call *call, const char *id, bool omi_only, const char **org,
                                Mkt__Catalog__Product **product, struct err *e) {
    err_code code = handlers_seller(call, org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(id))
        return err_set(e, ERR_NOT_FOUND, "product %s", id);
    if ((code = db_begin(call->worker->db, e)) != ERR_OK)
        return code;
    if ((code = store_product_get(call->worker->db, *org, id, true, product, e)) == ERR_OK && omi_only &&
        strcmp((*product)->kind, "omi") != 0) {
        code = err_set(e, ERR_CONFLICT, "only OMI products have versions (PROD-1)");
        handlers_free(*product);
        *product = NULL;
    }
    if (code != ERR_OK)
        db_rollback(call->worker->db);
    return code;
}

/* ---- public: Regions and categories --------------------------------------------------------------- */

static err_code list_regions(struct bus_call *call, struct err *e) {
    struct region_list l = {0};
    err_code code = store_list_regions(call->worker->db, &l, e);
    if (code != ERR_OK)
        return code;
    Mkt__Catalog__ListRegionsReply rep = MKT__CATALOG__LIST_REGIONS_REPLY__INIT;
    rep.n_regions = l.count;
    rep.regions = l.ptrs;
    bus_reply(call, &rep.base);
    region_list_cleanup(&l);
    return ERR_OK;
}

err_code handlers_list_categories(struct bus_call *call, struct err *e) {
    (void)e;
    size_t n;
    const struct catalog_category *t = validation_categories_table(&n);
    Mkt__Catalog__Category items[64], *ptrs[64];
    Mkt__Catalog__Text names[64];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        mkt__catalog__category__init(&items[i]);
        mkt__catalog__text__init(&names[i]);
        names[i].en = (char *)t[i].en;
        names[i].fr = (char *)t[i].fr;
        items[i].slug = (char *)t[i].slug;
        items[i].name = &names[i];
        ptrs[i] = &items[i];
    }
    Mkt__Catalog__CategoryList rep = MKT__CATALOG__CATEGORY_LIST__INIT;
    rep.n_categories = n;
    rep.categories = ptrs;
    bus_reply(call, &rep.base);
    return ERR_OK;
}
