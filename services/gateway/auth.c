/* Authentication and authorization at the edge. A bearer token is checked for shape (so junk
 * never reaches identity), then resolved to an actor by identity.resolve; resolutions are kept in
 * a small set-associative cache keyed by SHA-256(token) for at most the configured TTL (1 s by
 * default), so a logged-out or deleted account gets through for at most that long. The
 * authorization decision reads the route's declared access rule against the actor. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway.h"
#include "log.h"

/* ---- bearer tokens ---------------------------------------------------------------------------- */

static bool base64url_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

enum gateway_bearer gateway_bearer_token(const char *authorization, char token[GATEWAY_TOKEN_MAX + 1]) {
    if (!authorization)
        return GATEWAY_BEARER_NONE;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return GATEWAY_BEARER_MALFORMED;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    size_t n = 0;
    while (t[n] && base64url_char(t[n]) && n <= GATEWAY_TOKEN_MAX)
        n++;
    if (t[n] != '\0' || n < GATEWAY_TOKEN_MIN || n > GATEWAY_TOKEN_MAX)
        return GATEWAY_BEARER_MALFORMED;
    memcpy(token, t, n);
    token[n] = '\0';
    return GATEWAY_BEARER_OK;
}

/* ---- the decision ------------------------------------------------------------------------------ */

err_code gateway_authorize(const struct gateway_route *route, const struct gateway_actor *a, struct err *e) {
    if (route->access == GATEWAY_PUBLIC)
        return ERR_OK;
    if (!a)
        return err_set(e, ERR_UNAUTHENTICATED, "this request needs a session: send Authorization: Bearer <token>");
    if (route->access == GATEWAY_OPERATOR && !a->operator)
        return err_set(e, ERR_FORBIDDEN, "reserved to marketplace operators");
    if (route->org_types) {
        if (!a->organization_id[0] || !(a->org_types & route->org_types)) {
            const char *need = route->org_types == GATEWAY_ORG_BUYER    ? "a buyer organization"
                               : route->org_types == GATEWAY_ORG_SELLER ? "a seller organization"
                                                                        : "an organization";
            return err_set(e, ERR_FORBIDDEN, "reserved to members of %s", need);
        }
    }
    if ((route->role & GATEWAY_ROLE_ADMIN) && !(a->roles & GATEWAY_ROLE_ADMIN))
        return err_set(e, ERR_FORBIDDEN, "reserved to the organization's administrators");
    if (route->validated && strcmp(a->org_status, "validated") != 0)
        return err_set(e, ERR_FORBIDDEN, "the organization is not validated yet (ORG-3)");
    return ERR_OK;
}

/* ---- actor conversions ------------------------------------------------------------------------- */

static bool copy(char *dst, size_t n, const char *src) {
    src = src ? src : "";
    size_t len = strlen(src);
    if (len >= n)
        return false;
    memcpy(dst, src, len + 1);
    return true;
}

err_code gateway_actor_from_pb(const Mkt__Actor *pb, struct gateway_actor *out, struct err *e) {
    struct gateway_actor a = {0};
    if (!pb)
        return err_set(e, ERR_INTERNAL, "identity.resolve: no actor in the reply");
    if (!copy(a.account_id, sizeof a.account_id, pb->account_id) ||
        !copy(a.organization_id, sizeof a.organization_id, pb->organization_id) ||
        !copy(a.session_id, sizeof a.session_id, pb->session_id) ||
        !copy(a.org_status, sizeof a.org_status, pb->org_status) ||
        !copy(a.language, sizeof a.language, pb->language))
        return err_set(e, ERR_INTERNAL, "identity.resolve: actor field too long");
    if (!a.account_id[0])
        return err_set(e, ERR_INTERNAL, "identity.resolve: actor without account id");
    for (size_t i = 0; i < pb->n_org_types; i++) {
        if (strcmp(pb->org_types[i], "buyer") == 0)
            a.org_types |= GATEWAY_ORG_BUYER;
        else if (strcmp(pb->org_types[i], "seller") == 0)
            a.org_types |= GATEWAY_ORG_SELLER;
    }
    for (size_t i = 0; i < pb->n_roles; i++) {
        if (strcmp(pb->roles[i], "admin") == 0)
            a.roles |= GATEWAY_ROLE_ADMIN;
        else if (strcmp(pb->roles[i], "user") == 0)
            a.roles |= GATEWAY_ROLE_USER;
    }
    a.operator = pb->operator_;
    a.ugap = pb->ugap;
    *out = a;
    return ERR_OK;
}

void gateway_actor_to_pb(struct gateway_req *r, const char *client_addr) {
    const struct gateway_actor *a = r->actor;
    Mkt__Actor pb = MKT__ACTOR__INIT;
    pb.account_id = (char *)a->account_id;
    pb.organization_id = (char *)a->organization_id;
    pb.session_id = (char *)a->session_id;
    pb.org_status = (char *)a->org_status;
    pb.language = (char *)a->language;
    pb.client_addr = (char *)(client_addr ? client_addr : "");
    pb.operator_ = a->operator;
    pb.ugap = a->ugap;
    if (a->org_types & GATEWAY_ORG_BUYER)
        r->actor_types__[pb.n_org_types++] = "buyer";
    if (a->org_types & GATEWAY_ORG_SELLER)
        r->actor_types__[pb.n_org_types++] = "seller";
    if (a->roles & GATEWAY_ROLE_ADMIN)
        r->actor_roles__[pb.n_roles++] = "admin";
    if (a->roles & GATEWAY_ROLE_USER)
        r->actor_roles__[pb.n_roles++] = "user";
    pb.org_types = r->actor_types__;
    pb.roles = r->actor_roles__;
    r->actor_pb = pb;
}

/* ---- the cache -------------------------------------------------------------------------------- */

#define WAYS 8

struct cache_entry {
    uint8_t key[CRYPTO_SHA256_LEN];
    bool used;
    int64_t stored_mono;     /* clock_mono_us() when resolved */
    mkt_time expires;        /* the session's own expiry (wall clock) */
    struct gateway_actor actor;
};

struct cache_set {
    pthread_mutex_t mu;
    struct cache_entry e[WAYS];
};

struct gateway_token_cache {
    size_t nsets;            /* a power of two */
    int64_t ttl_us;
    struct cache_set *sets;
};

struct gateway_token_cache *gateway_token_cache_new(size_t capacity, int ttl_ms) {
    if (ttl_ms <= 0 || capacity == 0)
        return NULL; /* caching off */
    struct gateway_token_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nsets = 1;
    while (c->nsets * WAYS < capacity)
        c->nsets *= 2;
    c->ttl_us = (int64_t)ttl_ms * 1000;
    c->sets = calloc(c->nsets, sizeof *c->sets);
    if (!c->sets) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nsets; i++)
        pthread_mutex_init(&c->sets[i].mu, NULL);
    return c;
}

void gateway_token_cache_free(struct gateway_token_cache *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->nsets; i++)
        pthread_mutex_destroy(&c->sets[i].mu);
    free(c->sets);
    free(c);
}

static struct cache_set *set_of(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN]) {
    uint64_t h;
    memcpy(&h, key, sizeof h); /* the key is a hash already */
    return &c->sets[h & (c->nsets - 1)];
}

static bool fresh(const struct gateway_token_cache *c, const struct cache_entry *en, int64_t now_mono,
                  mkt_time now_wall) {
    return en->used && now_mono - en->stored_mono < c->ttl_us && now_mono >= en->stored_mono &&
           (en->expires == 0 || now_wall < en->expires);
}

bool gateway_token_cache_get(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN], int64_t now_mono,
                             mkt_time now_wall, struct gateway_actor *out) {
    if (!c)
        return false;
    struct cache_set *s = set_of(c, key);
    bool hit = false;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < WAYS; i++) {
        struct cache_entry *en = &s->e[i];
        if (!en->used || memcmp(en->key, key, CRYPTO_SHA256_LEN) != 0)
            continue;
        if (fresh(c, en, now_mono, now_wall)) {
            *out = en->actor;
            hit = true;
        } else {
            en->used = false;
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

void gateway_token_cache_put(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN],
                             const struct gateway_actor *a, int64_t now_mono, mkt_time session_expires) {
    if (!c)
        return;
    struct cache_set *s = set_of(c, key);
    pthread_mutex_lock(&s->mu);
    struct cache_entry *slot = NULL;
    for (int i = 0; i < WAYS && !slot; i++)
        if (s->e[i].used && memcmp(s->e[i].key, key, CRYPTO_SHA256_LEN) == 0)
            slot = &s->e[i];
    for (int i = 0; i < WAYS && !slot; i++)
        if (!s->e[i].used || now_mono - s->e[i].stored_mono >= c->ttl_us)
            slot = &s->e[i];
    if (!slot) { /* all fresh: replace the oldest */
        slot = &s->e[0];
        for (int i = 1; i < WAYS; i++)
            if (s->e[i].stored_mono < slot->stored_mono)
                slot = &s->e[i];
    }
    memcpy(slot->key, key, CRYPTO_SHA256_LEN);
    slot->used = true;
    slot->stored_mono = now_mono;
    slot->expires = session_expires;
    slot->actor = *a;
    pthread_mutex_unlock(&s->mu);
}

void gateway_token_cache_drop(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN]) {
    if (!c)
        return;
    struct cache_set *s = set_of(c, key);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < WAYS; i++)
        if (s->e[i].used && memcmp(s->e[i].key, key, CRYPTO_SHA256_LEN) == 0)
            s->e[i].used = false;
    pthread_mutex_unlock(&s->mu);
}

/* ---- authentication --------------------------------------------------------------------------- */

err_code gateway_authenticate(struct gateway *g, struct gateway_req *r, struct gateway_actor *actor, struct err *e) {
    switch (gateway_bearer_token(http_header(r->http, "Authorization"), r->token)) {
    case GATEWAY_BEARER_NONE:
        return err_set(e, ERR_UNAUTHENTICATED, "this request needs a session: send Authorization: Bearer <token>");
    case GATEWAY_BEARER_MALFORMED:
        r->token[0] = '\0';
        return err_set(e, ERR_UNAUTHENTICATED, "malformed Authorization header: expected Bearer <token>");
    case GATEWAY_BEARER_OK: break;
    }
    crypto_sha256(r->token, strlen(r->token), r->token_key);
    if (gateway_token_cache_get(g->tokens, r->token_key, clock_mono_us(), clock_now(), actor))
        return ERR_OK;

    Mkt__Identity__TokenRequest in = MKT__IDENTITY__TOKEN_REQUEST__INIT;
    in.token = r->token;
    ProtobufCMessage *out = NULL;
    struct bus_ctx ctx = {.request_id = r->request_id};
    int timeout = g->cfg.rpc_timeout_ms > 0 ? (int)g->cfg.rpc_timeout_ms : 5000;
    int64_t asked = clock_mono_us(); /* the TTL counts from the question, not the answer */
    err_code code = bus_call(g->bus, "identity", "resolve", &ctx, &in.base, &mkt__identity__resolve_reply__descriptor,
                             &out, timeout, e);
    if (code == ERR_NOT_FOUND || code == ERR_INVALID || code == ERR_FORBIDDEN)
        return err_set(e, ERR_UNAUTHENTICATED, "invalid or expired session");
    if (code == ERR_UNAUTHENTICATED) {
        /* identity's reason is in e already: keep it (formatting e->msg into itself would be
         * undefined), or say the usual when it gave none. */
        if (e && !e->msg[0])
            (void)err_set(e, ERR_UNAUTHENTICATED, "invalid or expired session");
        return ERR_UNAUTHENTICATED;
    }
    if (code != ERR_OK)
        return code;
    const Mkt__Identity__ResolveReply *rep = (const Mkt__Identity__ResolveReply *)out;
    struct gateway_actor a;
    code = gateway_actor_from_pb(rep->actor, &a, e);
    if (code == ERR_OK) {
        gateway_token_cache_put(g->tokens, r->token_key, &a, asked, rep->expires_at_us);
        *actor = a;
    }
    protobuf_c_message_free_unpacked(out, NULL);
    return code;
}
