/* Terms of use (PUB-3): versioned per seller. A new version starts as a copy of the active one
 * (or empty for the first); drafts are edited; activating one archives the previous active
 * version, so exactly one is active and every listing of the seller uses it. */
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "id.h"
#include "store.h"
#include "validation.h"

#define TERMS_TITLE_MAX 200
#define TERMS_BODY_MAX 100000

static void check_terms(const Mkt__Catalog__Terms *t, bool complete, struct problems *p) {
    struct text_bilingual title = {t->title ? t->title->en : NULL, t->title ? t->title->fr : NULL};
    struct text_bilingual body = {t->body ? t->body->en : NULL, t->body ? t->body->fr : NULL};
    validation_bilingual(p, "title", &title, TERMS_TITLE_MAX, false, complete);
    validation_bilingual(p, "body", &body, TERMS_BODY_MAX, true, complete);
}

static err_code emit_terms(const struct bus_call *call, const char *type, const Mkt__Catalog__Terms *t, struct err *e) {
    Mkt__Catalog__TermsEvent ev = MKT__CATALOG__TERMS_EVENT__INIT;
    ev.terms_id = t->id;
    ev.organization_id = t->organization_id;
    ev.number = t->number;
    return handlers_emit(call, type, t->organization_id, &ev.base, e);
}

err_code handlers_list_terms(struct bus_call *call, struct err *e) {
    const char *org;
    Mkt__Catalog__Terms **rows = NULL;
    size_t n = 0;
    err_code code = handlers_seller(call, &org, e);
    if (code == ERR_OK)
        code = store_terms_list(call->worker->db, org, &rows, &n, e);
    if (code == ERR_OK) {
        Mkt__Catalog__TermsList rep = MKT__CATALOG__TERMS_LIST__INIT;
        rep.n_terms = n;
        rep.terms = rows;
        bus_reply(call, &rep.base);
    }
    store_messages_free((ProtobufCMessage **)rows, n);
    return code;
}

static const char *const terms_editable[] = {"title", "body", NULL};

err_code handlers_create_terms(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__TermsRequest *in = (const Mkt__Catalog__TermsRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Terms *active = NULL, *merged = NULL, *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    code = store_terms_active(db, org, &active, e);
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    /* PUB-3: a new version starts as a copy of the active one, then takes what was sent. */
    char id[ID_UUID_LEN + 1];
    id_uuid(id);
    Mkt__Catalog__Terms base = MKT__CATALOG__TERMS__INIT;
    if (active) {
        base.title = active->title;
        base.body = active->body;
    }
    base.id = id;
    base.organization_id = (char *)org;
    base.state = "draft";
    if ((code = handlers_merge(call, &base.base, &in->base, in->present_fields, in->n_present_fields, terms_editable,
                               NULL, (ProtobufCMessage **)&merged, &p, e)) != ERR_OK)
        goto done;
    check_terms(merged, false, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK || (code = store_terms_insert(db, merged, clock_now(), e)) != ERR_OK ||
        (code = store_terms_get(db, org, id, false, &out, e)) != ERR_OK)
        goto done;
    code = emit_terms(call, "catalog.terms.created", out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(active), handlers_free(merged), handlers_free(out);
    return code;
}

err_code handlers_update_terms(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__TermsRequest *in = (const Mkt__Catalog__TermsRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Terms *cur = NULL, *merged = NULL, *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "terms %s", in->id);
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    if ((code = store_terms_get(db, org, in->id, true, &cur, e)) != ERR_OK)
        goto done;
    if (strcmp(cur->state, "draft") != 0) {
        code = err_set(e, ERR_CONFLICT, "terms version %d is %s: only drafts are edited, create a new version (PUB-3)",
                       cur->number, cur->state);
        goto done;
    }
    if ((code = handlers_merge(call, &cur->base, &in->base, in->present_fields, in->n_present_fields, terms_editable,
                               NULL, (ProtobufCMessage **)&merged, &p, e)) != ERR_OK)
        goto done;
    check_terms(merged, false, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK || (code = store_terms_update(db, merged, clock_now(), e)) != ERR_OK ||
        (code = store_terms_get(db, org, cur->id, false, &out, e)) != ERR_OK)
        goto done;
    code = emit_terms(call, "catalog.terms.updated", out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(cur), handlers_free(merged), handlers_free(out);
    return code;
}

err_code handlers_activate_terms(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Terms *cur = NULL, *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "terms %s", in->id);
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    if ((code = store_terms_get(db, org, in->id, true, &cur, e)) != ERR_OK)
        goto done;
    if (strcmp(cur->state, "draft") != 0) {
        code = err_set(e, ERR_CONFLICT, "terms version %d is %s: only a draft can be activated", cur->number,
                       cur->state);
        goto done;
    }
    check_terms(cur, true, &p); /* buyers accept what they can read, in their language */
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK ||
        (code = store_terms_activate(db, org, cur->id, clock_now(), e)) != ERR_OK ||
        (code = store_terms_get(db, org, cur->id, false, &out, e)) != ERR_OK)
        goto done;
    code = emit_terms(call, "catalog.terms.activated", out, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(cur), handlers_free(out);
    return code;
}
