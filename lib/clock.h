/* The one clock every time-based rule reads (link validity, sessions, metering, retries), so
 * tests can shift time instead of sleeping. Wall time is microseconds since the Unix epoch, UTC.
 *
 * The offset comes from clock_set_offset (in-process tests) or, when MKT_CLOCK_FILE names a file,
 * from that file's content (a signed number of seconds, re-read when the file changes): this is
 * how integration tests shift the clock of running services. SQL must therefore receive times
 * from here as parameters rather than call now(). Thread-safe. Work due at wall-clock instants
 * (every hour on the hour) uses clock_next_aligned, or lib/tick which fires on it. */
#ifndef MKT_CLOCK_H
#define MKT_CLOCK_H

#include <stdint.h>
#include <stddef.h>

typedef int64_t mkt_time; /* microseconds since 1970-01-01T00:00:00Z */

#define CLOCK_SECOND ((mkt_time)1000000)
#define CLOCK_MINUTE (60 * CLOCK_SECOND)
#define CLOCK_HOUR (60 * CLOCK_MINUTE)

/* Reads MKT_CLOCK_FILE from the environment; call once from main (or not at all). */
void clock_init_from_env(void);
mkt_time clock_now(void);
/* Monotonic microseconds, unaffected by shifts: for timeouts and measurements only. */
int64_t clock_mono_us(void);
void clock_set_offset(mkt_time offset);
mkt_time clock_offset(void);
/* ISO 8601 UTC with microseconds ("2026-11-21T22:20:57.123456Z") into out (>= 32 bytes). */
void clock_format(mkt_time t, char *out, size_t n);
/* Parses "...Z", "...+0000", "...+00:00", with or without fraction; returns 0 on success. */
int clock_parse(const char *s, mkt_time *out);
/* The first boundary strictly after `now`: the smallest t > now with (t - offset) a multiple of
 * `period` (period > 0; any offset, taken modulo period; times before 1970 work too). Boundaries
 * count from the Unix epoch in UTC, where there is no daylight saving: (CLOCK_HOUR, 0) is every
 * hour on the hour, (CLOCK_HOUR, 5 * CLOCK_MINUTE) every hh:05, (24 * CLOCK_HOUR, 2 * CLOCK_HOUR)
 * every day at 02:00Z; a period that does not divide a day (7 h) falls at other times each day.
 * Pure; lib/tick fires on these. */
mkt_time clock_next_aligned(mkt_time now, mkt_time period, mkt_time offset);

#endif
