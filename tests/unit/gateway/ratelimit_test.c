/* The per-client token buckets: the burst passes, the next request waits for the rate with a
 * Retry-After that says how long, clients do not share buckets, the table stays bounded. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "../../../services/gateway/gateway.h"

#define S 1000000LL

Test(gateway_rate, burst_then_rate_with_retry_after) {
    struct gateway_rate *r = gateway_rate_new(64, 2, 5); /* 2/s, burst 5 */
    cr_assert_not_null(r);
    int after = -1;
    int64_t t = 10 * S;
    for (int i = 0; i < 5; i++)
        cr_expect(gateway_rate_take(r, "192.0.2.1", t, &after), "request %d of the burst refused", i);
    cr_expect(!gateway_rate_take(r, "192.0.2.1", t, &after));
    cr_expect_eq(after, 1, "one token comes back in 0.5 s: Retry-After 1");
    /* Another client has its own bucket. */
    cr_expect(gateway_rate_take(r, "192.0.2.2", t, &after));
    /* Half a second later one token is back, and only one. */
    cr_expect(gateway_rate_take(r, "192.0.2.1", t + S / 2, &after));
    cr_expect(!gateway_rate_take(r, "192.0.2.1", t + S / 2, &after));
    /* After a long pause the bucket is full again, not more. */
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += gateway_rate_take(r, "192.0.2.1", t + 3600 * S, &after);
    cr_expect_eq(ok, 5);
    gateway_rate_free(r);
}

Test(gateway_rate, slow_rates_say_how_long_to_wait) {
    struct gateway_rate *r = gateway_rate_new(8, 0.1, 1); /* one request per 10 s */
    int after = 0;
    cr_expect(gateway_rate_take(r, "::1", 0, &after));
    cr_expect(!gateway_rate_take(r, "::1", 0, &after));
    cr_expect_eq(after, 10);
    cr_expect(!gateway_rate_take(r, "::1", 4 * S, &after));
    cr_expect_eq(after, 6);
    gateway_rate_free(r);
}

Test(gateway_rate, disabled_and_bounded) {
    cr_expect_null(gateway_rate_new(64, 0, 10), "a rate of 0 means no limiter");
    cr_expect(gateway_rate_take(NULL, "x", 0, NULL));
    /* Many addresses through a small table: no crash, and each new address gets its burst. */
    struct gateway_rate *r = gateway_rate_new(16, 1, 2);
    char addr[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        cr_expect(gateway_rate_take(r, addr, i, NULL), "%s", addr);
    }
    /* An address that is still in the table keeps its (empty) bucket. */
    cr_expect(gateway_rate_take(r, "203.0.113.9", 20000, NULL));
    cr_expect(gateway_rate_take(r, "203.0.113.9", 20000, NULL));
    cr_expect(!gateway_rate_take(r, "203.0.113.9", 20000, NULL));
    gateway_rate_free(r);
}
