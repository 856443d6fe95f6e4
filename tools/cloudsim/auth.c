/* Authentication and authorization of API calls. The signature itself is lib/oscsig's business;
 * this file decides what the emulator does around it: either service (`api`, `oapi`) in the
 * scope, and the Region the endpoint's host name designates (api.<region>.localhost) must be
 * the scope's. A key is looked up by the access key in the credential scope; malformed headers,
 * inactive or expired keys, stale dates, unknown Regions, Regions the account does not have and
 * Regions the host contradicts fail like bad signatures do (code 1) but only
 * signature mismatches count towards the lock: after AUTH_MAX_FAILURES in a row the key is
 * refused (code 13) for a minute, doubling on each new lock up to ten minutes; a good call resets
 * both counters. */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policies.h"

bool auth_host_region(const char *host, char *out, size_t n) {
    if (!host)
        return false;
    const char *region;
    if (strncasecmp(host, "api.", 4) == 0)
        region = host + 4;
    else if (strncasecmp(host, "oapi.", 5) == 0)
        region = host + 5;
    else
        return false;
    const char *dot = strchr(region, '.');
    size_t len = dot ? (size_t)(dot - region) : 0;
    if (len == 0 || len >= n || !dot[1] || dot[1] == ':')
        return false;
    memcpy(out, region, len);
    out[len] = '\0';
    return true;
}

/* The scope's service must be one of AUTH_SERVICES. */
static err_code check_scope(const struct oscsig_auth *a, struct err *e) {
    static const char *const services[] = {AUTH_SERVICES};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        if (strcmp(a->service, services[i]) == 0)
            return oscsig_check_scope(a, services[i], e);
    return err_set(e, ERR_UNAUTHENTICATED, "credential scope names service %s, not api or oapi", a->service);
}

err_code auth_authenticate(struct state *st, const char *authorization, const struct auth_request *r, mkt_time now,
                           mkt_time real, enum auth_window window, struct auth_caller *out, enum api_error *error,
                           struct err *e) {
    struct oscsig_auth a;
    *error = API_E_AUTH_FAILED;
    /* a malformed header is refused before the key is known: it does not count towards the lock */
    if (oscsig_parse_authorization(authorization, &a, e) != ERR_OK || check_scope(&a, e) != ERR_OK)
        return ERR_UNAUTHENTICATED;
    struct state_key *k = state_key_find(st, a.access_key);
    if (!k)
        return err_set(e, ERR_UNAUTHENTICATED, "unknown access key");
    if (k->locked_until > now) {
        *error = API_E_LOCKED;
        return err_set(e, ERR_UNAUTHENTICATED,
                       "Too many failed connection attempts. Your access has been locked temporarily.");
    }
    if (!k->active)
        return err_set(e, ERR_UNAUTHENTICATED, "access key %s is not active", k->id);
    if (k->expires && k->expires <= now)
        return err_set(e, ERR_UNAUTHENTICATED, "access key %s has expired", k->id);
    if (oscsig_verify(&a, r->method, r->path, r->query, r->header, r->header_ctx, r->body, r->body_len, a.service,
                      k->secret, e) != ERR_OK) {
        if (++k->failures >= AUTH_MAX_FAILURES) {
            mkt_time lock = AUTH_LOCK_FIRST;
            for (int i = 0; i < k->locks && lock < AUTH_LOCK_MAX; i++)
                lock *= 2;
            if (lock > AUTH_LOCK_MAX)
                lock = AUTH_LOCK_MAX;
            k->locks++;
            k->failures = 0;
            k->locked_until = now + lock;
        }
        return ERR_UNAUTHENTICATED;
    }
    char date_hdr[OSCSIG_DATE_HEADER_MAX + 1];
    const char *stamp = r->header(r->header_ctx, oscsig_auth_date_header(&a, date_hdr));
    bool fresh = window != AUTH_WINDOW_REAL && oscsig_check_time(&a, stamp, now, AUTH_SIG_WINDOW, e) == ERR_OK;
    if (!fresh && window != AUTH_WINDOW_SIM)
        fresh = oscsig_check_time(&a, stamp, real, AUTH_SIG_WINDOW, e) == ERR_OK;
    if (!fresh)
        return ERR_UNAUTHENTICATED;
    const struct state_account *acc = state_account_find(st, k->account_id);
    if (!acc)
        return err_set(e, ERR_UNAUTHENTICATED, "account of key %s does not exist", k->id);
    char host_region[64];
    if (auth_host_region(r->host, host_region, sizeof host_region)) {
        if (!state_region_known(host_region))
            return err_set(e, ERR_UNAUTHENTICATED, "the endpoint %s names an unknown Region '%s'", r->host,
                           host_region);
        if (strcmp(host_region, a.region) != 0)
            return err_set(e, ERR_UNAUTHENTICATED, "the credential scope names Region %s but the endpoint %s is %s",
                           a.region, r->host, host_region);
    }
    if (!state_region_known(a.region))
        return err_set(e, ERR_UNAUTHENTICATED, "unknown Region '%s'", a.region);
    if (!state_strs_has(&acc->regions, a.region))
        return err_set(e, ERR_UNAUTHENTICATED, "account %s has no access to Region %s", acc->id, a.region);
    if (k->user && !state_user_find(st, acc->id, k->user))
        return err_set(e, ERR_UNAUTHENTICATED, "the key's user no longer exists");
    k->failures = 0;
    k->locks = 0;
    out->account = acc;
    out->user = k->user;
    snprintf(out->region, sizeof out->region, "%s", a.region);
    snprintf(out->access_key, sizeof out->access_key, "%s", a.access_key);
    return ERR_OK;
}

static enum policies_effect apply(const struct state *st, const char *orn, const char *action,
                                  enum policies_effect acc) {
    const struct state_policy *p = state_policy_find(st, orn);
    if (!p)
        return acc;
    enum policies_effect eff = policies_evaluate(p->document, action);
    return eff > acc ? eff : acc; /* DENY > ALLOW > NONE */
}

bool auth_allowed(const struct state *st, const struct auth_caller *caller, const char *operation) {
    if (!caller->user)
        return true;
    char action[160];
    snprintf(action, sizeof action, "api:%s", operation);
    enum policies_effect eff = POLICIES_NONE;
    const struct state_user *u = state_user_find(st, caller->account->id, caller->user);
    if (!u)
        return false;
    for (size_t i = 0; i < u->policies.n; i++)
        eff = apply(st, u->policies.v[i], action, eff);
    for (size_t g = 0; g < st->groups.n; g++) {
        const struct state_group *grp = st->groups.v[g];
        if (strcmp(grp->account_id, u->account_id) != 0 || !state_strs_has(&grp->users, u->name))
            continue;
        for (size_t i = 0; i < grp->policies.n; i++)
            eff = apply(st, grp->policies.v[i], action, eff);
    }
    return eff == POLICIES_ALLOW;
}
