/* Protobuf replies -> the JSON the API documents (docs/openapi.yaml). Each shape is written out
 * field by field, not derived from the descriptors: a field added to a message stays invisible
 * until someone decides to show it, so secrets cannot leak by accident and the API does not
 * change when the protobuf does. Times are ISO 8601 UTC; empty strings and zero times are null. */
#define _GNU_SOURCE /* strcasestr */
#include <string.h>

#include "gateway.h"

json_t *gateway_time_json(mkt_time t) {
    if (t == 0)
        return json_null();
    char buf[40];
    clock_format(t, buf, sizeof buf);
    return json_string(buf);
}

json_t *gateway_str_json(const char *s) {
    return s && *s ? json_string(s) : json_null();
}

static json_t *str(const char *s) {
    return json_string(s ? s : "");
}

static json_t *strings(char **v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, str(v[i]));
    return a;
}

json_t *gateway_account_json(const Mkt__Identity__Account *a) {
    json_t *j = json_object();
    json_object_set_new(j, "id", str(a->id));
    json_object_set_new(j, "organization_id", gateway_str_json(a->organization_id));
    json_object_set_new(j, "name", str(a->name));
    json_object_set_new(j, "email", str(a->email));
    json_object_set_new(j, "roles", strings(a->roles, a->n_roles));
    json_object_set_new(j, "language", str(a->language));
    json_object_set_new(j, "password_set", json_boolean(a->password_set));
    json_object_set_new(j, "otp_enabled", json_boolean(a->otp_enabled));
    json_object_set_new(j, "operator", json_boolean(a->operator_));
    json_object_set_new(j, "eim", json_pack("{s:o,s:o}", "state", gateway_str_json(a->eim_state), "user_name",
                                            gateway_str_json(a->eim_user_name)));
    json_object_set_new(j, "created_at", gateway_time_json(a->created_us));
    return j;
}

json_t *gateway_organization_json(const Mkt__Identity__Organization *o) {
    json_t *j = json_object();
    json_object_set_new(j, "id", str(o->id));
    json_object_set_new(j, "name", str(o->name));
    json_object_set_new(j, "types", strings(o->types, o->n_types));
    json_object_set_new(j, "region", str(o->region));
    json_object_set_new(j, "status", str(o->status));
    json_object_set_new(j, "ugap", json_boolean(o->ugap));
    json_object_set_new(j, "outscale_account_id", gateway_str_json(o->outscale_account_id));
    json_object_set_new(j, "created_at", gateway_time_json(o->created_us));
    json_object_set_new(j, "validated_at", gateway_time_json(o->validated_us));
    json_t *partner = json_pack("{s:o,s:o,s:o}", "number", gateway_str_json(o->partner_number), "status",
                                gateway_str_json(o->partner_status), "reason", gateway_str_json(o->partner_reason));
    json_object_set_new(j, "partner_programme", partner); /* PUB-1 */
    return j;
}

json_t *gateway_outscale_account_json(const Mkt__Identity__OutscaleAccount *o) {
    json_t *j = json_object();
    json_object_set_new(j, "id", str(o->id));
    json_object_set_new(j, "account_id", str(o->account_id));
    json_object_set_new(j, "email", gateway_str_json(o->email));
    json_object_set_new(j, "primary", json_boolean(o->primary));
    json_object_set_new(j, "eim_state", gateway_str_json(o->eim_state));
    json_object_set_new(j, "attached_at", gateway_time_json(o->attached_us));
    return j;
}

bool gateway_secret_var(const char *name) {
    static const char *const words[] = {"token", "secret", "password", "link", "url", "otp", "key", NULL};
    for (const char *const *w = words; *w; w++)
        if (strcasestr(name, *w))
            return true;
    return false;
}

json_t *gateway_mail_json(const Mkt__Mail__MailEntry *m) {
    json_t *j = json_object();
    json_object_set_new(j, "id", str(m->id));
    json_object_set_new(j, "event_key", str(m->event_key));
    json_object_set_new(j, "template", str(m->template_));
    json_object_set_new(j, "recipient", str(m->recipient));
    json_object_set_new(j, "language", gateway_str_json(m->language));
    json_object_set_new(j, "state", str(m->state));
    json_object_set_new(j, "attempts", json_integer(m->attempts));
    json_object_set_new(j, "created_at", gateway_time_json(m->created_us));
    json_object_set_new(j, "updated_at", gateway_time_json(m->updated_us));
    json_object_set_new(j, "sent_at", gateway_time_json(m->sent_us));
    json_object_set_new(j, "next_attempt_at", gateway_time_json(m->next_attempt_us));
    json_object_set_new(j, "last_error", gateway_str_json(m->last_error));
    json_object_set_new(j, "message_id", gateway_str_json(m->message_id));
    json_object_set_new(j, "organization_id", gateway_str_json(m->organization_id));
    json_t *vars = json_object();
    for (size_t i = 0; i < m->n_vars; i++) {
        const Mkt__Mail__MailEntry__VarsEntry *v = m->vars[i];
        if (v->key && !gateway_secret_var(v->key))
            json_object_set_new(vars, v->key, str(v->value));
    }
    json_object_set_new(j, "vars", vars);
    return j;
}

json_t *gateway_mails_json(const Mkt__Mail__ListMailsReply *l) {
    json_t *mails = json_array();
    for (size_t i = 0; i < l->n_mails; i++)
        json_array_append_new(mails, gateway_mail_json(l->mails[i]));
    return json_pack("{s:o,s:o,s:{s:I,s:I,s:I}}", "mails", mails, "next_cursor", gateway_str_json(l->next_cursor),
                     "totals", "pending", (json_int_t)l->pending, "sent", (json_int_t)l->sent, "failed",
                     (json_int_t)l->failed);
}
