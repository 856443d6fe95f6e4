/* Logging: one line per event on stderr, leveled, prefixed with the time, the service name and,
 * when set on the calling thread, the request or correlation id and the subject being handled.
 * Thread-safe: each line is written with a single write(2). */
#ifndef MKT_LOG_H
#define MKT_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the service name shown on every line and the minimum level ("debug", "info", "warn",
 * "error"; NULL or an unknown name keeps the current one, info at first). Call once from main
 * before starting threads. Services validate the level as a setting (CONFIG_LOG_LEVEL in
 * lib/config.h) and set it with log_set_level. */
void log_init(const char *service, const char *level);
/* Parses "debug", "info", "warn" or "error"; false for anything else (*out untouched). */
bool log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
/* Sets the minimum level; call before starting threads. */
void log_set_level(enum log_level level);

/* A rate limit for log lines about floods (refused calls, dropped messages): at most one line
 * per second per limiter. Zero-initialised storage is ready; thread-safe. */
struct log_limiter {
    _Atomic int64_t next_us;   /* monotonic time before which lines are suppressed */
    atomic_long suppressed;    /* events since the last line */
};
/* Counts one event; true when a line may be written now, with *suppressed set to the events
 * counted since the last line (this one included). */
bool log_limiter_allow(struct log_limiter *l, long *suppressed);
/* Per-thread context shown on the lines this thread writes; NULL clears. Strings are copied. */
void log_set_context(const char *request_id, const char *subject);
void log_msg(enum log_level level, const char *fmt, ...) MKT_PRINTF(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
