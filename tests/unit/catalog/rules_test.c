/* The catalog's state machines and edit rules (services/catalog/rules.c) as tables: every
 * allowed transition lands where the domain says, every other one is refused with the rule. */
#include <criterion/criterion.h>
#include <string.h>

#include "problems.h"
#include "../../../services/catalog/rules.h"

struct pstep {
    enum product_state from;
    enum product_event ev;
    enum product_state to;
};

/* PROD-6, PUB-4, PROD-8. */
static const struct pstep product_allowed[] = {
    {PRODUCT_DRAFT, PRODUCT_EV_PUBLISH, PRODUCT_PUBLISHING},
    {PRODUCT_DRAFT, PRODUCT_EV_SUBMIT, PRODUCT_IN_REVIEW},
    {PRODUCT_IN_REVIEW, PRODUCT_EV_APPROVE, PRODUCT_PUBLISHING},
    {PRODUCT_IN_REVIEW, PRODUCT_EV_APPROVE_MANUAL, PRODUCT_APPROVED},
    {PRODUCT_IN_REVIEW, PRODUCT_EV_REJECT, PRODUCT_DRAFT},
    {PRODUCT_APPROVED, PRODUCT_EV_PUBLISH, PRODUCT_PUBLISHING},
    {PRODUCT_PUBLISHING, PRODUCT_EV_VERSION_PUBLISHED, PRODUCT_PUBLISHED},
    {PRODUCT_PUBLISHING, PRODUCT_EV_VERSION_FAILED, PRODUCT_DRAFT},
    {PRODUCT_PUBLISHED, PRODUCT_EV_UNPUBLISH, PRODUCT_UNPUBLISHED},
    {PRODUCT_UNPUBLISHED, PRODUCT_EV_PUBLISH, PRODUCT_PUBLISHING},
    {PRODUCT_UNPUBLISHED, PRODUCT_EV_SUBMIT, PRODUCT_IN_REVIEW},
};

static bool product_listed(enum product_state s, enum product_event ev, enum product_state *to) {
    for (size_t i = 0; i < sizeof product_allowed / sizeof product_allowed[0]; i++)
        if (product_allowed[i].from == s && product_allowed[i].ev == ev) {
            *to = product_allowed[i].to;
            return true;
        }
    return false;
}

Test(catalog_rules, product_machine_is_exactly_the_table) {
    for (int s = 0; s < PRODUCT_STATE__COUNT; s++)
        for (int ev = 0; ev < PRODUCT_EV__COUNT; ev++) {
            enum product_state want, got = PRODUCT_STATE__COUNT;
            struct err e = {0};
            err_code rc = rules_product_next((enum product_state)s, (enum product_event)ev, &got, &e);
            if (product_listed((enum product_state)s, (enum product_event)ev, &want)) {
                cr_expect_eq(rc, ERR_OK, "%s + %d: %s", rules_product_state_name((enum product_state)s), ev, e.msg);
                cr_expect_eq(got, want, "%s + %d", rules_product_state_name((enum product_state)s), ev);
            } else {
                cr_expect_eq(rc, ERR_CONFLICT, "%s + %d must be refused", rules_product_state_name((enum product_state)s), ev);
                cr_expect_eq(got, PRODUCT_STATE__COUNT, "no output on refusal");
                cr_expect(strstr(e.msg, rules_product_state_name((enum product_state)s)) != NULL, "%s", e.msg);
            }
        }
}

Test(catalog_rules, published_product_cannot_publish_again) {
    enum product_state to;
    struct err e = {0};
    cr_expect_eq(rules_product_next(PRODUCT_PUBLISHED, PRODUCT_EV_PUBLISH, &to, &e), ERR_CONFLICT);
    cr_expect_str_eq(e.msg, "product is published: it cannot be published (PROD-6)");
}

struct vstep {
    enum version_state from;
    enum version_event ev;
    enum version_state to;
};

/* VER-4, VER-6, VER-8 (an unpublished version is final), PUB-4. */
static const struct vstep version_allowed[] = {
    {VERSION_DRAFT, VERSION_EV_PUBLISH, VERSION_PUBLISHING},
    {VERSION_DRAFT, VERSION_EV_SUBMIT, VERSION_IN_REVIEW},
    {VERSION_IN_REVIEW, VERSION_EV_APPROVE, VERSION_PUBLISHING},
    {VERSION_IN_REVIEW, VERSION_EV_APPROVE_MANUAL, VERSION_APPROVED},
    {VERSION_IN_REVIEW, VERSION_EV_REJECT, VERSION_DRAFT},
    {VERSION_APPROVED, VERSION_EV_PUBLISH, VERSION_PUBLISHING},
    {VERSION_PUBLISHING, VERSION_EV_COPIES_AVAILABLE, VERSION_PUBLISHED},
    {VERSION_PUBLISHING, VERSION_EV_COPY_FAILED, VERSION_FAILED},
    {VERSION_FAILED, VERSION_EV_PUBLISH, VERSION_PUBLISHING},
    {VERSION_FAILED, VERSION_EV_SUBMIT, VERSION_IN_REVIEW},
    {VERSION_PUBLISHED, VERSION_EV_UNPUBLISH, VERSION_UNPUBLISHING},
    {VERSION_UNPUBLISHING, VERSION_EV_COPIES_DELETED, VERSION_UNPUBLISHED},
};

Test(catalog_rules, version_machine_is_exactly_the_table) {
    size_t n = sizeof version_allowed / sizeof version_allowed[0];
    for (int s = 0; s < VERSION_STATE__COUNT; s++)
        for (int ev = 0; ev < VERSION_EV__COUNT; ev++) {
            const struct vstep *row = NULL;
            for (size_t i = 0; i < n; i++)
                if ((int)version_allowed[i].from == s && (int)version_allowed[i].ev == ev)
                    row = &version_allowed[i];
            enum version_state got = VERSION_STATE__COUNT;
            struct err e = {0};
            err_code rc = rules_version_next((enum version_state)s, (enum version_event)ev, &got, &e);
            if (row) {
                cr_expect_eq(rc, ERR_OK, "%d + %d: %s", s, ev, e.msg);
                cr_expect_eq(got, row->to, "%d + %d", s, ev);
            } else {
                cr_expect_eq(rc, ERR_CONFLICT, "%s + %d must be refused", rules_version_state_name((enum version_state)s), ev);
            }
        }
}

Test(catalog_rules, version_edits_follow_ver_8) {
    struct err e = {0};
    cr_expect_eq(rules_version_editable(VERSION_DRAFT, true, &e), ERR_OK);
    cr_expect_eq(rules_version_editable(VERSION_FAILED, true, &e), ERR_OK);
    cr_expect_eq(rules_version_editable(VERSION_PUBLISHED, false, &e), ERR_OK, "other fields of a published version");
    cr_expect_eq(rules_version_editable(VERSION_PUBLISHED, true, &e), ERR_CONFLICT);
    cr_expect(strstr(e.msg, "VER-8") && strstr(e.msg, "OMI"), "%s", e.msg);
    cr_expect_eq(rules_version_editable(VERSION_UNPUBLISHED, false, &e), ERR_CONFLICT);
    cr_expect(strstr(e.msg, "unpublished") && strstr(e.msg, "VER-8"), "%s", e.msg);
    cr_expect_eq(rules_version_editable(VERSION_PUBLISHING, false, &e), ERR_CONFLICT);
    cr_expect_eq(rules_version_editable(VERSION_UNPUBLISHING, false, &e), ERR_CONFLICT);
}

Test(catalog_rules, only_published_version_stays_ver_7) {
    struct err e = {0};
    cr_expect_eq(rules_version_unpublishable(VERSION_PUBLISHED, 1, &e), ERR_OK);
    cr_expect_eq(rules_version_unpublishable(VERSION_PUBLISHED, 0, &e), ERR_CONFLICT);
    cr_expect(strstr(e.msg, "VER-7") && strstr(e.msg, "unpublish the product"), "%s", e.msg);
    cr_expect_eq(rules_version_unpublishable(VERSION_DRAFT, 3, &e), ERR_CONFLICT);
}

Test(catalog_rules, only_drafts_are_deleted_prod_6) {
    struct err e = {0};
    cr_expect_eq(rules_product_deletable(PRODUCT_DRAFT, &e), ERR_OK);
    for (int s = 1; s < PRODUCT_STATE__COUNT; s++)
        cr_expect_eq(rules_product_deletable((enum product_state)s, &e), ERR_CONFLICT, "state %d", s);
    cr_expect(rules_product_unpublish_deletes_copies(PRODUCT_OMI));
    cr_expect_not(rules_product_unpublish_deletes_copies(PRODUCT_OUTSOURCED), "PROD-8: only hidden");
    cr_expect_not(rules_product_unpublish_deletes_copies(PRODUCT_LLM));
}

struct regions_case {
    const char *in[4];
    size_t n;
    size_t want_n;
    const char *want[2];
    const char *problem_field, *problem_rule;
};

/* PROD-4 at creation. */
static const struct regions_case regions_cases[] = {
    {{NULL}, 0, 1, {"cloudgouv-eu-west-1"}, NULL, NULL},
    {{"cloudgouv-eu-west-1"}, 1, 1, {"cloudgouv-eu-west-1"}, NULL, NULL},
    {{"eu-west-2"}, 1, 2, {"cloudgouv-eu-west-1", "eu-west-2"}, NULL, NULL},
    {{"eu-west-2", "cloudgouv-eu-west-1"}, 2, 2, {"cloudgouv-eu-west-1", "eu-west-2"}, NULL, NULL},
    {{"us-east-2"}, 1, 1, {"cloudgouv-eu-west-1"}, "regions[0]", "unknown_region"},
    {{"eu-west-2", "eu-west-2"}, 2, 2, {"cloudgouv-eu-west-1", "eu-west-2"}, "regions[1]", "duplicate"},
    {{"cloudgouv-eu-west-1", ""}, 2, 1, {"cloudgouv-eu-west-1"}, "regions[1]", "unknown_region"},
};

Test(catalog_rules, regions_at_creation_prod_4) {
    for (size_t c = 0; c < sizeof regions_cases / sizeof regions_cases[0]; c++) {
        const struct regions_case *t = &regions_cases[c];
        struct problems p;
        problems_init(&p);
        const char *out[2] = {NULL, NULL};
        size_t n = rules_regions_at_creation(t->in, t->n, out, &p);
        cr_expect_eq(n, t->want_n, "case %zu", c);
        for (size_t i = 0; i < n && i < t->want_n; i++)
            cr_expect_str_eq(out[i], t->want[i], "case %zu", c);
        if (t->problem_field)
            cr_expect(problems_has(&p, t->problem_field, t->problem_rule), "case %zu", c);
        else
            cr_expect_not(problems_any(&p), "case %zu: %s", c, p.n ? p.items[0].field : "");
    }
}

Test(catalog_rules, regions_never_change_later_prod_4) {
    const char *one[] = {"cloudgouv-eu-west-1"}, *two[] = {"cloudgouv-eu-west-1", "eu-west-2"},
               *swapped[] = {"eu-west-2", "cloudgouv-eu-west-1"};
    struct err e = {0};
    cr_expect_eq(rules_regions_change(two, 2, swapped, 2, &e), ERR_OK, "same set, other order");
    cr_expect_eq(rules_regions_change(one, 1, two, 2, &e), ERR_CONFLICT, "adding eu-west-2 later");
    cr_expect(strstr(e.msg, "PROD-4") && strstr(e.msg, "at creation only"), "%s", e.msg);
    cr_expect_eq(rules_regions_change(two, 2, one, 1, &e), ERR_CONFLICT, "removing one");
}

Test(catalog_rules, offer_kinds_per_product_kind) {
    cr_expect(rules_offer_kind_allowed(PRODUCT_OMI, OFFER_HOURLY));
    cr_expect(rules_offer_kind_allowed(PRODUCT_OMI, OFFER_BYOL));
    cr_expect_not(rules_offer_kind_allowed(PRODUCT_OUTSOURCED, OFFER_HOURLY), "BILL-4: billed by the seller");
    cr_expect(rules_offer_kind_allowed(PRODUCT_OUTSOURCED, OFFER_SUBSCRIPTION));
    cr_expect_not(rules_offer_kind_allowed(PRODUCT_KIND__COUNT, OFFER_FREE));
}

Test(catalog_rules, offer_revisions_prod_7) {
    cr_expect_eq(rules_offer_edit(false, 0), OFFER_EDIT_IN_PLACE);
    cr_expect_eq(rules_offer_edit(true, 0), OFFER_EDIT_NEW_REVISION);
    cr_expect_eq(rules_offer_edit(false, 2), OFFER_EDIT_NEW_REVISION);
}

Test(catalog_rules, names_round_trip) {
    for (int s = 0; s < VERSION_STATE__COUNT; s++) {
        enum version_state back;
        cr_expect(rules_version_state_parse(rules_version_state_name((enum version_state)s), &back));
        cr_expect_eq((int)back, s);
    }
    for (int s = 0; s < PRODUCT_STATE__COUNT; s++) {
        enum product_state back;
        cr_expect(rules_product_state_parse(rules_product_state_name((enum product_state)s), &back));
        cr_expect_eq((int)back, s);
    }
    enum product_kind k;
    cr_expect(rules_product_kind_parse("outsourced", &k) && k == PRODUCT_OUTSOURCED);
    cr_expect_not(rules_product_kind_parse("OMI", &k), "names are exact");
    cr_expect_not(rules_product_kind_parse(NULL, &k));
    enum offer_kind o;
    cr_expect(rules_offer_kind_parse("subscription", &o) && o == OFFER_SUBSCRIPTION);
    cr_expect_str_eq(rules_offer_kind_name((enum offer_kind)99), "?");
}
