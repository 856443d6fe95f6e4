/* The shiftable wall clock, its ISO 8601 formatting and the alignment of times on a period. */
#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static _Atomic int64_t offset_us;
static const char *offset_file; /* from the environment, lives as long as the process */
static _Atomic int64_t file_checked_at;
static _Atomic int64_t file_mtime_ns;

void clock_init_from_env(void) {
    const char *f = getenv("MKT_CLOCK_FILE");
    offset_file = (f && *f) ? f : NULL;
}

int64_t clock_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Re-reads the offset file at most every 20 ms, and only when its mtime changed. */
static void refresh_from_file(void) {
    int64_t now = clock_mono_us();
    if (now - atomic_load(&file_checked_at) < 20000)
        return;
    atomic_store(&file_checked_at, now);
    struct stat st;
    if (stat(offset_file, &st) != 0)
        return;
    int64_t m = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec + st.st_size;
    if (m == atomic_load(&file_mtime_ns))
        return;
    FILE *fp = fopen(offset_file, "r");
    if (!fp)
        return;
    double secs;
    if (fscanf(fp, "%lf", &secs) == 1) {
        atomic_store(&offset_us, (int64_t)(secs * 1e6));
        atomic_store(&file_mtime_ns, m);
    }
    fclose(fp);
}

mkt_time clock_now(void) {
    if (offset_file)
        refresh_from_file();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + atomic_load(&offset_us);
}

void clock_set_offset(mkt_time offset) { atomic_store(&offset_us, offset); }
mkt_time clock_offset(void) { return atomic_load(&offset_us); }

void clock_format(mkt_time t, char *out, size_t n) {
    time_t secs = (time_t)(t >= 0 ? t / 1000000 : (t - 999999) / 1000000);
    long us = (long)(t - (mkt_time)secs * 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

int clock_parse(const char *s, mkt_time *out) {
    struct tm tm = {0};
    int consumed = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    const char *p = s + consumed;
    long us = 0;
    if (*p == '.') {
        long scale = 100000;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            if (scale > 0)
                us += (*p - '0') * scale;
    }
    long tz = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2)
            p += 6;
        else if (sscanf(p + 1, "%2d%2d", &hh, &mm) == 2)
            p += 5;
        else
            return -1;
        tz = sign * (hh * 3600L + mm * 60L);
    } else {
        return -1;
    }
    if (*p)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t secs = timegm(&tm);
    *out = ((mkt_time)secs - tz) * 1000000 + us;
    return 0;
}

/* Remainder in [0, m) whatever the sign of a (C's % keeps the sign of a). */
static mkt_time mod_floor(mkt_time a, mkt_time m) {
    mkt_time r = a % m;
    return r < 0 ? r + m : r;
}

mkt_time clock_next_aligned(mkt_time now, mkt_time period, mkt_time offset) {
    /* now - r is the last boundary at or before now; reducing offset first keeps now - phase
     * from overflowing for any offset. */
    mkt_time phase = mod_floor(offset, period);
    return now - mod_floor(now - phase, period) + period;
}
