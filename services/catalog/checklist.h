/* The publication checklist (PROD-2, PROD-3, PROD-5, SHOW-2, ORG-3, VER-1, VER-3): everything a
 * product or a version needs before it can be published, checked all at once so that the seller
 * sees every missing piece in one answer, and so that `?dry_run=true` runs exactly the same
 * checks as the real thing. Pure: the handler gathers the facts (rows, the publisher's answer
 * about the source OMIs) into a `checklist_input`, the checklist only judges them.
 *
 * Problems use the client's JSON paths: `name.fr`, `offers`, `showcase`, `organization`,
 * `categories`, `product_code`, and for the version `<prefix>release_note.en`, `<prefix>source_omis.eu-west-2`
 * (prefix "version." when the product and its first version publish together, "" for a version
 * alone). Rules: `required`, `pending` (the organization awaits validation), `not_published`
 * (the showcase), `not_assigned` (the product code is not there yet), `not_found` (no such OMI in
 * the seller's OUTSCALE accounts), `missing_product_code` (the OMI does not carry the code). */
#ifndef CATALOG_CHECKLIST_H
#define CATALOG_CHECKLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "problems.h"
#include "rules.h"
#include "text.h"

struct checklist_source_omi {
    const char *region;   /* one of the product's Regions */
    const char *image_id; /* NULL or "" when the seller named none for this Region */
    bool found;           /* the image exists in one of the seller's OUTSCALE accounts */
    bool carries_code;    /* and carries the product's code (VER-3) */
};

struct checklist_version {
    const char *software_version, *operating_system;
    struct text_bilingual release_note;
    const struct checklist_source_omi *omis; /* one per Region of the product, any order */
    size_t n_omis;
};

struct checklist_input {
    bool org_validated;      /* ORG-3: a pending organization prepares but never publishes */
    bool showcase_published; /* SHOW-2 */
    enum product_kind kind;
    struct text_bilingual name, short_description, description;
    const char *product_code; /* PROD-3, OMI products; NULL or "" until the publisher assigns it */
    size_t categories;        /* at least one to be found in the catalog (CAT-1) */
    size_t offers;            /* current (not retired) offers */
    const char *const *regions;
    size_t n_regions;
};

/* Checks the product side (organization, showcase, descriptive fields, offers, product code). */
void checklist_product(const struct checklist_input *in, struct problems *p);
/* Checks a version of that product (its fields and one source OMI per Region of the product);
 * `prefix` goes before each field name. */
void checklist_version(const struct checklist_input *in, const struct checklist_version *v, const char *prefix,
                       struct problems *p);
/* Whether a product of this kind publishes through versions (OMI products do). */
bool checklist_needs_version(enum product_kind k);

#endif
