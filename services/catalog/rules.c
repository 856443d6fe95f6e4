/* State machines and edit rules of the catalog (see rules.h): each machine is a table of
 * (from, event, to) rows; anything not in the table is refused with the reason the domain gives. */
#include "rules.h"

#include <string.h>

#include "problems.h"

static const char *const product_kinds[PRODUCT_KIND__COUNT] = {"omi", "outsourced", "llm"};
static const char *const product_states[PRODUCT_STATE__COUNT] = {"draft",      "in_review", "approved",
                                                                 "publishing", "published", "unpublished"};
static const char *const version_states[VERSION_STATE__COUNT] = {
    "draft", "in_review", "approved", "publishing", "published", "failed", "unpublishing", "unpublished"};
static const char *const offer_kinds[OFFER_KIND__COUNT] = {"hourly", "free", "byol", "subscription"};

static const char *const product_events[PRODUCT_EV__COUNT] = {
    "submitted for review", "approved", "approved", "rejected", "published",
    "marked published",     "marked failed", "unpublished"};
static const char *const version_events[VERSION_EV__COUNT] = {
    "submitted for review", "approved", "approved", "rejected", "published",
    "marked published", "marked failed", "unpublished", "marked unpublished"};

static bool parse(const char *const *names, int n, const char *s, int *out) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return true;
        }
    return false;
}

static const char *name_of(const char *const *names, int n, int v) { return v >= 0 && v < n ? names[v] : "?"; }

const char *rules_product_kind_name(enum product_kind k) { return name_of(product_kinds, PRODUCT_KIND__COUNT, (int)k); }
const char *rules_product_state_name(enum product_state s) {
    return name_of(product_states, PRODUCT_STATE__COUNT, (int)s);
}
const char *rules_version_state_name(enum version_state s) {
    return name_of(version_states, VERSION_STATE__COUNT, (int)s);
}
const char *rules_offer_kind_name(enum offer_kind k) { return name_of(offer_kinds, OFFER_KIND__COUNT, (int)k); }

bool rules_product_kind_parse(const char *s, enum product_kind *out) {
    int i;
    if (!parse(product_kinds, PRODUCT_KIND__COUNT, s, &i))
        return false;
    *out = (enum product_kind)i;
    return true;
}
bool rules_product_state_parse(const char *s, enum product_state *out) {
    int i;
    if (!parse(product_states, PRODUCT_STATE__COUNT, s, &i))
        return false;
    *out = (enum product_state)i;
    return true;
}
bool rules_version_state_parse(const char *s, enum version_state *out) {
    int i;
    if (!parse(version_states, VERSION_STATE__COUNT, s, &i))
        return false;
    *out = (enum version_state)i;
    return true;
}
bool rules_offer_kind_parse(const char *s, enum offer_kind *out) {
    int i;
    if (!parse(offer_kinds, OFFER_KIND__COUNT, s, &i))
        return false;
    *out = (enum offer_kind)i;
    return true;
}

struct transition {
    int from, event, to;
};

/* PROD-6, PUB-4. An unpublished product may be published again (it goes through the same
 * checks and, with review, the same review). */
static const struct transition product_machine[] = {
    {PRODUCT_DRAFT, PRODUCT_EV_SUBMIT, PRODUCT_IN_REVIEW},
    {PRODUCT_UNPUBLISHED, PRODUCT_EV_SUBMIT, PRODUCT_IN_REVIEW},
    {PRODUCT_IN_REVIEW, PRODUCT_EV_APPROVE, PRODUCT_PUBLISHING},
    {PRODUCT_IN_REVIEW, PRODUCT_EV_APPROVE_MANUAL, PRODUCT_APPROVED},
    {PRODUCT_IN_REVIEW, PRODUCT_EV_REJECT, PRODUCT_DRAFT},
    {PRODUCT_DRAFT, PRODUCT_EV_PUBLISH, PRODUCT_PUBLISHING},
    {PRODUCT_APPROVED, PRODUCT_EV_PUBLISH, PRODUCT_PUBLISHING},
    {PRODUCT_UNPUBLISHED, PRODUCT_EV_PUBLISH, PRODUCT_PUBLISHING},
    {PRODUCT_PUBLISHING, PRODUCT_EV_VERSION_PUBLISHED, PRODUCT_PUBLISHED},
    {PRODUCT_PUBLISHING, PRODUCT_EV_VERSION_FAILED, PRODUCT_DRAFT},
    {PRODUCT_PUBLISHED, PRODUCT_EV_UNPUBLISH, PRODUCT_UNPUBLISHED},
};

/* VER-4, VER-6, PUB-4. A failed publication may be tried again; an unpublished version is final
 * (VER-8: publish a new version instead). */
static const struct transition version_machine[] = {
    {VERSION_DRAFT, VERSION_EV_SUBMIT, VERSION_IN_REVIEW},
    {VERSION_FAILED, VERSION_EV_SUBMIT, VERSION_IN_REVIEW},
    {VERSION_IN_REVIEW, VERSION_EV_APPROVE, VERSION_PUBLISHING},
    {VERSION_IN_REVIEW, VERSION_EV_APPROVE_MANUAL, VERSION_APPROVED},
    {VERSION_IN_REVIEW, VERSION_EV_REJECT, VERSION_DRAFT},
    {VERSION_DRAFT, VERSION_EV_PUBLISH, VERSION_PUBLISHING},
    {VERSION_APPROVED, VERSION_EV_PUBLISH, VERSION_PUBLISHING},
    {VERSION_FAILED, VERSION_EV_PUBLISH, VERSION_PUBLISHING},
    {VERSION_PUBLISHING, VERSION_EV_COPIES_AVAILABLE, VERSION_PUBLISHED},
    {VERSION_PUBLISHING, VERSION_EV_COPY_FAILED, VERSION_FAILED},
    {VERSION_PUBLISHED, VERSION_EV_UNPUBLISH, VERSION_UNPUBLISHING},
    {VERSION_UNPUBLISHING, VERSION_EV_COPIES_DELETED, VERSION_UNPUBLISHED},
};

static bool step(const struct transition *t, size_t n, int from, int ev, int *to) {
    for (size_t i = 0; i < n; i++)
        if (t[i].from == from && t[i].event == ev) {
            *to = t[i].to;
            return true;
        }
    return false;
}

err_code rules_product_next(enum product_state from, enum product_event ev, enum product_state *to, struct err *e) {
    int next;
    if (!step(product_machine, sizeof product_machine / sizeof product_machine[0], (int)from, (int)ev, &next))
        return err_set(e, ERR_CONFLICT, "product is %s: it cannot be %s (PROD-6)", rules_product_state_name(from),
                       name_of(product_events, PRODUCT_EV__COUNT, (int)ev));
    *to = (enum product_state)next;
    return ERR_OK;
}

err_code rules_version_next(enum version_state from, enum version_event ev, enum version_state *to, struct err *e) {
    int next;
    if (!step(version_machine, sizeof version_machine / sizeof version_machine[0], (int)from, (int)ev, &next))
        return err_set(e, ERR_CONFLICT, "version is %s: it cannot be %s", rules_version_state_name(from),
                       name_of(version_events, VERSION_EV__COUNT, (int)ev));
    *to = (enum version_state)next;
    return ERR_OK;
}

err_code rules_product_deletable(enum product_state s, struct err *e) {
    if (s == PRODUCT_DRAFT)
        return ERR_OK;
    return err_set(e, ERR_CONFLICT, "product is %s: only drafts can be deleted (PROD-6)", rules_product_state_name(s));
}

bool rules_product_unpublish_deletes_copies(enum product_kind k) { return k == PRODUCT_OMI; }

err_code rules_version_editable(enum version_state s, bool changes_source_omis, struct err *e) {
    switch (s) {
    case VERSION_DRAFT:
    case VERSION_FAILED:
        return ERR_OK;
    case VERSION_PUBLISHED:
        if (changes_source_omis)
            return err_set(e, ERR_CONFLICT,
                           "version is published: its OMI cannot change, publish a new version instead (VER-8)");
        return ERR_OK;
    case VERSION_UNPUBLISHED:
        return err_set(e, ERR_CONFLICT, "version is unpublished: it cannot be modified (VER-8)");
    default:
        return err_set(e, ERR_CONFLICT, "version is %s: wait until it is settled", rules_version_state_name(s));
    }
}

err_code rules_version_unpublishable(enum version_state s, int other_published_versions, struct err *e) {
    if (s != VERSION_PUBLISHED)
        return err_set(e, ERR_CONFLICT, "version is %s: only a published version can be unpublished",
                       rules_version_state_name(s));
    if (other_published_versions < 1)
        return err_set(e, ERR_CONFLICT,
                       "this is the product's only published version: unpublish the product instead (VER-7)");
    return ERR_OK;
}

/* PROD-4, in canonical order. */
static const char *const product_regions[] = {"cloudgouv-eu-west-1", "eu-west-2"};

size_t rules_regions_at_creation(const char *const *in, size_t n, const char *out[2], struct problems *p) {
    bool seen[2] = {true, false}; /* cloudgouv-eu-west-1 always (PROD-4) */
    bool given[2] = {false, false};
    for (size_t i = 0; i < n; i++) {
        int k = -1;
        for (int r = 0; r < 2; r++)
            if (in[i] && strcmp(in[i], product_regions[r]) == 0)
                k = r;
        if (k < 0) {
            problems_add(p, "unknown_region", "regions[%zu]", i);
            continue;
        }
        if (given[k])
            problems_add(p, "duplicate", "regions[%zu]", i);
        given[k] = seen[k] = true;
    }
    size_t count = 0;
    for (int r = 0; r < 2; r++)
        if (seen[r])
            out[count++] = product_regions[r];
    return count;
}

static bool contains(const char *const *set, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i], s) == 0)
            return true;
    return false;
}

err_code rules_regions_change(const char *const *before, size_t n_before, const char *const *after, size_t n_after,
                              struct err *e) {
    bool same = n_before == n_after;
    for (size_t i = 0; same && i < n_after; i++)
        same = contains(before, n_before, after[i]);
    if (same)
        return ERR_OK;
    return err_set(e, ERR_CONFLICT, "field 'regions': Regions are chosen at creation only (PROD-4)");
}

/* Rows: product kinds; columns: offer kinds. */
static const bool offer_allowed[PRODUCT_KIND__COUNT][OFFER_KIND__COUNT] = {
    [PRODUCT_OMI] = {[OFFER_HOURLY] = true, [OFFER_FREE] = true, [OFFER_BYOL] = true, [OFFER_SUBSCRIPTION] = true},
    [PRODUCT_OUTSOURCED] = {[OFFER_FREE] = true, [OFFER_BYOL] = true, [OFFER_SUBSCRIPTION] = true},
    [PRODUCT_LLM] = {[OFFER_HOURLY] = true, [OFFER_FREE] = true, [OFFER_SUBSCRIPTION] = true},
};

bool rules_offer_kind_allowed(enum product_kind product, enum offer_kind offer) {
    if ((int)product < 0 || product >= PRODUCT_KIND__COUNT || (int)offer < 0 || offer >= OFFER_KIND__COUNT)
        return false;
    return offer_allowed[product][offer];
}

enum offer_edit rules_offer_edit(bool ever_published, long subscriptions) {
    return ever_published || subscriptions > 0 ? OFFER_EDIT_NEW_REVISION : OFFER_EDIT_IN_PLACE;
}
