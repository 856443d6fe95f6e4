/* The operator account configured at start (MKT_OPERATOR_EMAIL, MKT_OPERATOR_PASSWORD): created
 * when missing, its password set when it differs, nothing written when it already matches, so
 * every start and every replica can run it. Operators belong to no organization. */
#ifndef IDENTITY_OPERATOR_H
#define IDENTITY_OPERATOR_H

#include "identity.h"

/* Connects with `dsn` for the duration of the call. No-op when no operator e-mail is configured.
 * ERR_INVALID when the configured values break the rules (the password policy, AUTH-1, included);
 * ERR_CONFLICT when the e-mail belongs to an organization's account. */
err_code operator_ensure(const struct identity *id, const char *dsn, struct err *e) MKT_MUST_USE;

#endif
