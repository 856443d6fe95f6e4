/* Unit tests for lib/otp: SHA-1 (RFC 3174), HMAC-SHA1 (RFC 2202), base32 (RFC 4648) and TOTP
 * (RFC 6238, identity's AUTH-6): the published vectors, the ±1 step window, a code used once, the
 * code an authenticator app computes from a base32 secret, and the otpauth:// URI. SHA-1 and
 * HMAC-SHA1 are libcrypto's: their vectors check that lib/otp calls it right. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "otp.h"

static void hex_of(const uint8_t *b, size_t n, char *out) { crypto_hex(b, n, out); }

Test(sha1, rfc3174_vectors) {
    static const struct {
        const char *in;
        long repeat;
        const char *hex;
    } v[] = {
        {"abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
        {"0123456701234567012345670123456701234567012345670123456701234567", 10,
         "dea356a2cddd90c7a7ecedc5ebb563934f460452"},
        {"", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].in), total = len * (size_t)v[i].repeat;
        char *in = malloc(total + 1);
        cr_assert(in);
        for (long k = 0; k < v[i].repeat; k++)
            memcpy(in + (size_t)k * len, v[i].in, len);
        uint8_t d[OTP_SHA1_LEN];
        char hex[41];
        otp_sha1(in, total, d);
        hex_of(d, sizeof d, hex);
        cr_expect_str_eq(hex, v[i].hex, "vector %zu", i);
        free(in);
    }
}

Test(sha1, hmac_rfc2202_vectors) {
    uint8_t key1[20], key3[20], key_long[80], d[OTP_SHA1_LEN], data3[50];
    char hex[41];
    memset(key1, 0x0b, sizeof key1);
    otp_hmac_sha1(key1, sizeof key1, "Hi There", 8, d);
    hex_of(d, sizeof d, hex);
    cr_expect_str_eq(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
    otp_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, d);
    hex_of(d, sizeof d, hex);
    cr_expect_str_eq(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    memset(key3, 0xaa, sizeof key3);
    memset(data3, 0xdd, sizeof data3);
    otp_hmac_sha1(key3, sizeof key3, data3, sizeof data3, d);
    hex_of(d, sizeof d, hex);
    cr_expect_str_eq(hex, "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
    memset(key_long, 0xaa, sizeof key_long); /* a key longer than the block is hashed first */
    otp_hmac_sha1(key_long, sizeof key_long, "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
    hex_of(d, sizeof d, hex);
    cr_expect_str_eq(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    otp_hmac_sha1(NULL, 0, NULL, 0, d); /* an empty key and message, both as NULL */
    hex_of(d, sizeof d, hex);
    cr_expect_str_eq(hex, "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

Test(base32, rfc4648_vectors) {
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char enc[32];
        uint8_t dec[32];
        cr_expect_eq(otp_base32_encode((const uint8_t *)in[i], strlen(in[i]), enc, sizeof enc), strlen(out[i]));
        cr_expect_str_eq(enc, out[i]);
        long n = otp_base32_decode(out[i], dec, sizeof dec);
        cr_expect_eq(n, (long)strlen(in[i]));
        cr_expect(memcmp(dec, in[i], (size_t)n) == 0);
    }
}

Test(base32, decode_lower_case_padding_spaces_and_refusals) {
    uint8_t dec[16];
    cr_expect_eq(otp_base32_decode("mzxw 6ytb oi======", dec, sizeof dec), 6);
    cr_expect(memcmp(dec, "foobar", 6) == 0);
    cr_expect_eq(otp_base32_decode("MZXW1", dec, sizeof dec), -1, "1 is not base32");
    cr_expect_eq(otp_base32_decode("MZXW6YTBOI", dec, 3), -1, "too small an output");
    char small[4];
    cr_expect_eq(otp_base32_encode((const uint8_t *)"foobar", 6, small, sizeof small), 0);
}

/* RFC 6238 appendix B, SHA-1, 8 digits, seed "12345678901234567890". */
Test(totp, rfc6238_vectors) {
    static const struct {
        long long t;
        uint32_t code;
    } v[] = {{59, 94287082},         {1111111109, 7081804}, {1111111111, 14050471},
             {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130}};
    const uint8_t *seed = (const uint8_t *)"12345678901234567890";
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int64_t step = otp_step(v[i].t * CLOCK_SECOND);
        cr_expect_eq(otp_hotp(seed, 20, (uint64_t)step, 8), v[i].code, "T=%lld", v[i].t);
        char six[7], want[7];
        otp_code(seed, 20, step, six);
        snprintf(want, sizeof want, "%06u", v[i].code % 1000000);
        cr_expect_str_eq(six, want, "6 digits keep leading zeros");
    }
}

/* What an authenticator app shows: the RFC seed in base32, T = 59 s is step 1 (94287082). */
Test(totp, code_at_from_a_base32_secret) {
    static const char *const seed_b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; /* "12345678901234567890" */
    char code[7];
    cr_assert(otp_code_at(seed_b32, 59 * CLOCK_SECOND, 0, code));
    cr_expect_str_eq(code, "287082");
    cr_assert(otp_code_at("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 89 * CLOCK_SECOND, -1, code), "lower case");
    cr_expect_str_eq(code, "287082", "one step back from step 2");
    cr_assert(otp_code_at(seed_b32, 1111111109LL * CLOCK_SECOND, 0, code));
    cr_expect_str_eq(code, "081804");
    cr_expect(!otp_code_at("GEZD1", 59 * CLOCK_SECOND, 0, code), "1 is not base32");
    cr_expect(!otp_code_at("", 59 * CLOCK_SECOND, 0, code), "an empty secret");
}

Test(totp, window_of_one_step_either_side) {
    const uint8_t *seed = (const uint8_t *)"12345678901234567890";
    mkt_time now = 1111111111LL * CLOCK_SECOND; /* step 37037037 */
    int64_t cur = otp_step(now), matched = 0;
    for (int shift = -3; shift <= 3; shift++) {
        char code[7];
        otp_code(seed, 20, cur + shift, code);
        bool ok = otp_verify(seed, 20, code, now, -1, &matched);
        cr_expect_eq(ok, shift >= -1 && shift <= 1, "shift %d", shift);
        if (ok)
            cr_expect_eq(matched, cur + shift);
    }
}

Test(totp, a_code_works_once) {
    const uint8_t *seed = (const uint8_t *)"12345678901234567890";
    mkt_time now = 1234567890LL * CLOCK_SECOND;
    int64_t cur = otp_step(now), matched = 0;
    char code[7], prev[7], next[7];
    otp_code(seed, 20, cur, code);
    otp_code(seed, 20, cur - 1, prev);
    otp_code(seed, 20, cur + 1, next);
    cr_assert(otp_verify(seed, 20, code, now, -1, &matched));
    int64_t last = matched;
    cr_expect(!otp_verify(seed, 20, code, now, last, &matched), "the same code twice");
    cr_expect(!otp_verify(seed, 20, prev, now, last, &matched), "an older code after a newer one");
    cr_expect(otp_verify(seed, 20, next, now, last, &matched), "the next step's code");
    cr_expect_eq(matched, cur + 1);
}

Test(totp, malformed_codes_are_refused) {
    const uint8_t *seed = (const uint8_t *)"12345678901234567890";
    int64_t m;
    static const char *const bad[] = {"", "12345", "1234567", "12345a", " 12345", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!otp_verify(seed, 20, bad[i], 0, -1, &m), "'%s'", bad[i] ? bad[i] : "(null)");
}

Test(totp, otpauth_uri) {
    char uri[256];
    cr_assert(otp_uri("OUTSCALE Marketplace", "jane+x@example.com", "JBSWY3DPEHPK3PXP", uri, sizeof uri));
    cr_expect_str_eq(uri, "otpauth://totp/OUTSCALE%20Marketplace:jane%2Bx%40example.com?secret=JBSWY3DPEHPK3PXP"
                          "&issuer=OUTSCALE%20Marketplace&algorithm=SHA1&digits=6&period=30");
    cr_assert(otp_uri("Mkt", "é~x.y_z-w", "JBSWY3DPEHPK3PXP", uri, sizeof uri));
    cr_expect_str_eq(uri, "otpauth://totp/Mkt:%C3%A9~x.y_z-w?secret=JBSWY3DPEHPK3PXP"
                          "&issuer=Mkt&algorithm=SHA1&digits=6&period=30",
                     "unreserved characters kept, the rest as upper-case %%XX");
    char tiny[20];
    cr_expect(!otp_uri("I", "a@b.c", "JBSWY3DPEHPK3PXP", tiny, sizeof tiny));
}
