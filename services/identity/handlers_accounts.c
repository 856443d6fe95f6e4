/* Account administration by an organization's administrators (ACC-1..5): list, create (with a
 * set-password link valid 24 hours, ACC-3, and an EIM user planned by the consumer of
 * account.created, ACC-4), modify, delete. The organization keeps at least one administrator
 * (ACC-5): the admin count is read under a lock of the organization row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "id.h"
#include "log.h"

static err_code reply_account(struct bus_call *call, const char *account_id, const char *org_id, struct err *e) {
    struct store_account a;
    err_code code = store_account_get(call->worker->db, account_id, org_id, &a, e);
    if (code != ERR_OK)
        return code;
    const char *names[2];
    Mkt__Identity__Account rep;
    handlers_account_pb(&a, &rep, names);
    bus_reply(call, &rep.base);
    return ERR_OK;
}

err_code handlers_list_accounts(struct bus_call *call, struct err *e) {
    struct store_caller c;
    struct store_account_list l = {0};
    Mkt__Identity__Account *items = NULL, **ptrs = NULL;
    const char *(*names)[2] = NULL;
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = handlers_require_admin(&c, e);
    if (code == ERR_OK)
        code = store_account_list(call->worker->db, c.organization_id, &l, e);
    if (code != ERR_OK)
        return code;
    items = calloc(l.n ? l.n : 1, sizeof *items);
    ptrs = calloc(l.n ? l.n : 1, sizeof *ptrs);
    names = calloc(l.n ? l.n : 1, sizeof *names);
    if (!items || !ptrs || !names) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        handlers_account_pb(&l.v[i], &items[i], names[i]);
        ptrs[i] = &items[i];
    }
    Mkt__Identity__AccountList rep = MKT__IDENTITY__ACCOUNT_LIST__INIT;
    rep.n_accounts = l.n;
    rep.accounts = ptrs;
    bus_reply(call, &rep.base);
done:
    free(items);
    free(ptrs);
    free(names);
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
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = handlers_require_admin(&c, e);
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
    struct handlers_link link = {
        .kind = "set_password",
        .account_id = a.id,
        .organization_id = org.id,
        .organization_name = org.name,
        .email = a.email,
        .name = a.name,
        .language = a.language,
        .ttl = id->cfg.set_password_ttl_s * CLOCK_SECOND,
    };
    const char *rid = handlers_request_id(call);
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_account_insert(db, &a, NULL, clock_now(), e);
    if (code == ERR_OK)
        code = handlers_issue_link(db, &link, rid, e); /* ACC-3 */
    if (code == ERR_OK)
        code = handlers_emit_account(db, "identity.account.created", &a, c.account_id, rid, e); /* ACC-4 */
    if (code == ERR_OK)
        code = db_commit(db, e);
    if (code != ERR_OK) {
        db_rollback(db);
        if (code == ERR_CONFLICT)
            err_set(e, ERR_CONFLICT, "field 'email': %s already has a marketplace account", a.email);
        return code;
    }
    log_info("create_account: %s in organization %s by %s", a.id, a.organization_id, c.account_id);
    return reply_account(call, a.id, c.organization_id, e);
}

err_code handlers_update_account(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__UpdateAccount *in = (const Mkt__Identity__UpdateAccount *)call->in;
    struct store_caller c;
    struct store_account a, want;
    bool taken = false;
    int admins = 0;
    memset(&want, 0, sizeof want);
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = handlers_require_admin(&c, e);
    if (code == ERR_OK)
        code = validation_uuid("id", in->id, e);
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
        code = store_admins_lock(db, c.organization_id, &admins, e);
    if (code == ERR_OK) /* other organizations' accounts do not exist for this caller */
        code = store_account_get(db, in->id, c.organization_id, &a, e);
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
    if (code == ERR_OK)
        code = db_commit(db, e);
done:
    if (code != ERR_OK) {
        db_rollback(db);
        return code;
    }
    return reply_account(call, a.id, c.organization_id, e);
}

/* ACC-4: the EIM user goes with the account (account.deleted -> consumer -> maintenance loop). */
err_code handlers_delete_account(struct bus_call *call, struct err *e) {
    PGconn *db = call->worker->db;
    const Mkt__Identity__IdRequest *in = (const Mkt__Identity__IdRequest *)call->in;
    struct store_caller c;
    struct store_account a;
    int admins = 0;
    err_code code = handlers_caller(call, &c, e);
    if (code == ERR_OK)
        code = handlers_require_admin(&c, e);
    if (code == ERR_OK)
        code = validation_uuid("id", in->id, e);
    if (code != ERR_OK)
        return code;
    code = db_begin(db, e);
    if (code == ERR_OK)
        code = store_admins_lock(db, c.organization_id, &admins, e);
    if (code == ERR_OK)
        code = store_account_get(db, in->id, c.organization_id, &a, e);
    if (code == ERR_OK && (a.roles & ROLE_ADMIN) && admins <= 1)
        code = err_set(e, ERR_CONFLICT, "the organization's last administrator cannot be deleted (ACC-5)");
    if (code == ERR_OK)
        code = store_account_delete(db, a.id, e);
    if (code == ERR_OK)
        code = handlers_emit_account(db, "identity.account.deleted", &a, c.account_id, handlers_request_id(call), e);
    if (code == ERR_OK)
        code = db_commit(db, e);
    if (code != ERR_OK) {
        db_rollback(db);
        return code;
    }
    log_info("delete_account: %s of organization %s by %s", a.id, a.organization_id, c.account_id);
    Mkt__Identity__Empty rep = MKT__IDENTITY__EMPTY__INIT;
    bus_reply(call, &rep.base);
    return ERR_OK;
}
