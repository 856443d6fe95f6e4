/* The event type -> payload message table (see event_types.h). One row per event type; keep the
 * rows grouped by service, in the order the services are listed in docs/ARCHITECTURE.md. */
#include "event_types.h"

#include <stdbool.h>
#include <string.h>

#include "catalog.pb-c.h"
#include "identity.pb-c.h"
#include "mail.pb-c.h"
#include "publisher.pb-c.h"
#include "testing.pb-c.h"

const struct event_type event_types[] = {
    /* identity */
    {"identity.organization.*", &mkt__identity__organization_event__descriptor},
    {"identity.account.*", &mkt__identity__account_event__descriptor},
    {"identity.outscale_account.*", &mkt__identity__outscale_account_event__descriptor},
    {"identity.eim.*", &mkt__identity__eim_event__descriptor},
    /* catalog */
    {"catalog.showcase.*", &mkt__catalog__showcase_event__descriptor},
    {"catalog.product.*", &mkt__catalog__product_event__descriptor},
    {"catalog.offer.*", &mkt__catalog__offer_event__descriptor},
    {"catalog.version.*", &mkt__catalog__version_event__descriptor},
    {"catalog.terms.*", &mkt__catalog__terms_event__descriptor},
    {"catalog.review.*", &mkt__catalog__review_event__descriptor},
    /* publisher */
    {"publisher.product_code.created", &mkt__publisher__product_code_event__descriptor},
    {"publisher.product_code.failed", &mkt__publisher__product_code_failed__descriptor},
    /* notifier */
    {"notifier.mail.sent", &mkt__mail__mail_sent__descriptor},
    {"notifier.mail.failed", &mkt__mail__mail_failed__descriptor},
    /* test programs (tests/programs/evt_*) */
    {"testing.tick", &mkt__testing__tick__descriptor},
    {"testing.*.tick", &mkt__testing__tick__descriptor},
};
const size_t event_types_count = sizeof event_types / sizeof event_types[0];

/* Token-wise comparison where a "*" token of the pattern matches any one non-empty token. */
static bool type_match(const char *pattern, const char *type) {
    while (*pattern && *type) {
        size_t pl = strcspn(pattern, "."), tl = strcspn(type, ".");
        if (tl == 0 || !((pl == 1 && *pattern == '*') || (pl == tl && memcmp(pattern, type, pl) == 0)))
            return false;
        pattern += pl, type += tl;
        if (*pattern != *type)
            return false; /* one ended, the other goes on */
        if (*pattern)
            pattern++, type++;
    }
    return !*pattern && !*type;
}

const ProtobufCMessageDescriptor *event_types_find(const char *type) {
    if (!type)
        return NULL;
    for (size_t i = 0; i < event_types_count; i++)
        if (strcmp(event_types[i].type, type) == 0)
            return event_types[i].payload;
    for (size_t i = 0; i < event_types_count; i++)
        if (strchr(event_types[i].type, '*') && type_match(event_types[i].type, type))
            return event_types[i].payload;
    return NULL;
}
