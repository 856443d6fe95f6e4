/* Unit tests of the skeleton's pure parts and of the worker pool without database: the event
 * type patterns and the filter a route table implies (lib/events), the log level as a validated
 * setting (lib/config + lib/log), and the pool's queue bound, drain and cancel callbacks. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "events.h"
#include "log.h"
#include "pool.h"

/* ---- event types and route filters ------------------------------------------------------------- */

Test(events_routes, type_patterns_match_by_token) {
    static const struct { const char *pattern, *type; bool match; } cases[] = {
        {"catalog.version.published", "catalog.version.published", true},
        {"catalog.version.published", "catalog.version.publishe", false},
        {"catalog.version.published", "catalog.version.published.x", false},
        {"catalog.version.*", "catalog.version.published", true},
        {"catalog.version.*", "catalog.version", false},
        {"catalog.*.published", "catalog.product.published", true},
        {"catalog.>", "catalog.version.published", true},
        {"catalog.>", "catalog", false},
        {">", "anything.at.all", true},
        {"identity.account.created", "identity.account.deleted", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(events_type_matches(cases[i].pattern, cases[i].type), cases[i].match, "%s vs %s",
                     cases[i].pattern, cases[i].type);
}

static events_consumer_fn const nofn = NULL;

Test(events_routes, filter_is_the_narrowest_single_subject_covering_the_table) {
    char f[128];
    struct events_route one[] = {{"testing.x.tick", nofn}};
    cr_assert(events_routes_filter(one, 1, f, sizeof f));
    cr_expect_str_eq(f, "mkt.evt.testing.x.tick");
    struct events_route notifier[] = {{"catalog.version.published", nofn},
                                        {"catalog.version.unpublished", nofn},
                                        {"catalog.product.unpublished", nofn}};
    cr_assert(events_routes_filter(notifier, 3, f, sizeof f));
    cr_expect_str_eq(f, "mkt.evt.catalog.>");
    struct events_route versions[] = {{"catalog.version.published", nofn}, {"catalog.version.unpublished", nofn}};
    cr_assert(events_routes_filter(versions, 2, f, sizeof f));
    cr_expect_str_eq(f, "mkt.evt.catalog.version.>");
    struct events_route nested[] = {{"a.b", nofn}, {"a.b.c", nofn}};
    cr_assert(events_routes_filter(nested, 2, f, sizeof f));
    cr_expect_str_eq(f, "mkt.evt.a.>", "a.b.> would miss a.b");
    struct events_route wild[] = {{"identity.>", nofn}};
    cr_assert(events_routes_filter(wild, 1, f, sizeof f));
    cr_expect_str_eq(f, "mkt.evt.identity.>");
    struct events_route apart[] = {{"identity.account.created", nofn}, {"catalog.version.published", nofn}};
    cr_assert(events_routes_filter(apart, 2, f, sizeof f));
    cr_expect_str_eq(f, "mkt.evt.>");
    cr_expect_not(events_routes_filter(one, 0, f, sizeof f), "no route, no filter");
    cr_expect_not(events_routes_filter(one, 1, f, 8), "a buffer too small is refused, not overrun");
}

/* ---- the log level as a setting ------------------------------------------------------------------ */

struct lcfg {
    enum log_level level;
};

Test(config, log_level_is_validated_with_the_other_settings) {
    static const struct config_field fields[] = {
        {"T_LOG_LEVEL", CONFIG_LOG_LEVEL, "info", 0, 0, false, offsetof(struct lcfg, level), ""},
    };
    struct lcfg c = {LOG_ERROR};
    struct err e = {0};
    unsetenv("T_LOG_LEVEL");
    cr_assert_eq(config_load(fields, 1, &c, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(c.level, LOG_INFO, "the default");
    setenv("T_LOG_LEVEL", "debug", 1);
    cr_assert_eq(config_load(fields, 1, &c, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(c.level, LOG_DEBUG);
    setenv("T_LOG_LEVEL", "verbose", 1);
    cr_expect_eq(config_load(fields, 1, &c, &e), ERR_INVALID, "a bad level is a start-up error");
    cr_expect(strstr(e.msg, "T_LOG_LEVEL: must be debug, info, warn or error") != NULL, "%s", e.msg);
    unsetenv("T_LOG_LEVEL");
    enum log_level l = LOG_WARN;
    cr_expect_not(log_level_parse("INFO", &l), "names are lower case");
    cr_expect_eq(l, LOG_WARN, "untouched on failure");
    cr_expect(log_level_parse("error", &l));
    cr_expect_eq(l, LOG_ERROR);
}

/* ---- the pool ------------------------------------------------------------------------------------ */

static atomic_int ran, cancelled, gate;

static void slow_job(struct pool_worker *w, void *arg) {
    (void)w, (void)arg;
    while (!atomic_load(&gate))
        usleep(1000);
    atomic_fetch_add(&ran, 1);
}

static void count_cancel(void *arg) {
    (void)arg;
    atomic_fetch_add(&cancelled, 1);
}

Test(pool, queue_bound_refuses_at_once_and_cancel_reaches_the_owner) {
    atomic_store(&ran, 0), atomic_store(&cancelled, 0), atomic_store(&gate, 0);
    struct pool *p = NULL;
    struct err e = {0};
    struct pool_config pc = {.name = "t", .workers = 1, .queue_max = 2};
    cr_assert_eq(pool_new(&pc, &p, &e), ERR_OK, "%s", e.msg);
    struct pool_job j = {.name = "slow", .fn = slow_job, .cancel = count_cancel};
    cr_assert_eq(pool_submit_job(p, &j), POOL_QUEUED);
    size_t running = 0;
    for (int i = 0; i < 1000 && running == 0; i++, usleep(1000))
        pool_counts(p, NULL, &running);
    cr_assert_eq(running, 1, "the worker took the first job");
    cr_expect_eq(pool_submit_job(p, &j), POOL_QUEUED);
    cr_expect_eq(pool_submit_job(p, &j), POOL_QUEUED);
    cr_expect_eq(pool_submit_job(p, &j), POOL_FULL, "a third waiting job is over the bound");
    cr_expect_not(pool_drain(p, 50), "the slow job holds the drain past its deadline");
    cr_expect_eq(pool_submit_job(p, &j), POOL_DRAINING);
    cr_expect_eq(pool_cancel_queued(p), 2, "the two queued jobs are cancelled");
    cr_expect_eq(atomic_load(&cancelled), 2, "their owner heard of it");
    atomic_store(&gate, 1);
    cr_expect(pool_drain(p, 5000));
    pool_free(p);
    cr_expect_eq(atomic_load(&ran), 1, "only the running job ran");
}

Test(pool, free_cancels_what_is_still_queued) {
    atomic_store(&ran, 0), atomic_store(&cancelled, 0), atomic_store(&gate, 0);
    struct pool *p = NULL;
    struct err e = {0};
    struct pool_config pc = {.name = "t", .workers = 1, .queue_max = 0};
    cr_assert_eq(pool_new(&pc, &p, &e), ERR_OK, "%s", e.msg);
    struct pool_job j = {.fn = slow_job, .cancel = count_cancel};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pool_submit_job(p, &j), POOL_QUEUED, "unbounded");
    size_t running = 0;
    for (int i = 0; i < 1000 && running == 0; i++, usleep(1000))
        pool_counts(p, NULL, &running);
    atomic_store(&gate, 1);
    pool_free(p); /* the running one finishes; the others may run or be cancelled, never dropped */
    cr_expect_eq(atomic_load(&ran) + atomic_load(&cancelled), 5, "ran %d, cancelled %d", atomic_load(&ran),
                 atomic_load(&cancelled));
}
