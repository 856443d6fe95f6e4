/* Validation of what callers send to identity, as pure functions with one clear error each:
 * ERR_INVALID with a reason that names the field and the rule ("field 'password': needs at least
 * one digit, one special character"). Normalizing validators write the cleaned value (trimmed,
 * lower-cased e-mail, default language) into caller-owned storage. Table-driven unit tests in
 * tests/unit/identity/validation_test.c. Thread-safe. */
#ifndef IDENTITY_VALIDATION_H
#define IDENTITY_VALIDATION_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define VALIDATION_NAME_MAX 100     /* characters */
#define VALIDATION_EMAIL_MAX 254    /* bytes */
#define VALIDATION_PASSWORD_MIN 12  /* characters (AUTH-1) */
#define VALIDATION_PASSWORD_MAX 256 /* characters: bounds the hashing work */

enum { ROLE_ADMIN = 1, ROLE_USER = 2 };
enum { TYPE_BUYER = 1, TYPE_SELLER = 2 };

/* A display name (organization or person): 1..VALIDATION_NAME_MAX characters of valid UTF-8
 * without control characters, after trimming spaces. The trimmed value goes to out
 * (size >= 4 * VALIDATION_NAME_MAX + 1). */
err_code validation_name(const char *field, const char *in, char *out, size_t out_size, struct err *e) MKT_MUST_USE;
/* An e-mail address: trimmed and lower-cased into out (size >= VALIDATION_EMAIL_MAX + 1); one '@',
 * a non-empty local part, a domain with a dot, printable ASCII without spaces. */
err_code validation_email(const char *field, const char *in, char *out, size_t out_size, struct err *e) MKT_MUST_USE;
/* "en" or "fr" (a region suffix such as "fr-FR" is accepted); "" means "en". out[3]. */
err_code validation_language(const char *field, const char *in, char out[3], struct err *e) MKT_MUST_USE;
/* Roles (ACC-1): at least one of "admin", "user", each at most once. *mask gets ROLE_* bits. */
err_code validation_roles(const char *field, char *const *roles, size_t n, unsigned *mask, struct err *e) MKT_MUST_USE;
/* Organization types (ORG-4): at least one of "buyer", "seller", each at most once. */
err_code validation_types(const char *field, char *const *types, size_t n, unsigned *mask, struct err *e) MKT_MUST_USE;
/* An OUTSCALE Region the marketplace knows; "" takes `fallback`. *out is a static string. */
err_code validation_region(const char *field, const char *in, const char *fallback, const char **out,
                           struct err *e) MKT_MUST_USE;
bool validation_region_known(const char *region);
/* OUTSCALE keys: an access key is 20 letters or digits, a secret key 40 (letters, digits, +/=). */
err_code validation_access_key(const char *field, const char *in, struct err *e) MKT_MUST_USE;
err_code validation_secret_key(const char *field, const char *in, struct err *e) MKT_MUST_USE;
/* The password policy (AUTH-1): at least 12 characters, one lower-case letter, one upper-case
 * letter, one digit and one special character (anything else that is printable); at most 256
 * characters. The reason lists every unmet rule. */
err_code validation_password(const char *field, const char *in, struct err *e) MKT_MUST_USE;
/* A 6-digit code. */
err_code validation_otp_code(const char *field, const char *in, struct err *e) MKT_MUST_USE;
/* A partner-programme number (PUB-1): 1..32 letters, digits and dashes after trimming spaces,
 * into out (size >= 33). */
err_code validation_partner_number(const char *field, const char *in, char *out, size_t out_size,
                                   struct err *e) MKT_MUST_USE;
/* A partner-programme decision (PUB-1): "validated", or "refused" with a reason (1..400
 * characters, trimmed into reason_out, size >= 4 * 400 + 1). */
err_code validation_partner_decision(const char *decision, const char *reason, char *reason_out, size_t out_size,
                                     struct err *e) MKT_MUST_USE;
/* A canonical UUID. */
err_code validation_uuid(const char *field, const char *in, struct err *e) MKT_MUST_USE;
/* An opaque token from a link or a session: 16..128 base64url characters. */
err_code validation_token(const char *field, const char *in, struct err *e) MKT_MUST_USE;

/* The names of the bits, in the order the platform lists them ("admin", "user"; "buyer",
 * "seller"): fills names (size 2) and returns how many. */
size_t validation_role_names(unsigned mask, const char *names[2]);
size_t validation_type_names(unsigned mask, const char *names[2]);

#endif
