/* Field validation of the seller's catalog requests (see validation.h). Every check adds its
 * problems and carries on, so one answer lists them all. */
#include "validation.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct catalog_category categories[] = {
    {"ai-machine-learning", "AI and machine learning", "IA et apprentissage automatique"},
    {"analytics", "Analytics and big data", "Analyse de données et big data"},
    {"business-applications", "Business applications", "Applications métier"},
    {"collaboration", "Collaboration and communication", "Collaboration et communication"},
    {"databases", "Databases", "Bases de données"},
    {"developer-tools", "Developer tools", "Outils de développement"},
    {"devops", "DevOps and CI/CD", "DevOps et CI/CD"},
    {"infrastructure", "Infrastructure software", "Logiciels d'infrastructure"},
    {"monitoring", "Monitoring and observability", "Supervision et observabilité"},
    {"networking", "Networking", "Réseau"},
    {"operating-systems", "Operating systems", "Systèmes d'exploitation"},
    {"security", "Security and identity", "Sécurité et identité"},
    {"storage-backup", "Storage and backup", "Stockage et sauvegarde"},
    {"web-cms", "Web servers and CMS", "Serveurs web et CMS"},
};

const struct catalog_category *validation_categories_table(size_t *n) {
    *n = sizeof categories / sizeof categories[0];
    return categories;
}

static void check_text(struct problems *p, const char *field, const char *s, size_t max_chars, bool multiline,
                       bool required) {
    enum text_verdict v = text_check(s, max_chars, multiline);
    if (v == TEXT_OK || (v == TEXT_BLANK && !required && (!s || !*s)))
        return;
    problems_add(p, text_rule(v), "%s", field);
}

void validation_bilingual(struct problems *p, const char *field, const struct text_bilingual *b, size_t max_chars,
                          bool multiline, bool required) {
    char f[PROBLEM_FIELD_MAX];
    snprintf(f, sizeof f, "%s.en", field);
    check_text(p, f, b->en, max_chars, multiline, required);
    snprintf(f, sizeof f, "%s.fr", field);
    check_text(p, f, b->fr, max_chars, multiline, required);
}

void validation_label(struct problems *p, const char *field, const char *s, size_t max_chars, bool required) {
    check_text(p, field, s, max_chars, false, required);
}

void validation_url(struct problems *p, const char *field, const char *url, bool required) {
    if (!url || !*url) {
        if (required)
            problems_add(p, "required", "%s", field);
        return;
    }
    if (strlen(url) > CATALOG_URL_MAX)
        problems_add(p, "too_long", "%s", field);
    else if (!text_is_https_url(url, CATALOG_URL_MAX))
        problems_add(p, "not_https", "%s", field);
}

static bool known_category(const char *slug) {
    for (size_t i = 0; slug && i < sizeof categories / sizeof categories[0]; i++)
        if (strcmp(categories[i].slug, slug) == 0)
            return true;
    return false;
}

void validation_categories(struct problems *p, const char *field, const char *const *slugs, size_t n) {
    if (n == 0)
        problems_add(p, "required", "%s", field);
    if (n > CATALOG_CATEGORIES_MAX)
        problems_add(p, "too_many", "%s", field);
    for (size_t i = 0; i < n && i < CATALOG_CATEGORIES_MAX; i++) {
        if (!known_category(slugs[i]))
            problems_add(p, "unknown_category", "%s[%zu]", field, i);
        for (size_t k = 0; k < i; k++)
            if (slugs[k] && slugs[i] && strcmp(slugs[k], slugs[i]) == 0)
                problems_add(p, "duplicate", "%s[%zu]", field, i);
    }
}

/* Reads 1..4 digits at *s into *out; false when none. */
static bool digits(const char **s, int *out) {
    int v = 0, n = 0;
    while (isdigit((unsigned char)**s) && n < 4) {
        v = v * 10 + (**s - '0');
        (*s)++, n++;
    }
    *out = v;
    return n > 0 && !isdigit((unsigned char)**s);
}

bool validation_vm_type(const char *s) {
    int gen, cores, ram, perf;
    if (!s || strncmp(s, "tinav", 5) != 0)
        return false;
    s += 5;
    if (!digits(&s, &gen) || *s++ != '.' || *s++ != 'c' || !digits(&s, &cores) || *s++ != 'r' ||
        !digits(&s, &ram) || *s++ != 'p' || !digits(&s, &perf) || *s)
        return false;
    return gen >= 1 && cores >= 1 && ram >= 1 && perf >= 1 && perf <= 3;
}

bool validation_image_id(const char *s) {
    if (!s || strncmp(s, "ami-", 4) != 0 || strlen(s) != 12)
        return false;
    for (int i = 4; i < 12; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Which fields each offer kind takes (PROD-5): needed, or refused when present. */
enum need { NO, YES };
static const struct {
    enum need prices, period_price, licence;
} offer_fields[OFFER_KIND__COUNT] = {
    [OFFER_HOURLY] = {YES, NO, NO},
    [OFFER_FREE] = {NO, NO, NO},
    [OFFER_BYOL] = {NO, NO, YES},
    [OFFER_SUBSCRIPTION] = {NO, YES, NO},
};

static void check_prices(struct problems *p, const struct offer_input *o) {
    if (o->n_prices == 0)
        problems_add(p, "required", "prices");
    if (o->n_prices > CATALOG_PRICES_MAX)
        problems_add(p, "too_many", "prices");
    for (size_t i = 0; i < o->n_prices && i < CATALOG_PRICES_MAX; i++) {
        const struct offer_price *pr = &o->prices[i];
        if (!validation_vm_type(pr->vm_type))
            problems_add(p, "unknown_vm_type", "prices[%zu].vm_type", i);
        if (pr->cents_per_hour < 1 || pr->cents_per_hour > CATALOG_HOURLY_CENTS_MAX)
            problems_add(p, "out_of_range", "prices[%zu].cents_per_hour", i);
        for (size_t k = 0; k < i; k++)
            if (pr->vm_type && o->prices[k].vm_type && strcmp(pr->vm_type, o->prices[k].vm_type) == 0)
                problems_add(p, "duplicate", "prices[%zu].vm_type", i);
    }
}

void validation_offer(struct problems *p, const struct offer_input *o, enum product_kind product, bool seller_ugap,
                      enum offer_kind *kind_out) {
    enum offer_kind kind;
    if (!rules_offer_kind_parse(o->kind, &kind)) {
        problems_add(p, o->kind && *o->kind ? "unknown_kind" : "required", "kind");
        return;
    }
    if (!rules_offer_kind_allowed(product, kind))
        problems_add(p, "not_allowed_for_product_kind", "kind");
    if (o->currency && *o->currency && strcmp(o->currency, "EUR") != 0)
        problems_add(p, "unsupported_currency", "currency");
    if (offer_fields[kind].prices == YES)
        check_prices(p, o);
    else if (o->n_prices)
        problems_add(p, "not_allowed_for_offer_kind", "prices");
    if (offer_fields[kind].period_price == YES) {
        if (!o->period || !*o->period)
            problems_add(p, "required", "period");
        else if (strcmp(o->period, "month") != 0 && strcmp(o->period, "year") != 0)
            problems_add(p, "unknown_period", "period");
        if (o->price_cents < 1 || o->price_cents > CATALOG_PERIOD_CENTS_MAX)
            problems_add(p, "out_of_range", "price_cents");
    } else {
        if (o->period && *o->period)
            problems_add(p, "not_allowed_for_offer_kind", "period");
        if (o->price_cents)
            problems_add(p, "not_allowed_for_offer_kind", "price_cents");
    }
    if (offer_fields[kind].licence == YES)
        validation_url(p, "licence_url", o->licence_url, true);
    else if (o->licence_url && *o->licence_url)
        problems_add(p, "not_allowed_for_offer_kind", "licence_url");
    if (o->ugap && kind != OFFER_SUBSCRIPTION)
        problems_add(p, "subscription_offers_only", "ugap"); /* PROD-5: UGAP offers are subscriptions */
    else if (o->ugap && !seller_ugap)
        problems_add(p, "ugap_members_only", "ugap"); /* ORG-5 */
    *kind_out = kind;
}

void validation_software_base(struct problems *p, const char *field, const struct software_component *c, size_t n) {
    if (n > CATALOG_COMPONENTS_MAX)
        problems_add(p, "too_many", "%s", field);
    for (size_t i = 0; i < n && i < CATALOG_COMPONENTS_MAX; i++) {
        char f[PROBLEM_FIELD_MAX];
        snprintf(f, sizeof f, "%s[%zu].name", field, i);
        check_text(p, f, c[i].name, CATALOG_NAME_MAX, false, true);
        snprintf(f, sizeof f, "%s[%zu].version", field, i);
        check_text(p, f, c[i].version, CATALOG_LABEL_MAX, false, false);
        for (size_t k = 0; k < i; k++)
            if (c[k].name && c[i].name && strcmp(c[k].name, c[i].name) == 0)
                problems_add(p, "duplicate", "%s[%zu].name", field, i);
    }
}
