/* The catalog's state machines and edit rules as pure functions and tables, so that every
 * transition a handler makes is one table lookup that the unit tests enumerate:
 *
 * - products (PROD-6, PROD-8, PUB-4): draft -> [in_review -> approved] -> publishing -> published
 *   -> unpublished, with the review's rejection going back to draft;
 * - versions (VER-4, VER-6, VER-8, PUB-4): draft -> [in_review -> approved] -> publishing ->
 *   published | failed; published -> unpublishing -> unpublished;
 * - which fields of a version may change in which state (VER-8), Regions (PROD-4), which offer
 *   kinds a product kind takes (PROD-5, BILL-4) and when editing an offer makes a new revision
 *   (PROD-7).
 *
 * A refused transition is ERR_CONFLICT with a reason naming the rule. No I/O, thread-safe. */
#ifndef CATALOG_RULES_H
#define CATALOG_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum product_kind { PRODUCT_OMI, PRODUCT_OUTSOURCED, PRODUCT_LLM, PRODUCT_KIND__COUNT };
enum product_state {
    PRODUCT_DRAFT,
    PRODUCT_IN_REVIEW,
    PRODUCT_APPROVED,
    PRODUCT_PUBLISHING,
    PRODUCT_PUBLISHED,
    PRODUCT_UNPUBLISHED,
    PRODUCT_STATE__COUNT
};
enum product_event {
    PRODUCT_EV_SUBMIT,            /* publish asked while review is required */
    PRODUCT_EV_APPROVE,           /* an operator approved; auto-publication asked at submission */
    PRODUCT_EV_APPROVE_MANUAL,    /* an operator approved; the seller publishes when it wants */
    PRODUCT_EV_REJECT,
    PRODUCT_EV_PUBLISH,           /* publish asked, no review needed (or already approved) */
    PRODUCT_EV_VERSION_PUBLISHED, /* its first version's copies are all available */
    PRODUCT_EV_VERSION_FAILED,    /* its first version could not be published */
    PRODUCT_EV_UNPUBLISH,
    PRODUCT_EV__COUNT
};

enum version_state {
    VERSION_DRAFT,
    VERSION_IN_REVIEW,
    VERSION_APPROVED,
    VERSION_PUBLISHING,
    VERSION_PUBLISHED,
    VERSION_FAILED,
    VERSION_UNPUBLISHING,
    VERSION_UNPUBLISHED,
    VERSION_STATE__COUNT
};
enum version_event {
    VERSION_EV_SUBMIT,
    VERSION_EV_APPROVE,
    VERSION_EV_APPROVE_MANUAL,
    VERSION_EV_REJECT,
    VERSION_EV_PUBLISH,
    VERSION_EV_COPIES_AVAILABLE,
    VERSION_EV_COPY_FAILED,
    VERSION_EV_UNPUBLISH,
    VERSION_EV_COPIES_DELETED,
    VERSION_EV__COUNT
};

enum offer_kind { OFFER_HOURLY, OFFER_FREE, OFFER_BYOL, OFFER_SUBSCRIPTION, OFFER_KIND__COUNT };

/* Names as they appear in the API and the database ("draft", "in_review", ...), and back. The
 * parsers return false for an unknown name. */
const char *rules_product_kind_name(enum product_kind k);
bool rules_product_kind_parse(const char *s, enum product_kind *out);
const char *rules_product_state_name(enum product_state s);
bool rules_product_state_parse(const char *s, enum product_state *out);
const char *rules_version_state_name(enum version_state s);
bool rules_version_state_parse(const char *s, enum version_state *out);
const char *rules_offer_kind_name(enum offer_kind k);
bool rules_offer_kind_parse(const char *s, enum offer_kind *out);

/* The state after `ev`, or ERR_CONFLICT ("product is published: cannot be submitted for review"). */
err_code rules_product_next(enum product_state from, enum product_event ev, enum product_state *to,
                            struct err *e) MKT_MUST_USE;
err_code rules_version_next(enum version_state from, enum version_event ev, enum version_state *to,
                            struct err *e) MKT_MUST_USE;

/* PROD-6: only drafts are deleted (a published product is unpublished instead). */
err_code rules_product_deletable(enum product_state s, struct err *e) MKT_MUST_USE;
/* PROD-8: unpublishing an OMI product deletes its copies (its versions unpublish with it);
 * an outsourced or LLM product is only hidden. */
bool rules_product_unpublish_deletes_copies(enum product_kind k);

/* VER-8: whether a version's descriptive fields, and separately its source OMIs, may change in
 * state `s`. ERR_CONFLICT names the rule when not. */
err_code rules_version_editable(enum version_state s, bool changes_source_omis, struct err *e) MKT_MUST_USE;
/* VER-7: a published version may be unpublished only while another version stays published. */
err_code rules_version_unpublishable(enum version_state s, int other_published_versions, struct err *e) MKT_MUST_USE;

/* PROD-4 at creation: `cloudgouv-eu-west-1` always (added when missing), `eu-west-2` optional,
 * nothing else, no duplicates. Writes the Regions in canonical order into out (size 2) and their
 * count. Problems go to `field` ("regions", "regions[2]"). */
struct problems;
size_t rules_regions_at_creation(const char *const *in, size_t n, const char *out[2], struct problems *p);
/* PROD-4 later: any change of the Region set is refused. */
err_code rules_regions_change(const char *const *before, size_t n_before, const char *const *after, size_t n_after,
                              struct err *e) MKT_MUST_USE;

/* PROD-5, BILL-4: the offer kinds a product kind takes (hourly needs VMs the marketplace meters:
 * OMI and LLM products; an outsourced product is billed by its seller). */
bool rules_offer_kind_allowed(enum product_kind product, enum offer_kind offer);

/* PROD-7: editing an offer that was ever visible to buyers (published with its product) or that
 * has subscriptions makes a new revision; a never-published offer is edited in place. */
enum offer_edit { OFFER_EDIT_IN_PLACE, OFFER_EDIT_NEW_REVISION };
enum offer_edit rules_offer_edit(bool ever_published, long subscriptions);

#endif
