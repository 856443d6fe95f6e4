/* A clock-aligned tick: calls a function each time the service clock (clock_now(), which tests
 * shift with clock_set_offset or MKT_CLOCK_FILE) crosses a boundary of a period, e.g. every hour
 * on the hour, for work that belongs to a wall-clock slot (hourly usage, daily reports). The
 * fixed-period maintenance timer of lib/svc stays for work that only has to run every so often.
 *
 * Boundaries are those of clock_next_aligned(now, period, offset): the instants t with
 * (t - offset) a multiple of period, counted from the Unix epoch in UTC (no daylight saving).
 *
 * Each fire reports the boundaries crossed since the previous fire, first..last (count of them),
 * every boundary once and in increasing order. Normally that is one boundary. When the clock
 * jumps forward (a test shifts it by 25 h, the machine slept, the loop stalled) one fire reports
 * all the boundaries it skipped, so the caller can catch up slot by slot, and the tick re-aligns
 * on the first boundary after the new time. When the clock jumps backward, nothing is reported
 * twice: the tick stays silent until the clock passes the next boundary it has not reported.
 * Boundaries before tick_start are not reported (a caller that must not miss a slot across
 * restarts keeps its own watermark and catches up from it).
 *
 * A libuv timer runs on the monotonic clock and cannot see the wall clock move, so while waiting
 * the tick re-reads clock_now() at least every poll_ms: a shift is noticed within poll_ms (plus
 * the clock file's 20 ms re-read delay), and a boundary is reported about a millisecond late.
 *
 * Threads and ownership: everything, the callback included, runs on the loop's thread; the
 * callback must not block (hand the work to the pool) and may call tick_stop or tick_close. The
 * struct tick is caller-owned storage (embed it in the service's state) and must stay valid until
 * the close callback has run. On a lib/svc loop the drain closes every handle of the loop itself:
 * there, call tick_stop when draining if at all, never tick_close, and keep the storage until
 * svc_run returns. */
#ifndef MKT_TICK_H
#define MKT_TICK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "clock.h"
#include "err.h"

#define TICK_POLL_MS 1000 /* default re-read interval of the clock while waiting */

/* What one fire reports. */
struct tick_fire {
    mkt_time first;  /* the earliest boundary crossed since the previous fire */
    mkt_time last;   /* the latest one: first + (count - 1) * period */
    int64_t count;   /* >= 1; more than one after a forward jump of the clock */
    mkt_time now;    /* clock_now() when the tick noticed (>= last) */
    mkt_time period; /* the tick's period, to walk first..last */
};

typedef void (*tick_fn)(const struct tick_fire *f, void *data);

struct tick_spec {
    mkt_time period; /* > 0, e.g. CLOCK_HOUR */
    mkt_time offset; /* boundaries at offset + k * period, e.g. 5 * CLOCK_MINUTE for hh:05 */
    int poll_ms;     /* >= 0; how often the clock is re-read while waiting; 0: TICK_POLL_MS */
    tick_fn fn;      /* required */
    void *data;      /* passed to fn, borrowed */
};

struct tick {
    struct tick_spec spec;
    mkt_time next; /* the next boundary to report; read-only for the caller */
    uv_timer_t timer__;
    bool running__;
    void (*close_cb__)(struct tick *t);
};

/* The pure step behind the tick, exposed for the unit tests: when `now` has reached *next (a
 * boundary), fills *out with the boundaries from *next up to the last one at or before now, moves
 * *next to the boundary after that and returns true; otherwise returns false and changes
 * nothing (in particular after a backward jump of the clock). period > 0. */
bool tick_advance(mkt_time *next, mkt_time period, mkt_time now, struct tick_fire *out);

/* Initialises the tick on `loop` (copies the spec); ERR_INVALID for a period <= 0, a negative
 * poll_ms or no fn. It does not run until tick_start. */
err_code tick_init(struct tick *t, uv_loop_t *loop, const struct tick_spec *spec, struct err *e) MKT_MUST_USE;
/* Starts waiting for the first boundary after clock_now(); a no-op when running. */
void tick_start(struct tick *t);
/* Stops firing (a later tick_start re-aligns on the clock of that moment); a no-op when stopped. */
void tick_stop(struct tick *t);
/* Stops and closes the timer; `cb` (may be NULL) runs on the loop once the storage may be reused. */
void tick_close(struct tick *t, void (*cb)(struct tick *t));

#endif
