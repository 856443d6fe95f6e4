/* The seller's showcase (SHOW-1, SHOW-2): one per seller organization, edited as a whole, in
 * English and French; publishing it needs every required field in both languages, and once
 * published it stays complete (an edit that would remove a required text is refused). */
#include <string.h>

#include "catalog.h"
#include "db.h"
#include "handlers.h"
#include "store.h"
#include "validation.h"

/* SHOW-1: the required texts, in both languages. */
static const struct {
    const char *field;
    size_t max;
    bool multiline;
} showcase_texts[] = {
    {"name", CATALOG_NAME_MAX, false},
    {"short_description", CATALOG_SHORT_MAX, false},
    {"description", CATALOG_LONG_MAX, true},
};

static const Mkt__Catalog__Text *text_of(const Mkt__Catalog__PutShowcase *s, size_t i) {
    const Mkt__Catalog__Text *t[] = {s->name, s->short_description, s->description};
    return t[i];
}

static struct text_bilingual bi(const Mkt__Catalog__Text *t) {
    return (struct text_bilingual){t ? t->en : NULL, t ? t->fr : NULL};
}

/* Checks the form of every field; `complete` also requires every text in both languages. */
static void check_showcase(const Mkt__Catalog__PutShowcase *s, bool complete, struct problems *p) {
    for (size_t i = 0; i < sizeof showcase_texts / sizeof showcase_texts[0]; i++) {
        struct text_bilingual b = bi(text_of(s, i));
        validation_bilingual(p, showcase_texts[i].field, &b, showcase_texts[i].max, showcase_texts[i].multiline,
                             complete);
    }
    validation_url(p, "logo_url", s->logo_url, false);
    if (s->n_links > CATALOG_LINKS_MAX)
        problems_add(p, "too_many", "links");
    for (size_t i = 0; i < s->n_links && i < CATALOG_LINKS_MAX; i++) {
        char field[PROBLEM_FIELD_MAX];
        snprintf(field, sizeof field, "links[%zu].label", i);
        struct text_bilingual b = bi(s->links[i]->label);
        validation_bilingual(p, field, &b, CATALOG_NAME_MAX, false, false);
        snprintf(field, sizeof field, "links[%zu].url", i);
        validation_url(p, field, s->links[i]->url, true);
    }
}

/* The stored showcase as the PutShowcase it would take to write it again. */
static void as_put(const Mkt__Catalog__Showcase *s, Mkt__Catalog__PutShowcase *out) {
    mkt__catalog__put_showcase__init(out);
    out->name = s->name;
    out->short_description = s->short_description;
    out->description = s->description;
    out->logo_url = s->logo_url;
    out->n_links = s->n_links;
    out->links = s->links;
}

err_code handlers_get_showcase(struct bus_call *call, struct err *e) {
    const char *org;
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    Mkt__Catalog__Showcase *s = NULL;
    code = store_showcase_get(call->worker->db, org, &s, e);
    if (code == ERR_NOT_FOUND) { /* never written: an empty draft */
        Mkt__Catalog__Showcase empty = MKT__CATALOG__SHOWCASE__INIT;
        empty.organization_id = (char *)org;
        empty.state = "draft";
        bus_reply(call, &empty.base);
        return ERR_OK;
    }
    if (code != ERR_OK)
        return code;
    bus_reply(call, &s->base);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return ERR_OK;
}

err_code handlers_put_showcase(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__PutShowcase *in = (const Mkt__Catalog__PutShowcase *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Showcase *before = NULL, *after = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    code = store_showcase_get(db, org, &before, e);
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    /* SHOW-2: a published showcase may change, but stays complete. */
    check_showcase(in, before && strcmp(before->state, "published") == 0, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    if ((code = store_showcase_put(db, org, in, clock_now(), e)) != ERR_OK ||
        (code = store_showcase_get(db, org, &after, e)) != ERR_OK)
        goto done;
    Mkt__Catalog__ShowcaseEvent ev = MKT__CATALOG__SHOWCASE_EVENT__INIT;
    ev.organization_id = (char *)org;
    ev.state = after->state;
    code = handlers_emit(call, "catalog.showcase.updated", org, &ev.base, e);
done:
    code = handlers_finish(call, code, after, e);
    if (before)
        protobuf_c_message_free_unpacked(&before->base, NULL);
    if (after)
        protobuf_c_message_free_unpacked(&after->base, NULL);
    return code;
}

err_code handlers_publish_showcase(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__PublishRequest *in = (const Mkt__Catalog__PublishRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Showcase *s = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    code = store_showcase_get(db, org, &s, e); /* locked by the upsert below when it goes ahead */
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    Mkt__Catalog__PutShowcase view = MKT__CATALOG__PUT_SHOWCASE__INIT;
    if (s)
        as_put(s, &view);
    check_showcase(&view, true, &p);
    const char *state = s ? s->state : "draft";
    if (in->dry_run) {
        code = handlers_reply_checklist(call, &p, state, e);
        db_rollback(db); /* a dry run writes nothing */
        goto done_rolled_back;
    }
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    if (strcmp(state, "published") != 0) {
        Mkt__Catalog__ShowcaseEvent ev = MKT__CATALOG__SHOWCASE_EVENT__INIT;
        ev.organization_id = (char *)org;
        ev.state = "published";
        if ((code = store_showcase_publish(db, org, clock_now(), e)) != ERR_OK ||
            (code = handlers_emit(call, "catalog.showcase.published", org, &ev.base, e)) != ERR_OK)
            goto done;
    }
    code = handlers_end(db, ERR_OK, e);
    if (code == ERR_OK)
        code = handlers_reply_checklist(call, &p, "published", e);
    goto done_rolled_back;
done:
    code = handlers_end(db, code, e);
done_rolled_back:
    if (s)
        protobuf_c_message_free_unpacked(&s->base, NULL);
    return code;
}
