/* Who is calling: maps a request's access key to a key of the state (root keys of the accounts
 * and ACTIVE EIM keys), has lib/oscsig verify the signature, applies the 5-minute window and the
 * brute-force lock, and resolves the Region from the credential scope; then decides whether an
 * EIM user's policies allow the operation. Runs under the server's state mutex (it updates the
 * keys' failure counters). */
#ifndef CLOUDSIM_AUTH_H
#define CLOUDSIM_AUTH_H

#include "api.h"
#include "oscsig.h"
#include "state.h"

/* How far the date header may be from the clock, either way. */
#define AUTH_SIG_WINDOW (5 * CLOCK_MINUTE)

/* Consecutive bad signatures that lock a key, and the lock's first and longest duration. */
#define AUTH_MAX_FAILURES 4
#define AUTH_LOCK_FIRST CLOCK_MINUTE
#define AUTH_LOCK_MAX (10 * CLOCK_MINUTE)

/* Which clock the 5-minute window is checked against: the emulator's (shifted) clock, the real
 * wall clock (for clients that sign with real time while tests shift the emulator), or either. */
enum auth_window { AUTH_WINDOW_SIM, AUTH_WINDOW_REAL, AUTH_WINDOW_EITHER };

/* The parts of a received request the signature covers; all borrowed for the call. */
struct auth_request {
    const char *method; /* "POST" */
    const char *path;   /* as sent, "/api/v1/ReadVms" */
    const char *query;  /* canonical query string, NULL = "" */
    oscsig_header_fn header;
    void *header_ctx;
    const char *body;
    size_t body_len;
    const char *host; /* the Host header (NULL when absent): api.<region>.localhost names a Region */
};

/* The credential scope's service may be either: OUTSCALE documents `api`, its own mock and
 * older libcurl versions (service taken from the host name) use `oapi` too. */
#define AUTH_SERVICES "api", "oapi"

/* The Region an endpoint's host name designates, as the official tools derive it:
 * `api.<region>.<domain>` or `oapi.<region>.<domain>` (a port may follow), e.g.
 * api.eu-west-2.localhost:3000 or api.eu-west-2.outscale.com. Copies it into out and returns
 * true; false (out untouched) for other hosts such as 127.0.0.1:3000 or localhost. */
bool auth_host_region(const char *host, char *out, size_t n);

struct auth_caller {
    const struct state_account *account; /* borrowed from the state */
    const char *user;                    /* EIM user name (borrowed from the key), NULL for root */
    char region[64];
    char access_key[64];
};

/* Authenticates the request at emulator time `now` (`real` is the unshifted wall clock). The
 * Region is the credential scope's; when the host names one (auth_host_region) the scope must
 * name the same, as on the cloud, whose endpoints each serve one Region. On failure returns ERR_UNAUTHENTICATED and sets *error to API_E_AUTH_FAILED or API_E_LOCKED with
 * the reason in e. */
err_code auth_authenticate(struct state *st, const char *authorization, const struct auth_request *r, mkt_time now,
                           mkt_time real, enum auth_window window, struct auth_caller *out, enum api_error *error,
                           struct err *e) MKT_MUST_USE;

/* True when the caller may run `operation`: root keys always; EIM users when the union of the
 * policies linked to them and to their groups allows "api:<operation>" and none denies it. */
bool auth_allowed(const struct state *st, const struct auth_caller *caller, const char *operation);

#endif
