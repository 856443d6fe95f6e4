/* The time rules of authentication as pure functions of the times involved, so that their
 * boundaries are unit-tested with a fixed clock and the handlers only read clock_now() once:
 * single-use links (ORG-2, ACC-3: 24 h; AUTH-4: 5 min), idle sessions (AUTH-5), login throttling
 * (AUTH-8). (The retry backoff of cloud work is lib/backoff.h, through lib/job.h.) Times are
 * lib/clock microseconds. */
#ifndef IDENTITY_RULES_H
#define IDENTITY_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"

enum rules_link { RULES_LINK_OK, RULES_LINK_EXPIRED, RULES_LINK_USED };

/* A link works once, strictly before its expiry (used_at 0 = never used). */
enum rules_link rules_link_check(mkt_time now, mkt_time expires_at, mkt_time used_at);
/* A session lives while now < last_seen + idle. */
bool rules_session_alive(mkt_time now, mkt_time last_seen, mkt_time idle);
/* Whether a request at `now` should record activity: at most once per `interval`, so that resolving a
 * token is a read almost always (the session may end up to `interval` early, never late). */
bool rules_session_touch_due(mkt_time now, mkt_time last_seen, mkt_time interval);
/* Throttling (AUTH-8): given the times of the recent failures of one key (account or client
 * address), newest first, returns how many whole seconds to wait before the next attempt
 * (0 = not throttled). `max` failures inside `window` throttle until the oldest of those `max`
 * leaves the window. */
int rules_throttle_wait_s(const mkt_time *failures_newest_first, size_t n, int max, mkt_time window, mkt_time now);

#endif
