/* The cloud emulator of tests/harness/run.sh (MKT_TEST_CLOUD_URL) seen from the integration tests:
 * fresh accounts made through its admin API, so that each test works in accounts of its own; a
 * lib/cloud client with an account's root key, to look or to change things behind a service's
 * back; and fault rules. Fault rules are global to the emulator: a test that sets them clears them. */
#ifndef MKT_TEST_CLOUDSIM_H
#define MKT_TEST_CLOUDSIM_H

#define TH_CLOUDSIM_REGION "cloudgouv-eu-west-1" /* the first region of every account made here */

struct cloud;

/* An emulator account and its root key. */
struct th_cloudsim_account {
    char account_id[16]; /* 12 digits */
    char email[128];     /* "<who>-<run>@example.com" */
    char access_key[24]; /* 20 characters */
    char secret_key[48]; /* 40 characters */
};

/* A new account (POST /_sim/accounts) with a random 12-digit id, random keys, the e-mail
 * "<who>-<run>@example.com" and the regions cloudgouv-eu-west-1 and eu-west-2; fails the test
 * (cr_assert) when the emulator refuses it. */
struct th_cloudsim_account th_cloudsim_account_new(const char *who, const char *run);
/* A client of the account with its root key (owned: cloud_free); fails the test on error. */
struct cloud *th_cloudsim_client(const struct th_cloudsim_account *a);
/* The same in another Region of the account. */
struct cloud *th_cloudsim_client_in(const struct th_cloudsim_account *a, const char *region);
/* Sets a fault rule (POST /_sim/faults with that JSON body), or clears them all when NULL. */
void th_cloudsim_faults(const char *json_body);

#endif
