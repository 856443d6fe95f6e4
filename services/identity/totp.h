/* Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226): HMAC-SHA1, 30-second steps,
 * 6 digits, accepting one step either side for clock drift (AUTH-6). The caller refuses reuse
 * by remembering the last accepted step per account and passing it in. Also base32 (RFC 4648,
 * the encoding authenticator apps use for secrets) and the otpauth:// enrolment URI. Pure and
 * thread-safe; times come from the caller (lib/clock in production). */
#ifndef IDENTITY_TOTP_H
#define IDENTITY_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define TOTP_STEP_S 30
#define TOTP_DIGITS 6
#define TOTP_WINDOW 1          /* steps accepted either side of the current one */
#define TOTP_SECRET_LEN 20     /* bytes: 160 bits, as RFC 4226 recommends */
#define TOTP_SECRET_B32_MAX 64 /* base32 of a secret, with room to spare */

/* base32 without padding into out (size >= 8*ceil(n/5)+1); returns the length, 0 when too small. */
size_t base32_encode(const uint8_t *in, size_t n, char *out, size_t out_size);
/* Decodes upper or lower case base32, ignoring '=' padding and spaces; returns the number of
 * bytes written, or -1 on a bad character or when out is too small. */
long base32_decode(const char *in, uint8_t *out, size_t out_size);

/* The HOTP value of `counter` with `digits` digits (6..8). */
uint32_t totp_hotp(const uint8_t *secret, size_t n, uint64_t counter, int digits);
/* The step number of wall time `now` (floor(seconds / 30)). */
int64_t totp_step(mkt_time now);
/* The 6-digit code of a step, as text into out[7] (leading zeros kept). */
void totp_code(const uint8_t *secret, size_t n, int64_t step, char out[TOTP_DIGITS + 1]);
/* Checks a 6-digit code against the steps around `now`; only steps after `last_step` count (a code
 * is usable once; pass -1 when none was used yet). On success *matched_step is the step. */
bool totp_verify(const uint8_t *secret, size_t n, const char *code, mkt_time now, int64_t last_step,
                 int64_t *matched_step);
/* otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 into
 * out; false when it does not fit. */
bool totp_uri(const char *issuer, const char *account, const char *secret_b32, char *out, size_t out_size);

#endif
