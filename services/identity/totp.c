/* TOTP (RFC 6238) for two-factor authentication (AUTH-6): HOTP truncation over HMAC-SHA1, the
 * ±1-step check with the caller's last used step so a code works once, base32 for secrets and
 * the otpauth:// URI that authenticator apps scan. Pure functions; the RFC vectors are in
 * tests/unit/identity/totp_test.c. */
#include "totp.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "sha1.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t base32_encode(const uint8_t *in, size_t n, char *out, size_t out_size) {
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

long base32_decode(const char *in, uint8_t *out, size_t out_size) {
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

uint32_t totp_hotp(const uint8_t *secret, size_t n, uint64_t counter, int digits) {
    uint8_t msg[8], mac[SHA1_LEN];
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (uint8_t)counter;
    hmac_sha1(secret, n, msg, sizeof msg, mac);
    int off = mac[SHA1_LEN - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return bin % mod;
}

int64_t totp_step(mkt_time now) {
    int64_t secs = now >= 0 ? now / CLOCK_SECOND : (now - CLOCK_SECOND + 1) / CLOCK_SECOND;
    return secs >= 0 ? secs / TOTP_STEP_S : (secs - TOTP_STEP_S + 1) / TOTP_STEP_S;
}

void totp_code(const uint8_t *secret, size_t n, int64_t step, char out[TOTP_DIGITS + 1]) {
    snprintf(out, TOTP_DIGITS + 1, "%0*u", TOTP_DIGITS, (unsigned)totp_hotp(secret, n, (uint64_t)step, TOTP_DIGITS));
}

bool totp_verify(const uint8_t *secret, size_t n, const char *code, mkt_time now, int64_t last_step,
                 int64_t *matched_step) {
    if (!code || strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS)
        return false;
    int64_t current = totp_step(now);
    for (int64_t step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
        if (step <= last_step)
            continue; /* that step's code was already used (or an earlier one was) */
        char expected[TOTP_DIGITS + 1];
        totp_code(secret, n, step, expected);
        if (crypto_equal(expected, code, TOTP_DIGITS)) {
            *matched_step = step;
            return true;
        }
    }
    return false;
}

/* Percent-encodes everything but RFC 3986 unreserved characters; false when out is too small. */
static bool url_encode(const char *s, char *out, size_t out_size) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (o + (plain ? 1 : 3) >= out_size)
            return false;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return true;
}

bool totp_uri(const char *issuer, const char *account, const char *secret_b32, char *out, size_t out_size) {
    char is[256], acc[800];
    if (!url_encode(issuer, is, sizeof is) || !url_encode(account, acc, sizeof acc))
        return false;
    int n = snprintf(out, out_size, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", is,
                     acc, secret_b32, is, TOTP_DIGITS, TOTP_STEP_S);
    return n > 0 && (size_t)n < out_size;
}
