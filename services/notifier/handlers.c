/* The operators' window on the ledger. Only operators may call it (the gateway checks too): it
 * shows recipients and the non-secret variables, and never reads the secret column, so links'
 * tokens cannot leak through it. Pages follow lib/cursor (limit + 1 rows asked of the store). */
#include "handlers.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "mail.h"
#include "mail.pb-c.h"
#include "notifier.h"
#include "store.h"

/* Newest first (by id: UUIDv7), up to 500 a page (lib/cursor). The cursor is bound to the
 * filters, so it cannot be replayed under others. */
static const struct cursor_list mails_list = {"notifier.mails", CURSOR_ID, 50, 500};

const struct bus_method handlers_methods[] = {
    {"list_mails", &mkt__mail__list_mails_request__descriptor, handlers_list_mails},
};
const size_t handlers_methods_count = sizeof handlers_methods / sizeof handlers_methods[0];

/* The reply's storage: everything the packed message points at, freed after bus_reply. */
struct list_reply {
    Mkt__Mail__MailEntry *entries;
    Mkt__Mail__MailEntry **ptrs;
    json_t **vars;                           /* one parsed object per entry */
    Mkt__Mail__MailEntry__VarsEntry **kv;    /* per entry: its map entries */
    Mkt__Mail__MailEntry__VarsEntry ***kv_ptrs;
    size_t n;
};

static void list_reply_cleanup(struct list_reply *r) {
    for (size_t i = 0; i < r->n; i++) {
        if (r->vars)
            json_decref(r->vars[i]);
        if (r->kv)
            free(r->kv[i]);
        if (r->kv_ptrs)
            free(r->kv_ptrs[i]);
    }
    free(r->entries);
    free(r->ptrs);
    free(r->vars);
    free(r->kv);
    free(r->kv_ptrs);
    memset(r, 0, sizeof *r);
}

static err_code fill_vars(struct list_reply *r, size_t i, const char *json, struct err *e) {
    json_t *o = json_loads(json, 0, NULL);
    r->vars[i] = o;
    size_t n = json_is_object(o) ? json_object_size(o) : 0;
    r->kv[i] = calloc(n ? n : 1, sizeof *r->kv[i]);
    r->kv_ptrs[i] = calloc(n ? n : 1, sizeof *r->kv_ptrs[i]);
    if (!r->kv[i] || !r->kv_ptrs[i])
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t k = 0;
    const char *key;
    json_t *v;
    if (n) {
        json_object_foreach(o, key, v) {
            if (!json_is_string(v))
                continue;
            mkt__mail__mail_entry__vars_entry__init(&r->kv[i][k]);
            r->kv[i][k].key = (char *)key;
            r->kv[i][k].value = (char *)json_string_value(v);
            r->kv_ptrs[i][k] = &r->kv[i][k];
            k++;
        }
    }
    r->entries[i].vars = r->kv_ptrs[i];
    r->entries[i].n_vars = k;
    return ERR_OK;
}

err_code handlers_list_mails(struct bus_call *call, struct err *e) {
    const Mkt__Mail__ListMailsRequest *in = (const Mkt__Mail__ListMailsRequest *)call->in;
    struct store_list l = {0};
    struct list_reply r = {0};
    struct cursor_page page;
    char recipient[MAIL_ADDRESS_MAX + 1] = "", next[CURSOR_TEXT_MAX] = "";
    err_code code = ERR_OK;
    if (!call->req->actor || !call->req->actor->operator_) {
        code = err_set(e, ERR_FORBIDDEN, "list_mails: operators only");
        goto done;
    }
    const char *state = in->state ? in->state : "";
    if (*state && strcmp(state, "pending") && strcmp(state, "sent") && strcmp(state, "failed")) {
        code = err_set(e, ERR_INVALID, "state: must be pending, sent or failed");
        goto done;
    }
    if (in->recipient && *in->recipient && (code = mail_normalize_address(in->recipient, recipient, e)) != ERR_OK) {
        err_wrap(e, "recipient");
        goto done;
    }
    const char *template_name = in->template_ ? in->template_ : "";
    char filter[32 + sizeof recipient + 256];
    snprintf(filter, sizeof filter, "state=%s\nrecipient=%s\ntemplate=%s", state, recipient, template_name);
    struct cursor_key key;
    cursor_key_init(&key, ((const struct notifier *)call->worker->app)->cfg.cursor_key);
    if ((code = cursor_page_init(&page, &mails_list, &key, filter, in->limit, in->cursor, e)) != ERR_OK)
        goto done;
    struct store_list_filter f = {
        .state = state,
        .recipient = recipient,
        .template_name = template_name,
        .before = page.has_after ? page.after.id : NULL,
        .limit = cursor_page_fetch(&page),
    };
    if ((code = store_list_mails(call->worker->db, &f, &l, e)) != ERR_OK)
        goto done;
    size_t n = cursor_page_shown(&page, l.n);
    if ((code = cursor_page_next(&page, l.n, 0, NULL, n ? l.rows[n - 1].id : NULL, next, e)) != ERR_OK)
        goto done;
    r.n = n;
    r.entries = calloc(n ? n : 1, sizeof *r.entries);
    r.ptrs = calloc(n ? n : 1, sizeof *r.ptrs);
    r.vars = calloc(n ? n : 1, sizeof *r.vars);
    r.kv = calloc(n ? n : 1, sizeof *r.kv);
    r.kv_ptrs = calloc(n ? n : 1, sizeof *r.kv_ptrs);
    if (!r.entries || !r.ptrs || !r.vars || !r.kv || !r.kv_ptrs) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const struct store_entry *x = &l.rows[i];
        Mkt__Mail__MailEntry *m = &r.entries[i];
        mkt__mail__mail_entry__init(m);
        m->id = (char *)x->id;
        m->event_key = (char *)x->event_key;
        m->template_ = (char *)x->template_name;
        m->recipient = (char *)x->recipient;
        m->language = (char *)x->language;
        m->state = (char *)x->state;
        m->attempts = x->attempts;
        m->created_us = x->created_at;
        m->updated_us = x->updated_at;
        m->sent_us = x->sent_at;
        m->next_attempt_us = strcmp(x->state, "pending") == 0 ? x->next_attempt_at : 0;
        m->last_error = (char *)x->last_error;
        m->message_id = (char *)x->message_id;
        m->organization_id = (char *)x->organization_id;
        if ((code = fill_vars(&r, i, x->vars_json, e)) != ERR_OK)
            goto done;
        r.ptrs[i] = m;
    }
    Mkt__Mail__ListMailsReply out = MKT__MAIL__LIST_MAILS_REPLY__INIT;
    out.mails = r.ptrs;
    out.n_mails = r.n;
    out.next_cursor = next;
    out.pending = l.pending;
    out.sent = l.sent;
    out.failed = l.failed;
    bus_reply(call, &out.base);
done:
    list_reply_cleanup(&r);
    store_list_cleanup(&l);
    return code;
}
