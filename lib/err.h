/* One error type for the whole code base: a code from a closed set plus a human reason written
 * into caller-owned storage, so reporting an error never allocates. Functions that can fail
 * return `err_code` (ERR_OK on success) and take a `struct err *` that they fill on failure.
 * Only the gateway maps codes to HTTP statuses (gateway_http_status). */
#ifndef MKT_ERR_H
#define MKT_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define MKT_MUST_USE __attribute__((warn_unused_result))
#define MKT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* The closed set of error codes. Their names (err_code_name) are stable strings used in
 * replies, logs and the HTTP error body: never renumber, only append. */
typedef enum err_code {
    ERR_OK = 0,
    ERR_INVALID,         /* bad input: the reason names the field and the rule */
    ERR_NOT_FOUND,       /* unknown resource, or one the caller may not see */
    ERR_CONFLICT,        /* state forbids it (already exists, wrong state) */
    ERR_UNAUTHENTICATED, /* no or bad credentials */
    ERR_FORBIDDEN,       /* authenticated but not allowed */
    ERR_THROTTLED,       /* too many attempts; retry later */
    ERR_UNAVAILABLE,     /* a dependency is down; retry later */
    ERR_TIMEOUT,         /* no answer in time */
    ERR_NO_RESPONDERS,   /* nobody serves this subject */
    ERR_TOO_LARGE,       /* payload over its limit */
    ERR_INTERNAL,        /* a bug or an unexpected failure */
    ERR_OTP_REQUIRED,    /* login needs a second factor */
    ERR_UNSUPPORTED,     /* a feature the platform does not offer */
    ERR__COUNT
} err_code;

#define ERR_MSG_MAX 256

struct err {
    err_code code;
    char msg[ERR_MSG_MAX];
    int retry_after_s; /* with ERR_THROTTLED/ERR_UNAVAILABLE: when to try again (0 = unknown) */
};

/* Fills `e` (which may be NULL) and returns `code`, so that `return err_set(e, ...)` reads well. */
err_code err_set(struct err *e, err_code code, const char *fmt, ...) MKT_PRINTF(3, 4);
err_code err_setv(struct err *e, err_code code, const char *fmt, va_list ap);
/* Prepends "what: " to an existing reason, keeping the code. */
err_code err_wrap(struct err *e, const char *fmt, ...) MKT_PRINTF(2, 3);
void err_clear(struct err *e);

/* Stable lower-case name ("not_found"), and its inverse (ERR__COUNT when unknown). */
const char *err_code_name(err_code code);
err_code err_code_from_name(const char *name);

#endif
