/* One-time passwords for two-factor authentication: TOTP (RFC 6238) over HOTP (RFC 4226) with
 * HMAC-SHA1, 30-second steps, 6 digits, one step accepted either side for clock drift; base32
 * (RFC 4648, the encoding authenticator apps use for secrets) and the otpauth:// enrolment URI.
 * The service checks codes with otp_verify, remembering the last accepted step per account and
 * passing it in so that a code works once; tests compute codes as an app would with otp_code_at.
 *
 * SHA-1 and HMAC-SHA1 come from OpenSSL's libcrypto (RFC 6238 and the apps use SHA-1, which
 * libsodium lacks); they are exposed here, and only for TOTP and its tests. Not for anything else:
 * SHA-1 is broken for collision resistance (HMAC-SHA1 is still sound as a MAC).
 *
 * Pure and thread-safe; times come from the caller (lib/clock in production). Every pointer is
 * borrowed for the duration of the call. The hashes allocate inside libcrypto and abort() when
 * that fails (out of memory): a made-up MAC would turn into a guessable code. */
#ifndef MKT_OTP_H
#define MKT_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define OTP_STEP_S 30
#define OTP_DIGITS 6
#define OTP_WINDOW 1          /* steps accepted either side of the current one */
#define OTP_SECRET_LEN 20     /* bytes: 160 bits, as RFC 4226 recommends */
#define OTP_SECRET_B32_MAX 64 /* base32 of a secret, with room to spare */
#define OTP_SHA1_LEN 20

/* ---- SHA-1 and HMAC-SHA1 (libcrypto) ---- */

/* SHA-1 of one buffer. */
void otp_sha1(const void *data, size_t n, uint8_t out[OTP_SHA1_LEN]);
/* HMAC-SHA1 (RFC 2104); a key longer than the 64-byte block is hashed first, as the RFC says. */
void otp_hmac_sha1(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[OTP_SHA1_LEN]);

/* ---- base32 ---- */

/* base32 without padding into out (size >= 8*ceil(n/5)+1); returns the length, 0 when too small. */
size_t otp_base32_encode(const uint8_t *in, size_t n, char *out, size_t out_size);
/* Decodes upper or lower case base32, ignoring '=' padding and spaces; returns the number of
 * bytes written, or -1 on a bad character or when out is too small. */
long otp_base32_decode(const char *in, uint8_t *out, size_t out_size);

/* ---- HOTP and TOTP ---- */

/* The HOTP value of `counter` with `digits` digits (6..8). */
uint32_t otp_hotp(const uint8_t *secret, size_t n, uint64_t counter, int digits);
/* The step number of wall time `now` (floor(seconds / 30)). */
int64_t otp_step(mkt_time now);
/* The 6-digit code of a step, as text into out[7] (leading zeros kept). */
void otp_code(const uint8_t *secret, size_t n, int64_t step, char out[OTP_DIGITS + 1]);
/* The code an authenticator app holding the base32 secret shows at `now`, `shift` steps away
 * (-1: the previous code, 1: the next one); false when the secret is not base32. */
bool otp_code_at(const char *secret_b32, mkt_time now, int shift, char out[OTP_DIGITS + 1]);
/* Checks a 6-digit code against the steps around `now`; only steps after `last_step` count (a code
 * is usable once; pass -1 when none was used yet). On success *matched_step is the step. */
bool otp_verify(const uint8_t *secret, size_t n, const char *code, mkt_time now, int64_t last_step,
                int64_t *matched_step);
/* otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 into
 * out (issuer and account percent-encoded); false when it does not fit. */
bool otp_uri(const char *issuer, const char *account, const char *secret_b32, char *out, size_t out_size);

#endif
