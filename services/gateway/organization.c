/* HTTP routes about organizations: the caller's own (ORG-4/6, ACC-1..5: details, accounts, attached
 * OUTSCALE accounts) and the operators' view of all of them (ORG-3 validation, ORG-5 UGAP) and of
 * the sent-mail ledger (notifier.list_mails). The organization is always the actor's: identity
 * takes it from the actor, never from the path, and answers NOT_FOUND for ids of other
 * organizations, which the gateway passes on as 404. Every list takes ?limit= and ?cursor= and
 * answers {"<items>": [...], "next_cursor": "..." | null} (lib/cursor). */
#include <string.h>

#include "gateway.h"

static const char *jstr(const json_t *obj, const char *name) {
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

static void reply_organization(struct http_response *res, ProtobufCMessage *out, int status) {
    http_response_json(res, status, gateway_organization_json((const Mkt__Identity__Organization *)out));
    protobuf_c_message_free_unpacked(out, NULL);
}

static void private_no_cache(struct http_response *res) {
    http_response_header(res, "Cache-Control", "private, no-cache");
}

/* ---- the caller's organization -------------------------------------------------------------- */

GATEWAY_HANDLER(gateway_get_organization) {
    Mkt__Identity__IdRequest in = MKT__IDENTITY__ID_REQUEST__INIT; /* no id: the caller's own */
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "get_organization", &in.base, &mkt__identity__organization__descriptor,
                     &out))
        reply_organization(res, out, 200);
    private_no_cache(res);
}

GATEWAY_HANDLER(gateway_patch_organization) {
    json_t *body = gateway_body(r, res, &gateway_schema_update_organization);
    if (!body)
        return;
    Mkt__Identity__UpdateOrganization in = MKT__IDENTITY__UPDATE_ORGANIZATION__INIT;
    in.name = (char *)jstr(body, "name");
    in.partner_number = (char *)jstr(body, "partner_number");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "update_organization", &in.base, &mkt__identity__organization__descriptor,
                     &out))
        reply_organization(res, out, 200);
    json_decref(body);
}

/* Page sizes of the list routes (the services default to 50 and check the same maximum). */
#define ACCOUNTS_MAX 100
#define OUTSCALE_ACCOUNTS_MAX 100
#define ORGANIZATIONS_MAX 200
#define MAILS_MAX 500

/* ?limit=&cursor= of a list route into limit and cursor, or false after writing 400. */
static bool page_query(const struct gateway_req *r, struct http_response *res, long long max, long long *limit,
                       const char **cursor) {
    struct err e = {0};
    if (gateway_query_page(r->http, max, limit, cursor, &e) == ERR_OK)
        return true;
    gateway_error(res, r, ERR_INVALID, e.msg);
    return false;
}

GATEWAY_HANDLER(gateway_get_accounts) {
    long long limit;
    const char *cursor;
    if (!page_query(r, res, ACCOUNTS_MAX, &limit, &cursor))
        return;
    Mkt__Identity__ListPage in = MKT__IDENTITY__LIST_PAGE__INIT;
    in.limit = (int32_t)limit;
    in.cursor = (char *)cursor;
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "list_accounts", &in.base, &mkt__identity__account_list__descriptor,
                     &out)) {
        const Mkt__Identity__AccountList *l = (const Mkt__Identity__AccountList *)out;
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n_accounts; i++)
            json_array_append_new(arr, gateway_account_json(l->accounts[i]));
        http_response_json(res, 200,
                           json_pack("{s:o,s:o}", "accounts", arr, "next_cursor", gateway_str_json(l->next_cursor)));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    private_no_cache(res);
}

/* The array of strings at body[name] as char * (borrowed), at most max. */
static char **strings(const json_t *body, const char *name, size_t *n, char *buf[], size_t max) {
    const json_t *arr = json_object_get(body, name);
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(arr) && k < max; i++)
        buf[k++] = (char *)json_string_value(json_array_get(arr, i));
    *n = k;
    return k ? buf : NULL;
}

GATEWAY_HANDLER(gateway_post_accounts) {
    json_t *body = gateway_body(r, res, &gateway_schema_create_account);
    if (!body)
        return;
    char *roles[2];
    Mkt__Identity__CreateAccount in = MKT__IDENTITY__CREATE_ACCOUNT__INIT;
    in.name = (char *)jstr(body, "name");
    in.email = (char *)jstr(body, "email");
    in.roles = strings(body, "roles", &in.n_roles, roles, 2);
    in.language = *jstr(body, "language") ? (char *)jstr(body, "language") : "en";
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "create_account", &in.base, &mkt__identity__account__descriptor, &out)) {
        http_response_json(res, 201, gateway_account_json((const Mkt__Identity__Account *)out));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    json_decref(body);
}

GATEWAY_HANDLER(gateway_patch_account) {
    json_t *body = gateway_body(r, res, &gateway_schema_update_account);
    if (!body)
        return;
    char *roles[2];
    Mkt__Identity__UpdateAccount in = MKT__IDENTITY__UPDATE_ACCOUNT__INIT;
    in.id = (char *)gateway_param(&r->params, "id");
    in.set_name = json_is_string(json_object_get(body, "name"));
    in.name = (char *)jstr(body, "name");
    in.set_email = json_is_string(json_object_get(body, "email"));
    in.email = (char *)jstr(body, "email");
    in.set_roles = json_is_array(json_object_get(body, "roles"));
    in.roles = strings(body, "roles", &in.n_roles, roles, 2);
    in.set_language = json_is_string(json_object_get(body, "language"));
    in.language = (char *)jstr(body, "language");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "update_account", &in.base, &mkt__identity__account__descriptor, &out)) {
        http_response_json(res, 200, gateway_account_json((const Mkt__Identity__Account *)out));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    json_decref(body);
}

/* DELETE .../{id}: no body (or {}), an IdRequest, 204. */
static void delete_by_id(struct gateway *g, const struct gateway_req *r, struct http_response *res,
                         const char *method) {
    json_t *body = gateway_body(r, res, &gateway_schema_empty);
    if (!body)
        return;
    Mkt__Identity__IdRequest in = MKT__IDENTITY__ID_REQUEST__INIT;
    in.id = (char *)gateway_param(&r->params, "id");
    if (gateway_call(g, r, res, "identity", method, &in.base, NULL, NULL))
        gateway_no_content(res);
    json_decref(body);
}

GATEWAY_HANDLER(gateway_delete_account) {
    delete_by_id(g, r, res, "delete_account");
}

GATEWAY_HANDLER(gateway_get_outscale_accounts) {
    long long limit;
    const char *cursor;
    if (!page_query(r, res, OUTSCALE_ACCOUNTS_MAX, &limit, &cursor))
        return;
    Mkt__Identity__ListPage in = MKT__IDENTITY__LIST_PAGE__INIT;
    in.limit = (int32_t)limit;
    in.cursor = (char *)cursor;
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "list_outscale_accounts", &in.base,
                     &mkt__identity__outscale_account_list__descriptor, &out)) {
        const Mkt__Identity__OutscaleAccountList *l = (const Mkt__Identity__OutscaleAccountList *)out;
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n_accounts; i++)
            json_array_append_new(arr, gateway_outscale_account_json(l->accounts[i]));
        http_response_json(res, 200,
                           json_pack("{s:o,s:o}", "outscale_accounts", arr, "next_cursor",
                                     gateway_str_json(l->next_cursor)));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    private_no_cache(res);
}

GATEWAY_HANDLER(gateway_post_outscale_accounts) {
    json_t *body = gateway_body(r, res, &gateway_schema_attach_outscale);
    if (!body)
        return;
    Mkt__Identity__AttachOutscaleAccount in = MKT__IDENTITY__ATTACH_OUTSCALE_ACCOUNT__INIT;
    in.access_key = (char *)jstr(body, "access_key");
    in.secret_key = (char *)jstr(body, "secret_key");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "attach_outscale_account", &in.base,
                     &mkt__identity__outscale_account__descriptor, &out)) {
        http_response_json(res, 201, gateway_outscale_account_json((const Mkt__Identity__OutscaleAccount *)out));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    json_decref(body);
}

GATEWAY_HANDLER(gateway_delete_outscale_account) {
    delete_by_id(g, r, res, "detach_outscale_account");
}

/* ---- operators ------------------------------------------------------------------------------ */

static const char *const org_statuses[] = {"pending", "validated", NULL};
static const struct jsonv_field status_rule = {.type = JSONV_STRING, .one_of = org_statuses};

GATEWAY_HANDLER(gateway_get_operator_organizations) {
    const char *status = http_query(r->http, "status"), *cursor;
    long long limit;
    struct err e = {0};
    if (gateway_check_query("status", status, &status_rule, &e) != ERR_OK) {
        gateway_error(res, r, ERR_INVALID, e.msg);
        return;
    }
    if (!page_query(r, res, ORGANIZATIONS_MAX, &limit, &cursor))
        return;
    Mkt__Identity__ListOrganizations in = MKT__IDENTITY__LIST_ORGANIZATIONS__INIT;
    in.status = (char *)(status ? status : "");
    in.limit = (int32_t)limit;
    in.cursor = (char *)cursor;
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "list_organizations", &in.base,
                     &mkt__identity__organization_list__descriptor, &out)) {
        const Mkt__Identity__OrganizationList *l = (const Mkt__Identity__OrganizationList *)out;
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n_organizations; i++)
            json_array_append_new(arr, gateway_organization_json(l->organizations[i]));
        http_response_json(res, 200,
                           json_pack("{s:o,s:o}", "organizations", arr, "next_cursor",
                                     gateway_str_json(l->next_cursor)));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    private_no_cache(res);
}

GATEWAY_HANDLER(gateway_get_operator_organization) {
    Mkt__Identity__IdRequest in = MKT__IDENTITY__ID_REQUEST__INIT;
    in.id = (char *)gateway_param(&r->params, "id");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "get_organization", &in.base, &mkt__identity__organization__descriptor,
                     &out))
        reply_organization(res, out, 200);
    private_no_cache(res);
}

GATEWAY_HANDLER(gateway_post_operator_validate) {
    json_t *body = gateway_body(r, res, &gateway_schema_validate);
    if (!body)
        return;
    Mkt__Identity__ValidateOrganization in = MKT__IDENTITY__VALIDATE_ORGANIZATION__INIT;
    in.id = (char *)gateway_param(&r->params, "id");
    in.partner_decision = (char *)jstr(body, "partner_decision"); /* PUB-1 */
    in.partner_reason = (char *)jstr(body, "partner_reason");
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "validate_organization", &in.base,
                     &mkt__identity__organization__descriptor, &out))
        reply_organization(res, out, 200);
    json_decref(body);
}

GATEWAY_HANDLER(gateway_put_operator_ugap) {
    json_t *body = gateway_body(r, res, &gateway_schema_ugap);
    if (!body)
        return;
    Mkt__Identity__SetUgap in = MKT__IDENTITY__SET_UGAP__INIT;
    in.id = (char *)gateway_param(&r->params, "id");
    in.ugap = json_is_true(json_object_get(body, "ugap"));
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "identity", "set_ugap", &in.base, &mkt__identity__organization__descriptor, &out))
        reply_organization(res, out, 200);
    json_decref(body);
}

static const char *const mail_states[] = {"pending", "sent", "failed", NULL};
static const struct jsonv_field state_rule = {.type = JSONV_STRING, .one_of = mail_states};
static const struct jsonv_field recipient_rule = {.type = JSONV_STRING, .min = 3, .max = 254, .format = JSONV_EMAIL};
static const struct jsonv_field template_rule = {.type = JSONV_STRING, .min = 1, .max = 64};

GATEWAY_HANDLER(gateway_get_operator_mails) {
    const char *state = http_query(r->http, "state"), *recipient = http_query(r->http, "recipient"),
               *template = http_query(r->http, "template"), *cursor;
    long long limit;
    struct err e = {0};
    if (http_query(r->http, "before")) { /* the ledger's own cursor before lib/cursor: say so, not ignore it */
        gateway_error(res, r, ERR_INVALID, "query parameter 'before': replaced by 'cursor' (next_cursor of the "
                                           "previous page)");
        return;
    }
    if (gateway_check_query("state", state, &state_rule, &e) != ERR_OK ||
        gateway_check_query("recipient", recipient, &recipient_rule, &e) != ERR_OK ||
        gateway_check_query("template", template, &template_rule, &e) != ERR_OK) {
        gateway_error(res, r, ERR_INVALID, e.msg);
        return;
    }
    if (!page_query(r, res, MAILS_MAX, &limit, &cursor))
        return;
    Mkt__Mail__ListMailsRequest in = MKT__MAIL__LIST_MAILS_REQUEST__INIT;
    in.state = (char *)(state ? state : "");
    in.recipient = (char *)(recipient ? recipient : "");
    in.template_ = (char *)(template ? template : "");
    in.limit = (int32_t)limit;
    in.cursor = (char *)cursor;
    ProtobufCMessage *out = NULL;
    if (gateway_call(g, r, res, "notifier", "list_mails", &in.base, &mkt__mail__list_mails_reply__descriptor, &out)) {
        http_response_json(res, 200, gateway_mails_json((const Mkt__Mail__ListMailsReply *)out));
        protobuf_c_message_free_unpacked(out, NULL);
    }
    private_no_cache(res);
}
