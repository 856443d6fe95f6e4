/* Authentication and authorization pieces of the gateway, without servers: bearer token shapes,
 * the authorization decision as a table (route rule x actor -> allowed / 401 / 403), actor
 * conversions to and from mkt.Actor, and the token cache (TTL, session expiry, logout drop,
 * bounded size, concurrent use). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../../../services/gateway/gateway.h"

#define T43 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234" /* a crypto_token(32) shape */

Test(gateway_bearer, token_shapes) {
    char long_ok[GATEWAY_TOKEN_MAX + 8] = "Bearer ", too_long[GATEWAY_TOKEN_MAX + 16] = "Bearer ";
    memset(long_ok + 7, 'a', GATEWAY_TOKEN_MAX);
    long_ok[7 + GATEWAY_TOKEN_MAX] = '\0';
    memset(too_long + 7, 'a', GATEWAY_TOKEN_MAX + 1);
    too_long[8 + GATEWAY_TOKEN_MAX] = '\0';
    static const struct {
        const char *header;
        enum gateway_bearer want;
        const char *token;
    } cases[] = {
        {NULL, GATEWAY_BEARER_NONE, NULL},
        {"Bearer " T43, GATEWAY_BEARER_OK, T43},
        {"bearer " T43, GATEWAY_BEARER_OK, T43},
        {"BEARER   " T43, GATEWAY_BEARER_OK, T43},
        {"Bearer 0123456789abcdef", GATEWAY_BEARER_OK, "0123456789abcdef"}, /* 16, the minimum */
        {"Bearer 0123456789abcde", GATEWAY_BEARER_MALFORMED, NULL},          /* 15 */
        {"", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer ", GATEWAY_BEARER_MALFORMED, NULL},
        {"Basic dXNlcjpwYXNzd29yZA==", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer " T43 " ", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer " T43 "=", GATEWAY_BEARER_MALFORMED, NULL},      /* padding is not base64url here */
        {"Bearer abcdefghijklmnop+/==", GATEWAY_BEARER_MALFORMED, NULL}, /* base64, not base64url */
        {"Bearer abcdefghij.klmnopqrs", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer abcdefghijklmnopé", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer abcdefghijklmnop\x01", GATEWAY_BEARER_MALFORMED, NULL},
        {"Bearer" T43, GATEWAY_BEARER_MALFORMED, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tok[GATEWAY_TOKEN_MAX + 1] = "untouched";
        enum gateway_bearer got = gateway_bearer_token(cases[i].header, tok);
        cr_expect_eq(got, cases[i].want, "case %zu '%s': got %d", i, cases[i].header ? cases[i].header : "NULL", got);
        if (cases[i].want == GATEWAY_BEARER_OK)
            cr_expect_str_eq(tok, cases[i].token, "case %zu", i);
    }
    char tok[GATEWAY_TOKEN_MAX + 1];
    cr_expect_eq(gateway_bearer_token(long_ok, tok), GATEWAY_BEARER_OK);
    cr_expect_eq(strlen(tok), GATEWAY_TOKEN_MAX);
    cr_expect_eq(gateway_bearer_token(too_long, tok), GATEWAY_BEARER_MALFORMED);
}

/* ---- the decision table ---- */

static void h(struct gateway *g, const struct gateway_req *r, struct http_response *res) {
    (void)g, (void)r, (void)res;
}

enum who { VISITOR, BUYER_USER, BUYER_ADMIN, SELLER_USER, SELLER_ADMIN, BOTH_USER, PENDING_BUYER_ADMIN, OPERATOR,
           OPERATOR_IN_ORG, N_WHO };
static const char *const who_name[] = {"visitor", "buyer user", "buyer admin", "seller user", "seller admin",
                                       "buyer+seller user", "pending buyer admin", "operator", "operator in an org"};

static struct gateway_actor actor_of(enum who w) {
    struct gateway_actor a = {.account_id = "0190a0a0-0000-7000-8000-000000000001",
                              .organization_id = "0190a0a0-0000-7000-8000-0000000000aa",
                              .org_status = "validated",
                              .language = "en"};
    switch (w) {
    case VISITOR: break;
    case BUYER_USER: a.org_types = GATEWAY_ORG_BUYER, a.roles = GATEWAY_ROLE_USER; break;
    case BUYER_ADMIN: a.org_types = GATEWAY_ORG_BUYER, a.roles = GATEWAY_ROLE_ADMIN | GATEWAY_ROLE_USER; break;
    case SELLER_USER: a.org_types = GATEWAY_ORG_SELLER, a.roles = GATEWAY_ROLE_USER; break;
    case SELLER_ADMIN: a.org_types = GATEWAY_ORG_SELLER, a.roles = GATEWAY_ROLE_ADMIN; break;
    case BOTH_USER: a.org_types = GATEWAY_ORG_ANY, a.roles = GATEWAY_ROLE_USER; break;
    case PENDING_BUYER_ADMIN:
        a.org_types = GATEWAY_ORG_BUYER, a.roles = GATEWAY_ROLE_ADMIN;
        strcpy(a.org_status, "pending");
        break;
    case OPERATOR:
        a.operator = true;
        a.organization_id[0] = '\0';
        a.org_status[0] = '\0';
        break;
    case OPERATOR_IN_ORG: a.operator = true, a.org_types = GATEWAY_ORG_SELLER, a.roles = GATEWAY_ROLE_USER; break;
    case N_WHO: break;
    }
    return a;
}

Test(gateway_authorize, decision_table) {
    /* Expected outcome per actor, in enum who order: A allowed, U 401, F 403. */
    static const struct {
        struct gateway_route route;
        const char *want;
    } cases[] = {
        {{"GET", "/public", h, GATEWAY_PUBLIC, 0, 0, false, NULL}, "AAAAAAAAA"},
        {{"GET", "/session", h, GATEWAY_SESSION, 0, 0, false, NULL}, "UAAAAAAAA"},
        {{"GET", "/org", h, GATEWAY_SESSION, GATEWAY_ORG_ANY, 0, false, NULL}, "UAAAAAAFA"},
        {{"GET", "/org-admin", h, GATEWAY_SESSION, GATEWAY_ORG_ANY, GATEWAY_ROLE_ADMIN, false, NULL}, "UFAFAFAFF"},
        {{"GET", "/buyer", h, GATEWAY_SESSION, GATEWAY_ORG_BUYER, 0, false, NULL}, "UAAFFAAFF"},
        {{"GET", "/seller", h, GATEWAY_SESSION, GATEWAY_ORG_SELLER, 0, false, NULL}, "UFFAAAFFA"},
        {{"GET", "/seller-admin", h, GATEWAY_SESSION, GATEWAY_ORG_SELLER, GATEWAY_ROLE_ADMIN, false, NULL}, "UFFFAFFFF"},
        /* ORG-3: validated organizations only (subscribe, publish) */
        {{"GET", "/subscribe", h, GATEWAY_SESSION, GATEWAY_ORG_BUYER, 0, true, NULL}, "UAAFFAFFF"},
        {{"GET", "/publish", h, GATEWAY_SESSION, GATEWAY_ORG_SELLER, 0, true, NULL}, "UFFAAAFFA"},
        {{"GET", "/validated-any", h, GATEWAY_SESSION, 0, 0, true, NULL}, "UAAAAAFFA"},
        {{"GET", "/operator", h, GATEWAY_OPERATOR, 0, 0, false, NULL}, "UFFFFFFAA"},
        {{"GET", "/operator-admin", h, GATEWAY_OPERATOR, 0, GATEWAY_ROLE_ADMIN, false, NULL}, "UFFFFFFFF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(strlen(cases[i].want), N_WHO);
        for (int w = 0; w < N_WHO; w++) {
            struct gateway_actor a = actor_of((enum who)w);
            struct err e = {0};
            err_code got = gateway_authorize(&cases[i].route, w == VISITOR ? NULL : &a, &e);
            char c = got == ERR_OK ? 'A' : got == ERR_UNAUTHENTICATED ? 'U' : got == ERR_FORBIDDEN ? 'F' : '?';
            cr_expect_eq(c, cases[i].want[w], "%s as %s: got %c (%s)", cases[i].route.pattern, who_name[w], c, e.msg);
            if (got != ERR_OK)
                cr_expect(strlen(e.msg) > 0, "a refusal says why");
        }
    }
}

Test(gateway_authorize, reasons_name_the_rule) {
    struct gateway_route op = {"GET", "/x", h, GATEWAY_OPERATOR, 0, 0, false, NULL};
    struct gateway_route pub = {"GET", "/x", h, GATEWAY_SESSION, GATEWAY_ORG_SELLER, 0, true, NULL};
    struct gateway_actor buyer = actor_of(BUYER_ADMIN), pending = actor_of(PENDING_BUYER_ADMIN);
    pending.org_types = GATEWAY_ORG_SELLER;
    struct err e = {0};
    cr_expect_eq(gateway_authorize(&op, &buyer, &e), ERR_FORBIDDEN);
    cr_expect(strstr(e.msg, "operator"), "%s", e.msg);
    cr_expect_eq(gateway_authorize(&pub, &buyer, &e), ERR_FORBIDDEN);
    cr_expect(strstr(e.msg, "seller"), "%s", e.msg);
    cr_expect_eq(gateway_authorize(&pub, &pending, &e), ERR_FORBIDDEN);
    cr_expect(strstr(e.msg, "validated"), "%s", e.msg);
    cr_expect_eq(gateway_authorize(&op, NULL, &e), ERR_UNAUTHENTICATED);
    cr_expect(strstr(e.msg, "Bearer"), "%s", e.msg);
}

/* ---- actor conversions ---- */

Test(gateway_actor, from_and_to_protobuf) {
    char *types[] = {"seller", "buyer", "martian"}, *roles[] = {"user", "admin", "root"};
    Mkt__Actor pb = MKT__ACTOR__INIT;
    pb.account_id = "a-1";
    pb.organization_id = "o-1";
    pb.n_org_types = 3, pb.org_types = types;
    pb.n_roles = 3, pb.roles = roles;
    pb.org_status = "pending";
    pb.language = "fr";
    pb.session_id = "s-1";
    pb.ugap = true;
    pb.client_addr = "10.0.0.1"; /* identity's view of the address is not kept: the gateway's is used */
    struct gateway_actor a;
    struct err e = {0};
    cr_assert_eq(gateway_actor_from_pb(&pb, &a, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(a.org_types, GATEWAY_ORG_ANY);
    cr_expect_eq(a.roles, GATEWAY_ROLE_ADMIN | GATEWAY_ROLE_USER);
    cr_expect_str_eq(a.org_status, "pending");
    cr_expect(a.ugap);
    cr_expect(!a.operator);

    struct gateway_req r = {0};
    r.actor = &a;
    gateway_actor_to_pb(&r, "192.0.2.7");
    cr_expect_str_eq(r.actor_pb.account_id, "a-1");
    cr_expect_str_eq(r.actor_pb.session_id, "s-1");
    cr_expect_str_eq(r.actor_pb.client_addr, "192.0.2.7");
    cr_assert_eq(r.actor_pb.n_org_types, 2);
    cr_expect_str_eq(r.actor_pb.org_types[0], "buyer");
    cr_expect_str_eq(r.actor_pb.org_types[1], "seller");
    cr_assert_eq(r.actor_pb.n_roles, 2);
    cr_expect_str_eq(r.actor_pb.roles[0], "admin");
    cr_expect(r.actor_pb.ugap);
    /* It packs: this is what goes downstream. */
    size_t n = mkt__actor__get_packed_size(&r.actor_pb);
    uint8_t buf[512];
    cr_assert(n < sizeof buf);
    mkt__actor__pack(&r.actor_pb, buf);
    Mkt__Actor *back = mkt__actor__unpack(NULL, n, buf);
    cr_assert_not_null(back);
    cr_expect_str_eq(back->organization_id, "o-1");
    mkt__actor__free_unpacked(back, NULL);

    /* Refusals: no actor, no account id, strings that do not fit. */
    cr_expect_eq(gateway_actor_from_pb(NULL, &a, &e), ERR_INTERNAL);
    pb.account_id = "";
    cr_expect_eq(gateway_actor_from_pb(&pb, &a, &e), ERR_INTERNAL);
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pb.account_id = big;
    cr_expect_eq(gateway_actor_from_pb(&pb, &a, &e), ERR_INTERNAL);
}

/* ---- the token cache ---- */

static void key_of(const char *token, uint8_t key[CRYPTO_SHA256_LEN]) {
    crypto_sha256(token, strlen(token), key);
}

#define MS 1000LL

Test(gateway_token_cache, ttl_is_at_most_one_second) {
    struct gateway_token_cache *c = gateway_token_cache_new(64, 1000);
    cr_assert_not_null(c);
    uint8_t k[CRYPTO_SHA256_LEN], other[CRYPTO_SHA256_LEN];
    key_of("token-one", k);
    key_of("token-two", other);
    struct gateway_actor a = actor_of(BUYER_ADMIN), got;
    int64_t t0 = 5000000;
    mkt_time wall = 1700000000LL * CLOCK_SECOND;
    gateway_token_cache_put(c, k, &a, t0, wall + CLOCK_HOUR);
    cr_expect(gateway_token_cache_get(c, k, t0, wall, &got));
    cr_expect_str_eq(got.account_id, a.account_id);
    cr_expect_eq(got.roles, a.roles);
    cr_expect(gateway_token_cache_get(c, k, t0 + 999 * MS, wall, &got), "still fresh at 999 ms");
    cr_expect(!gateway_token_cache_get(c, k, t0 + 1000 * MS, wall, &got), "stale at 1 s");
    cr_expect(!gateway_token_cache_get(c, k, t0 + 500 * MS, wall, &got), "a stale entry is gone for good");
    cr_expect(!gateway_token_cache_get(c, other, t0, wall, &got), "another token misses");

    /* The session's own expiry wins over the TTL. */
    gateway_token_cache_put(c, k, &a, t0, wall + 10);
    cr_expect(gateway_token_cache_get(c, k, t0 + 1, wall + 9, &got));
    cr_expect(!gateway_token_cache_get(c, k, t0 + 2, wall + 10, &got), "expired session served from cache");

    /* Logout drops it at once. */
    gateway_token_cache_put(c, k, &a, t0, 0);
    cr_expect(gateway_token_cache_get(c, k, t0, wall, &got));
    gateway_token_cache_drop(c, k);
    cr_expect(!gateway_token_cache_get(c, k, t0, wall, &got), "dropped token still cached");

    /* A clock that went backwards does not make an entry live forever. */
    gateway_token_cache_put(c, k, &a, t0, 0);
    cr_expect(!gateway_token_cache_get(c, k, t0 - 1, wall, &got));
    gateway_token_cache_free(c);

    /* A TTL of 0 turns caching off; the functions accept NULL. */
    cr_expect_null(gateway_token_cache_new(64, 0));
    gateway_token_cache_put(NULL, k, &a, t0, 0);
    cr_expect(!gateway_token_cache_get(NULL, k, t0, wall, &got));
    gateway_token_cache_drop(NULL, k);
    gateway_token_cache_free(NULL);
}

Test(gateway_token_cache, bounded_size_keeps_the_newest) {
    struct gateway_token_cache *c = gateway_token_cache_new(16, 1000);
    struct gateway_actor a = actor_of(SELLER_USER), got;
    uint8_t k[CRYPTO_SHA256_LEN];
    char tok[32];
    /* Far more tokens than room: the table never grows, and the last ones are there. */
    for (int i = 0; i < 5000; i++) {
        snprintf(tok, sizeof tok, "tok-%d", i);
        key_of(tok, k);
        snprintf(a.account_id, sizeof a.account_id, "acc-%d", i);
        gateway_token_cache_put(c, k, &a, 1000 + i, 0);
    }
    int hits = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(tok, sizeof tok, "tok-%d", i);
        key_of(tok, k);
        if (gateway_token_cache_get(c, k, 6000, 0, &got)) {
            hits++;
            char want[32];
            snprintf(want, sizeof want, "acc-%d", i);
            cr_expect_str_eq(got.account_id, want, "a key answered with another token's actor");
        }
    }
    cr_expect(hits > 0 && hits <= 16, "hits %d", hits);
    snprintf(tok, sizeof tok, "tok-%d", 4999);
    key_of(tok, k);
    cr_expect(gateway_token_cache_get(c, k, 6000, 0, &got), "the newest entry was evicted");
    gateway_token_cache_free(c);
}

struct hammer {
    struct gateway_token_cache *c;
    int id;
    int bad;
};

static void *hammer_run(void *arg) {
    struct hammer *h = arg;
    char tok[32];
    uint8_t k[CRYPTO_SHA256_LEN];
    struct gateway_actor a = {0}, got;
    for (int i = 0; i < 20000; i++) {
        int n = (i * 7 + h->id) % 300;
        snprintf(tok, sizeof tok, "t%d", n);
        key_of(tok, k);
        snprintf(a.account_id, sizeof a.account_id, "acc-%d", n);
        if (i % 3 == 0)
            gateway_token_cache_put(h->c, k, &a, 1, 0);
        else if (i % 11 == 0)
            gateway_token_cache_drop(h->c, k);
        else if (gateway_token_cache_get(h->c, k, 2, 0, &got) && strcmp(got.account_id, a.account_id) != 0)
            h->bad++;
    }
    return NULL;
}

Test(gateway_token_cache, concurrent_use_never_mixes_entries) {
    struct gateway_token_cache *c = gateway_token_cache_new(128, 1000);
    pthread_t t[4];
    struct hammer hs[4];
    for (int i = 0; i < 4; i++) {
        hs[i] = (struct hammer){c, i, 0};
        pthread_create(&t[i], NULL, hammer_run, &hs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(hs[i].bad, 0);
    }
    gateway_token_cache_free(c);
}
