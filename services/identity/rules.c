/* Time rules of links, sessions and throttling (see rules.h). Pure: the caller passes
 * the current time, read once from lib/clock, and the stored times. */
#include "rules.h"

enum rules_link rules_link_check(mkt_time now, mkt_time expires_at, mkt_time used_at) {
    if (used_at != 0)
        return RULES_LINK_USED;
    if (now >= expires_at)
        return RULES_LINK_EXPIRED;
    return RULES_LINK_OK;
}

bool rules_session_alive(mkt_time now, mkt_time last_seen, mkt_time idle) { return now < last_seen + idle; }

bool rules_session_touch_due(mkt_time now, mkt_time last_seen, mkt_time interval) {
    return now - last_seen >= interval;
}

int rules_throttle_wait_s(const mkt_time *failures_newest_first, size_t n, int max, mkt_time window, mkt_time now) {
    if (max <= 0 || n < (size_t)max)
        return 0;
    /* Inside the window there are at least `max` failures: the attempt is allowed again when the
     * max-th newest one leaves the window (then only max-1 remain). */
    mkt_time oldest_counted = failures_newest_first[max - 1];
    mkt_time until = oldest_counted + window;
    if (until <= now)
        return 0;
    return (int)((until - now + CLOCK_SECOND - 1) / CLOCK_SECOND);
}
