/* The one retry delay of the code base: exponential, bounded, with full jitter. Every place that
 * waits before trying again (cloud calls, consumer redelivery, the outbox relay, jobs, mail
 * deliveries, start-up) asks here, so the policy is one line of configuration, not six loops.
 *
 * For retry number `attempt` (1 = the first retry), the ceiling is min(cap, base * 2^(attempt-1));
 * the delay is drawn uniformly from [base, ceiling] (full jitter, floored at `base` so that a
 * retry never comes at once). Units are the caller's (microseconds, milliseconds, seconds).
 * Pure and thread-safe. */
#ifndef MKT_BACKOFF_H
#define MKT_BACKOFF_H

#include <stdint.h>

struct backoff {
    int64_t base; /* first delay, > 0 */
    int64_t cap;  /* largest delay, >= base */
};

/* The ceiling for `attempt` (no jitter): base, 2 base, 4 base ... cap. attempt < 1 counts as 1. */
int64_t backoff_ceiling(const struct backoff *b, int attempt);
/* The delay for `attempt` from the random value `rnd` (tests pass fixed values). */
int64_t backoff_delay(const struct backoff *b, int attempt, uint32_t rnd);
/* The same with a fresh random value. */
int64_t backoff_next(const struct backoff *b, int attempt);

#endif
