/* SQL of marketplace accounts and operators (ACC-1..5): rows, lists, the admin count that keeps
 * an organization administered, callers resolved fresh for authorization, and the credentials
 * (password hash, sealed TOTP secrets, last used TOTP step) that only login and password or 2FA
 * changes read. */
#include "store_internal.h"

/* The EIM user shown with an account is the one in the organization's primary OUTSCALE account. */
#define ACCOUNT_COLUMNS                                                                                     \
    "a.id, a.organization_id, a.name, a.email, 'admin' = ANY(a.roles), 'user' = ANY(a.roles), a.language, " \
    "a.operator, a.password_hash IS NOT NULL, a.otp_secret IS NOT NULL, a.created_at, "                    \
    "(SELECT u.state || ' ' || u.user_name FROM eim_users u JOIN outscale_accounts x "                      \
    "  ON x.id = u.outscale_account_id AND x.is_primary WHERE u.account_id = a.id LIMIT 1)"

static void account_from_row(const PGresult *r, int i, void *out) {
    struct store_account *a = out;
    memset(a, 0, sizeof *a);
    store__copy(a->id, sizeof a->id, r, i, 0);
    store__copy(a->organization_id, sizeof a->organization_id, r, i, 1);
    store__copy(a->name, sizeof a->name, r, i, 2);
    store__copy(a->email, sizeof a->email, r, i, 3);
    a->roles = (store__bool(r, i, 4) ? ROLE_ADMIN : 0) | (store__bool(r, i, 5) ? ROLE_USER : 0);
    store__copy(a->language, sizeof a->language, r, i, 6);
    a->operator = store__bool(r, i, 7);
    a->password_set = store__bool(r, i, 8);
    a->otp_enabled = store__bool(r, i, 9);
    a->created_at = db_time_value(r, i, 10);
    char eim[128];
    store__copy(eim, sizeof eim, r, i, 11);
    char *space = strchr(eim, ' ');
    if (space) {
        *space = '\0';
        snprintf(a->eim_state, sizeof a->eim_state, "%s", eim);
        snprintf(a->eim_user_name, sizeof a->eim_user_name, "%s", space + 1);
    } else if (!a->operator) {
        /* The consumer of account.created has not planned it yet. */
        snprintf(a->eim_state, sizeof a->eim_state, "pending");
    }
}

void store_account_list_cleanup(struct store_account_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

err_code store_account_insert(PGconn *tx, const struct store_account *a, const char *password_hash, mkt_time now,
                              struct err *e) {
    char roles[32], t[40];
    return db_exec(tx, e, NULL,
                   "INSERT INTO accounts (id, organization_id, name, email, roles, language, operator, "
                   "password_hash, password_changed_at, created_at) "
                   "VALUES ($1, NULLIF($2, '')::uuid, $3, $4, $5, $6, $7, $8, CASE WHEN $8::text IS NULL THEN NULL "
                   "ELSE $9::timestamptz END, $9)",
                   DB_PARAMS(a->id, a->organization_id, a->name, a->email,
                             store__mask_array(a->roles, true, roles, sizeof roles), a->language,
                             a->operator ? "true" : "false", password_hash, STORE__TIME(now, t)));
}

err_code store_account_get(PGconn *c, const char *id, const char *organization_id, struct store_account *out,
                           struct err *e) {
    return store__one(c, account_from_row, out, e,
                      "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.id = $1 "
                      "AND ($2 = '' OR a.organization_id = NULLIF($2, '')::uuid)",
                      DB_PARAMS(id, organization_id ? organization_id : ""), "account %s", id);
}

err_code store_account_list(PGconn *c, const char *organization_id, const struct cursor_page *page,
                            struct store_account_list *out, struct err *e) {
    char after[40], lim[16];
    snprintf(lim, sizeof lim, "%d", cursor_page_fetch(page));
    /* Keyset: (created_at, id) after the cursor's position, never OFFSET (stable under inserts). */
    return store__list(c, STORE__LIST(out), account_from_row, e,
                       "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.organization_id = $1 "
                       "AND ($2::timestamptz IS NULL OR (a.created_at, a.id) > ($2::timestamptz, $3::uuid)) "
                       "ORDER BY a.created_at, a.id LIMIT $4::int",
                       DB_PARAMS(organization_id, page->has_after ? STORE__TIME(page->after.num, after) : NULL,
                                 page->has_after ? page->after.id : NULL, lim));
}

err_code store_admins(PGconn *c, const char *organization_id, struct store_account_list *out, struct err *e) {
    return store__list(c, STORE__LIST(out), account_from_row, e,
                       "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.organization_id = $1 "
                       "AND 'admin' = ANY(a.roles) ORDER BY a.id",
                       DB_PARAMS(organization_id));
}

err_code store_email_taken(PGconn *c, const char *email, const char *except_id, bool *taken, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e,
                             "SELECT 1 FROM accounts WHERE lower(email) = lower($1) AND ($2 = '' OR id <> "
                             "NULLIF($2, '')::uuid)",
                             DB_PARAMS(email, except_id ? except_id : ""));
    if (code == ERR_OK) {
        *taken = PQntuples(r) > 0;
        PQclear(r);
    }
    return code;
}

err_code store_account_update(PGconn *tx, const struct store_account *a, struct err *e) {
    char roles[32];
    long n = 0;
    err_code code = db_exec(tx, e, &n, "UPDATE accounts SET name = $2, email = $3, roles = $4, language = $5 WHERE id = $1",
                            DB_PARAMS(a->id, a->name, a->email, store__mask_array(a->roles, true, roles, sizeof roles),
                                      a->language));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_NOT_FOUND, "account %s", a->id);
    return code;
}

err_code store_account_delete(PGconn *tx, const char *id, struct err *e) {
    long n = 0;
    err_code code = db_exec(tx, e, &n, "DELETE FROM accounts WHERE id = $1", DB_PARAMS(id));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_NOT_FOUND, "account %s", id);
    return code;
}

err_code store_admins_lock(PGconn *tx, const char *organization_id, int *count, struct err *e) {
    PGresult *r = NULL;
    /* Locking the organization row serialises every admin change of the organization (ACC-5): two
     * concurrent demotions of the last two admins cannot both see "another admin remains". */
    err_code code = db_query(tx, &r, e, "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE",
                             DB_PARAMS(organization_id));
    if (code != ERR_OK)
        return code;
    PQclear(r);
    code = db_query(tx, &r, e, "SELECT count(*) FROM accounts WHERE organization_id = $1 AND 'admin' = ANY(roles)",
                    DB_PARAMS(organization_id));
    if (code == ERR_OK) {
        *count = (int)store__int(r, 0, 0);
        PQclear(r);
    }
    return code;
}

/* ---- callers ------------------------------------------------------------------------------------ */

#define CALLER_COLUMNS                                                                                         \
    "s.id, a.id, a.organization_id, a.email, a.name, a.language, 'admin' = ANY(a.roles), "                    \
    "'user' = ANY(a.roles), COALESCE('buyer' = ANY(o.types), false), COALESCE('seller' = ANY(o.types), false), " \
    "COALESCE(o.status, ''), COALESCE(o.ugap, false), a.operator, s.last_seen_at"

static void caller_from_row(const PGresult *r, int i, void *out) {
    struct store_caller *c = out;
    memset(c, 0, sizeof *c);
    store__copy(c->session_id, sizeof c->session_id, r, i, 0);
    store__copy(c->account_id, sizeof c->account_id, r, i, 1);
    store__copy(c->organization_id, sizeof c->organization_id, r, i, 2);
    store__copy(c->email, sizeof c->email, r, i, 3);
    store__copy(c->name, sizeof c->name, r, i, 4);
    store__copy(c->language, sizeof c->language, r, i, 5);
    c->roles = (store__bool(r, i, 6) ? ROLE_ADMIN : 0) | (store__bool(r, i, 7) ? ROLE_USER : 0);
    c->types = (store__bool(r, i, 8) ? TYPE_BUYER : 0) | (store__bool(r, i, 9) ? TYPE_SELLER : 0);
    store__copy(c->org_status, sizeof c->org_status, r, i, 10);
    c->ugap = store__bool(r, i, 11);
    c->operator = store__bool(r, i, 12);
    c->last_seen_at = db_time_value(r, i, 13);
}

err_code store_session_caller(PGconn *c, const char *token_hash, struct store_caller *out, struct err *e) {
    return store__one(c, caller_from_row, out, e,
                      "SELECT " CALLER_COLUMNS " FROM sessions s JOIN accounts a ON a.id = s.account_id "
                      "LEFT JOIN organizations o ON o.id = a.organization_id "
                      "WHERE s.hash = $1 AND s.ended_at IS NULL",
                      DB_PARAMS(token_hash), "no such session");
}

err_code store_account_caller(PGconn *c, const char *account_id, const char *session_id, struct store_caller *out,
                              struct err *e) {
    return store__one(c, caller_from_row, out, e,
                      "SELECT " CALLER_COLUMNS " FROM accounts a "
                      "LEFT JOIN organizations o ON o.id = a.organization_id "
                      "LEFT JOIN sessions s ON s.id = NULLIF($2, '')::uuid AND s.account_id = a.id "
                      "WHERE a.id = $1 AND ($2 = '' OR (s.id IS NOT NULL AND s.ended_at IS NULL))",
                      DB_PARAMS(account_id, session_id ? session_id : ""), "no such session");
}

/* ---- credentials ------------------------------------------------------------------------------------ */

#define CREDENTIAL_COLUMNS                                                                              \
    "id, organization_id, email, name, language, operator, password_hash, otp_secret, otp_pending_secret, " \
    "otp_last_step"

static err_code credentials_query(PGconn *c, const char *sql, const char *param, struct store_credentials *out,
                                  struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, sql, DB_PARAMS(param));
    if (code != ERR_OK)
        return code;
    if (PQntuples(r) == 0) {
        code = err_set(e, ERR_NOT_FOUND, "no such account");
    } else {
        memset(out, 0, sizeof *out);
        store__copy(out->id, sizeof out->id, r, 0, 0);
        store__copy(out->organization_id, sizeof out->organization_id, r, 0, 1);
        store__copy(out->email, sizeof out->email, r, 0, 2);
        store__copy(out->name, sizeof out->name, r, 0, 3);
        store__copy(out->language, sizeof out->language, r, 0, 4);
        out->operator = store__bool(r, 0, 5);
        store__copy(out->password_hash, sizeof out->password_hash, r, 0, 6);
        store__copy(out->otp_secret, sizeof out->otp_secret, r, 0, 7);
        store__copy(out->otp_pending, sizeof out->otp_pending, r, 0, 8);
        out->otp_last_step = PQgetisnull(r, 0, 9) ? -1 : store__int(r, 0, 9);
    }
    PQclear(r);
    return code;
}

err_code store_credentials_by_email(PGconn *c, const char *email, struct store_credentials *out, struct err *e) {
    return credentials_query(c, "SELECT " CREDENTIAL_COLUMNS " FROM accounts WHERE lower(email) = lower($1)", email,
                             out, e);
}

err_code store_credentials_by_id(PGconn *c, const char *id, struct store_credentials *out, struct err *e) {
    return credentials_query(c, "SELECT " CREDENTIAL_COLUMNS " FROM accounts WHERE id = $1", id, out, e);
}

err_code store_set_password(PGconn *c, const char *account_id, const char *hash, mkt_time now, struct err *e) {
    char t[40];
    long n = 0;
    err_code code = db_exec(c, e, &n, "UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
                            DB_PARAMS(account_id, hash, STORE__TIME(now, t)));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_NOT_FOUND, "account %s", account_id);
    return code;
}

err_code store_operator_upsert(PGconn *c, const char *id, const char *email, const char *name, const char *hash,
                               mkt_time now, struct err *e) {
    PGresult *r = NULL;
    char t[40];
    err_code code = db_query(c, &r, e, "SELECT operator FROM accounts WHERE lower(email) = lower($1)", DB_PARAMS(email));
    if (code != ERR_OK)
        return code;
    int rows = PQntuples(r);
    bool is_operator = rows > 0 && store__bool(r, 0, 0);
    PQclear(r);
    if (rows > 0 && !is_operator)
        return err_set(e, ERR_CONFLICT, "%s belongs to an organization's account, not an operator", email);
    if (rows == 0)
        return db_exec(c, e, NULL,
                       "INSERT INTO accounts (id, organization_id, name, email, roles, language, operator, "
                       "password_hash, password_changed_at, created_at) "
                       "VALUES ($1, NULL, $2, lower($3), '{}', 'en', true, $4, $5, $5)",
                       DB_PARAMS(id, name, email, hash, STORE__TIME(now, t)));
    if (!hash)
        return ERR_OK;
    return db_exec(c, e, NULL,
                   "UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE lower(email) = lower($1)",
                   DB_PARAMS(email, hash, STORE__TIME(now, t)));
}

err_code store_otp_set_pending(PGconn *c, const char *account_id, const char *sealed, struct err *e) {
    return db_exec(c, e, NULL, "UPDATE accounts SET otp_pending_secret = $2 WHERE id = $1",
                   DB_PARAMS(account_id, sealed));
}

err_code store_otp_enable(PGconn *c, const char *account_id, const char *sealed, int64_t step, struct err *e) {
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)step);
    long n = 0;
    /* Only the secret that was confirmed: a concurrent re-enrolment replaced it, so nothing changes. */
    err_code code = db_exec(c, e, &n,
                            "UPDATE accounts SET otp_secret = otp_pending_secret, otp_pending_secret = NULL, "
                            "otp_last_step = $3 WHERE id = $1 AND otp_pending_secret = $2",
                            DB_PARAMS(account_id, sealed, s));
    if (code == ERR_OK && n == 0)
        code = err_set(e, ERR_CONFLICT, "the enrolment changed meanwhile: enrol again");
    return code;
}

err_code store_otp_disable(PGconn *c, const char *account_id, struct err *e) {
    return db_exec(c, e, NULL,
                   "UPDATE accounts SET otp_secret = NULL, otp_pending_secret = NULL, otp_last_step = NULL "
                   "WHERE id = $1",
                   DB_PARAMS(account_id));
}

err_code store_otp_use_step(PGconn *c, const char *account_id, int64_t step, bool *fresh, struct err *e) {
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)step);
    long n = 0;
    /* One statement: two logins racing with the same code cannot both win (AUTH-6, used once). */
    err_code code = db_exec(c, e, &n,
                            "UPDATE accounts SET otp_last_step = $2 WHERE id = $1 "
                            "AND (otp_last_step IS NULL OR otp_last_step < $2)",
                            DB_PARAMS(account_id, s));
    if (code == ERR_OK)
        *fresh = n > 0;
    return code;
}
