/* Unit tests for the clock-aligned tick: clock_next_aligned over a table (hour on the hour,
 * offsets, a 7-hour period that does not divide a day, UTC midnight, new year and the European
 * daylight-saving dates, under a local time zone that has them, times before 1970), the pure
 * tick_advance (one boundary, a 25-hour forward jump reported once with every hour crossed, a
 * backward jump reporting nothing twice), and the libuv tick itself against a shifted clock. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "clock.h"
#include "tick.h"

static mkt_time at(const char *iso) {
    mkt_time t;
    cr_assert_eq(clock_parse(iso, &t), 0, "bad time in the test: %s", iso);
    return t;
}

/* ---- clock_next_aligned ------------------------------------------------------------------------ */

Test(tick, next_aligned_table) {
    static const struct {
        const char *now;
        mkt_time period, offset;
        const char *next;
    } v[] = {
        /* every hour on the hour */
        {"2026-11-21T22:20:57Z", CLOCK_HOUR, 0, "2026-11-21T23:00:00Z"},
        {"2026-11-21T22:59:59.999999Z", CLOCK_HOUR, 0, "2026-11-21T23:00:00Z"},
        {"2026-11-21T23:00:00Z", CLOCK_HOUR, 0, "2026-11-22T00:00:00Z"}, /* on a boundary: the next one */
        {"2026-12-31T23:59:59.5Z", CLOCK_HOUR, 0, "2027-01-01T00:00:00Z"},
        /* the European DST changes are ordinary hours in UTC */
        {"2026-03-29T00:30:00Z", CLOCK_HOUR, 0, "2026-03-29T01:00:00Z"},
        {"2026-03-29T01:00:00Z", CLOCK_HOUR, 0, "2026-03-29T02:00:00Z"},
        {"2026-10-25T00:59:00Z", CLOCK_HOUR, 0, "2026-10-25T01:00:00Z"},
        {"2026-10-25T01:00:00Z", CLOCK_HOUR, 0, "2026-10-25T02:00:00Z"},
        /* offsets: hh:05, the same written as -55 min or as 65 min */
        {"2026-11-21T22:20:57Z", CLOCK_HOUR, 5 * CLOCK_MINUTE, "2026-11-21T23:05:00Z"},
        {"2026-11-21T22:04:00Z", CLOCK_HOUR, 5 * CLOCK_MINUTE, "2026-11-21T22:05:00Z"},
        {"2026-11-21T22:20:57Z", CLOCK_HOUR, -55 * CLOCK_MINUTE, "2026-11-21T23:05:00Z"},
        {"2026-11-21T22:20:57Z", CLOCK_HOUR, 65 * CLOCK_MINUTE, "2026-11-21T23:05:00Z"},
        /* daily at 02:00Z */
        {"2026-11-21T22:20:57Z", 24 * CLOCK_HOUR, 2 * CLOCK_HOUR, "2026-11-22T02:00:00Z"},
        {"2026-11-22T01:59:59Z", 24 * CLOCK_HOUR, 2 * CLOCK_HOUR, "2026-11-22T02:00:00Z"},
        /* 7 h does not divide a day: multiples of 7 h since the epoch, other times each day */
        {"2026-11-21T22:20:57Z", 7 * CLOCK_HOUR, 0, "2026-11-22T05:00:00Z"},
        {"2026-11-22T05:00:00Z", 7 * CLOCK_HOUR, 0, "2026-11-22T12:00:00Z"},
        {"2026-11-22T19:00:00Z", 7 * CLOCK_HOUR, 0, "2026-11-23T02:00:00Z"},
        /* before 1970 */
        {"1969-12-31T23:30:00Z", CLOCK_HOUR, 0, "1970-01-01T00:00:00Z"},
        {"1969-12-31T22:00:00Z", CLOCK_HOUR, 0, "1969-12-31T23:00:00Z"},
        /* short periods */
        {"2026-11-21T22:20:57.25Z", CLOCK_SECOND, 0, "2026-11-21T22:20:58Z"},
        {"2026-11-21T22:20:57.25Z", 15 * CLOCK_MINUTE, 0, "2026-11-21T22:30:00Z"},
    };
    /* A local zone with daylight saving must change nothing: the service clock is UTC. */
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        mkt_time got = clock_next_aligned(at(v[i].now), v[i].period, v[i].offset);
        char buf[40];
        clock_format(got, buf, sizeof buf);
        cr_expect_eq(got, at(v[i].next), "%zu: after %s, period %lld s, offset %lld s: %s, not %s", i, v[i].now,
                     (long long)(v[i].period / CLOCK_SECOND), (long long)(v[i].offset / CLOCK_SECOND), buf,
                     v[i].next);
    }
    cr_expect_eq(clock_next_aligned(-1, CLOCK_HOUR, 0), 0, "one microsecond before the epoch");
    cr_expect_eq(clock_next_aligned(0, CLOCK_HOUR, 0), CLOCK_HOUR);
}

Test(tick, next_aligned_hourly_boundaries_are_an_hour_apart_across_a_year) {
    mkt_time t = at("2026-01-01T00:00:00Z"), end = at("2027-01-01T00:00:00Z");
    long n = 0;
    for (mkt_time b = clock_next_aligned(t - 1, CLOCK_HOUR, 0); b < end; n++) {
        mkt_time nb = clock_next_aligned(b, CLOCK_HOUR, 0);
        cr_assert_eq(nb - b, CLOCK_HOUR);
        cr_assert_eq(clock_next_aligned(b - 1, CLOCK_HOUR, 0), b, "a boundary is its own next from just before");
        b = nb;
    }
    cr_expect_eq(n, 365 * 24, "8760 hourly boundaries in 2026, none lost or doubled at the DST dates");
}

/* ---- tick_advance -------------------------------------------------------------------------------- */

Test(tick, advance_reports_one_boundary_when_reached) {
    mkt_time next = at("2026-11-21T23:00:00Z");
    struct tick_fire f;
    memset(&f, 0x5a, sizeof f);
    cr_expect(!tick_advance(&next, CLOCK_HOUR, at("2026-11-21T22:59:59.999999Z"), &f));
    cr_expect_eq(next, at("2026-11-21T23:00:00Z"), "unchanged before the boundary");
    cr_assert(tick_advance(&next, CLOCK_HOUR, at("2026-11-21T23:00:00Z"), &f), "on the boundary itself");
    cr_expect_eq(f.first, at("2026-11-21T23:00:00Z"));
    cr_expect_eq(f.last, f.first);
    cr_expect_eq(f.count, 1);
    cr_expect_eq(f.period, CLOCK_HOUR);
    cr_expect_eq(f.now, at("2026-11-21T23:00:00Z"));
    cr_expect_eq(next, at("2026-11-22T00:00:00Z"));
    cr_expect(!tick_advance(&next, CLOCK_HOUR, at("2026-11-21T23:00:00.5Z"), &f), "once per boundary");
}

Test(tick, advance_after_a_25_hour_jump_reports_every_hour_once_and_realigns) {
    mkt_time next = at("2026-11-21T23:00:00Z");
    struct tick_fire f;
    mkt_time jumped = at("2026-11-21T22:30:00Z") + 25 * CLOCK_HOUR; /* 2026-11-22T23:30Z */
    cr_assert(tick_advance(&next, CLOCK_HOUR, jumped, &f));
    cr_expect_eq(f.first, at("2026-11-21T23:00:00Z"), "the first missed hour");
    cr_expect_eq(f.last, at("2026-11-22T23:00:00Z"), "the last one crossed");
    cr_expect_eq(f.count, 25);
    cr_expect_eq(f.last, f.first + (f.count - 1) * f.period);
    cr_expect_eq(next, at("2026-11-23T00:00:00Z"), "re-aligned on the hour after the new time");
    cr_expect(!tick_advance(&next, CLOCK_HOUR, jumped + CLOCK_MINUTE, &f), "nothing more until then");
    cr_assert(tick_advance(&next, CLOCK_HOUR, at("2026-11-23T00:00:00.001Z"), &f));
    cr_expect_eq(f.count, 1);
    cr_expect_eq(f.first, at("2026-11-23T00:00:00Z"));
}

Test(tick, advance_after_a_backward_jump_reports_nothing_twice) {
    mkt_time next = at("2026-11-21T23:00:00Z");
    struct tick_fire f;
    cr_assert(tick_advance(&next, CLOCK_HOUR, at("2026-11-21T23:00:01Z"), &f));
    /* the clock goes back three hours: 21:00, 22:00 and 23:00 were reported or precede */
    static const char *const quiet[] = {"2026-11-21T20:00:01Z", "2026-11-21T21:00:00Z", "2026-11-21T22:00:00Z",
                                        "2026-11-21T23:00:00Z", "2026-11-21T23:59:59Z"};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
        cr_expect(!tick_advance(&next, CLOCK_HOUR, at(quiet[i]), &f), "reported again at %s", quiet[i]);
    cr_assert(tick_advance(&next, CLOCK_HOUR, at("2026-11-22T00:00:00Z"), &f), "the first new boundary");
    cr_expect_eq(f.first, at("2026-11-22T00:00:00Z"));
    cr_expect_eq(f.count, 1);
}

Test(tick, advance_with_a_period_that_does_not_divide_a_day) {
    mkt_time next = clock_next_aligned(at("2026-11-21T22:20:57Z"), 7 * CLOCK_HOUR, 0);
    cr_assert_eq(next, at("2026-11-22T05:00:00Z"));
    struct tick_fire f;
    cr_assert(tick_advance(&next, 7 * CLOCK_HOUR, at("2026-11-21T22:20:57Z") + 25 * CLOCK_HOUR, &f));
    /* 2026-11-22T23:20:57Z: crossed 05:00, 12:00 and 19:00 on the 22nd */
    cr_expect_eq(f.first, at("2026-11-22T05:00:00Z"));
    cr_expect_eq(f.last, at("2026-11-22T19:00:00Z"));
    cr_expect_eq(f.count, 3);
    cr_expect_eq(next, at("2026-11-23T02:00:00Z"));
}

/* ---- the libuv tick against a shifted clock ----------------------------------------------------- */

struct run {
    uv_loop_t loop;
    struct tick tick;
    uv_timer_t shifter, guard;
    struct tick_fire fires[8];
    int64_t fired_mono_us[8];
    int n;
    mkt_time offset;           /* the clock offset the test set */
    int64_t shifted_mono_us;   /* when the forward shift happened */
    bool closed;
};

static void on_guard(uv_timer_t *g) {
    struct run *r = g->data;
    uv_close((uv_handle_t *)&r->shifter, NULL);
    uv_close((uv_handle_t *)g, NULL);
    tick_close(&r->tick, NULL);
}

static void on_tick_closed(struct tick *t) {
    struct run *r = (struct run *)((char *)t - offsetof(struct run, tick));
    r->closed = true;
}

/* The shifts happen on a timer of their own, while the tick waits, as MKT_CLOCK_FILE does to a
 * running service: the tick must notice them without waiting for the boundary it had planned. */
static void shift_forward(uv_timer_t *h) {
    struct run *r = h->data;
    r->offset += 25 * CLOCK_HOUR;
    clock_set_offset(r->offset);
    r->shifted_mono_us = clock_mono_us();
}

static void shift_back(uv_timer_t *h) {
    struct run *r = h->data;
    r->offset -= 3 * CLOCK_HOUR;
    clock_set_offset(r->offset);
    uv_timer_start(&r->guard, on_guard, 400, 0); /* nothing may be reported until then */
}

static void on_fire(const struct tick_fire *f, void *data) {
    struct run *r = data;
    if (r->n < 8) {
        r->fires[r->n] = *f;
        r->fired_mono_us[r->n] = clock_mono_us();
    }
    r->n++;
    if (r->n == 1)
        uv_timer_start(&r->shifter, shift_forward, 100, 0);
    else if (r->n == 2)
        uv_timer_start(&r->shifter, shift_back, 50, 0);
}

Test(tick, libuv_tick_fires_on_the_hour_of_a_shifted_clock_catches_up_and_never_repeats, .timeout = 20) {
    struct run r = {0};
    struct err e = {0};
    cr_assert_eq(uv_loop_init(&r.loop), 0);
    /* Put the service clock 150 ms before an hour boundary. */
    clock_set_offset(0);
    mkt_time real = clock_now();
    mkt_time boundary = clock_next_aligned(real, CLOCK_HOUR, 0);
    r.offset = boundary - 150 * 1000 - real;
    clock_set_offset(r.offset);
    struct tick_spec spec = {.period = CLOCK_HOUR, .poll_ms = 20, .fn = on_fire, .data = &r};
    cr_assert_eq(tick_init(&r.tick, &r.loop, &spec, &e), ERR_OK, "%s", e.msg);
    uv_timer_init(&r.loop, &r.shifter);
    uv_timer_init(&r.loop, &r.guard);
    r.shifter.data = r.guard.data = &r;
    tick_start(&r.tick);
    cr_expect_eq(r.tick.next, boundary, "waits for the next hour of the service clock");
    int64_t t0 = clock_mono_us();
    uv_run(&r.loop, UV_RUN_DEFAULT);
    int64_t took_ms = (clock_mono_us() - t0) / 1000;
    clock_set_offset(0);

    cr_assert_eq(r.n, 2, "%d fires", r.n);
    cr_expect_eq(r.fires[0].first, boundary);
    cr_expect_eq(r.fires[0].count, 1);
    cr_expect_geq(r.fires[0].now, boundary, "never before the boundary");
    cr_expect_lt(r.fires[0].now - boundary, 250 * 1000, "late by %lld us", (long long)(r.fires[0].now - boundary));
    cr_expect_eq(r.fires[1].first, boundary + CLOCK_HOUR, "the hour after the reported one");
    cr_expect_eq(r.fires[1].count, 25, "one fire for the 25 hours crossed: %lld", (long long)r.fires[1].count);
    cr_expect_eq(r.fires[1].last, boundary + 25 * CLOCK_HOUR);
    cr_expect_lt(r.fired_mono_us[1] - r.shifted_mono_us, 500 * 1000, "the shift was noticed after %lld ms",
                 (long long)((r.fired_mono_us[1] - r.shifted_mono_us) / 1000));
    cr_expect_lt(took_ms, 5000, "took %lld ms: the tick waited for real hours", (long long)took_ms);
    cr_expect_eq(r.tick.next, boundary + 26 * CLOCK_HOUR, "still waiting for the first unreported hour");
    cr_expect(!r.closed, "closed without a callback");
    cr_expect_eq(uv_loop_close(&r.loop), 0, "every handle closed");
}

static void stop_in_fire(const struct tick_fire *f, void *data) {
    (void)f;
    struct run *r = data;
    r->n++;
    tick_stop(&r->tick);
    tick_close(&r->tick, on_tick_closed);
}

Test(tick, libuv_tick_second_boundaries_and_close_from_the_callback, .timeout = 20) {
    struct run r = {0};
    struct err e = {0};
    cr_assert_eq(uv_loop_init(&r.loop), 0);
    clock_set_offset(0);
    /* A 100 ms period with a 30 ms phase on the real clock. */
    struct tick_spec spec = {.period = 100 * 1000, .offset = 30 * 1000, .fn = stop_in_fire, .data = &r};
    cr_assert_eq(tick_init(&r.tick, &r.loop, &spec, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(r.tick.spec.poll_ms, TICK_POLL_MS, "0 means the default");
    tick_start(&r.tick);
    mkt_time first = r.tick.next;
    cr_expect_eq((first - 30 * 1000) % (100 * 1000), 0, "aligned: %lld", (long long)first);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    cr_expect_eq(r.n, 1, "closed from its own callback: no second fire");
    cr_expect(r.closed, "the close callback ran");
    cr_expect_eq(uv_loop_close(&r.loop), 0);
}

Test(tick, init_refuses_bad_specs) {
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    struct tick t;
    struct err e = {0};
    struct tick_spec ok = {.period = CLOCK_HOUR, .fn = on_fire};
    struct tick_spec bad = ok;
    bad.period = 0;
    cr_expect_eq(tick_init(&t, &loop, &bad, &e), ERR_INVALID);
    bad = ok;
    bad.poll_ms = -1;
    cr_expect_eq(tick_init(&t, &loop, &bad, &e), ERR_INVALID);
    bad = ok;
    bad.fn = NULL;
    cr_expect_eq(tick_init(&t, &loop, &bad, &e), ERR_INVALID);
    cr_expect_eq(uv_loop_close(&loop), 0, "a refused spec leaves no handle behind");
}
