/* argon2id hashing (AUTH-2) with cheap parameters: verification, the stored format naming the
 * algorithm and its parameters, rehash when the parameters change, bounds of the settings. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../services/identity/password.h"

static const struct password_params cheap = {1, 64 * 1024};

Test(password, hash_and_verify) {
    char h[PASSWORD_HASH_MAX];
    struct err e = {0};
    cr_assert_eq(password_hash(&cheap, "Correct-Horse-9", h, &e), ERR_OK, "%s", e.msg);
    cr_expect(strncmp(h, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0, "%s", h);
    cr_expect(password_verify(h, "Correct-Horse-9"));
    cr_expect(!password_verify(h, "Correct-Horse-8"));
    cr_expect(!password_verify("", "x"));
    cr_expect(!password_verify(NULL, "x"));
    char h2[PASSWORD_HASH_MAX];
    cr_assert_eq(password_hash(&cheap, "Correct-Horse-9", h2, &e), ERR_OK);
    cr_expect_str_neq(h, h2, "salted: the same password hashes differently");
}

Test(password, rehash_when_parameters_change) {
    char h[PASSWORD_HASH_MAX];
    struct err e = {0};
    cr_assert_eq(password_hash(&cheap, "pw", h, &e), ERR_OK);
    cr_expect(!password_needs_rehash(&cheap, h));
    struct password_params stronger = {2, 128 * 1024};
    cr_expect(password_needs_rehash(&stronger, h));
}

Test(password, parameter_bounds) {
    struct err e = {0};
    struct password_params p = {0, 64 * 1024};
    cr_expect_eq(password_params_check(&p, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "MKT_ARGON2_OPS"), "%s", e.msg);
    p = (struct password_params){1, 1024};
    cr_expect_eq(password_params_check(&p, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "MKT_ARGON2_MEM_KIB"), "%s", e.msg);
    p = (struct password_params){2, 19456 * 1024};
    cr_expect_eq(password_params_check(&p, &e), ERR_OK);
}
