/* Catalog request validation (services/catalog/validation.c): offers of each kind with every
 * problem at once, bilingual texts, URLs, categories, VM types, software base. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/catalog/validation.h"

static struct problems run_offer(const struct offer_input *o, enum product_kind pk, bool ugap) {
    struct problems p;
    problems_init(&p);
    enum offer_kind k;
    validation_offer(&p, o, pk, ugap, &k);
    return p;
}

Test(catalog_validation, good_offers_of_each_kind) {
    struct offer_price prices[] = {{"tinav5.c2r4p2", 12}, {"tinav6.c16r64p1", 250}};
    struct offer_input offers[] = {
        {.kind = "hourly", .prices = prices, .n_prices = 2, .currency = "EUR"},
        {.kind = "free"},
        {.kind = "byol", .licence_url = "https://seller.example/licence"},
        {.kind = "subscription", .period = "month", .price_cents = 9900},
        {.kind = "subscription", .period = "year", .price_cents = 99000, .ugap = true},
    };
    for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++) {
        struct problems p = run_offer(&offers[i], PRODUCT_OMI, true);
        cr_expect_eq(p.n, 0, "offer %zu: %s %s", i, p.n ? p.items[0].field : "", p.n ? p.items[0].rule : "");
    }
}

Test(catalog_validation, hourly_offer_lists_every_problem) {
    struct offer_price prices[] = {{"tinav5.c2r4p2", 0}, {"m5.large", 10}, {"tinav5.c2r4p2", 100001}};
    struct offer_input o = {.kind = "hourly", .prices = prices, .n_prices = 3, .period = "month", .currency = "USD"};
    struct problems p = run_offer(&o, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "prices[0].cents_per_hour", "out_of_range"));
    cr_expect(problems_has(&p, "prices[1].vm_type", "unknown_vm_type"));
    cr_expect(problems_has(&p, "prices[2].vm_type", "duplicate"));
    cr_expect(problems_has(&p, "prices[2].cents_per_hour", "out_of_range"));
    cr_expect(problems_has(&p, "period", "not_allowed_for_offer_kind"));
    cr_expect(problems_has(&p, "currency", "unsupported_currency"));
    cr_expect_eq(p.n, 6);
}

Test(catalog_validation, kind_specific_fields) {
    struct offer_input hourly_empty = {.kind = "hourly"};
    struct problems p = run_offer(&hourly_empty, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "prices", "required"));
    struct offer_input sub = {.kind = "subscription", .period = "week"};
    p = run_offer(&sub, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "period", "unknown_period"));
    cr_expect(problems_has(&p, "price_cents", "out_of_range"));
    struct offer_input byol = {.kind = "byol", .licence_url = "http://insecure.example"};
    p = run_offer(&byol, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "licence_url", "not_https"));
    struct offer_input byol_missing = {.kind = "byol"};
    p = run_offer(&byol_missing, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "licence_url", "required"));
    struct offer_input free_priced = {.kind = "free", .price_cents = 5, .licence_url = "https://x.example"};
    p = run_offer(&free_priced, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "price_cents", "not_allowed_for_offer_kind"));
    cr_expect(problems_has(&p, "licence_url", "not_allowed_for_offer_kind"));
    struct offer_input unknown = {.kind = "lifetime"}, none = {0};
    p = run_offer(&unknown, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "kind", "unknown_kind"));
    p = run_offer(&none, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "kind", "required"));
}

Test(catalog_validation, ugap_and_product_kind_rules) {
    struct offer_input ugap = {.kind = "subscription", .period = "month", .price_cents = 100, .ugap = true};
    struct problems p = run_offer(&ugap, PRODUCT_OMI, false);
    cr_expect(problems_has(&p, "ugap", "ugap_members_only"), "ORG-5");
    struct offer_input ugap_free = {.kind = "free", .ugap = true};
    p = run_offer(&ugap_free, PRODUCT_OMI, true);
    cr_expect(problems_has(&p, "ugap", "subscription_offers_only"));
    struct offer_price prices[] = {{"tinav5.c2r4p2", 12}};
    struct offer_input hourly = {.kind = "hourly", .prices = prices, .n_prices = 1};
    p = run_offer(&hourly, PRODUCT_OUTSOURCED, false);
    cr_expect(problems_has(&p, "kind", "not_allowed_for_product_kind"), "BILL-4");
}

Test(catalog_validation, texts_and_urls) {
    struct problems p;
    problems_init(&p);
    struct text_bilingual name = {"Postgres", "\xe2\x80\x8b"};
    validation_bilingual(&p, "name", &name, CATALOG_NAME_MAX, false, true);
    struct text_bilingual draft = {"Only English", NULL};
    validation_bilingual(&p, "description", &draft, CATALOG_LONG_MAX, true, false);
    struct text_bilingual bad = {"line\nbreak", "x\xff"};
    validation_bilingual(&p, "short_description", &bad, CATALOG_SHORT_MAX, false, false);
    validation_url(&p, "logo_url", "javascript:alert(1)", false);
    validation_url(&p, "links[0]", NULL, false);
    cr_expect(problems_has(&p, "name.fr", "required"), "invisible characters only");
    cr_expect_not(problems_has(&p, "description.fr", "required"), "drafts may miss a language");
    cr_expect(problems_has(&p, "short_description.en", "control_characters"));
    cr_expect(problems_has(&p, "short_description.fr", "not_utf8"));
    cr_expect(problems_has(&p, "logo_url", "not_https"));
    cr_expect_eq(p.n, 4);
}

Test(catalog_validation, categories) {
    struct problems p;
    problems_init(&p);
    const char *good[] = {"databases", "security"};
    validation_categories(&p, "categories", good, 2);
    cr_expect_eq(p.n, 0);
    const char *bad[] = {"databases", "gaming", "databases"};
    validation_categories(&p, "categories", bad, 3);
    cr_expect(problems_has(&p, "categories[1]", "unknown_category"));
    cr_expect(problems_has(&p, "categories[2]", "duplicate"));
    problems_init(&p);
    validation_categories(&p, "categories", NULL, 0);
    cr_expect(problems_has(&p, "categories", "required"));
    const char *many[] = {"databases", "security", "devops", "networking"};
    problems_init(&p);
    validation_categories(&p, "categories", many, 4);
    cr_expect(problems_has(&p, "categories", "too_many"));
    size_t n;
    const struct catalog_category *t = validation_categories_table(&n);
    cr_expect_gt(n, 5);
    for (size_t i = 0; i < n; i++)
        cr_expect(t[i].en[0] && t[i].fr[0], "%s has both names", t[i].slug);
}

Test(catalog_validation, vm_types_and_image_ids) {
    const char *good[] = {"tinav5.c2r4p2", "tinav4.c1r1p3", "tinav6.c16r128p1"};
    const char *bad[] = {"", "tinav5", "tinav5.c2r4", "tinav5.c2r4p4", "tinav5.c0r4p2", "TINAv5.c2r4p2",
                         "tinav5.c2r4p2x", "m5.large", "tinav5.c99999r4p2"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_expect(validation_vm_type(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(validation_vm_type(bad[i]), "%s", bad[i]);
    cr_expect(validation_image_id("ami-0123abcd"));
    cr_expect_not(validation_image_id("ami-0123abc"));
    cr_expect_not(validation_image_id("ami-0123abcg"));
    cr_expect_not(validation_image_id("img-0123abcd"));
}

Test(catalog_validation, software_base) {
    struct software_component c[] = {{"postgresql", "16"}, {"", "1"}, {"postgresql", "15"}};
    struct problems p;
    problems_init(&p);
    validation_software_base(&p, "software_base", c, 3);
    cr_expect(problems_has(&p, "software_base[1].name", "required"));
    cr_expect(problems_has(&p, "software_base[2].name", "duplicate"));
    cr_expect_eq(p.n, 2);
}
