/* The error type: codes, their stable names, and the setters that format a reason into the
 * caller's buffer. Nothing here allocates. */
#include "err.h"

#include <stdio.h>
#include <string.h>

static const char *const names[ERR__COUNT] = {
    [ERR_OK] = "ok",
    [ERR_INVALID] = "invalid",
    [ERR_NOT_FOUND] = "not_found",
    [ERR_CONFLICT] = "conflict",
    [ERR_UNAUTHENTICATED] = "unauthenticated",
    [ERR_FORBIDDEN] = "forbidden",
    [ERR_THROTTLED] = "throttled",
    [ERR_UNAVAILABLE] = "unavailable",
    [ERR_TIMEOUT] = "timeout",
    [ERR_NO_RESPONDERS] = "no_responders",
    [ERR_TOO_LARGE] = "too_large",
    [ERR_INTERNAL] = "internal",
    [ERR_OTP_REQUIRED] = "otp_required",
    [ERR_UNSUPPORTED] = "unsupported",
};

err_code err_setv(struct err *e, err_code code, const char *fmt, va_list ap) {
    if (e) {
        e->code = code;
        e->retry_after_s = 0;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    }
    return code;
}

err_code err_set(struct err *e, err_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err_setv(e, code, fmt, ap);
    va_end(ap);
    return code;
}

err_code err_wrap(struct err *e, const char *fmt, ...) {
    if (!e)
        return ERR_INTERNAL;
    char prefix[ERR_MSG_MAX], old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
    return e->code;
}

void err_clear(struct err *e) {
    if (e) {
        e->code = ERR_OK;
        e->msg[0] = '\0';
        e->retry_after_s = 0;
    }
}

const char *err_code_name(err_code code) {
    return (code >= 0 && code < ERR__COUNT && names[code]) ? names[code] : "internal";
}

err_code err_code_from_name(const char *name) {
    for (int i = 0; i < ERR__COUNT; i++)
        if (names[i] && name && strcmp(names[i], name) == 0)
            return (err_code)i;
    return ERR__COUNT;
}
