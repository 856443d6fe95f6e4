/* The publication checklist (services/catalog/checklist.c) as a table: starting from a complete
 * product and version, each row breaks one fact and expects exactly its problem; breaking
 * everything lists every problem at once. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/catalog/checklist.h"

static const char *const both_regions[] = {"cloudgouv-eu-west-1", "eu-west-2"};

static struct checklist_input complete_product(void) {
    return (struct checklist_input){
        .org_validated = true,
        .showcase_published = true,
        .kind = PRODUCT_OMI,
        .name = {"Postgres", "Postgres"},
        .short_description = {"A database", "Une base"},
        .description = {"Long text", "Texte long"},
        .product_code = "pty-1234abcd",
        .categories = 1,
        .offers = 1,
        .regions = both_regions,
        .n_regions = 2,
    };
}

static struct checklist_source_omi omis[2];

static struct checklist_version complete_version(void) {
    omis[0] = (struct checklist_source_omi){"cloudgouv-eu-west-1", "ami-11111111", true, true};
    omis[1] = (struct checklist_source_omi){"eu-west-2", "ami-22222222", true, true};
    return (struct checklist_version){
        .software_version = "16.1",
        .operating_system = "Ubuntu 22.04",
        .release_note = {"First", "Première"},
        .omis = omis,
        .n_omis = 2,
    };
}

typedef void (*breaker)(struct checklist_input *in, struct checklist_version *v);
static void pending_org(struct checklist_input *in, struct checklist_version *v) { (void)v, in->org_validated = false; }
static void showcase(struct checklist_input *in, struct checklist_version *v) { (void)v, in->showcase_published = false; }
static void name_fr(struct checklist_input *in, struct checklist_version *v) { (void)v, in->name.fr = "  "; }
static void short_en(struct checklist_input *in, struct checklist_version *v) { (void)v, in->short_description.en = NULL; }
static void desc_fr(struct checklist_input *in, struct checklist_version *v) { (void)v, in->description.fr = ""; }
static void no_category(struct checklist_input *in, struct checklist_version *v) { (void)v, in->categories = 0; }
static void no_offer(struct checklist_input *in, struct checklist_version *v) { (void)v, in->offers = 0; }
static void no_code(struct checklist_input *in, struct checklist_version *v) { (void)v, in->product_code = NULL; }
static void no_sw(struct checklist_input *in, struct checklist_version *v) { (void)in, v->software_version = ""; }
static void no_os(struct checklist_input *in, struct checklist_version *v) { (void)in, v->operating_system = NULL; }
static void note_en(struct checklist_input *in, struct checklist_version *v) { (void)in, v->release_note.en = "\n"; }
static void omi_missing(struct checklist_input *in, struct checklist_version *v) { (void)in, v->n_omis = 1; }
static void omi_empty(struct checklist_input *in, struct checklist_version *v) { (void)in, (void)v, omis[0].image_id = ""; }
static void omi_unknown(struct checklist_input *in, struct checklist_version *v) { (void)in, (void)v, omis[1].found = false; }
static void omi_uncoded(struct checklist_input *in, struct checklist_version *v) { (void)in, (void)v, omis[0].carries_code = false; }

static const struct {
    breaker fn;
    const char *field, *rule;
} cases[] = {
    {pending_org, "organization", "pending"},                      /* ORG-3 */
    {showcase, "showcase", "not_published"},                       /* SHOW-2 */
    {name_fr, "name.fr", "required"},                              /* PROD-2 */
    {short_en, "short_description.en", "required"},                /* PROD-2 */
    {desc_fr, "description.fr", "required"},                       /* PROD-2 */
    {no_category, "categories", "required"},                       /* CAT-1 */
    {no_offer, "offers", "required"},                              /* PROD-5 */
    {no_code, "product_code", "not_assigned"},                     /* PROD-3 */
    {no_sw, "version.software_version", "required"},               /* VER-1 */
    {no_os, "version.operating_system", "required"},               /* VER-1 */
    {note_en, "version.release_note.en", "required"},              /* VER-1 */
    {omi_missing, "version.source_omis.eu-west-2", "required"},    /* VER-4 */
    {omi_empty, "version.source_omis.cloudgouv-eu-west-1", "required"},
    {omi_unknown, "version.source_omis.eu-west-2", "not_found"},   /* VER-3 */
    {omi_uncoded, "version.source_omis.cloudgouv-eu-west-1", "missing_product_code"}, /* VER-3 */
};

static void run(const struct checklist_input *in, const struct checklist_version *v, struct problems *p) {
    problems_init(p);
    checklist_product(in, p);
    checklist_version(in, v, "version.", p);
}

Test(catalog_checklist, complete_listing_has_no_problem) {
    struct checklist_input in = complete_product();
    struct checklist_version v = complete_version();
    struct problems p;
    run(&in, &v, &p);
    cr_expect_eq(p.n, 0, "first: %s %s", p.n ? p.items[0].field : "", p.n ? p.items[0].rule : "");
}

Test(catalog_checklist, each_missing_item_gives_exactly_its_problem) {
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct checklist_input in = complete_product();
        struct checklist_version v = complete_version();
        cases[c].fn(&in, &v);
        struct problems p;
        run(&in, &v, &p);
        cr_expect_eq(p.n, 1, "case %s: %zu problems", cases[c].field, p.n);
        cr_expect(problems_has(&p, cases[c].field, cases[c].rule), "case %s %s: got %s %s", cases[c].field,
                  cases[c].rule, p.n ? p.items[0].field : "", p.n ? p.items[0].rule : "");
    }
}

Test(catalog_checklist, everything_missing_is_listed_at_once) {
    struct checklist_input in = {.kind = PRODUCT_OMI, .regions = both_regions, .n_regions = 2};
    struct checklist_version v = {0};
    struct problems p;
    run(&in, &v, &p);
    const char *want[] = {"organization", "showcase", "name.en", "name.fr", "short_description.en",
                          "short_description.fr", "description.en", "description.fr", "categories", "offers", "product_code",
                          "version.software_version", "version.operating_system", "version.release_note.en",
                          "version.release_note.fr", "version.source_omis.cloudgouv-eu-west-1",
                          "version.source_omis.eu-west-2"};
    cr_expect_eq(p.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < p.n && i < sizeof want / sizeof want[0]; i++)
        cr_expect_str_eq(p.items[i].field, want[i], "item %zu", i);
    struct err e = {0};
    cr_expect_eq(problems_err(&p, &e), ERR_INVALID);
}

Test(catalog_checklist, outsourced_products_need_no_code_or_version) {
    struct checklist_input in = complete_product();
    in.kind = PRODUCT_OUTSOURCED;
    in.product_code = NULL;
    struct problems p;
    problems_init(&p);
    checklist_product(&in, &p);
    cr_expect_eq(p.n, 0);
    cr_expect_not(checklist_needs_version(PRODUCT_OUTSOURCED));
    cr_expect(checklist_needs_version(PRODUCT_OMI));
}

Test(catalog_checklist, version_alone_has_no_prefix) {
    struct checklist_input in = complete_product();
    struct checklist_version v = complete_version();
    v.release_note.fr = NULL;
    struct problems p;
    problems_init(&p);
    checklist_version(&in, &v, "", &p);
    cr_expect(problems_has(&p, "release_note.fr", "required"));
}
