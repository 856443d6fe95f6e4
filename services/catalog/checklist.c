/* The publication checklist as tables of required fields plus the few checks that compare
 * facts (see checklist.h). */
#include "checklist.h"

#include <stddef.h>
#include <string.h>

/* Missing: absent, empty, or only spaces and invisible characters (lib/text). */
static bool blank(const char *s) { return text_check(s, 0, true) == TEXT_BLANK; }

static void require_bilingual(struct problems *p, const char *prefix, const char *name, const struct text_bilingual *b) {
    if (blank(b->en))
        problems_add(p, "required", "%s%s.en", prefix, name);
    if (blank(b->fr))
        problems_add(p, "required", "%s%s.fr", prefix, name);
}

/* PROD-2: the product's required descriptive fields, in both languages. */
static const struct {
    const char *name;
    size_t offset;
} product_texts[] = {
    {"name", offsetof(struct checklist_input, name)},
    {"short_description", offsetof(struct checklist_input, short_description)},
    {"description", offsetof(struct checklist_input, description)},
};

void checklist_product(const struct checklist_input *in, struct problems *p) {
    if (!in->org_validated)
        problems_add(p, "pending", "organization");
    if (!in->showcase_published)
        problems_add(p, "not_published", "showcase");
    for (size_t i = 0; i < sizeof product_texts / sizeof product_texts[0]; i++)
        require_bilingual(p, "", product_texts[i].name,
                          (const struct text_bilingual *)((const char *)in + product_texts[i].offset));
    if (in->categories == 0)
        problems_add(p, "required", "categories");
    if (in->offers == 0)
        problems_add(p, "required", "offers");
    if (in->kind == PRODUCT_OMI && blank(in->product_code))
        problems_add(p, "not_assigned", "product_code");
}

static const struct checklist_source_omi *omi_for(const struct checklist_version *v, const char *region) {
    for (size_t i = 0; i < v->n_omis; i++)
        if (v->omis[i].region && strcmp(v->omis[i].region, region) == 0)
            return &v->omis[i];
    return NULL;
}

void checklist_version(const struct checklist_input *in, const struct checklist_version *v, const char *prefix,
                       struct problems *p) {
    if (blank(v->software_version))
        problems_add(p, "required", "%ssoftware_version", prefix);
    if (blank(v->operating_system))
        problems_add(p, "required", "%soperating_system", prefix);
    require_bilingual(p, prefix, "release_note", &v->release_note);
    for (size_t i = 0; i < in->n_regions; i++) {
        const char *region = in->regions[i];
        const struct checklist_source_omi *o = omi_for(v, region);
        if (!o || blank(o->image_id))
            problems_add(p, "required", "%ssource_omis.%s", prefix, region);
        else if (!o->found)
            problems_add(p, "not_found", "%ssource_omis.%s", prefix, region);
        else if (!o->carries_code)
            problems_add(p, "missing_product_code", "%ssource_omis.%s", prefix, region);
    }
}

bool checklist_needs_version(enum product_kind k) { return k == PRODUCT_OMI; }
