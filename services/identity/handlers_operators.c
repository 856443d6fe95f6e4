/* The operators' methods (marketplace staff; the caller must be an operator, re-read from the
 * database): organizations listed by status a page at a time (lib/cursor), validation (ORG-3:
 * the organization's administrators are mailed, in their language) and the UGAP flag (ORG-5),
 * each with its event. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "db.h"
#include "handlers.h"
#include "id.h"
#include "log.h"
#include "mail.pb-c.h"
#include "outbox.h"

/* Organizations by id (creation order), optionally of one status, a page at a time (lib/cursor):
 * up to 200 a page, for the operators' screens. The cursor is bound to the status filter. */
static const struct cursor_list organizations_list = {"identity.organizations", CURSOR_ID, 50, 200};

err_code handlers_list_organizations(struct bus_call *call, struct err *e) {
    const Mkt__Identity__ListOrganizations *in = (const Mkt__Identity__ListOrganizations *)call->in;
    struct store_caller c;
    struct store_org_list l = {0};
    struct handlers_pb_array pbs = {0};
    struct cursor_key key;
    struct cursor_page page;
    char next[CURSOR_TEXT_MAX] = "", filter[32];
    size_t n = 0;
    err_code code = handlers_caller(call, HANDLERS_OPERATOR, &c, e);
    if (code != ERR_OK)
        return code;
    const char *status = in->status ? in->status : "";
    if (*status && strcmp(status, "pending") != 0 && strcmp(status, "validated") != 0)
        return err_set(e, ERR_INVALID, "field 'status': \"pending\", \"validated\" or empty");
    snprintf(filter, sizeof filter, "status=%s", status);
    cursor_key_init(&key, handlers_app(call)->cfg.cursor_key);
    code = cursor_page_init(&page, &organizations_list, &key, filter, in->limit, in->cursor, e);
    if (code == ERR_OK)
        code = store_org_list(call->worker->db, status, &page, &l, e);
    if (code == ERR_OK) {
        n = cursor_page_shown(&page, l.n);
        code = cursor_page_next(&page, l.n, 0, NULL, n ? l.v[n - 1].id : NULL, next, e);
    }
    if (code == ERR_OK)
        code = handlers_pb_array_init(&pbs, n, sizeof(Mkt__Identity__Organization), e);
    if (code == ERR_OK) {
        for (size_t i = 0; i < n; i++)
            handlers_org_pb(&l.v[i], pbs.ptrs[i], pbs.names[i]);
        Mkt__Identity__OrganizationList rep = MKT__IDENTITY__ORGANIZATION_LIST__INIT;
        rep.n_organizations = n;
        rep.organizations = (Mkt__Identity__Organization **)pbs.ptrs;
        rep.next_cursor = next;
        bus_reply(call, &rep.base);
    }
    handlers_pb_array_cleanup(&pbs);
    store_org_list_cleanup(&l);
    return code;
}

/* The administrators as mail recipients (MAIL-1: each in their language); rcpts' views borrow
 * admins' strings. */
static err_code admins_as_recipients(const struct store_account_list *admins, struct handlers_pb_array *rcpts,
                                     struct err *e) {
    err_code code = handlers_pb_array_init(rcpts, admins->n ? admins->n : 1, sizeof(Mkt__Mail__Recipient), e);
    for (size_t i = 0; code == ERR_OK && i < admins->n; i++) {
        Mkt__Mail__Recipient *r = rcpts->ptrs[i];
        mkt__mail__recipient__init(r);
        r->address = admins->v[i].email;
        r->name = admins->v[i].name;
        r->language = admins->v[i].language;
    }
    return code;
}

/* tx. ORG-3: the organization's administrators are told (org_validated, in their language). */
static err_code mail_validated(PGconn *tx, const struct store_org *o, const char *correlation, struct err *e) {
    struct store_account_list admins = {0};
    struct handlers_pb_array rcpts = {0};
    err_code code = store_admins(tx, o->id, &admins, e);
    if (code != ERR_OK || admins.n == 0)
        goto done;
    code = admins_as_recipients(&admins, &rcpts, e);
    if (code != ERR_OK)
        goto done;
    Mkt__Mail__Command__VarsEntry v_org = MKT__MAIL__COMMAND__VARS_ENTRY__INIT;
    v_org.key = "organization_name";
    v_org.value = (char *)o->name;
    Mkt__Mail__Command__VarsEntry *vars[] = {&v_org};
    char key[64];
    snprintf(key, sizeof key, "org_validated:%s", o->id);
    Mkt__Mail__Command cmd = MKT__MAIL__COMMAND__INIT;
    cmd.template_ = "org_validated";
    cmd.recipients = (Mkt__Mail__Recipient **)rcpts.ptrs;
    cmd.n_recipients = admins.n;
    cmd.vars = vars;
    cmd.n_vars = 1;
    cmd.idempotency_key = key;
    code = outbox_mail(tx, "org_validated", o->id, correlation, &cmd.base, e);
done:
    handlers_pb_array_cleanup(&rcpts);
    store_account_list_cleanup(&admins);
    return code;
}

err_code handlers_validate_organization(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__ValidateOrganization *in = (const Mkt__Identity__ValidateOrganization *)call->in;
    struct store_caller c;
    struct store_org o;
    bool changed = false;
    char reason[1601];
    bool decide = in->partner_decision && *in->partner_decision;
    const char *rid = handlers_request_id(call);
    err_code code = handlers_caller_id(call, HANDLERS_OPERATOR, in->id, &c, e);
    if (code == ERR_OK && decide)
        code = validation_partner_decision(in->partner_decision, in->partner_reason, reason, sizeof reason, e);
    if (code == ERR_OK)
        code = store_org_get(db, in->id, &o, e);
    /* PUB-1: a pending partner-programme number is decided with the organization. */
    if (code == ERR_OK && strcmp(o.partner_status, "pending") == 0 && !decide)
        code = err_set(e, ERR_INVALID, "field 'partner_decision': required: partner-programme number %s waits for "
                                       "validated or refused (PUB-1)", o.partner_number);
    if (code == ERR_OK)
        code = db_begin(db, e);
    if (code == ERR_OK && decide)
        code = store_org_decide_partner(db, in->id, in->partner_decision, reason, e);
    if (code == ERR_OK)
        code = store_org_validate(db, in->id, clock_now(), &changed, e);
    if (code == ERR_OK)
        code = store_org_get(db, in->id, &o, e);
    if (code == ERR_OK && (changed || decide))
        code = handlers_emit_org(db, changed ? "identity.organization.validated" : "identity.organization.updated", &o,
                                 c.account_id, rid, e);
    if (code == ERR_OK && changed)
        code = mail_validated(db, &o, rid, e);
    code = handlers_commit(db, code, e);
    if (code != ERR_OK)
        return code;
    if (changed)
        log_info("organization %s validated by operator %s", o.id, c.account_id);
    return handlers_reply_org(call, &o);
}

/* organization_admins: the administrators of an organization as mail recipients, for the
 * services that mail them about their own events (the catalog's review outcomes). Internal:
 * answered only to service callers, which send no actor (the gateway has no route to it and
 * always sends the actor of a session). */
err_code handlers_organization_admins(struct bus_call *call, struct err *e) {
    const Mkt__Identity__IdRequest *in = (const Mkt__Identity__IdRequest *)call->in;
    struct store_account_list admins = {0};
    struct handlers_pb_array rcpts = {0};
    if (call->req->actor)
        return err_set(e, ERR_FORBIDDEN, "organization_admins is for the platform's services");
    err_code code = validation_uuid("id", in->id, e);
    if (code == ERR_OK)
        code = store_admins(call->worker->db, in->id, &admins, e);
    if (code == ERR_OK)
        code = admins_as_recipients(&admins, &rcpts, e);
    if (code != ERR_OK)
        goto done;
    Mkt__Mail__RecipientsReply rep = MKT__MAIL__RECIPIENTS_REPLY__INIT;
    rep.recipients = (Mkt__Mail__Recipient **)rcpts.ptrs;
    rep.n_recipients = admins.n;
    bus_reply(call, &rep.base);
done:
    handlers_pb_array_cleanup(&rcpts);
    store_account_list_cleanup(&admins);
    return code;
}

err_code handlers_set_ugap(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__SetUgap *in = (const Mkt__Identity__SetUgap *)call->in;
    struct store_caller c;
    struct store_org o;
    bool changed = false;
    err_code code = handlers_caller_id(call, HANDLERS_OPERATOR, in->id, &c, e);
    if (code == ERR_OK)
        code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_org_get(db, in->id, &o, e);
    if (code == ERR_OK)
        code = store_org_set_ugap(db, in->id, in->ugap, &changed, e);
    o.ugap = in->ugap;
    if (code == ERR_OK && changed)
        code = handlers_emit_org(db, "identity.organization.ugap_changed", &o, c.account_id, handlers_request_id(call),
                                 e);
    code = handlers_commit(db, code, e);
    return code == ERR_OK ? handlers_reply_org(call, &o) : code;
}
