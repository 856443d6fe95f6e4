/* From a command or resolved event to ledger rows. Every rule that makes a message poison lives
 * here, so the consumers stay thin and the unit tests can walk the whole table of bad inputs
 * without servers. Only the declared variables are kept: an extra variable sent by a producer is
 * ignored rather than stored where operators could read it. */
#include "plan.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "log.h"

void plan_cleanup(struct plan *p) {
    free(p->mails);
    free(p->vars_json);
    free(p->secret_json);
    memset(p, 0, sizeof *p);
}

static const char *offered(const struct plan_request *r, const char *name) {
    const char *v = NULL;
    for (size_t i = 0; i < r->n_vars; i++)
        if (r->var_names[i] && strcmp(r->var_names[i], name) == 0)
            v = r->var_values[i] ? r->var_values[i] : "";
    return v;
}

/* Public and secret JSON objects of the declared variables; ERR_INVALID for a missing one. */
static err_code split_vars(const struct tmpl *t, const struct plan_request *r, struct plan *p, struct err *e) {
    err_code code = ERR_OK;
    json_t *pub = json_object(), *sec = NULL;
    if (!pub) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < tmpl_var_count(t); i++) {
        const struct tmpl_var *v = tmpl_var_at(t, i);
        const char *value = offered(r, v->name);
        if (!value || !*value) {
            code = err_set(e, ERR_INVALID, "template '%s': missing variable '%s'", tmpl_name(t), v->name);
            goto done;
        }
        if ((code = mail_check_value(v->name, value, e)) != ERR_OK) {
            err_wrap(e, "template '%s'", tmpl_name(t));
            goto done;
        }
        if (v->secret && !sec && !(sec = json_object())) {
            code = err_set(e, ERR_INTERNAL, "out of memory");
            goto done;
        }
        if (json_object_set_new(v->secret ? sec : pub, v->name, json_string(value)) != 0) {
            code = err_set(e, ERR_INTERNAL, "out of memory");
            goto done;
        }
    }
    p->vars_json = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
    p->secret_json = sec ? json_dumps(sec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!p->vars_json || (sec && !p->secret_json))
        code = err_set(e, ERR_INTERNAL, "out of memory");
done:
    json_decref(pub);
    json_decref(sec);
    return code;
}

err_code plan_init(const struct tmpl_set *templates, const struct plan_request *r, mkt_time now, mkt_time retry_for,
                    struct plan *out, struct err *e) {
    struct plan p = {0};
    err_code code = ERR_OK;
    const struct tmpl *t = r->template_name && *r->template_name ? tmpl_find(templates, r->template_name) : NULL;
    if (!t) {
        code = err_set(e, ERR_INVALID, "unknown template '%.64s'", r->template_name ? r->template_name : "");
        goto done;
    }
    if (!r->event_key || !*r->event_key || strlen(r->event_key) > MAIL_KEY_MAX) {
        code = err_set(e, ERR_INVALID, "idempotency key: must be 1 to %d bytes", MAIL_KEY_MAX);
        goto done;
    }
    if (r->n_recipients == 0 && !r->skip_bad_recipients) {
        code = err_set(e, ERR_INVALID, "template '%s': no recipient", tmpl_name(t));
        goto done;
    }
    if ((code = split_vars(t, r, &p, e)) != ERR_OK)
        goto done;
    p.mails = calloc(r->n_recipients ? r->n_recipients : 1, sizeof *p.mails);
    if (!p.mails) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r->n_recipients; i++) {
        const struct plan_recipient *rc = &r->recipients[i];
        struct plan_mail *m = &p.mails[p.n];
        struct err bad = {0};
        if (mail_normalize_address(rc->address, m->recipient, &bad) != ERR_OK ||
            mail_check_name(rc->name, &bad) != ERR_OK) {
            if (!r->skip_bad_recipients) {
                code = err_set(e, ERR_INVALID, "%s", bad.msg);
                goto done;
            }
            log_warn("template %s, event %s: recipient skipped: %s", tmpl_name(t), r->event_id, bad.msg);
            p.skipped++;
            continue;
        }
        bool duplicate = false;
        for (size_t j = 0; j < p.n && !duplicate; j++)
            duplicate = strcmp(p.mails[j].recipient, m->recipient) == 0;
        if (duplicate)
            continue;
        id_uuid(m->id);
        mail_message_id(r->event_key, m->recipient, m->message_id);
        m->row = (struct store_new_mail){
            .id = m->id,
            .event_key = r->event_key,
            .event_id = r->event_id,
            .event_type = r->event_type,
            .recipient = m->recipient,
            .recipient_name = rc->name ? rc->name : "",
            .language = mail_language(rc->language),
            .template_name = tmpl_name(t),
            .organization_id = r->organization_id,
            .correlation_id = r->correlation_id,
            .vars_json = p.vars_json,
            .secret_vars_json = p.secret_json,
            .message_id = m->message_id,
            .created_at = now,
            .give_up_at = now + retry_for,
        };
        p.n++;
    }
    *out = p;
    memset(&p, 0, sizeof p);
done:
    plan_cleanup(&p);
    return code;
}
