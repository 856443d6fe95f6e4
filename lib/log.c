/* Leveled, single-line logging to stderr with a per-thread request context. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char service_name[32] = "mkt";
static enum log_level min_level = LOG_INFO;
static _Thread_local char ctx_request[64];
static _Thread_local char ctx_subject[96];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool log_level_parse(const char *name, enum log_level *out) {
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return *out = (enum log_level)i, true;
    return false;
}

const char *log_level_name(enum log_level level) {
    return level >= LOG_DEBUG && level <= LOG_ERROR ? level_names[level] : "?";
}

void log_set_level(enum log_level level) { min_level = level; }

void log_init(const char *service, const char *level) {
    if (service)
        snprintf(service_name, sizeof service_name, "%s", service);
    log_level_parse(level, &min_level);
}

bool log_limiter_allow(struct log_limiter *l, long *suppressed) {
    atomic_fetch_add(&l->suppressed, 1);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    int64_t next = atomic_load(&l->next_us);
    if (now < next || !atomic_compare_exchange_strong(&l->next_us, &next, now + 1000000))
        return false;
    *suppressed = atomic_exchange(&l->suppressed, 0);
    return true;
}

void log_set_context(const char *request_id, const char *subject) {
    snprintf(ctx_request, sizeof ctx_request, "%s", request_id ? request_id : "");
    snprintf(ctx_subject, sizeof ctx_subject, "%s", subject ? subject : "");
}

void log_msg(enum log_level level, const char *fmt, ...) {
    if (level < min_level)
        return;
    static const char *const tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000,
                     tags[level], service_name);
    if (ctx_request[0] && n < (int)sizeof line)
        n += snprintf(line + n, sizeof line - n, " rid=%s", ctx_request);
    if (ctx_subject[0] && n < (int)sizeof line)
        n += snprintf(line + n, sizeof line - n, " subj=%s", ctx_subject);
    if (n < (int)sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
    }
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    /* One event, one line, and nothing a terminal would interpret: line breaks and tabs become
     * spaces, every other control character (ESC included) a '?'. */
    for (int i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch == '\n' || ch == '\r' || ch == '\t')
            line[i] = ' ';
        else if (ch < 0x20 || ch == 0x7f)
            line[i] = '?';
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
