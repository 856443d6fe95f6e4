/* OSC4-HMAC-SHA256 request signatures (AWS Signature V4 with OUTSCALE's constants) and the plain
 * AWS4-HMAC-SHA256 variant the OUTSCALE API also accepts. Pure functions: they build the
 * canonical request, the string to sign, the signing key, the signature and the Authorization
 * header, and parse an Authorization header back into its parts. The cloud client signs through
 * libcurl (CURLOPT_AWS_SIGV4) and uses this module only in tests; the cloud emulator verifies
 * every request with it (oscsig_parse_authorization, oscsig_check_scope, oscsig_verify,
 * oscsig_check_time). Thread-safe, no global state.
 *
 *   scheme  algorithm          date header  key prefix  default service  terminator
 *   OSC4    OSC4-HMAC-SHA256   X-Osc-Date   "OSC4"+SK   api              osc4_request
 *   AWS4    AWS4-HMAC-SHA256   X-Amz-Date   "AWS4"+SK   oapi             aws4_request
 *
 * Strings returned through `char **out` are owned by the caller (free()). */
#ifndef MKT_OSCSIG_H
#define MKT_OSCSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "crypto.h"
#include "err.h"

enum oscsig_scheme { OSCSIG_OSC4, OSCSIG_AWS4 };

#define OSCSIG_SIG_HEX_LEN 64      /* hex signature, without the NUL */
#define OSCSIG_STAMP_LEN 16        /* "YYYYMMDDTHHMMSSZ", without the NUL */
#define OSCSIG_AK_MAX 128
#define OSCSIG_FIELD_MAX 64        /* region, service */
#define OSCSIG_SIGNED_HEADERS_MAX 512

/* Static strings for each scheme (see the table above). */
const char *oscsig_algorithm(enum oscsig_scheme s);
const char *oscsig_date_header(enum oscsig_scheme s);
const char *oscsig_default_service(enum oscsig_scheme s);
const char *oscsig_terminator(enum oscsig_scheme s);

/* One header to sign. Names may use any case; values are trimmed and inner runs of spaces are
 * collapsed, as SigV4 prescribes. Borrowed. */
struct oscsig_header {
    const char *name;
    const char *value;
};

/* Everything the signature covers. All pointers are borrowed for the duration of the call. */
struct oscsig_request {
    enum oscsig_scheme scheme;
    const char *method;                  /* "POST" */
    const char *path;                    /* "/api/v1/ReadVms", already URI-encoded */
    const char *query;                   /* canonical query string; NULL = "" */
    const struct oscsig_header *headers; /* exactly the signed headers, including host and the
                                            date header; any order, no duplicates */
    size_t n_headers;
    const void *body;                    /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *stamp;                   /* the date header's value, "YYYYMMDDTHHMMSSZ" */
    const char *region;                  /* "eu-west-2" */
    const char *service;                 /* NULL = oscsig_default_service(scheme) */
};

/* The canonical request (method, path, query, canonical headers, signed header list, hex
 * SHA-256 of the body), newline-separated. *out is owned. */
err_code oscsig_canonical_request(const struct oscsig_request *r, char **out, struct err *e) MKT_MUST_USE;
/* The string to sign: algorithm, stamp, credential scope, hex SHA-256 of the canonical request.
 * *out is owned. */
err_code oscsig_string_to_sign(const struct oscsig_request *r, char **out, struct err *e) MKT_MUST_USE;
/* HMAC-SHA256 chain from prefix+secret_key over date8 ("YYYYMMDD"), region, service and the
 * terminator. */
void oscsig_signing_key(enum oscsig_scheme s, const char *secret_key, const char *date8,
                        const char *region, const char *service, uint8_t key[CRYPTO_SHA256_LEN]);
/* Lower-case hex signature of r with secret_key into out. */
err_code oscsig_signature(const struct oscsig_request *r, const char *secret_key,
                          char out[OSCSIG_SIG_HEX_LEN + 1], struct err *e) MKT_MUST_USE;
/* The full Authorization header value
 * "<algorithm> Credential=<AK>/<date8>/<region>/<service>/<terminator>, SignedHeaders=..., Signature=...".
 * *out is owned. */
err_code oscsig_authorization(const struct oscsig_request *r, const char *access_key,
                              const char *secret_key, char **out, struct err *e) MKT_MUST_USE;

/* "YYYYMMDDTHHMMSSZ" for t (UTC), and its inverse (ERR_INVALID when malformed). */
void oscsig_format_stamp(mkt_time t, char out[OSCSIG_STAMP_LEN + 1]);
err_code oscsig_parse_stamp(const char *stamp, mkt_time *out, struct err *e) MKT_MUST_USE;

/* An Authorization header, parsed. Plain copies: no pointers. */
struct oscsig_auth {
    enum oscsig_scheme scheme;
    char access_key[OSCSIG_AK_MAX + 1];
    char date8[9];
    char region[OSCSIG_FIELD_MAX + 1];
    char service[OSCSIG_FIELD_MAX + 1];
    char signed_headers[OSCSIG_SIGNED_HEADERS_MAX + 1]; /* "content-type;host;x-osc-date" */
    char signature[OSCSIG_SIG_HEX_LEN + 1];
};

#define OSCSIG_DATE_HEADER_MAX (OSCSIG_FIELD_MAX + 8)

/* The date header a parsed request was signed with, into buf (returned): the scheme's own
 * ("X-Osc-Date", "X-Amz-Date") when SignedHeaders lists it, else "X-<Service>-Date" when listed
 * (curl names the date header after its second provider, so `--aws-sigv4 osc:api:<region>:api`
 * sends X-Api-Date), else the scheme's own (oscsig_check_scope then refuses the header).
 * oscsig_check_scope, oscsig_verify and oscsig_check_time all use this header. */
const char *oscsig_auth_date_header(const struct oscsig_auth *a, char buf[OSCSIG_DATE_HEADER_MAX + 1]);

/* Parses an Authorization header value. ERR_UNAUTHENTICATED (reason says what is wrong, never
 * echoes the signature) when it is not a well-formed OSC4 or AWS4 header; *out is written only on
 * success. */
err_code oscsig_parse_authorization(const char *value, struct oscsig_auth *out, struct err *e) MKT_MUST_USE;

/* What a verifier requires of a parsed header before it looks at the request or the key: the
 * credential scope names `service` (NULL = the scheme's default) and SignedHeaders lists `host`
 * and the date header (oscsig_auth_date_header). oscsig_verify applies it too; call it first when a malformed
 * header must be told apart from a wrong signature (a server that locks keys after bad
 * signatures counts only the latter). ERR_UNAUTHENTICATED with the reason. */
err_code oscsig_check_scope(const struct oscsig_auth *a, const char *service, struct err *e) MKT_MUST_USE;

/* Looks a request header up by name (case-insensitive); returns a borrowed value or NULL. */
typedef const char *(*oscsig_header_fn)(void *ctx, const char *name);

/* Recomputes the signature of a received request from the headers named in a->signed_headers
 * (in canonical order; headers not listed are ignored) and compares it (constant time) with
 * a->signature. Checks oscsig_check_scope(a, service) and that the date header's
 * (oscsig_auth_date_header) day matches the credential's. Does not check the time skew: see oscsig_check_time. ERR_UNAUTHENTICATED on
 * any mismatch. */
err_code oscsig_verify(const struct oscsig_auth *a, const char *method, const char *path,
                       const char *query, oscsig_header_fn get_header, void *ctx,
                       const void *body, size_t body_len, const char *service,
                       const char *secret_key, struct err *e) MKT_MUST_USE;

/* Checks a received date header value (`stamp`, NULL when the header is absent): the
 * YYYYMMDDTHHMMSSZ form, the credential's day, and at most `window` away from `now` in either
 * direction (exactly `window` passes). ERR_UNAUTHENTICATED with the reason. */
err_code oscsig_check_time(const struct oscsig_auth *a, const char *stamp, mkt_time now, mkt_time window,
                           struct err *e) MKT_MUST_USE;

#endif
