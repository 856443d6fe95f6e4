/* Verification of OSC4-HMAC-SHA256 and AWS4-HMAC-SHA256 request signatures (AWS Signature V4
 * with OUTSCALE's constants): parsing the Authorization header, rebuilding the canonical
 * request from the headers the client says it signed, the signing-key chain, and the timestamp
 * window. Pure functions over borrowed inputs; thread-safe.
 *
 *   scheme  algorithm          date header  key        service  terminator
 *   OSC4    OSC4-HMAC-SHA256   X-Osc-Date   "OSC4"+SK  api      osc4_request
 *   AWS4    AWS4-HMAC-SHA256   X-Amz-Date   "AWS4"+SK  oapi     aws4_request */
#ifndef CLOUDSIM_SIGV4_H
#define CLOUDSIM_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "err.h"

enum sigv4_scheme { SIGV4_OSC4, SIGV4_AWS4 };

#define SIGV4_WINDOW (5 * CLOCK_MINUTE)

/* The parts of an Authorization header. */
struct sigv4_auth {
    enum sigv4_scheme scheme;
    char access_key[64];
    char date[16];    /* YYYYMMDD from the credential scope */
    char region[64];
    char service[32];
    char terminator[32];
    char signed_headers[512]; /* "content-type;host;x-osc-date" as sent */
    char signature[65];       /* lower-case hex */
};

/* Header lookup by name (case-insensitive): the value, or NULL when absent. Borrowed. */
typedef const char *(*sigv4_header_fn)(void *ctx, const char *name);

struct sigv4_request {
    const char *method; /* "POST" */
    const char *path;   /* as sent, "/api/v1/ReadVms" */
    const char *query;  /* canonical query string, NULL = "" */
    sigv4_header_fn header;
    void *header_ctx;
    const char *body;
    size_t body_len;
};

const char *sigv4_date_header(enum sigv4_scheme s); /* "x-osc-date" / "x-amz-date" */

/* Parses "OSC4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/TERM, SignedHeaders=..,
 * Signature=.." (or the AWS4 form), and checks the service, the terminator, and that the signed
 * headers include host and the scheme's date header. ERR_UNAUTHENTICATED with a reason. */
err_code sigv4_parse(const char *authorization, struct sigv4_auth *out, struct err *e) MKT_MUST_USE;

/* The signature the request should carry for `secret`, into out[65]. ERR_UNAUTHENTICATED when
 * a signed header is missing from the request. */
err_code sigv4_expected(const struct sigv4_auth *a, const char *secret, const struct sigv4_request *r,
                        char out[65], struct err *e) MKT_MUST_USE;

/* Checks the date header: the YYYYMMDDTHHMMSSZ form, the same day as the credential scope and
 * within SIGV4_WINDOW of `now` (either direction). */
err_code sigv4_check_time(const struct sigv4_auth *a, const char *stamp, mkt_time now, struct err *e) MKT_MUST_USE;

/* True when the request's signature (in `a`) matches `secret` (constant-time comparison).
 * Also fails when a signed header is missing. Does not check the time. */
bool sigv4_matches(const struct sigv4_auth *a, const char *secret, const struct sigv4_request *r);

#endif
