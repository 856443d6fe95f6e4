/* The time rules at their boundaries (ORG-2, ACC-3, AUTH-4, AUTH-5, AUTH-8), with lib/clock
 * shifted in-process (clock_set_offset): links issued "now" and checked at +23:59 / +24:01 and
 * +4:59 / +5:01, sessions idle 23:59 / 24:01, throttling windows. */
#include <criterion/criterion.h>

#include "clock.h"
#include "../../../services/identity/rules.h"

#define DAY (24 * CLOCK_HOUR)

static mkt_time at_offset(mkt_time offset) {
    clock_set_offset(offset);
    mkt_time t = clock_now();
    clock_set_offset(0);
    return t;
}

Test(rules, set_password_link_24h_boundary) {
    mkt_time issued = clock_now(), expires = issued + DAY;
    cr_expect_eq(rules_link_check(at_offset(23 * CLOCK_HOUR + 59 * CLOCK_MINUTE), expires, 0), RULES_LINK_OK);
    cr_expect_eq(rules_link_check(at_offset(24 * CLOCK_HOUR + 1 * CLOCK_MINUTE), expires, 0), RULES_LINK_EXPIRED);
    cr_expect_eq(rules_link_check(expires - 1, expires, 0), RULES_LINK_OK, "valid up to the last microsecond");
    cr_expect_eq(rules_link_check(expires, expires, 0), RULES_LINK_EXPIRED, "not at the expiry itself");
}

Test(rules, reset_link_5min_boundary) {
    mkt_time issued = clock_now(), expires = issued + 5 * CLOCK_MINUTE;
    cr_expect_eq(rules_link_check(at_offset(4 * CLOCK_MINUTE + 59 * CLOCK_SECOND), expires, 0), RULES_LINK_OK);
    cr_expect_eq(rules_link_check(at_offset(5 * CLOCK_MINUTE + 1 * CLOCK_SECOND), expires, 0), RULES_LINK_EXPIRED);
}

Test(rules, a_link_works_once) {
    mkt_time now = clock_now();
    cr_expect_eq(rules_link_check(now, now + DAY, now - CLOCK_SECOND), RULES_LINK_USED);
    cr_expect_eq(rules_link_check(now + 2 * DAY, now + DAY, now), RULES_LINK_USED, "used wins over expired");
}

Test(rules, session_idle_24h_boundary) {
    mkt_time last = clock_now();
    cr_expect(rules_session_alive(at_offset(23 * CLOCK_HOUR + 59 * CLOCK_MINUTE), last, DAY));
    cr_expect(!rules_session_alive(at_offset(24 * CLOCK_HOUR + 1 * CLOCK_MINUTE), last, DAY));
    cr_expect(!rules_session_alive(last + DAY, last, DAY));
}

Test(rules, activity_recorded_at_most_every_interval) {
    mkt_time last = 1000 * CLOCK_SECOND;
    cr_expect(!rules_session_touch_due(last + 9 * CLOCK_SECOND, last, 10 * CLOCK_SECOND));
    cr_expect(rules_session_touch_due(last + 10 * CLOCK_SECOND, last, 10 * CLOCK_SECOND));
    cr_expect(rules_session_touch_due(last, last, 0), "interval 0: every request");
}

Test(rules, throttle_table) {
    const mkt_time now = 10000 * CLOCK_SECOND, window = 900 * CLOCK_SECOND;
    struct {
        mkt_time f[6];
        size_t n;
        int max;
        int want;
    } rows[] = {
        {{0}, 0, 5, 0},
        {{now - 1 * CLOCK_SECOND, now - 2 * CLOCK_SECOND, now - 3 * CLOCK_SECOND, now - 4 * CLOCK_SECOND}, 4, 5, 0},
        /* 5 failures, the oldest 100 s ago: 800 s to wait */
        {{now - 10 * CLOCK_SECOND, now - 20 * CLOCK_SECOND, now - 30 * CLOCK_SECOND, now - 40 * CLOCK_SECOND,
          now - 100 * CLOCK_SECOND},
         5, 5, 800},
        /* 6 failures: the 5th newest counts (then 4 remain) */
        {{now - 1 * CLOCK_SECOND, now - 2 * CLOCK_SECOND, now - 3 * CLOCK_SECOND, now - 4 * CLOCK_SECOND,
          now - 5 * CLOCK_SECOND, now - 899 * CLOCK_SECOND},
         6, 5, 895},
        /* the counted failure leaves the window in 0.5 s: round up to 1 */
        {{now - 1 * CLOCK_SECOND, now - window + CLOCK_SECOND / 2}, 2, 2, 1},
        {{now - window, now - window - 1}, 2, 2, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(rules_throttle_wait_s(rows[i].f, rows[i].n, rows[i].max, window, now), rows[i].want, "row %zu", i);
}

