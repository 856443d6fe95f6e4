/* Account administration by an organization's administrators (ACC-1..5): list (a page at a
 * time, lib/cursor), create (with a
 * set-password link valid 24 hours, ACC-3, and an EIM user planned by the consumer of
 * account.created, ACC-4), modify, delete. The organization keeps at least one administrator
 * (ACC-5): the admin count is read under a lock of the organization row. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "db.h"
#include "handlers.h"
#include "id.h"
#include "log.h"

/* tx. Locks the organization's administrators (ACC-5) and reads the account `id` of the
 * organization (others' do not exist for this caller); *admins counts the administrators. */
static err_code lock_account(PGconn *tx, const char *org_id, const char *id, struct store_account *a, int *admins,
                             struct err *e) {
    err_code code = store_admins_lock(tx, org_id, admins, e);
    if (code == ERR_OK)
        code = store_account_get(tx, id, org_id, a, e);
    return code;
}

/* The organization's accounts in creation order, a page at a time (lib/cursor). The cursor is
 * bound to the organization, so another organization's admin cannot replay it. */
static const struct cursor_list accounts_list = {"identity.accounts", CURSOR_TIME, 0, 0};

err_code handlers_list_accounts(struct bus_call *call, struct err *e) {
    const Mkt__Identity__ListPage *in = (const Mkt__Identity__ListPage *)call->in;
    struct store_caller c;
    struct store_account_list l = {0};
    struct handlers_pb_array pbs = {0};
    struct cursor_key key;
    struct cursor_page page;
    char next[CURSOR_TEXT_MAX] = "";
    size_t n = 0;
    cursor_key_init(&key, handlers_app(call)->cfg.cursor_key);
    err_code code = handlers_caller(call, HANDLERS_ADMIN, &c, e);
    if (code == ERR_OK)
        code = cursor_page_init(&page, &accounts_list, &key, c.organization_id, in->limit, in->cursor, e);
    if (code == ERR_OK)
        code = store_account_list(call->worker->db, c.organization_id, &page, &l, e);
    if (code == ERR_OK) {
        n = cursor_page_shown(&page, l.n);
        code = cursor_page_next(&page, l.n, n ? l.v[n - 1].created_at : 0, NULL, n ? l.v[n - 1].id : NULL, next, e);
    }
    if (code == ERR_OK)
        code = handlers_pb_array_init(&pbs, n, sizeof(Mkt__Identity__Account), e);
    if (code == ERR_OK) {
        for (size_t i = 0; i < n; i++)
            handlers_account_pb(&l.v[i], pbs.ptrs[i], pbs.names[i]);
        Mkt__Identity__AccountList rep = MKT__IDENTITY__ACCOUNT_LIST__INIT;
        rep.n_accounts = n;
        rep.accounts = (Mkt__Identity__Account **)pbs.ptrs;
        rep.next_cursor = next;
        bus_reply(call, &rep.base);
    }
    handlers_pb_array_cleanup(&pbs);
    store_account_list_cleanup(&l);
    return code;
}

err_code handlers_create_account(struct bus_call *call, struct err *e) {
    struct identity *id = handlers_app(call);
    PGconn *db = call->worker->db;
    const Mkt__Identity__CreateAccount *in = (const Mkt__Identity__CreateAccount *)call->in;
    struct store_caller c;
    struct store_account a;
    struct store_org org;
    bool taken = false;
    memset(&a, 0, sizeof a);
    err_code code = handlers_caller(call, HANDLERS_ADMIN, &c, e);
    if (code == ERR_OK)
        code = validation_name("name", in->name, a.name, sizeof a.name, e);
    if (code == ERR_OK)
        code = validation_email("email", in->email, a.email, sizeof a.email, e);
    if (code == ERR_OK)
        code = validation_roles("roles", in->roles, in->n_roles, &a.roles, e);
    if (code == ERR_OK)
        code = validation_language("language", in->language, a.language, e);
    if (code == ERR_OK)
        code = store_email_taken(db, a.email, NULL, &taken, e);
    if (code == ERR_OK && taken)
        code = err_set(e, ERR_CONFLICT, "field 'email': %s already has a marketplace account", a.email);
    if (code == ERR_OK)
        code = store_org_get(db, c.organization_id, &org, e);
    if (code != ERR_OK)
        return code;
    id_uuid(a.id);
    snprintf(a.organization_id, sizeof a.organization_id, "%s", c.organization_id);
    const char *rid = handlers_request_id(call);
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_account_insert(db, &a, NULL, clock_now(), e);
    if (code == ERR_OK)
        code = handlers_issue_set_password(db, id, &a, &org, rid, e); /* ACC-3 */
    if (code == ERR_OK)
        code = handlers_emit_account(db, "identity.account.created", &a, c.account_id, rid, e); /* ACC-4 */
    code = handlers_commit(db, code, e);
    if (code == ERR_CONFLICT)
        err_set(e, ERR_CONFLICT, "field 'email': %s already has a marketplace account", a.email);
    if (code != ERR_OK)
        return code;
    log_info("create_account: %s in organization %s by %s", a.id, a.organization_id, c.account_id);
    return handlers_reply_account(call, a.id, c.organization_id, e);
}

err_code handlers_update_account(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__UpdateAccount *in = (const Mkt__Identity__UpdateAccount *)call->in;
    struct store_caller c;
    struct store_account a, want;
    bool taken = false;
    int admins = 0;
    memset(&want, 0, sizeof want);
    err_code code = handlers_caller_id(call, HANDLERS_ADMIN, in->id, &c, e);
    /* Validate every field marked set before touching anything. */
    if (code == ERR_OK && in->set_name)
        code = validation_name("name", in->name, want.name, sizeof want.name, e);
    if (code == ERR_OK && in->set_email)
        code = validation_email("email", in->email, want.email, sizeof want.email, e);
    if (code == ERR_OK && in->set_roles)
        code = validation_roles("roles", in->roles, in->n_roles, &want.roles, e);
    if (code == ERR_OK && in->set_language)
        code = validation_language("language", in->language, want.language, e);
    if (code == ERR_OK && in->set_email)
        code = store_email_taken(db, want.email, in->id, &taken, e);
    if (code == ERR_OK && taken)
        code = err_set(e, ERR_CONFLICT, "field 'email': %s already has a marketplace account", want.email);
    if (code != ERR_OK)
        return code;
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = lock_account(db, c.organization_id, in->id, &a, &admins, e);
    if (code == ERR_OK && in->set_roles && (a.roles & ROLE_ADMIN) && !(want.roles & ROLE_ADMIN) && admins <= 1)
        code = err_set(e, ERR_CONFLICT, "field 'roles': the organization's last administrator cannot be demoted "
                                        "(ACC-5): make another account admin first");
    if (code != ERR_OK)
        goto done;
    if (in->set_name)
        snprintf(a.name, sizeof a.name, "%s", want.name);
    if (in->set_email)
        snprintf(a.email, sizeof a.email, "%s", want.email);
    if (in->set_roles)
        a.roles = want.roles;
    if (in->set_language)
        snprintf(a.language, sizeof a.language, "%s", want.language);
    code = store_account_update(db, &a, e);
    if (code == ERR_OK)
        code = handlers_emit_account(db, "identity.account.updated", &a, c.account_id, handlers_request_id(call), e);
done:
    code = handlers_commit(db, code, e);
    return code == ERR_OK ? handlers_reply_account(call, a.id, c.organization_id, e) : code;
}

/* ACC-4: the EIM user goes with the account (account.deleted -> consumer -> maintenance loop). */
err_code handlers_delete_account(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__IdRequest *in = (const Mkt__Identity__IdRequest *)call->in;
    struct store_caller c;
    struct store_account a;
    int admins = 0;
    err_code code = handlers_caller_id(call, HANDLERS_ADMIN, in->id, &c, e);
    if (code == ERR_OK)
        code = db_begin(db, e);
    if (code == ERR_OK)
        code = lock_account(db, c.organization_id, in->id, &a, &admins, e);
    if (code == ERR_OK && (a.roles & ROLE_ADMIN) && admins <= 1)
        code = err_set(e, ERR_CONFLICT, "the organization's last administrator cannot be deleted (ACC-5)");
    if (code == ERR_OK)
        code = store_account_delete(db, a.id, e);
    if (code == ERR_OK)
        code = handlers_emit_account(db, "identity.account.deleted", &a, c.account_id, handlers_request_id(call), e);
    code = handlers_commit(db, code, e);
    if (code != ERR_OK)
        return code;
    log_info("delete_account: %s of organization %s by %s", a.id, a.organization_id, c.account_id);
    return handlers_reply_empty(call);
}
