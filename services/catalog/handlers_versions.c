/* OMI product versions (VER-1..9) and publication (PROD-2, PROD-6, PROD-8, SHOW-2, ORG-3,
 * PUB-4). Publishing runs the whole checklist (checklist.c) and either refuses with every
 * problem, reports it (dry run), submits the listing for review, or moves the version to
 * `publishing` with the event the publisher copies the OMIs on. The publisher's reports then
 * make it `published` (or `failed`). Outsourced and LLM products have no versions: they are
 * published at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checklist.h"
#include "db.h"
#include "handlers.h"
#include "id.h"
#include "identity.pb-c.h"
#include "rules.h"
#include "store.h"
#include "validation.h"

#define IDENTITY_TIMEOUT_MS 15000 /* identity reads the cloud for the answer */

static struct text_bilingual bi(const Mkt__Catalog__Text *t) {
    return (struct text_bilingual){t ? t->en : NULL, t ? t->fr : NULL};
}

static const char *source_for(const Mkt__Catalog__VersionRequest *in, const char *region) {
    for (size_t i = 0; i < in->n_source_omis; i++)
        if (strcmp(in->source_omis[i]->key, region) == 0)
            return in->source_omis[i]->value;
    return NULL;
}

static bool product_has_region(const Mkt__Catalog__Product *p, const char *region) {
    for (size_t i = 0; i < p->n_regions; i++)
        if (strcmp(p->regions[i], region) == 0)
            return true;
    return false;
}

/* Form of a version's fields (VER-1); source OMIs only for the product's Regions. */
static void check_version(const Mkt__Catalog__Version *v, const Mkt__Catalog__VersionRequest *in,
                          const Mkt__Catalog__Product *product, struct problems *p) {
    validation_label(p, "software_version", v->software_version, CATALOG_LABEL_MAX, false);
    validation_label(p, "operating_system", v->operating_system, CATALOG_LABEL_MAX, false);
    struct software_component comps[CATALOG_COMPONENTS_MAX];
    size_t n = v->n_software_base < CATALOG_COMPONENTS_MAX ? v->n_software_base : CATALOG_COMPONENTS_MAX;
    for (size_t i = 0; i < n; i++)
        comps[i] = (struct software_component){v->software_base[i]->name, v->software_base[i]->version};
    validation_software_base(p, "software_base", comps, v->n_software_base);
    struct text_bilingual note = bi(v->release_note), instr = bi(v->instructions);
    validation_bilingual(p, "release_note", &note, CATALOG_LONG_MAX, true, false);
    validation_bilingual(p, "instructions", &instr, CATALOG_LONG_MAX, true, false);
    for (size_t i = 0; in && i < in->n_source_omis; i++) {
        const char *region = in->source_omis[i]->key, *image = in->source_omis[i]->value;
        if (!product_has_region(product, region))
            problems_add(p, "not_a_region_of_the_product", "source_omis.%s", region);
        else if (image && *image && !validation_image_id(image))
            problems_add(p, "not_an_image_id", "source_omis.%s", region);
    }
}

/* The version's Regions: one per Region of the product, with the source OMI from the request
 * when given, else `keep` (the version's current one). Entries point into the arrays given. */
static void fill_regions(const Mkt__Catalog__Product *product, const Mkt__Catalog__VersionRequest *in,
                         const Mkt__Catalog__Version *keep, Mkt__Catalog__VersionRegion *items,
                         Mkt__Catalog__VersionRegion **ptrs, Mkt__Catalog__Version *out) {
    size_t n = product->n_regions < 2 ? product->n_regions : 2;
    for (size_t i = 0; i < n; i++) {
        mkt__catalog__version_region__init(&items[i]);
        items[i].region = product->regions[i];
        const char *src = in ? source_for(in, product->regions[i]) : NULL;
        for (size_t k = 0; !src && keep && k < keep->n_regions; k++)
            if (strcmp(keep->regions[k]->region, product->regions[i]) == 0)
                src = keep->regions[k]->source_omi;
        items[i].source_omi = (char *)(src ? src : "");
        ptrs[i] = &items[i];
    }
    out->n_regions = n;
    out->regions = ptrs;
}

err_code handlers_emit_version(const struct bus_call *call, const char *type, const Mkt__Catalog__Product *product,
                             const Mkt__Catalog__Version *v, const char *state, const char *visibility, struct err *e) {
    Mkt__Catalog__VersionEvent ev = MKT__CATALOG__VERSION_EVENT__INIT;
    ev.version_id = v->id;
    ev.product_id = product->id;
    ev.organization_id = product->organization_id;
    ev.state = (char *)state;
    ev.product_code = product->product_code;
    ev.offer_visibility = (char *)(visibility ? visibility : "");
    ev.n_regions = v->n_regions;
    ev.regions = v->regions;
    return handlers_emit(call, type, product->organization_id, &ev.base, e);
}

err_code handlers_create_version(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__VersionRequest *in = (const Mkt__Catalog__VersionRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *last = NULL, *out = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_begin_product(call, in->id, true, &org, &product, e);
    if (code != ERR_OK)
        return code;
    if (!product->product_code || !*product->product_code) {
        code = err_set(e, ERR_CONFLICT, "the product code is not assigned yet: versions come after it (PROD-3)");
        goto done;
    }
    code = store_version_last(db, product->id, &last, e);
    if (code != ERR_OK && code != ERR_NOT_FOUND)
        goto done;
    /* VER-2: what the seller does not send comes from the last version (not its release note or OMIs). */
    char id[ID_UUID_LEN + 1];
    id_uuid(id);
    Mkt__Catalog__Version v = MKT__CATALOG__VERSION__INIT;
    v.id = id;
    v.product_id = product->id;
    bool given_sw = handlers_present(in->present_fields, in->n_present_fields, "software_version");
    bool given_os = handlers_present(in->present_fields, in->n_present_fields, "operating_system");
    bool given_base = handlers_present(in->present_fields, in->n_present_fields, "software_base");
    bool given_instr = handlers_present(in->present_fields, in->n_present_fields, "instructions");
    v.software_version = given_sw || !last ? in->software_version : last->software_version;
    v.operating_system = given_os || !last ? in->operating_system : last->operating_system;
    v.n_software_base = given_base || !last ? in->n_software_base : last->n_software_base;
    v.software_base = given_base || !last ? in->software_base : last->software_base;
    v.release_note = in->release_note;
    v.instructions = given_instr || !last ? in->instructions : last->instructions;
    Mkt__Catalog__VersionRegion items[2], *ptrs[2];
    fill_regions(product, in, NULL, items, ptrs, &v);
    check_version(&v, in, product, &p);
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    if ((code = store_version_insert(db, &v, clock_now(), e)) != ERR_OK ||
        (code = store_version_get(db, product->id, id, false, &out, e)) != ERR_OK)
        goto done;
    code = handlers_emit_version(call, "catalog.version.created", product, out, "draft", NULL, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(product), handlers_free(last), handlers_free(out);
    return code;
}

err_code handlers_get_version(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *out = NULL;
    err_code code = handlers_seller(call, &org, e);
    if (code == ERR_OK && (!id_is_uuid(in->id) || !id_is_uuid(in->version_id)))
        code = err_set(e, ERR_NOT_FOUND, "version %s", in->version_id);
    if (code == ERR_OK)
        code = store_product_get(call->worker->db, org, in->id, false, &product, e);
    if (code == ERR_OK)
        code = store_version_get(call->worker->db, product->id, in->version_id, false, &out, e);
    if (code == ERR_OK)
        bus_reply(call, &out->base);
    handlers_free(product), handlers_free(out);
    return code;
}

static const struct cursor_list versions_list = {"catalog.versions", CURSOR_ID, 0, 0};

err_code handlers_list_versions(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__ListRequest *in = (const Mkt__Catalog__ListRequest *)call->in;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version **rows = NULL;
    size_t n = 0;
    struct cursor_page page;
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "product %s", in->id);
    if ((code = handlers_page(call, &versions_list, in->id, in->limit, in->cursor, &page, e)) != ERR_OK)
        return code;
    code = store_product_get(call->worker->db, org, in->id, false, &product, e);
    if (code == ERR_OK)
        code = store_version_list(call->worker->db, product->id, page.has_after ? page.after.id : "",
                                  cursor_page_fetch(&page), &rows, &n, e);
    size_t shown = cursor_page_shown(&page, n);
    char next[CURSOR_TEXT_MAX];
    if (code == ERR_OK)
        code = handlers_next_cursor(&page, n, shown ? rows[shown - 1]->id : "", next, e);
    if (code == ERR_OK) {
        Mkt__Catalog__VersionList rep = MKT__CATALOG__VERSION_LIST__INIT;
        rep.n_versions = shown;
        rep.versions = rows;
        rep.next_cursor = next;
        bus_reply(call, &rep.base);
    }
    store_messages_free((ProtobufCMessage **)rows, n);
    handlers_free(product);
    return code;
}

static const char *const version_editable[] = {"software_version", "operating_system", "software_base",
                                               "release_note", "instructions", NULL};

err_code handlers_update_version(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__VersionRequest *in = (const Mkt__Catalog__VersionRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *cur = NULL, *merged = NULL, *out = NULL;
    enum version_state state;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_begin_product(call, in->id, true, &org, &product, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->version_id)) {
        code = err_set(e, ERR_NOT_FOUND, "version %s", in->version_id);
        goto done;
    }
    if ((code = store_version_get(db, product->id, in->version_id, true, &cur, e)) != ERR_OK)
        goto done;
    if (!rules_version_state_parse(cur->state, &state)) {
        code = err_set(e, ERR_INTERNAL, "version %s: state %s", cur->id, cur->state);
        goto done;
    }
    bool omis = handlers_present(in->present_fields, in->n_present_fields, "source_omis");
    if ((code = rules_version_editable(state, omis, e)) != ERR_OK) /* VER-8 */
        goto done;
    static const char *const handled[] = {"source_omis", NULL}; /* a map in the request, Regions in the version */
    if ((code = handlers_merge(call, &cur->base, &in->base, in->present_fields, in->n_present_fields,
                               version_editable, handled, (ProtobufCMessage **)&merged, &p, e)) != ERR_OK)
        goto done;
    Mkt__Catalog__VersionRegion items[2], *ptrs[2];
    Mkt__Catalog__VersionRegion **kept_regions = merged->regions;
    size_t kept_n = merged->n_regions;
    fill_regions(product, omis ? in : NULL, cur, items, ptrs, merged);
    check_version(merged, omis ? in : NULL, product, &p);
    if ((code = handlers_refuse(call, &p, e)) == ERR_OK &&
        (code = store_version_update(db, merged, clock_now(), e)) == ERR_OK)
        code = store_version_get(db, product->id, cur->id, false, &out, e);
    merged->regions = kept_regions; /* back to what the message owns, for its free */
    merged->n_regions = kept_n;
    if (code != ERR_OK)
        goto done;
    code = handlers_emit_version(call, "catalog.version.updated", product, out, out->state, NULL, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(product), handlers_free(cur), handlers_free(merged), handlers_free(out);
    return code;
}

/* ---- publication ---------------------------------------------------------------------------------- */

const char *handlers_visibility(Mkt__Catalog__Offer **offers, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(offers[i]->kind, "free") != 0 && strcmp(offers[i]->kind, "byol") != 0)
            return "private";
    return "public";
}

/* VER-3 at publication: whether each Region's source OMI is among the seller's images carrying
 * the product code there (looked up before the transaction: no call is made inside one). */
struct omi_lookup {
    char region[32];
    char image[32];
    bool found;
};

static err_code source_images(struct bus_call *call, const char *org, const char *code, const char *region,
                              ProtobufCMessage **out, struct err *e);

static err_code lookup_source_omis(struct bus_call *call, const char *org, const char *product_id,
                                   const char *version_id, struct omi_lookup lk[2], size_t *n, struct err *e) {
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *v = NULL;
    *n = 0;
    err_code code = store_product_get(call->worker->db, org, product_id, false, &product, e);
    if (code == ERR_OK && id_is_uuid(version_id))
        code = store_version_get(call->worker->db, product_id, version_id, false, &v, e);
    if (code == ERR_NOT_FOUND || !v || !product->product_code || !*product->product_code) {
        code = ERR_OK; /* the checklist names what is missing */
        goto done;
    }
    for (size_t i = 0; code == ERR_OK && i < v->n_regions && *n < 2; i++) {
        const char *src = v->regions[i]->source_omi;
        if (!validation_image_id(src))
            continue;
        ProtobufCMessage *images = NULL;
        if ((code = source_images(call, org, product->product_code, v->regions[i]->region, &images, e)) != ERR_OK)
            break;
        const Mkt__Identity__SourceImages *found = (const Mkt__Identity__SourceImages *)images;
        struct omi_lookup *l = &lk[(*n)++];
        snprintf(l->region, sizeof l->region, "%s", v->regions[i]->region);
        snprintf(l->image, sizeof l->image, "%s", src);
        l->found = false;
        for (size_t k = 0; k < found->n_images; k++)
            l->found = l->found || strcmp(found->images[k]->image_id, src) == 0;
        handlers_free(images);
    }
done:
    handlers_free(product), handlers_free(v);
    return code;
}

struct facts {
    Mkt__Catalog__Showcase *showcase;
    Mkt__Catalog__Offer **offers;
    size_t n_offers;
};

static void facts_cleanup(struct facts *f) {
    handlers_free(f->showcase);
    store_messages_free((ProtobufCMessage **)f->offers, f->n_offers);
}

/* Gathers what the checklist needs besides the product and version rows. */
static err_code gather(PGconn *db, const char *org, const Mkt__Catalog__Product *product, struct facts *f,
                       struct err *e) {
    err_code code = store_showcase_get(db, org, &f->showcase, e);
    if (code == ERR_NOT_FOUND)
        code = ERR_OK;
    if (code == ERR_OK)
        code = store_offer_list(db, product->id, &f->offers, &f->n_offers, e);
    return code;
}

static void run_checklist(const struct bus_call *call, const Mkt__Catalog__Product *product, const struct facts *f,
                          const Mkt__Catalog__Version *v, const struct omi_lookup *lk, size_t n_lk, const char *prefix,
                          struct problems *p) {
    enum product_kind kind = PRODUCT_OMI;
    (void)rules_product_kind_parse(product->kind, &kind);
    struct checklist_input in = {
        .org_validated = handlers_org_validated(call),
        .showcase_published = f->showcase && strcmp(f->showcase->state, "published") == 0,
        .kind = kind,
        .name = bi(product->name),
        .short_description = bi(product->short_description),
        .description = bi(product->description),
        .product_code = product->product_code,
        .categories = product->n_categories,
        .offers = f->n_offers,
        .regions = (const char *const *)product->regions,
        .n_regions = product->n_regions,
    };
    checklist_product(&in, p);
    if (!v)
        return;
    struct checklist_source_omi omis[2];
    size_t n = v->n_regions < 2 ? v->n_regions : 2;
    for (size_t i = 0; i < n; i++) {
        const char *src = v->regions[i]->source_omi;
        /* VER-3: the image must be one of the seller's that carry the code in that Region. */
        bool found = false;
        for (size_t k = 0; k < n_lk; k++)
            found = found || (strcmp(lk[k].region, v->regions[i]->region) == 0 && strcmp(lk[k].image, src) == 0 &&
                              lk[k].found);
        omis[i] = (struct checklist_source_omi){v->regions[i]->region, src, found, found};
    }
    struct checklist_version cv = {
        .software_version = v->software_version,
        .operating_system = v->operating_system,
        .release_note = bi(v->release_note),
        .omis = omis,
        .n_omis = n,
    };
    checklist_version(&in, &cv, prefix, p);
}

/* Moves the version into publishing (or review) and, with `with_product`, the product too. */
static err_code go_ahead(struct bus_call *call, Mkt__Catalog__Product *product, Mkt__Catalog__Version *v,
                         const struct facts *f, bool with_product, const char **state_out, struct err *e) {
    PGconn *db = call->worker->db;
    bool review = handlers_app(call) && handlers_app(call)->review_required;
    enum product_state ps = PRODUCT_DRAFT;
    enum version_state vs = VERSION_DRAFT;
    err_code code;
    mkt_time now = clock_now();
    if ((with_product && !rules_product_state_parse(product->state, &ps)) ||
        (v && !rules_version_state_parse(v->state, &vs)))
        return err_set(e, ERR_INTERNAL, "product %s: unknown state", product->id);
    /* An approved listing (PUB-4, approval without automatic publication) is published now. */
    if ((with_product && ps == PRODUCT_APPROVED) || (!with_product && vs == VERSION_APPROVED))
        review = false;
    if (with_product) {
        if ((code = rules_product_next(ps, review ? PRODUCT_EV_SUBMIT : PRODUCT_EV_PUBLISH, &ps, e)) != ERR_OK)
            return code;
    }
    if (v) {
        if ((code = rules_version_next(vs, review ? VERSION_EV_SUBMIT : VERSION_EV_PUBLISH, &vs, e)) != ERR_OK)
            return code;
    } else if (with_product && !review) {
        /* No version, no cloud step: outsourced and LLM products are published at once. */
        if ((code = rules_product_next(ps, PRODUCT_EV_VERSION_PUBLISHED, &ps, e)) != ERR_OK)
            return code;
    }
    if (with_product) {
        if ((code = store_product_set_state(db, product->id, rules_product_state_name(ps), now, e)) != ERR_OK)
            return code;
        if (ps == PRODUCT_PUBLISHED && (code = store_offers_published(db, product->id, e)) != ERR_OK)
            return code;
        const char *type = review ? "catalog.product.submitted"
                           : ps == PRODUCT_PUBLISHED ? "catalog.product.published"
                                                     : "catalog.product.publishing";
        char *was = product->state; /* the event carries the new state; the message keeps what it owns */
        product->state = (char *)rules_product_state_name(ps);
        code = handlers_emit_product(call, type, product, e);
        product->state = was;
        if (code != ERR_OK)
            return code;
        *state_out = rules_product_state_name(ps);
    }
    if (review) { /* PUB-4: the listing waits for an operator */
        char rid[ID_UUID_LEN + 1];
        id_uuid(rid);
        const Mkt__Catalog__PublishRequest *in = (const Mkt__Catalog__PublishRequest *)call->in;
        const Mkt__Actor *a = call->req->actor;
        if ((code = store_review_insert(db, rid, product->organization_id, product->id, v ? v->id : "",
                                        in->auto_publish, a ? a->account_id : "", now, e)) != ERR_OK)
            return code;
        Mkt__Catalog__ReviewEvent ev = MKT__CATALOG__REVIEW_EVENT__INIT;
        ev.review_id = rid;
        ev.organization_id = product->organization_id;
        ev.product_id = product->id;
        ev.version_id = v ? v->id : "";
        ev.state = "pending";
        if ((code = handlers_emit(call, "catalog.review.submitted", product->organization_id, &ev.base, e)) != ERR_OK)
            return code;
    }
    if (v) {
        const char *name = rules_version_state_name(vs);
        if ((code = store_version_set_state(db, v->id, name, now, e)) != ERR_OK)
            return code;
        const char *type = review ? "catalog.version.submitted" : "catalog.version.publishing";
        if ((code = handlers_emit_version(call, type, product, v, name, handlers_visibility(f->offers, f->n_offers), e)) != ERR_OK)
            return code;
        *state_out = name;
    }
    return ERR_OK;
}

static err_code publish(struct bus_call *call, bool with_product, struct err *e) {
    const Mkt__Catalog__PublishRequest *in = (const Mkt__Catalog__PublishRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *v = NULL;
    struct facts f = {0};
    struct problems p;
    problems_init(&p);
    const char *state = "";
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "product %s", in->id);
    struct omi_lookup lk[2];
    size_t n_lk = 0;
    if (in->version_id && *in->version_id &&
        (code = lookup_source_omis(call, org, in->id, in->version_id, lk, &n_lk, e)) != ERR_OK)
        return code;
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    if ((code = store_product_get(db, org, in->id, true, &product, e)) != ERR_OK ||
        (code = gather(db, org, product, &f, e)) != ERR_OK)
        goto done;
    enum product_kind kind = PRODUCT_OMI;
    (void)rules_product_kind_parse(product->kind, &kind);
    bool versions = checklist_needs_version(kind);
    if (versions) {
        if (!in->version_id || !*in->version_id)
            problems_add(&p, "required", "version_id");
        else if (!id_is_uuid(in->version_id) ||
                 (code = store_version_get(db, product->id, in->version_id, true, &v, e)) == ERR_NOT_FOUND)
            problems_add(&p, "not_found", "version_id");
        else if (code != ERR_OK)
            goto done;
        code = ERR_OK;
    } else if (in->version_id && *in->version_id) {
        problems_add(&p, "omi_products_only", "version_id");
    }
    if (!with_product && strcmp(product->state, "published") != 0) {
        code = err_set(e, ERR_CONFLICT, "the product is %s: publish the product with this version first",
                       product->state);
        goto done;
    }
    if (with_product || v)
        run_checklist(call, product, &f, v, lk, n_lk, with_product ? "version." : "", &p);
    if (in->dry_run) {
        code = handlers_reply_checklist(call, &p, v ? v->state : product->state, e);
        db_rollback(db);
        goto cleanup;
    }
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK || (code = go_ahead(call, product, v, &f, with_product,
                                                                              &state, e)) != ERR_OK)
        goto done;
    code = handlers_end(db, ERR_OK, e);
    if (code == ERR_OK)
        code = handlers_reply_checklist(call, &p, state, e);
    goto cleanup;
done:
    code = handlers_end(db, code, e);
cleanup:
    handlers_free(product), handlers_free(v);
    facts_cleanup(&f);
    return code;
}

err_code handlers_publish_product(struct bus_call *call, struct err *e) { return publish(call, true, e); }

err_code handlers_publish_version(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__PublishRequest *in = (const Mkt__Catalog__PublishRequest *)call->in;
    if (!in->version_id || !id_is_uuid(in->version_id))
        return err_set(e, ERR_NOT_FOUND, "version %s", in->version_id ? in->version_id : "");
    return publish(call, false, e);
}

err_code handlers_unpublish_version(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    Mkt__Catalog__Version *v = NULL, *out = NULL;
    enum version_state vs;
    long others = 0;
    err_code code = handlers_begin_product(call, in->id, true, &org, &product, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->version_id)) {
        code = err_set(e, ERR_NOT_FOUND, "version %s", in->version_id);
        goto done;
    }
    if ((code = store_version_get(db, product->id, in->version_id, true, &v, e)) != ERR_OK ||
        (code = store_version_published_count(db, product->id, v->id, &others, e)) != ERR_OK)
        goto done;
    if (!rules_version_state_parse(v->state, &vs)) {
        code = err_set(e, ERR_INTERNAL, "version %s: state %s", v->id, v->state);
        goto done;
    }
    if ((code = rules_version_unpublishable(vs, (int)others, e)) != ERR_OK || /* VER-7 */
        (code = rules_version_next(vs, VERSION_EV_UNPUBLISH, &vs, e)) != ERR_OK ||
        (code = store_version_set_state(db, v->id, rules_version_state_name(vs), clock_now(), e)) != ERR_OK ||
        (code = store_version_get(db, product->id, v->id, false, &out, e)) != ERR_OK)
        goto done;
    /* VER-6: the publisher deletes the copies, then reports. */
    code = handlers_emit_version(call, "catalog.version.unpublishing", product, out, out->state, NULL, e);
done:
    code = handlers_finish(call, code, out, e);
    handlers_free(product), handlers_free(v), handlers_free(out);
    return code;
}

err_code handlers_unpublish_product(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    PGconn *db = call->worker->db;
    const char *org;
    Mkt__Catalog__Product *product = NULL, *out = NULL;
    Mkt__Catalog__Version **versions = NULL;
    size_t n = 0;
    enum product_state ps;
    enum product_kind kind = PRODUCT_OMI;
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "product %s", in->id);
    if ((code = db_begin(db, e)) != ERR_OK)
        return code;
    if ((code = store_product_get(db, org, in->id, true, &product, e)) != ERR_OK)
        goto done;
    (void)rules_product_kind_parse(product->kind, &kind);
    if (!rules_product_state_parse(product->state, &ps)) {
        code = err_set(e, ERR_INTERNAL, "product %s: state %s", product->id, product->state);
        goto done;
    }
    mkt_time now = clock_now();
    if ((code = rules_product_next(ps, PRODUCT_EV_UNPUBLISH, &ps, e)) != ERR_OK ||
        (code = store_product_set_state(db, product->id, rules_product_state_name(ps), now, e)) != ERR_OK)
        goto done;
    /* PROD-8: an OMI product's versions all go (their copies deleted); others are only hidden. */
    if (rules_product_unpublish_deletes_copies(kind)) {
        if ((code = store_version_list(db, product->id, "", 1000, &versions, &n, e)) != ERR_OK)
            goto done;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(versions[i]->state, "published") != 0)
                continue;
            if ((code = store_version_set_state(db, versions[i]->id, "unpublishing", now, e)) != ERR_OK ||
                (code = handlers_emit_version(call, "catalog.version.unpublishing", product, versions[i], "unpublishing", NULL,
                                     e)) != ERR_OK)
                goto done;
        }
    }
    if ((code = store_product_get(db, org, product->id, false, &out, e)) != ERR_OK)
        goto done;
    code = handlers_emit_product(call, "catalog.product.unpublished", out, e);
done:
    code = handlers_finish(call, code, out, e);
    store_messages_free((ProtobufCMessage **)versions, n);
    handlers_free(product), handlers_free(out);
    return code;
}

/* ---- source OMIs (VER-3) ------------------------------------------------------------------------- */


static err_code source_images(struct bus_call *call, const char *org, const char *code, const char *region,
                              ProtobufCMessage **out, struct err *e) {
    Mkt__Identity__SourceImagesRequest req = MKT__IDENTITY__SOURCE_IMAGES_REQUEST__INIT;
    req.organization_id = (char *)org;
    req.product_code = (char *)code;
    req.region = (char *)region;
    struct bus_ctx ctx = {.request_id = call->req->request_id}; /* a service call: no actor */
    return bus_call(handlers_app(call)->svc->bus, "identity", "source_images", &ctx, &req.base,
                    &mkt__identity__source_images__descriptor, out, IDENTITY_TIMEOUT_MS, e);
}

/* GET /v1/products/{id}/source-omis?region=R: the images of the seller's OUTSCALE accounts in
 * Region R that carry the product's code, the OMIs a version may be made from. Identity reads
 * the cloud with each account's platform key; no transaction is open during the call. */
err_code handlers_list_source_omis(struct bus_call *call, struct err *e) {
    const Mkt__Catalog__IdRequest *in = (const Mkt__Catalog__IdRequest *)call->in;
    const char *org;
    Mkt__Catalog__Product *product = NULL;
    ProtobufCMessage *images = NULL;
    Mkt__Catalog__SourceOmi *items = NULL, **ptrs = NULL;
    struct problems p;
    problems_init(&p);
    err_code code = handlers_seller(call, &org, e);
    if (code != ERR_OK)
        return code;
    if (!id_is_uuid(in->id))
        return err_set(e, ERR_NOT_FOUND, "product %s", in->id);
    if ((code = store_product_get(call->worker->db, org, in->id, false, &product, e)) != ERR_OK)
        return code;
    if (strcmp(product->kind, "omi") != 0) {
        code = err_set(e, ERR_CONFLICT, "only OMI products have source OMIs (PROD-1)");
        goto done;
    }
    if (!product->product_code || !*product->product_code) {
        code = err_set(e, ERR_CONFLICT, "the product code is not assigned yet (PROD-3)");
        goto done;
    }
    bool ours = false;
    for (size_t i = 0; in->region && i < product->n_regions; i++)
        ours = ours || strcmp(product->regions[i], in->region) == 0;
    if (!in->region || !*in->region)
        problems_add(&p, "required", "region");
    else if (!ours)
        problems_add(&p, "not_a_region_of_the_product", "region");
    if ((code = handlers_refuse(call, &p, e)) != ERR_OK)
        goto done;
    if ((code = source_images(call, org, product->product_code, in->region, &images, e)) != ERR_OK)
        goto done;
    const Mkt__Identity__SourceImages *found = (const Mkt__Identity__SourceImages *)images;
    items = calloc(found->n_images ? found->n_images : 1, sizeof *items);
    ptrs = calloc(found->n_images ? found->n_images : 1, sizeof *ptrs);
    if (!items || !ptrs) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < found->n_images; i++) {
        mkt__catalog__source_omi__init(&items[i]);
        items[i].image_id = found->images[i]->image_id;
        items[i].name = found->images[i]->name;
        items[i].account_id = found->images[i]->account_id;
        items[i].state = found->images[i]->state;
        ptrs[i] = &items[i];
    }
    Mkt__Catalog__SourceOmiList rep = MKT__CATALOG__SOURCE_OMI_LIST__INIT;
    rep.n_source_omis = found->n_images;
    rep.source_omis = ptrs;
    bus_reply(call, &rep.base);
done:
    free(ptrs);
    free(items);
    handlers_free(images);
    handlers_free(product);
    return code;
}
