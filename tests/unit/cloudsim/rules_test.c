/* Unit tests for the emulator's pure rules, table-driven: image visibility (own, public, shared,
 * per Region), wildcard matching and the Filters helpers, EIM policy action matching and
 * document evaluation, and the error table's envelope. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../tools/cloudsim/api.h"
#include "../../../tools/cloudsim/images.h"
#include "../../../tools/cloudsim/policies.h"
#include "../../../tools/cloudsim/state.h"

struct visibility_case {
    const char *owner;
    const char *region;
    bool is_public;
    const char *shared_with; /* NULL = none */
    const char *caller;
    const char *caller_region;
    bool visible;
};

Test(rules, image_visibility) {
    static const struct visibility_case cases[] = {
        {"100000000001", "eu-west-2", false, NULL, "100000000001", "eu-west-2", true},           /* own */
        {"100000000001", "eu-west-2", false, NULL, "100000000002", "eu-west-2", false},          /* private */
        {"100000000001", "eu-west-2", true, NULL, "100000000002", "eu-west-2", true},            /* public */
        {"100000000001", "eu-west-2", false, "100000000002", "100000000002", "eu-west-2", true}, /* shared */
        {"100000000001", "eu-west-2", false, "100000000003", "100000000002", "eu-west-2", false},
        {"100000000001", "eu-west-2", false, NULL, "100000000001", "cloudgouv-eu-west-1", false}, /* Region */
        {"100000000001", "eu-west-2", true, NULL, "100000000002", "cloudgouv-eu-west-1", false},
        {"100000000001", "eu-west-2", false, "100000000002", "100000000002", "us-east-2", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct visibility_case *c = &cases[i];
        struct state_image *im = state_image_new();
        snprintf(im->account_id, sizeof im->account_id, "%s", c->owner);
        snprintf(im->region, sizeof im->region, "%s", c->region);
        im->is_public = c->is_public;
        if (c->shared_with)
            state_strs_add(&im->launch_accounts, c->shared_with);
        cr_assert_eq(images_visible(im, c->caller, c->caller_region), c->visible, "case %zu", i);
        state_image_free(im);
    }
}

struct glob_case {
    const char *pattern, *s;
    bool match;
};

Test(rules, wildcards) {
    static const struct glob_case cases[] = {
        {"Ubuntu*", "Ubuntu-22.04", true},   {"*22.04*", "Ubuntu-22.04-x", true}, {"*", "", true},
        {"*", "anything", true},             {"exact", "exact", true},            {"exact", "exactly", false},
        {"ubuntu*", "Ubuntu-22.04", false},  {"a?c", "abc", true},                {"a?c", "ac", false},
        {"*-copy-*-v?", "mkt-copy-x-v1", true}, {"a*b*c", "aXbYc", true},         {"a*b*c", "aXbY", false},
        {"", "", true},                      {"", "x", false},                    {"**", "x", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(api_glob(cases[i].pattern, cases[i].s), cases[i].match, "case %zu: '%s' vs '%s'", i,
                     cases[i].pattern, cases[i].s);
}

Test(rules, filters) {
    json_t *f = json_pack("{s:[s,s], s:[s], s:[s], s:[s]}", "ImageIds", "ami-1", "ami-2", "ImageNames", "mkt-*",
                          "ProductCodes", "pty-1", "Tags", "env=prod");
    cr_assert(api_filter_str(f, "ImageIds", "ami-2"));
    cr_assert(!api_filter_str(f, "ImageIds", "ami-3"));
    cr_assert(api_filter_str(f, "States", "anything"), "an absent filter matches");
    cr_assert(api_filter_str(NULL, "ImageIds", "x"), "no Filters at all matches");
    cr_assert(api_filter_glob(f, "ImageNames", "mkt-copy"));
    cr_assert(!api_filter_glob(f, "ImageNames", "other"));
    struct state_strs codes = {0};
    cr_assert(!api_filter_any(f, "ProductCodes", &codes), "no code, no match");
    state_strs_add(&codes, "0001");
    state_strs_add(&codes, "pty-1");
    cr_assert(api_filter_any(f, "ProductCodes", &codes));
    state_strs_clear(&codes);
    struct state_tags tags = {0};
    cr_assert(!api_filter_tags(f, &tags));
    state_tags_set(&tags, "env", "dev");
    cr_assert(!api_filter_tags(f, &tags));
    state_tags_set(&tags, "env", "prod");
    cr_assert(api_filter_tags(f, &tags), "the value is replaced");
    cr_assert_eq(tags.keys.n, 1);
    state_tags_remove(&tags, "env", "dev");
    cr_assert_eq(tags.keys.n, 1, "removal needs the value when given");
    state_tags_remove(&tags, "env", NULL);
    cr_assert_eq(tags.keys.n, 0);
    state_strs_clear(&tags.keys);
    state_strs_clear(&tags.values);
    json_decref(f);
}

struct action_case {
    const char *pattern, *action;
    bool match;
};

Test(rules, policy_action_matching) {
    static const struct action_case cases[] = {
        {"api:ReadVms", "api:ReadVms", true},   {"api:readvms", "api:ReadVms", true},
        {"api:*", "api:DeleteUser", true},      {"*", "api:ReadVms", true},
        {"api:Read*", "api:ReadVms", true},     {"api:Read*", "api:CreateVms", false},
        {"api:ReadVms", "api:ReadVmsState", false}, {"api:Read*s", "api:ReadImages", true},
        {"eim:*", "api:ReadVms", false},        {"api:ReadVm", "api:ReadVms", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(policies_action_matches(cases[i].pattern, cases[i].action), cases[i].match, "case %zu", i);
}

struct document_case {
    const char *document;
    const char *action;
    enum policies_effect effect;
};

Test(rules, policy_documents) {
    static const struct document_case cases[] = {
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"api:ReadVms\"],\"Resource\":[\"*\"]}]}", "api:ReadVms",
         POLICIES_ALLOW},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"api:ReadVms\"],\"Resource\":[\"*\"]}]}",
         "api:ReadImages", POLICIES_NONE},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"api:Read*\"}]}", "api:ReadImages", POLICIES_ALLOW},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"api:*\"},{\"Effect\":\"Deny\",\"Action\":\"api:Delete*\"}]}",
         "api:DeleteVms", POLICIES_DENY},
        {"{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"api:Delete*\"},{\"Effect\":\"Allow\",\"Action\":\"api:*\"}]}",
         "api:DeleteVms", POLICIES_DENY},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"api:*\"},{\"Effect\":\"Deny\",\"Action\":\"api:Delete*\"}]}",
         "api:ReadVms", POLICIES_ALLOW},
        {"not json", "api:ReadVms", POLICIES_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(policies_evaluate(cases[i].document, cases[i].action), cases[i].effect, "case %zu", i);
}

Test(rules, policy_document_validation) {
    static const char *const good[] = {
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"api:ReadVms\"],\"Resource\":[\"*\"]}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"api:*\",\"Resource\":\"*\"}]}",
    };
    static const char *const bad[] = {
        "", "[]", "{}", "{\"Statement\":[]}", "{\"Statement\":[{\"Action\":\"api:*\"}]}",
        "{\"Statement\":[{\"Effect\":\"Maybe\",\"Action\":\"api:*\"}]}", "{\"Statement\":[{\"Effect\":\"Allow\"}]}",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[1]}]}",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"api:*\",\"Resource\":7}]}",
    };
    struct err e = {0};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_eq(policies_check_document(good[i], &e), ERR_OK, "good %zu: %s", i, e.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(policies_check_document(bad[i], &e), ERR_INVALID, "bad %zu", i);
}

Test(rules, orns_and_paths) {
    char orn[256];
    policies_orn("100000000001", "/", "read-vms", orn, sizeof orn);
    cr_assert_str_eq(orn, "orn:ows:idauth::100000000001:policy/read-vms");
    policies_orn("100000000001", "/mkt/meter/", "read-vms", orn, sizeof orn);
    cr_assert_str_eq(orn, "orn:ows:idauth::100000000001:policy/mkt/meter/read-vms");
    cr_assert(policies_path_ok("/"));
    cr_assert(policies_path_ok("/mkt/"));
    cr_assert(!policies_path_ok("mkt/"));
    cr_assert(!policies_path_ok("/mkt"));
    cr_assert(!policies_path_ok("//"));
    cr_assert(!policies_path_ok("/a b/"));
}

Test(rules, error_envelope) {
    json_t *b = api_error_body(API_E_NO_IMAGE, "image ami-1", "rid");
    const json_t *err0 = json_array_get(json_object_get(b, "Errors"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(err0, "Code")), "5023", "Code is a string");
    cr_assert_str_eq(json_string_value(json_object_get(err0, "Type")), "InvalidResource");
    cr_assert_str_eq(json_string_value(json_object_get(err0, "Details")), "image ami-1");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "ResponseContext"), "RequestId")), "rid");
    json_decref(b);
    cr_assert_eq(api_error_status(API_E_LOCKED), 401);
    cr_assert_str_eq(api_error_code(API_E_LOCKED), "13");
    cr_assert_eq(api_error_status(API_E_THROTTLED), 429);
    cr_assert_eq(api_error_from_validation("field 'Foo': unknown field"), API_E_INVALID_PARAM);
    cr_assert_eq(api_error_from_validation("field 'ImageId': required"), API_E_MISSING_PARAM);
    cr_assert_eq(api_error_from_validation("field 'ImageName': must be 3 to 128 characters long (got 2)"),
                 API_E_INVALID_VALUE);
    for (int i = 0; i < API_E__COUNT; i++)
        cr_assert(api_error_code(i) && api_error_type(i) && api_error_status(i) >= 400, "error %d", i);
}
