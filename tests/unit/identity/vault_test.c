/* The vault: sealed values open with the right key and context only; any change of a byte, of
 * the context (another row) or of the key is refused; previous keys still open what they sealed
 * (rotation); bad keys are refused at start. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/identity/vault.h"

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="   /* bytes 0..31 */
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="   /* bytes 32..63 */

static struct vault *vault(const char *key, const char *previous) {
    struct vault *v = NULL;
    struct err e = {0};
    cr_assert_eq(vault_new(key, previous, &v, &e), ERR_OK, "%s", e.msg);
    return v;
}

Test(vault, seal_open_roundtrip) {
    struct vault *v = vault(KEY1, NULL);
    char sealed[VAULT_SEALED_MAX];
    uint8_t plain[VAULT_PLAIN_MAX];
    size_t n = 0;
    struct err e = {0};
    const char *secret = "SECRETKEYSECRETKEYSECRETKEYSECRETKEY0001";
    cr_assert_eq(vault_seal(v, "ctx:1", secret, strlen(secret), sealed, sizeof sealed, &e), ERR_OK, "%s", e.msg);
    cr_expect(strncmp(sealed, vault_key_id(v), VAULT_KEY_ID_LEN) == 0 && sealed[VAULT_KEY_ID_LEN] == '.');
    cr_expect_null(strstr(sealed, "SECRET"));
    cr_assert_eq(vault_open(v, "ctx:1", sealed, plain, sizeof plain, &n, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(n, strlen(secret));
    cr_expect(memcmp(plain, secret, n) == 0);
    /* a fresh nonce each time */
    char again[VAULT_SEALED_MAX];
    cr_assert_eq(vault_seal(v, "ctx:1", secret, strlen(secret), again, sizeof again, &e), ERR_OK);
    cr_expect_str_neq(sealed, again);
    vault_free(v);
}

Test(vault, tamper_context_and_key_are_refused) {
    struct vault *v = vault(KEY1, NULL), *other = vault(KEY2, NULL);
    char sealed[VAULT_SEALED_MAX];
    uint8_t plain[VAULT_PLAIN_MAX];
    size_t n;
    struct err e = {0};
    cr_assert_eq(vault_seal(v, "row:a", "s3cret", 6, sealed, sizeof sealed, &e), ERR_OK);
    cr_expect_eq(vault_open(v, "row:b", sealed, plain, sizeof plain, &n, &e), ERR_INTERNAL, "another row's context");
    cr_expect_eq(vault_open(other, "row:a", sealed, plain, sizeof plain, &n, &e), ERR_INTERNAL, "another key");
    cr_expect(strstr(e.msg, "not configured"), "%s", e.msg);
    for (size_t i = VAULT_KEY_ID_LEN + 1; sealed[i]; i++) {
        char t[VAULT_SEALED_MAX];
        memcpy(t, sealed, sizeof t);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        cr_expect_eq(vault_open(v, "row:a", t, plain, sizeof plain, &n, &e), ERR_INTERNAL, "byte %zu changed", i);
    }
    cr_expect_eq(vault_open(v, "row:a", "garbage", plain, sizeof plain, &n, &e), ERR_INTERNAL);
    cr_expect_eq(vault_open(v, "row:a", "", plain, sizeof plain, &n, &e), ERR_INTERNAL);
    vault_free(v);
    vault_free(other);
}

Test(vault, rotation_previous_keys_still_open) {
    struct vault *old = vault(KEY1, NULL), *rotated = vault(KEY2, KEY1);
    char sealed[VAULT_SEALED_MAX], fresh[VAULT_SEALED_MAX];
    uint8_t plain[VAULT_PLAIN_MAX];
    size_t n;
    struct err e = {0};
    cr_assert_eq(vault_seal(old, "c", "before", 6, sealed, sizeof sealed, &e), ERR_OK);
    cr_expect_eq(vault_open(rotated, "c", sealed, plain, sizeof plain, &n, &e), ERR_OK, "%s", e.msg);
    cr_expect(n == 6 && memcmp(plain, "before", 6) == 0);
    cr_assert_eq(vault_seal(rotated, "c", "after", 5, fresh, sizeof fresh, &e), ERR_OK);
    cr_expect(strncmp(fresh, vault_key_id(rotated), VAULT_KEY_ID_LEN) == 0, "new seals use the current key");
    cr_expect_str_neq(vault_key_id(old), vault_key_id(rotated));
    vault_free(old);
    vault_free(rotated);
}

Test(vault, bad_keys_are_refused) {
    struct vault *v = NULL;
    struct err e = {0};
    cr_expect_eq(vault_new("", NULL, &v, &e), ERR_INVALID);
    cr_expect_eq(vault_new("c2hvcnQ=", NULL, &v, &e), ERR_INVALID, "6 bytes");
    cr_expect(strstr(e.msg, "MKT_VAULT_KEY") && strstr(e.msg, "32"), "%s", e.msg);
    cr_expect_eq(vault_new(KEY1, "nope!", &v, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "MKT_VAULT_PREVIOUS_KEYS"), "%s", e.msg);
    cr_expect_eq(vault_new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", NULL, &v, &e), ERR_OK, "no padding: %s", e.msg);
    vault_free(v);
}
