/* Two-factor codes (RFC 6238 TOTP over RFC 4226 HOTP) for identity's AUTH-6 and for the tests that
 * play the authenticator app: HOTP truncation over HMAC-SHA1, the ±1-step check with the caller's
 * last used step so a code works once, base32 for secrets and the otpauth:// URI that apps scan.
 * SHA-1 is a straightforward block-at-a-time implementation (a check hashes a few dozen bytes, so
 * clarity wins over speed); the RFC 3174, 2202, 4648 and 6238 vectors are in tests/unit/otp_test.c. */
#include "otp.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"

/* ---- SHA-1 and HMAC-SHA1 ------------------------------------------------------------------------- */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void compress(uint32_t h[5], const uint8_t block[64]) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 |
               block[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20)
            f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40)
            f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60)
            f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else
            f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void otp_sha1_init(struct otp_sha1 *c) {
    static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(c->h, iv, sizeof iv);
    c->length = 0;
    c->used = 0;
}

void otp_sha1_update(struct otp_sha1 *c, const void *data, size_t n) {
    const uint8_t *p = data;
    c->length += n;
    while (n > 0) {
        size_t take = 64 - c->used < n ? 64 - c->used : n;
        memcpy(c->block + c->used, p, take);
        c->used += take, p += take, n -= take;
        if (c->used == 64) {
            compress(c->h, c->block);
            c->used = 0;
        }
    }
}

void otp_sha1_final(struct otp_sha1 *c, uint8_t out[OTP_SHA1_LEN]) {
    uint64_t bits = c->length * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    otp_sha1_update(c, &pad, 1);
    while (c->used != 56)
        otp_sha1_update(c, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    otp_sha1_update(c, len, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
    memset(c, 0, sizeof *c);
}

void otp_sha1(const void *data, size_t n, uint8_t out[OTP_SHA1_LEN]) {
    struct otp_sha1 c;
    otp_sha1_init(&c);
    otp_sha1_update(&c, data, n);
    otp_sha1_final(&c, out);
}

void otp_hmac_sha1(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[OTP_SHA1_LEN]) {
    uint8_t k[64] = {0}, pad[64], inner[OTP_SHA1_LEN];
    if (key_len > 64)
        otp_sha1(key, key_len, k);
    else
        memcpy(k, key, key_len);
    struct otp_sha1 c;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    otp_sha1_init(&c);
    otp_sha1_update(&c, pad, 64);
    otp_sha1_update(&c, data, n);
    otp_sha1_final(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    otp_sha1_init(&c);
    otp_sha1_update(&c, pad, 64);
    otp_sha1_update(&c, inner, OTP_SHA1_LEN);
    otp_sha1_final(&c, out);
    memset(k, 0, sizeof k);
    memset(pad, 0, sizeof pad);
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
    memset(secret, 0, sizeof secret);
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

bool otp_uri(const char *issuer, const char *account, const char *secret_b32, char *out, size_t out_size) {
    char is[256], acc[800];
    if (!url_encode(issuer, is, sizeof is) || !url_encode(account, acc, sizeof acc))
        return false;
    int n = snprintf(out, out_size, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", is,
                     acc, secret_b32, is, OTP_DIGITS, OTP_STEP_S);
    return n > 0 && (size_t)n < out_size;
}
