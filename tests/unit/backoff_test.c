/* lib/backoff: the ceiling doubles from base to cap, the delay stays inside [base, ceiling] for
 * any random value, and extreme attempts neither overflow nor go below base. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "backoff.h"

Test(backoff, ceiling_doubles_up_to_the_cap) {
    struct backoff b = {.base = 500, .cap = 30000};
    int64_t want[] = {500, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (int a = 0; a < (int)(sizeof want / sizeof want[0]); a++)
        cr_expect_eq(backoff_ceiling(&b, a), want[a], "attempt %d", a);
    cr_expect_eq(backoff_ceiling(&b, 1000000), 30000, "huge attempts stay at the cap");
    struct backoff huge = {.base = 1, .cap = INT64_MAX};
    cr_expect_gt(backoff_ceiling(&huge, 200), 0, "no overflow");
}

Test(backoff, delay_is_inside_base_and_ceiling) {
    struct backoff b = {.base = 200, .cap = 5000};
    uint32_t rnds[] = {0, 1, 12345, 0x7fffffff, 0xfffffffe, 0xffffffff};
    for (int a = 1; a < 12; a++)
        for (size_t i = 0; i < sizeof rnds / sizeof rnds[0]; i++) {
            int64_t d = backoff_delay(&b, a, rnds[i]);
            cr_expect_geq(d, 200, "attempt %d rnd %u", a, rnds[i]);
            cr_expect_leq(d, backoff_ceiling(&b, a), "attempt %d rnd %u", a, rnds[i]);
        }
    cr_expect_eq(backoff_delay(&b, 5, 0), 200, "rnd 0 is the floor");
    cr_expect_eq(backoff_delay(&b, 5, 0xffffffff), 3200, "rnd max is the ceiling");
    for (int i = 0; i < 100; i++) {
        int64_t d = backoff_next(&b, 3);
        cr_expect(d >= 200 && d <= 800);
    }
}

Test(backoff, degenerate_policies_are_safe) {
    struct backoff zero = {0};
    cr_expect_eq(backoff_delay(&zero, 3, 99), 1, "base 0 acts as 1");
    struct backoff flat = {.base = 7, .cap = 3};
    cr_expect_eq(backoff_delay(&flat, 9, 0xffffffff), 7, "cap below base acts as base");
}
