/* Validation of what sellers send to the catalog, as pure functions that add every problem they
 * find to a `struct problems` (lib/problems.h), so that one refusal lists them all. Field names
 * are the JSON paths of the request (`name.fr`, `prices[1].cents_per_hour`). Limits are defined
 * here once; the gateway's JSON schemas and docs/openapi.yaml use the same numbers.
 *
 * Drafts may be incomplete (a missing language is not a problem until publication: checklist.h);
 * what is present must always be well-formed. Money is integer cents in EUR. Thread-safe. */
#ifndef CATALOG_VALIDATION_H
#define CATALOG_VALIDATION_H

#include <stdbool.h>
#include <stddef.h>

#include "problems.h"
#include "rules.h"
#include "text.h"

#define CATALOG_NAME_MAX 100          /* characters: names of products, showcases, components */
#define CATALOG_SHORT_MAX 300         /* characters: short descriptions */
#define CATALOG_LONG_MAX 20000        /* characters: descriptions, instructions, release notes */
#define CATALOG_LABEL_MAX 64          /* characters: software version, operating system labels */
#define CATALOG_URL_MAX 2048          /* bytes */
#define CATALOG_CATEGORIES_MAX 3      /* categories per product */
#define CATALOG_COMPONENTS_MAX 50     /* software base entries */
#define CATALOG_LINKS_MAX 10          /* documentation links, showcase links */
#define CATALOG_PRICES_MAX 100        /* VM types per hourly offer */
#define CATALOG_HOURLY_CENTS_MAX 100000     /* 1,000 EUR per hour */
#define CATALOG_PERIOD_CENTS_MAX 100000000  /* 1,000,000 EUR per period */

/* The fixed category taxonomy served by GET /v1/categories (slug and names). */
struct catalog_category {
    const char *slug, *en, *fr;
};
const struct catalog_category *validation_categories_table(size_t *n);

/* One text in both languages: each present language is well-formed (UTF-8, no control or bidi
 * characters, at most max_chars; multiline allows newlines); `required` also refuses a missing
 * language. */
void validation_bilingual(struct problems *p, const char *field, const struct text_bilingual *b, size_t max_chars,
                          bool multiline, bool required);
/* A single-language label (software version, operating system): well-formed, at most max_chars. */
void validation_label(struct problems *p, const char *field, const char *s, size_t max_chars, bool required);
/* An https URL (logo, links, licence); http, javascript: and the like are refused ("not_https"). */
void validation_url(struct problems *p, const char *field, const char *url, bool required);
/* Product categories: 1..CATALOG_CATEGORIES_MAX distinct slugs of the taxonomy. */
void validation_categories(struct problems *p, const char *field, const char *const *slugs, size_t n);
/* An OUTSCALE VM type name: `tinav<generation>.c<cores>r<ram>p<performance>` (e.g. tinav5.c2r4p2). */
bool validation_vm_type(const char *s);
/* An OUTSCALE image id, `ami-` and 8 hexadecimal digits. */
bool validation_image_id(const char *s);

struct offer_price {
    const char *vm_type;
    long long cents_per_hour;
};

/* An offer as the seller sends it (PROD-5): which fields a kind needs is a table in validation.c. */
struct offer_input {
    const char *kind;       /* "hourly", "free", "byol", "subscription" */
    const struct offer_price *prices;
    size_t n_prices;
    const char *period;     /* subscription: "month" or "year" */
    long long price_cents;  /* subscription */
    const char *licence_url; /* byol: where the buyer gets a licence */
    const char *currency;   /* NULL or "EUR" */
    bool ugap;              /* a UGAP subscription offer (ORG-5): UGAP member sellers only */
};

/* Checks an offer for a product of kind `product` by a seller that is (or not) a UGAP member;
 * on success *kind_out is the parsed kind. */
void validation_offer(struct problems *p, const struct offer_input *o, enum product_kind product, bool seller_ugap,
                      enum offer_kind *kind_out);

struct software_component {
    const char *name, *version;
};
/* VER-1: a software base of at most CATALOG_COMPONENTS_MAX named components, names distinct. */
void validation_software_base(struct problems *p, const char *field, const struct software_component *c, size_t n);

#endif
