/* Logging: one line per event on stderr, leveled, prefixed with the time, the service name and,
 * when set on the calling thread, the request or correlation id and the subject being handled.
 * Thread-safe: each line is written with a single write(2). */
#ifndef MKT_LOG_H
#define MKT_LOG_H

#include "err.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the service name shown on every line and the minimum level ("debug", "info", "warn",
 * "error"; NULL keeps info). Call once from main before starting threads. */
void log_init(const char *service, const char *level);
/* Per-thread context shown on the lines this thread writes; NULL clears. Strings are copied. */
void log_set_context(const char *request_id, const char *subject);
void log_msg(enum log_level level, const char *fmt, ...) MKT_PRINTF(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
