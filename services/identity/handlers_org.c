/* Organizations: sign-up by a first administrator who proves control of an OUTSCALE account
 * (ORG-1, ORG-2), the organization's own view and name, and its further OUTSCALE accounts
 * (ORG-6). Customer keys are used for the proof only: never stored, wiped from the request once
 * the cloud client holds its copy. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "db.h"
#include "handlers.h"
#include "id.h"
#include "log.h"
#include "outbox.h"
#include "outscale.h"
#include "catalog.pb-c.h"

/* Wipes a secret the request carried (the request is the worker's to free; wiping it in place
 * shortens the secret's life in memory). */
static void wipe(char *s) {
    if (s && *s)
        sodium_memzero(s, strlen(s));
}

/* The organization `id`, read again for the reply. */
static err_code reply_org(struct bus_call *call, const char *id, struct err *e) {
    struct store_org o;
    err_code code = store_org_get(call->worker->db, id, &o, e);
    return code == ERR_OK ? handlers_reply_org(call, &o) : code;
}

/* Proof of control (ORG-2, ORG-6): a client made from the customer's keys reads its account's id
 * and e-mail. The request's secret key is wiped once the client holds its copy; *cl is owned. */
static err_code prove_control(struct identity *id, const char *region, const char *access_key, char *secret_key,
                              struct cloud **cl, char account_id[16], char email[STORE_EMAIL], struct err *e) {
    err_code code = outscale_customer_client(id, region, access_key, secret_key, cl, e);
    wipe(secret_key); /* the client holds the only copy now */
    if (code == ERR_OK)
        code = outscale_identify(*cl, account_id, email, e);
    return code;
}

/* ---- sign-up (ORG-1, ORG-2) ---------------------------------------------------------------------- */

err_code handlers_signup(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    Mkt__Identity__SignupRequest *in = (Mkt__Identity__SignupRequest *)call->in;
    struct store_org org;
    struct store_account admin;
    struct store_outscale osc;
    struct cloud *c = NULL;
    const char *region = NULL;
    bool taken = false;
    memset(&org, 0, sizeof org);
    memset(&admin, 0, sizeof admin);
    memset(&osc, 0, sizeof osc);
    /* Bad input: a clear error and nothing written, nothing asked of the cloud. */
    err_code code = validation_name("organization_name", in->organization_name, org.name, sizeof org.name, e);
    if (code == ERR_OK)
        code = validation_types("types", in->types, in->n_types, &org.types, e);
    if (code == ERR_OK)
        code = validation_region("region", in->region, id->cfg.default_region, &region, e);
    if (code == ERR_OK)
        code = validation_access_key("access_key", in->access_key, e);
    if (code == ERR_OK)
        code = validation_secret_key("secret_key", in->secret_key, e);
    if (code == ERR_OK)
        code = validation_name("admin_name", in->admin_name, admin.name, sizeof admin.name, e);
    if (code == ERR_OK)
        code = validation_language("admin_language", in->admin_language, admin.language, e);
    if (code == ERR_OK && in->partner_number && *in->partner_number) { /* PUB-1 */
        code = validation_partner_number("partner_number", in->partner_number, org.partner_number,
                                         sizeof org.partner_number, e);
        if (code == ERR_OK && !(org.types & TYPE_SELLER))
            code = err_set(e, ERR_INVALID, "field 'partner_number': seller organizations only (PUB-1)");
    }
    /* Proof of control: the keys read their account; its e-mail receives the link (ORG-2). */
    if (code == ERR_OK)
        code = prove_control(id, region, in->access_key, in->secret_key, &c, osc.account_id, admin.email, e);
    if (code == ERR_OK)
        code = store_outscale_taken(db, osc.account_id, &taken, e);
    if (code == ERR_OK && taken)
        code = err_set(e, ERR_CONFLICT, "OUTSCALE account %s already belongs to an organization", osc.account_id);
    if (code == ERR_OK)
        code = store_email_taken(db, admin.email, NULL, &taken, e);
    if (code == ERR_OK && taken)
        code = err_set(e, ERR_CONFLICT, "the OUTSCALE account's e-mail %s already has a marketplace account",
                       admin.email);
    if (code != ERR_OK)
        goto done;
    id_uuid(org.id);
    id_uuid(admin.id);
    id_uuid(osc.id);
    code = outscale_bootstrap(id, c, &osc, e);
    if (code != ERR_OK)
        goto done;
    mkt_time now = clock_now();
    snprintf(org.region, sizeof org.region, "%s", region);
    snprintf(org.status, sizeof org.status, "pending"); /* ORG-3 */
    snprintf(org.outscale_account_id, sizeof org.outscale_account_id, "%s", osc.account_id);
    org.created_at = now;
    snprintf(admin.organization_id, sizeof admin.organization_id, "%s", org.id);
    admin.roles = ROLE_ADMIN | ROLE_USER; /* ACC-1: the first administrator holds both */
    snprintf(osc.organization_id, sizeof osc.organization_id, "%s", org.id);
    snprintf(osc.email, sizeof osc.email, "%s", admin.email);
    snprintf(osc.region, sizeof osc.region, "%s", region);
    osc.primary = true;
    osc.attached_at = now;
    const char *rid = handlers_request_id(call);
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_org_insert(db, &org, e);
    if (code == ERR_OK)
        code = store_account_insert(db, &admin, NULL, now, e);
    if (code == ERR_OK)
        code = store_outscale_insert(db, &osc, e);
    if (code == ERR_OK)
        code = handlers_issue_set_password(db, id, &admin, &org, rid, e);
    if (code == ERR_OK)
        code = handlers_emit_org(db, "identity.organization.created", &org, admin.id, rid, e);
    if (code == ERR_OK)
        code = handlers_emit_account(db, "identity.account.created", &admin, admin.id, rid, e);
    if (code == ERR_OK)
        code = handlers_emit_outscale(db, "identity.outscale_account.attached", &osc, admin.id, rid, e);
    code = handlers_commit(db, code, e);
    if (code == ERR_CONFLICT) /* a concurrent sign-up with the same account or e-mail won */
        err_set(e, ERR_CONFLICT, "OUTSCALE account %s or its e-mail is already registered", osc.account_id);
    if (code != ERR_OK)
        goto done;
    log_info("signup: organization %s (OUTSCALE account %s), first administrator %s", org.id, osc.account_id,
             admin.id);
    Mkt__Identity__SignupReply rep = MKT__IDENTITY__SIGNUP_REPLY__INIT;
    rep.organization_id = org.id;
    rep.status = org.status;
    bus_reply(call, &rep.base);
done:
    wipe(in->secret_key);
    cloud_free(c);
    sodium_memzero(&osc, sizeof osc);
    return code;
}

/* ---- the organization ------------------------------------------------------------------------------ */

/* Members see their own organization; operators any (by id). */
err_code handlers_get_organization(struct bus_call *call, struct err *e) {
    const Mkt__Identity__IdRequest *in = (const Mkt__Identity__IdRequest *)call->in;
    struct store_caller c;
    err_code code = handlers_caller(call, HANDLERS_ACCOUNT, &c, e);
    if (code != ERR_OK)
        return code;
    const char *want = in->id && *in->id ? in->id : c.organization_id;
    if (c.operator) {
        if ((code = validation_uuid("id", want, e)) != ERR_OK)
            return code;
    } else if (!c.organization_id[0] || strcmp(want, c.organization_id) != 0) {
        return err_set(e, ERR_NOT_FOUND, "organization %.40s", want);
    }
    return reply_org(call, want, e);
}

err_code handlers_update_organization(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__UpdateOrganization *in = (const Mkt__Identity__UpdateOrganization *)call->in;
    struct store_caller c;
    struct store_org o;
    char name[STORE_NAME], partner[40];
    bool new_name = in->name && *in->name, new_partner = in->partner_number && *in->partner_number;
    err_code code = handlers_caller(call, HANDLERS_ADMIN, &c, e);
    if (code != ERR_OK)
        return code;
    if (new_name)
        code = validation_name("name", in->name, name, sizeof name, e);
    if (code == ERR_OK && new_partner) {
        code = validation_partner_number("partner_number", in->partner_number, partner, sizeof partner, e);
        if (code == ERR_OK && (code = store_org_get(db, c.organization_id, &o, e)) == ERR_OK && !(o.types & TYPE_SELLER))
            code = err_set(e, ERR_INVALID, "field 'partner_number': seller organizations only (PUB-1)");
    }
    if (code != ERR_OK)
        return code;
    if (new_name || new_partner) {
        code = db_begin(db, e);
        if (code == ERR_OK && new_name)
            code = store_org_set_name(db, c.organization_id, name, e);
        if (code == ERR_OK && new_partner)
            code = store_org_set_partner(db, c.organization_id, partner, e);
        if (code == ERR_OK)
            code = store_org_get(db, c.organization_id, &o, e);
        if (code == ERR_OK)
            code = handlers_emit_org(db, "identity.organization.updated", &o, c.account_id, handlers_request_id(call),
                                     e);
        code = handlers_commit(db, code, e);
        if (code != ERR_OK)
            return code;
    }
    return reply_org(call, c.organization_id, e);
}

/* ---- OUTSCALE accounts (ORG-6) ---------------------------------------------------------------------- */

/* The organization's active OUTSCALE accounts by attachment time, a page at a time (lib/cursor;
 * the cursor is bound to the organization). */
static const struct cursor_list outscale_list = {"identity.outscale_accounts", CURSOR_TIME, 0, 0};

err_code handlers_list_outscale_accounts(struct bus_call *call, struct err *e) {
    const Mkt__Identity__ListPage *in = (const Mkt__Identity__ListPage *)call->in;
    struct store_caller c;
    struct store_outscale_list l = {0};
    struct handlers_pb_array pbs = {0};
    struct cursor_key key;
    struct cursor_page page;
    char next[CURSOR_TEXT_MAX] = "";
    size_t n = 0;
    cursor_key_init(&key, handlers_app(call)->cfg.cursor_key);
    err_code code = handlers_caller(call, HANDLERS_MEMBER, &c, e);
    if (code == ERR_OK)
        code = cursor_page_init(&page, &outscale_list, &key, c.organization_id, in->limit, in->cursor, e);
    if (code == ERR_OK)
        code = store_outscale_page(call->worker->db, c.organization_id, &page, &l, e);
    if (code == ERR_OK) {
        n = cursor_page_shown(&page, l.n);
        code = cursor_page_next(&page, l.n, n ? l.v[n - 1].attached_at : 0, NULL, n ? l.v[n - 1].id : NULL, next, e);
    }
    if (code == ERR_OK)
        code = handlers_pb_array_init(&pbs, n, sizeof(Mkt__Identity__OutscaleAccount), e);
    if (code == ERR_OK) {
        for (size_t i = 0; i < n; i++)
            handlers_outscale_pb(&l.v[i], pbs.ptrs[i]);
        Mkt__Identity__OutscaleAccountList rep = MKT__IDENTITY__OUTSCALE_ACCOUNT_LIST__INIT;
        rep.n_accounts = n;
        rep.accounts = (Mkt__Identity__OutscaleAccount **)pbs.ptrs;
        rep.next_cursor = next;
        bus_reply(call, &rep.base);
    }
    handlers_pb_array_cleanup(&pbs);
    store_outscale_list_cleanup(&l);
    return code;
}

/* ORG-6: the admin proves control of another OUTSCALE account the same way as at sign-up; the
 * publisher learns of it from outscale_account.attached (launch permissions for the new account). */
err_code handlers_attach_outscale_account(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    Mkt__Identity__AttachOutscaleAccount *in = (Mkt__Identity__AttachOutscaleAccount *)call->in;
    struct store_caller c;
    struct store_org org;
    struct store_outscale osc;
    struct cloud *cl = NULL;
    bool taken = false;
    memset(&osc, 0, sizeof osc);
    err_code code = handlers_caller(call, HANDLERS_ADMIN, &c, e);
    if (code == ERR_OK)
        code = validation_access_key("access_key", in->access_key, e);
    if (code == ERR_OK)
        code = validation_secret_key("secret_key", in->secret_key, e);
    if (code == ERR_OK)
        code = store_org_get(db, c.organization_id, &org, e);
    if (code == ERR_OK)
        code = prove_control(id, org.region, in->access_key, in->secret_key, &cl, osc.account_id, osc.email, e);
    if (code == ERR_OK)
        code = store_outscale_taken(db, osc.account_id, &taken, e);
    if (code == ERR_OK && taken)
        code = err_set(e, ERR_CONFLICT, "OUTSCALE account %s is already attached to an organization", osc.account_id);
    if (code != ERR_OK)
        goto done;
    id_uuid(osc.id);
    code = outscale_bootstrap(id, cl, &osc, e);
    if (code != ERR_OK)
        goto done;
    snprintf(osc.organization_id, sizeof osc.organization_id, "%s", org.id);
    snprintf(osc.region, sizeof osc.region, "%s", org.region);
    snprintf(osc.state, sizeof osc.state, "active");
    snprintf(osc.eim_state, sizeof osc.eim_state, "ready");
    osc.primary = false;
    osc.attached_at = clock_now();
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_outscale_insert(db, &osc, e);
    if (code == ERR_OK)
        code = handlers_emit_outscale(db, "identity.outscale_account.attached", &osc, c.account_id,
                                      handlers_request_id(call), e);
    code = handlers_commit(db, code, e);
    if (code != ERR_OK)
        goto done;
    log_info("attach: OUTSCALE account %s to organization %s", osc.account_id, org.id);
    Mkt__Identity__OutscaleAccount rep;
    handlers_outscale_pb(&osc, &rep);
    bus_reply(call, &rep.base);
done:
    wipe(in->secret_key);
    cloud_free(cl);
    sodium_memzero(&osc, sizeof osc);
    return code;
}

/* ORG-6: the EIM users in the account are removed, then the platform's footing (the maintenance
 * loop does both); outscale_account.detached tells the publisher to remove launch permissions. */
err_code handlers_detach_outscale_account(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__IdRequest *in = (const Mkt__Identity__IdRequest *)call->in;
    struct store_caller c;
    struct store_outscale osc;
    err_code code = handlers_caller_id(call, HANDLERS_ADMIN, in->id, &c, e);
    if (code == ERR_OK)
        code = store_outscale_find(db, c.organization_id, in->id, &osc, e);
    if (code == ERR_OK && osc.primary)
        code = err_set(e, ERR_CONFLICT, "the primary OUTSCALE account cannot be detached");
    if (code != ERR_OK)
        return code;
    mkt_time now = clock_now();
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_outscale_start_detach(db, osc.id, now, e);
    if (code == ERR_OK)
        code = handlers_emit_outscale(db, "identity.outscale_account.detached", &osc, c.account_id,
                                      handlers_request_id(call), e);
    code = handlers_commit(db, code, e);
    if (code != ERR_OK)
        return code;
    log_info("detach: OUTSCALE account %s from organization %s", osc.account_id, osc.organization_id);
    return handlers_reply_empty(call);
}

/* ---- testing an attached OUTSCALE account (PUB-5) ---------------------------------------------------- */

#define CATALOG_TIMEOUT_MS 5000

/* test_outscale_account: with the platform's key of the account (never the customer's), whether
 * the platform can act there (ReadAccounts), and for each OMI product code of the organization
 * (asked of the catalog) whether images carrying it are reachable from that account (ReadImages
 * filtered by the code). Reads only: the cloud is not changed. No transaction is open during
 * the calls. */
err_code handlers_test_outscale_account(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    const Mkt__Identity__IdRequest *in = (const Mkt__Identity__IdRequest *)call->in;
    struct store_caller c;
    struct store_outscale osc;
    struct cloud *cl = NULL;
    struct cloud_accounts *accounts = NULL;
    ProtobufCMessage *codes = NULL;
    Mkt__Identity__ProductReach *reach = NULL, **reach_ptrs = NULL;
    char problem[ERR_MSG_MAX] = "";
    err_code code = handlers_caller_id(call, HANDLERS_MEMBER, in->id, &c, e);
    if (code == ERR_OK)
        code = store_outscale_find(call->worker->db, c.organization_id, in->id, &osc, e);
    if (code != ERR_OK)
        return code;
    Mkt__Identity__AccountTest rep = MKT__IDENTITY__ACCOUNT_TEST__INIT;
    rep.id = osc.id;
    rep.account_id = osc.account_id;
    struct err ce = {0};
    if (outscale_platform_client(id, &osc, &cl, &ce) != ERR_OK || cloud_read_accounts(cl, &accounts, &ce) != ERR_OK)
        snprintf(problem, sizeof problem, "the platform's key cannot act in this account: %s", ce.msg);
    rep.platform_can_act = problem[0] == '\0';
    rep.problem = problem;
    Mkt__Catalog__IdRequest creq = MKT__CATALOG__ID_REQUEST__INIT;
    creq.id = c.organization_id;
    struct bus_ctx ctx = {.request_id = handlers_request_id(call)}; /* a service call: no actor */
    code = bus_call(id->svc->bus, "catalog", "product_codes", &ctx, &creq.base, &mkt__catalog__product_code_list__descriptor,
                    &codes, CATALOG_TIMEOUT_MS, e);
    if (code != ERR_OK)
        goto done;
    const Mkt__Catalog__ProductCodeList *list = (const Mkt__Catalog__ProductCodeList *)codes;
    reach = calloc(list->n_products ? list->n_products : 1, sizeof *reach);
    reach_ptrs = calloc(list->n_products ? list->n_products : 1, sizeof *reach_ptrs);
    if (!reach || !reach_ptrs) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < list->n_products; i++) {
        Mkt__Identity__ProductReach *r = &reach[i];
        mkt__identity__product_reach__init(r);
        r->product_id = list->products[i]->product_id;
        r->product_code = list->products[i]->product_code;
        struct cloud_images *images = NULL;
        const char *filter[] = {r->product_code, NULL};
        struct cloud_image_filters f = {.product_codes = filter};
        if (rep.platform_can_act && cloud_read_images(cl, &f, &images, &ce) == ERR_OK)
            r->images = (int32_t)images->n;
        cloud_images_free(images);
        r->reachable = r->images > 0;
        reach_ptrs[i] = r;
    }
    rep.n_products = list->n_products;
    rep.products = reach_ptrs;
    bus_reply(call, &rep.base);
done:
    free(reach_ptrs);
    free(reach);
    if (codes)
        protobuf_c_message_free_unpacked(codes, NULL);
    cloud_accounts_free(accounts);
    cloud_free(cl);
    return code;
}

/* source_images (internal, VER-3): the images carrying `product_code` in `region` in the
 * organization's active OUTSCALE accounts, each read with that account's platform key (an
 * account's key works in every Region of the account). An account
 * the platform cannot read is skipped (its test, PUB-5, says why). No transaction is open. */
err_code handlers_source_images(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    const Mkt__Identity__SourceImagesRequest *in = (const Mkt__Identity__SourceImagesRequest *)call->in;
    struct store_outscale_list accounts = {0};
    Mkt__Identity__SourceImage *items = NULL, **ptrs = NULL;
    struct cloud_images *found[16] = {0};
    size_t n_found = 0, total = 0;
    if (call->req->actor)
        return err_set(e, ERR_FORBIDDEN, "source_images is for the platform's services");
    err_code code = validation_uuid("organization_id", in->organization_id, e);
    if (code == ERR_OK && (!in->product_code || !*in->product_code || !in->region || !*in->region))
        code = err_set(e, ERR_INVALID, "source_images: product_code and region required");
    if (code == ERR_OK)
        code = store_outscale_list(call->worker->db, in->organization_id, false, &accounts, e);
    if (code != ERR_OK)
        return code;
    for (size_t i = 0; i < accounts.n && n_found < 16; i++) {
        const struct store_outscale *o = &accounts.v[i];
        if (strcmp(o->state, "active") != 0)
            continue;
        struct store_outscale in_region = *o;
        snprintf(in_region.region, sizeof in_region.region, "%s", in->region);
        struct cloud *cl = NULL;
        struct err ce = {0};
        const char *codes[] = {in->product_code, NULL}, *owners[] = {o->account_id, NULL};
        struct cloud_image_filters f = {.product_codes = codes, .account_ids = owners};
        if (outscale_platform_client(id, &in_region, &cl, &ce) == ERR_OK &&
            cloud_read_images(cl, &f, &found[n_found], &ce) == ERR_OK)
            total += found[n_found++]->n;
        else
            log_warn("source images: OUTSCALE account %s unreadable: %s", o->account_id, ce.msg);
        cloud_free(cl);
    }
    items = calloc(total ? total : 1, sizeof *items);
    ptrs = calloc(total ? total : 1, sizeof *ptrs);
    if (!items || !ptrs) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_found; i++)
        for (size_t j = 0; j < found[i]->n; j++, k++) {
            mkt__identity__source_image__init(&items[k]);
            items[k].image_id = (char *)found[i]->items[j].image_id;
            items[k].name = (char *)found[i]->items[j].image_name;
            items[k].account_id = (char *)found[i]->items[j].account_id;
            items[k].state = (char *)found[i]->items[j].state;
            ptrs[k] = &items[k];
        }
    Mkt__Identity__SourceImages rep = MKT__IDENTITY__SOURCE_IMAGES__INIT;
    rep.n_images = k;
    rep.images = ptrs;
    bus_reply(call, &rep.base);
done:
    free(ptrs);
    free(items);
    for (size_t i = 0; i < n_found; i++)
        cloud_images_free(found[i]);
    store_outscale_list_cleanup(&accounts);
    return code;
}
