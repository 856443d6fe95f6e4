/* EIM policies: the pure rules (document validation, action matching with wildcards, the effect
 * of a document on one action) used by auth.c and the unit tests, and the policy operations
 * (policies_ops in api.h): CreatePolicy, ReadPolicies, DeletePolicy, the links to user groups
 * and to users, and the reads of links. */
#ifndef CLOUDSIM_POLICIES_H
#define CLOUDSIM_POLICIES_H

#include <stdbool.h>

#include "err.h"

/* Ordered: a Deny anywhere beats an Allow, which beats nothing. */
enum policies_effect { POLICIES_NONE, POLICIES_ALLOW, POLICIES_DENY };

/* Checks a document: a JSON object whose "Statement" is a non-empty array of objects with
 * "Effect" ("Allow"/"Deny"), "Action" (a string or an array of strings) and optionally
 * "Resource". ERR_INVALID with the reason. */
err_code policies_check_document(const char *document, struct err *e) MKT_MUST_USE;
/* Case-insensitive match of an action ("api:ReadVms") against a pattern ("api:Read*", "*"). */
bool policies_action_matches(const char *pattern, const char *action);
/* The effect of a document on an action; a malformed document has no effect. */
enum policies_effect policies_evaluate(const char *document, const char *action);
/* The ORN of a policy: "orn:ows:idauth::<account>:policy<path><name>" (path "/" or "/a/b/"). */
void policies_orn(const char *account, const char *path, const char *name, char *out, size_t n);
/* True for an EIM path: "/" or "/seg/.../", at most 512 characters of [A-Za-z0-9/_+=,.@-]. */
bool policies_path_ok(const char *path);

#endif
