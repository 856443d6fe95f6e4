/* Two-factor codes (RFC 6238 TOTP over RFC 4226 HOTP) for identity's AUTH-6 and for the tests that
 * play the authenticator app: HOTP truncation over HMAC-SHA1, the ±1-step check with the caller's
 * last used step so a code works once, base32 for secrets and the otpauth:// URI that apps scan.
 * SHA-1 and HMAC-SHA1 are libcrypto's one-shot calls, percent-encoding is libcurl's; the RFC 3174,
 * 2202, 4648 and 6238 vectors are in tests/unit/otp_test.c. */
#include "otp.h"

#include <curl/curl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* ---- SHA-1 and HMAC-SHA1 ------------------------------------------------------------------------- */

void otp_sha1(const void *data, size_t n, uint8_t out[OTP_SHA1_LEN]) {
    unsigned int len = 0;
    if (EVP_Digest(n ? data : "", n, out, &len, EVP_sha1(), NULL) != 1 || len != OTP_SHA1_LEN)
        abort(); /* only an allocation failure inside libcrypto gets here */
}

void otp_hmac_sha1(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[OTP_SHA1_LEN]) {
    static const unsigned char no_key[1];
    unsigned int len = 0;
    /* An empty key or message may come as NULL: libcrypto gets valid pointers whatever its version.
     * A secret is never near INT_MAX bytes. */
    if (key_len > INT_MAX ||
        !HMAC(EVP_sha1(), key_len ? key : no_key, (int)key_len, n ? data : (const void *)"", n, out, &len) ||
        len != OTP_SHA1_LEN)
        abort();
}

/* ---- base32 ---------------------------------------------------------------------------------------- */

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t otp_base32_encode(const uint8_t *in, size_t n, char *out, size_t out_size) {
    size_t len = (n * 8 + 4) / 5;
    if (out_size < len + 1)
        return 0;
    uint32_t buffer = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        buffer = (buffer << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(buffer << (5 - bits)) & 31];
    out[o] = '\0';
    return o;
}

long otp_base32_decode(const char *in, uint8_t *out, size_t out_size) {
    uint32_t buffer = 0;
    int bits = 0;
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '=' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        const char *at = strchr(b32_alphabet, c);
        if (!at || c == '\0')
            return -1;
        buffer = (buffer << 5) | (uint32_t)(at - b32_alphabet);
        bits += 5;
        if (bits >= 8) {
            if (o >= out_size)
                return -1;
            out[o++] = (uint8_t)(buffer >> (bits - 8));
            bits -= 8;
        }
    }
    return (long)o;
}

/* ---- HOTP and TOTP ---------------------------------------------------------------------------------- */

uint32_t otp_hotp(const uint8_t *secret, size_t n, uint64_t counter, int digits) {
    uint8_t msg[8], mac[OTP_SHA1_LEN];
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (uint8_t)counter;
    otp_hmac_sha1(secret, n, msg, sizeof msg, mac);
    int off = mac[OTP_SHA1_LEN - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return bin % mod;
}

int64_t otp_step(mkt_time now) {
    int64_t secs = now >= 0 ? now / CLOCK_SECOND : (now - CLOCK_SECOND + 1) / CLOCK_SECOND;
    return secs >= 0 ? secs / OTP_STEP_S : (secs - OTP_STEP_S + 1) / OTP_STEP_S;
}

void otp_code(const uint8_t *secret, size_t n, int64_t step, char out[OTP_DIGITS + 1]) {
    snprintf(out, OTP_DIGITS + 1, "%0*u", OTP_DIGITS, (unsigned)otp_hotp(secret, n, (uint64_t)step, OTP_DIGITS));
}

bool otp_code_at(const char *secret_b32, mkt_time now, int shift, char out[OTP_DIGITS + 1]) {
    uint8_t secret[OTP_SECRET_B32_MAX];
    long n = otp_base32_decode(secret_b32, secret, sizeof secret);
    if (n <= 0)
        return false;
    otp_code(secret, (size_t)n, otp_step(now) + shift, out);
    sodium_memzero(secret, sizeof secret); /* a plain memset of a dying buffer may be optimised away */
    return true;
}

bool otp_verify(const uint8_t *secret, size_t n, const char *code, mkt_time now, int64_t last_step,
                int64_t *matched_step) {
    if (!code || strlen(code) != OTP_DIGITS || strspn(code, "0123456789") != OTP_DIGITS)
        return false;
    int64_t current = otp_step(now);
    for (int64_t step = current - OTP_WINDOW; step <= current + OTP_WINDOW; step++) {
        if (step <= last_step)
            continue; /* that step's code was already used (or an earlier one was) */
        char expected[OTP_DIGITS + 1];
        otp_code(secret, n, step, expected);
        if (crypto_equal(expected, code, OTP_DIGITS)) {
            *matched_step = step;
            return true;
        }
    }
    return false;
}

/* Percent-encodes everything but RFC 3986 unreserved characters (curl_easy_escape's rule) into
 * out; false when out is too small or libcurl could not allocate. */
static bool url_encode(const char *s, char *out, size_t out_size) {
    char *enc = curl_easy_escape(NULL, s, 0); /* a NULL handle is allowed since libcurl 7.82 */
    bool ok = enc && strlen(enc) < out_size;
    if (ok)
        memcpy(out, enc, strlen(enc) + 1);
    curl_free(enc);
    return ok;
}

bool otp_uri(const char *issuer, const char *account, const char *secret_b32, char *out, size_t out_size) {
    char is[256], acc[800];
    if (!url_encode(issuer, is, sizeof is) || !url_encode(account, acc, sizeof acc))
        return false;
    int n = snprintf(out, out_size, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", is,
                     acc, secret_b32, is, OTP_DIGITS, OTP_STEP_S);
    return n > 0 && (size_t)n < out_size;
}
