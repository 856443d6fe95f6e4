/* The clock-aligned tick (see tick.h): a one-shot libuv timer re-armed after each wake-up for
 * the time left until the next boundary of the service clock, capped at poll_ms so that a shift
 * of that clock is noticed; tick_advance, a pure function, decides what a wake-up reports. */
#include "tick.h"

bool tick_advance(mkt_time *next, mkt_time period, mkt_time now, struct tick_fire *out) {
    if (now < *next)
        return false; /* not there yet, or the clock went back: nothing is reported twice */
    int64_t count = (now - *next) / period + 1;
    out->first = *next;
    out->last = *next + (count - 1) * period;
    out->count = count;
    out->now = now;
    out->period = period;
    *next = out->last + period;
    return true;
}

static void on_timer(uv_timer_t *h);

/* Sleeps until the next boundary by the clock read now, but at most poll_ms, since the clock may
 * be shifted meanwhile. Rounded up: waking a little early only costs one more wake-up. */
static void arm(struct tick *t) {
    mkt_time left = t->next - clock_now();
    uint64_t ms = left > 0 ? (uint64_t)((left + 999) / 1000) : 0;
    if (ms > (uint64_t)t->spec.poll_ms)
        ms = (uint64_t)t->spec.poll_ms;
    uv_timer_start(&t->timer__, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *h) {
    struct tick *t = h->data;
    struct tick_fire f;
    if (tick_advance(&t->next, t->spec.period, clock_now(), &f))
        t->spec.fn(&f, t->spec.data);
    if (t->running__) /* fn may have stopped or closed the tick */
        arm(t);
}

err_code tick_init(struct tick *t, uv_loop_t *loop, const struct tick_spec *spec, struct err *e) {
    if (spec->period <= 0)
        return err_set(e, ERR_INVALID, "tick: period must be positive");
    if (spec->poll_ms < 0)
        return err_set(e, ERR_INVALID, "tick: poll_ms must not be negative");
    if (!spec->fn)
        return err_set(e, ERR_INVALID, "tick: no function");
    *t = (struct tick){.spec = *spec};
    if (t->spec.poll_ms == 0)
        t->spec.poll_ms = TICK_POLL_MS;
    uv_timer_init(loop, &t->timer__); /* cannot fail */
    t->timer__.data = t;
    return ERR_OK;
}

void tick_start(struct tick *t) {
    if (t->running__ || uv_is_closing((uv_handle_t *)&t->timer__))
        return;
    t->next = clock_next_aligned(clock_now(), t->spec.period, t->spec.offset);
    t->running__ = true;
    arm(t);
}

void tick_stop(struct tick *t) {
    t->running__ = false;
    uv_timer_stop(&t->timer__);
}

static void on_closed(uv_handle_t *h) {
    struct tick *t = h->data;
    if (t->close_cb__)
        t->close_cb__(t);
}

void tick_close(struct tick *t, void (*cb)(struct tick *t)) {
    tick_stop(t);
    if (uv_is_closing((uv_handle_t *)&t->timer__))
        return;
    t->close_cb__ = cb;
    uv_close((uv_handle_t *)&t->timer__, on_closed);
}
