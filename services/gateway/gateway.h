/* The HTTP edge: shared declarations of the gateway's files.
 *
 *   main.c        boot script: the settings table and the wiring
 *   gateway.c     start-up (listener, caches) and the svc drain hooks
 *   routes.c      the route table (with each route's access rule), path matching, err_code -> HTTP
 *                 status, request ids, dispatch (rate limit, authentication, authorization)
 *   auth.c        bearer tokens, the resolved-session cache, the authorization decision
 *   ratelimit.c   per-client-address token buckets
 *   schemas.c     the jsonv tables of every request body and query
 *   json.c        protobuf replies -> the API's JSON shapes (explicit, so no secret leaks)
 *   handlers.c    probes and /v1/regions; helpers shared by the handlers
 *   identity.c    sessions, passwords, /v1/me, 2FA (identity service)
 *   organization.c  /v1/organization/..., /v1/operator/... (identity, notifier)
 *
 * Threads: gateway_dispatch and every handler run on the HTTP server's threads (lib/http.h),
 * several at once; they only read `struct gateway` (draining is atomic; the token cache and the
 * rate limiter lock internally). */
#ifndef MKT_GATEWAY_H
#define MKT_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "crypto.h"
#include "err.h"
#include "http.h"
#include "catalog.pb-c.h"
#include "identity.pb-c.h"
#include "jsonv.h"
#include "mail.pb-c.h"
#include "problems.h"
#include "svc.h"

struct gateway_config {
    const char *http_addr;     /* "host:port" */
    long long http_threads;
    long long http_max_body;
    long long http_idle_s;
    long long rpc_timeout_ms;
    long long auth_cache_ms;      /* how long a resolved token is trusted without asking identity */
    long long auth_cache_size;    /* entries */
    long long rate_per_s;         /* requests per second per client address; 0 = no limit */
    long long rate_burst;         /* bucket size */
    long long rate_clients;       /* client addresses tracked */
};

struct gateway_token_cache;
struct gateway_rate;

#define GATEWAY_READY_SERVICES 5     /* identity, catalog, publisher, billing, notifier */
#define GATEWAY_READYZ_CACHE_MS 1000 /* how long a /readyz answer is reused */

/* /readyz's last answer (handlers.c). Zero-initialised storage is ready (glibc's
 * PTHREAD_MUTEX_INITIALIZER is all zeros), so tests may build a gateway with a compound literal. */
struct gateway_readyz {
    pthread_mutex_t refresh_mu; /* held by the one request refreshing the answer */
    pthread_mutex_t mu;         /* guards the fields below (held briefly) */
    int64_t at_mono_us;         /* when it was computed; 0: never */
    bool connected;
    struct bus_ping pings[GATEWAY_READY_SERVICES];
};

/* The process state, owned by main.c. */
struct gateway {
    struct gateway_config cfg;
    struct bus *bus;            /* borrowed from the svc; NULL means "not connected" */
    struct http_server *http;   /* owned */
    struct gateway_token_cache *tokens; /* owned; NULL = every request asks identity */
    struct gateway_rate *rate;  /* owned; NULL = no rate limit */
    atomic_bool draining;       /* set when SIGTERM starts the drain: /readyz turns 503 */
    struct gateway_readyz readyz;
    char http_host[256];        /* MKT_HTTP_ADDR parsed by gateway_check_config */
    int http_port;
};

/* gateway.c: the start-up steps and svc hooks main.c wires. */
/* Checks the settings across fields (the listen address); before svc_connect. */
err_code gateway_check_config(struct gateway *g, struct err *e) MKT_MUST_USE;
/* Creates the token cache and the rate limiter, starts the HTTP
 * server on `s`'s bus (after svc_connect). */
err_code gateway_start(struct gateway *g, struct svc *s, struct err *e) MKT_MUST_USE;
/* On the loop when the drain begins: no new connections, /readyz says not ready. */
void gateway_on_drain(struct svc *s);
/* On the drain thread: the HTTP requests in flight (they need the bus) until the deadline. */
bool gateway_drain_wait(struct svc *s, int64_t until_mono_us);
/* Stops the HTTP server and frees the caches; safe after a failed start. */
void gateway_cleanup(struct gateway *g);

/* ---- requests as the handlers see them ---- */
#define GATEWAY_MAX_PARAMS 4
#define GATEWAY_REQUEST_ID_MAX 64

struct gateway_params {
    int n;
    struct { char name[32]; char value[128]; } p[GATEWAY_MAX_PARAMS];
};

/* Organization types and roles as bit sets (the strings of mkt.Actor). */
#define GATEWAY_ORG_BUYER 1u
#define GATEWAY_ORG_SELLER 2u
#define GATEWAY_ORG_ANY (GATEWAY_ORG_BUYER | GATEWAY_ORG_SELLER)
#define GATEWAY_ROLE_ADMIN 1u
#define GATEWAY_ROLE_USER 2u

/* Who is calling, as identity.resolve described it (a flat copy, so the token cache can hold it
 * without allocations). */
struct gateway_actor {
    char account_id[64];
    char organization_id[64];   /* "" for operators outside any organization */
    char session_id[64];
    char org_status[16];        /* "pending", "validated" */
    char language[8];
    unsigned org_types;         /* GATEWAY_ORG_* */
    unsigned roles;             /* GATEWAY_ROLE_* */
    bool operator;
    bool ugap;
};

/* Bearer tokens: base64url characters only, this long at most (longer ones never reach identity). */
#define GATEWAY_TOKEN_MIN 16
#define GATEWAY_TOKEN_MAX 128

struct gateway_req {
    const struct http_request *http;          /* borrowed */
    const struct gateway_route *route;        /* the matched route (borrowed from the table) */
    char request_id[GATEWAY_REQUEST_ID_MAX + 1];
    struct gateway_params params;             /* values of the pattern's {name} segments */
    /* Set by dispatch when the route needs a session and the token resolved: */
    const struct gateway_actor *actor;        /* NULL for anonymous requests */
    char token[GATEWAY_TOKEN_MAX + 1];        /* the bearer token ("" when none) */
    uint8_t token_key[CRYPTO_SHA256_LEN];     /* SHA-256 of the token: the cache key */
    Mkt__Actor actor_pb;                      /* the actor as sent downstream (with client_addr) */
    char *actor_types__[2], *actor_roles__[2];
};

typedef void (*gateway_handler_fn)(struct gateway *g, const struct gateway_req *r, struct http_response *res);

/* A route that is one call, mapped by descriptor (rpc.c): the JSON body, the path parameters
 * (as fields of the same name) and the query parameters (scalar fields of the same name) make
 * the request message; `present_fields`, when the message has it, gets the body's top-level keys
 * (so PATCH changes only what was sent); the reply message is the JSON answer, with empty
 * strings as null. No per-route converter. */
struct gateway_rpc {
    const char *service, *method;
    const ProtobufCMessageDescriptor *in, *out;
    int status;        /* 200, 201 (created), 202 (accepted); 204 sends no body */
    const char *cache; /* Cache-Control of a success; NULL = "private, no-cache" */
};

/* Who may call a route. Checked by dispatch, in this order, before the handler runs:
 *   access     PUBLIC: anyone (a token, if any, is ignored); SESSION: a valid session (else 401);
 *              OPERATOR: a valid session of marketplace staff (401, then 403)
 *   org_types  0: no organization needed; else the actor's organization must have one of these
 *              types (403; operators outside organizations fail it)
 *   role       0: any; GATEWAY_ROLE_ADMIN: the actor must be an administrator (403)
 *   validated  the organization must be validated (ORG-3; 403 while pending)
 * Identity re-checks everything (ownership included): this table is the first gate, not the only. */
enum gateway_access { GATEWAY_PUBLIC = 0, GATEWAY_SESSION, GATEWAY_OPERATOR };

struct gateway_route {
    const char *method;         /* "GET" */
    const char *pattern;        /* "/v1/regions", "/v1/products/{id}" ({x} = one non-empty segment,
                                   checked by gateway_check_param before any call) */
    gateway_handler_fn fn;
    enum gateway_access access;
    unsigned org_types;
    unsigned role;
    bool validated;
    const struct gateway_rpc *rpc; /* with fn = gateway_rpc_route: the call it maps to */
};

/* The table, in routes.c. */
extern const struct gateway_route gateway_routes[];
extern const size_t gateway_routes_count;

/* ---- pure functions (unit-tested) ---- */

/* The one mapping from error codes to HTTP statuses (500 for anything unknown). */
int gateway_http_status(err_code code);

enum gateway_match { GATEWAY_MATCHED, GATEWAY_NO_PATH, GATEWAY_NO_METHOD };
/* Looks `method path` up in `routes`. GATEWAY_MATCHED sets *route and fills params;
 * GATEWAY_NO_METHOD (the path exists under other methods) writes "GET, POST" into allow.
 * HEAD matches GET routes. */
enum gateway_match gateway_route_match(const struct gateway_route *routes, size_t n, const char *method,
                                       const char *path, const struct gateway_route **route,
                                       struct gateway_params *params, char *allow, size_t allow_size);
/* The value of a {name} parameter, or NULL. Borrowed from params. */
const char *gateway_param(const struct gateway_params *params, const char *name);

/* The rule of each path parameter name ({id}: a UUID). ERR_INVALID naming it, or ERR_INTERNAL for
 * a name without a rule (a bug in the table, caught by the unit tests). */
err_code gateway_check_param(const char *name, const char *value, struct err *e) MKT_MUST_USE;

/* True when `given` is a usable request id: 1..64 characters of [A-Za-z0-9_-]. */
bool gateway_request_id_ok(const char *given);
/* `given` when it is usable, else a fresh UUID, into out. */
void gateway_request_id(const char *given, char out[GATEWAY_REQUEST_ID_MAX + 1]);

/* Splits "host:port" or "[v6]:port" (port 0..65535; the host is required). */
err_code gateway_parse_addr(const char *addr, char *host, size_t host_size, int *port, struct err *e) MKT_MUST_USE;

/* ---- authentication and authorization (auth.c) ---- */

enum gateway_bearer { GATEWAY_BEARER_NONE, GATEWAY_BEARER_OK, GATEWAY_BEARER_MALFORMED };
/* Reads an Authorization header value: NONE when absent, OK with the token copied into
 * token[GATEWAY_TOKEN_MAX + 1] for "Bearer <base64url token>" (scheme case-insensitive), MALFORMED
 * for anything else (other schemes, bad characters, too short or too long). */
enum gateway_bearer gateway_bearer_token(const char *authorization, char token[GATEWAY_TOKEN_MAX + 1]);

/* The authorization decision for a route: ERR_OK, ERR_UNAUTHENTICATED (no actor where one is
 * needed) or ERR_FORBIDDEN, with a reason in e. actor NULL = anonymous. Pure. */
err_code gateway_authorize(const struct gateway_route *route, const struct gateway_actor *actor,
                           struct err *e) MKT_MUST_USE;

/* Copies an mkt.Actor into the flat form; ERR_INTERNAL when a string does not fit. */
err_code gateway_actor_from_pb(const Mkt__Actor *pb, struct gateway_actor *out, struct err *e) MKT_MUST_USE;
/* Points pb (and the arrays of r) at r->actor's strings, adding client_addr (borrowed). */
void gateway_actor_to_pb(struct gateway_req *r, const char *client_addr);

/* The resolved-session cache: SHA-256(token) -> actor, trusted for ttl_ms at most (and never past
 * the session's own expiry), bounded to about `capacity` entries (set-associative; a full set
 * replaces its oldest entry). Thread-safe. Times are passed in so tests need not sleep:
 * now_mono from clock_mono_us(), now_wall and session_expires from clock_now(). */
struct gateway_token_cache *gateway_token_cache_new(size_t capacity, int ttl_ms);
void gateway_token_cache_free(struct gateway_token_cache *c);
bool gateway_token_cache_get(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN], int64_t now_mono,
                             mkt_time now_wall, struct gateway_actor *out);
void gateway_token_cache_put(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN],
                             const struct gateway_actor *a, int64_t now_mono, mkt_time session_expires);
void gateway_token_cache_drop(struct gateway_token_cache *c, const uint8_t key[CRYPTO_SHA256_LEN]);

/* Authenticates r (token from the Authorization header) into *actor: from the cache, else by
 * identity.resolve. ERR_UNAUTHENTICATED for missing, malformed (identity not asked), unknown or
 * expired tokens; other codes (identity unavailable...) pass through. */
err_code gateway_authenticate(struct gateway *g, struct gateway_req *r, struct gateway_actor *actor,
                              struct err *e) MKT_MUST_USE;

/* ---- rate limits (ratelimit.c) ---- */

/* Token buckets per client address: per_s tokens a second, at most burst; about `capacity`
 * addresses tracked (set-associative; a forgotten address starts with a full bucket). */
struct gateway_rate *gateway_rate_new(size_t capacity, double per_s, double burst);
void gateway_rate_free(struct gateway_rate *r);
/* Takes one token for `client`; false when empty, with the seconds until the next token. */
bool gateway_rate_take(struct gateway_rate *r, const char *client, int64_t now_mono, int *retry_after_s);

/* ---- request bodies and queries (schemas.c) ---- */

extern const struct jsonv_schema gateway_schema_empty;
extern const struct jsonv_schema gateway_schema_signup;
extern const struct jsonv_schema gateway_schema_token_password;
extern const struct jsonv_schema gateway_schema_forgot;
extern const struct jsonv_schema gateway_schema_login;
extern const struct jsonv_schema gateway_schema_change_password;
extern const struct jsonv_schema gateway_schema_otp_code;
extern const struct jsonv_schema gateway_schema_disable_2fa;
extern const struct jsonv_schema gateway_schema_update_organization;
extern const struct jsonv_schema gateway_schema_create_account;
extern const struct jsonv_schema gateway_schema_update_account;
extern const struct jsonv_schema gateway_schema_attach_outscale;
extern const struct jsonv_schema gateway_schema_ugap;
extern const struct jsonv_schema gateway_schema_validate;

/* Parses and checks a body against a schema, then the rules a table cannot say (a link token's
 * characters, an OTP's digits, "one of code or password", "something to change"). *out is a
 * new reference on success. An empty body counts as {}. */
err_code gateway_parse_body(const char *body, size_t len, const struct jsonv_schema *schema, json_t **out,
                            struct err *e) MKT_MUST_USE;

/* A query parameter: the value (NULL when absent) checked against a one-field schema. */
err_code gateway_check_query(const char *name, const char *value, const struct jsonv_field *rule,
                             struct err *e) MKT_MUST_USE;
/* An integer query parameter in [min, max]; *out keeps `def` when absent. */
err_code gateway_query_int(const char *name, const char *value, long long min, long long max, long long def,
                           long long *out, struct err *e) MKT_MUST_USE;

/* The paging parameters every list route takes (lib/cursor): `limit` 1..max (*limit 0 when
 * absent: the service's default) and `cursor` (*cursor "" when absent; borrowed from the request;
 * its validity is the service's to decide, with CURSOR_REFUSED). */
err_code gateway_query_page(const struct http_request *req, long long max, long long *limit, const char **cursor,
                            struct err *e) MKT_MUST_USE;

/* ---- protobuf -> JSON (json.c); every function returns a new reference ---- */

json_t *gateway_time_json(mkt_time t);     /* ISO 8601 UTC, or null for 0 */
json_t *gateway_str_json(const char *s);   /* the string, or null for NULL or "" */
json_t *gateway_account_json(const Mkt__Identity__Account *a);
json_t *gateway_organization_json(const Mkt__Identity__Organization *o);
json_t *gateway_outscale_account_json(const Mkt__Identity__OutscaleAccount *o);
json_t *gateway_mail_json(const Mkt__Mail__MailEntry *m);
json_t *gateway_mails_json(const Mkt__Mail__ListMailsReply *l);
/* True for mail variable names that could carry a secret (never shown, whatever the notifier says). */
bool gateway_secret_var(const char *name);

/* ---- responses ---- */

/* {"error":{"code","message","request_id"}} with the status gateway_http_status(code). */
void gateway_error(struct http_response *res, const struct gateway_req *r, err_code code, const char *message);
/* The same with "problems":[{"field","rule"}] when p is not empty (NULL = none). */
void gateway_error_problems(struct http_response *res, const struct gateway_req *r, err_code code,
                            const char *message, const struct problems *p);
/* The same body with an explicit status and code name (edge-only cases: 404 path, 405). */
void gateway_error_status(struct http_response *res, const struct gateway_req *r, int status, const char *code,
                          const char *message);

/* gateway_error for a failed call: keeps e's reason, adds Retry-After for throttled/unavailable
 * (e->retry_after_s, at least 1 for 429), and logs platform failures (5xx). */
void gateway_fail(struct http_response *res, const struct gateway_req *r, const char *what, err_code code,
                  const struct err *e);
/* gateway_fail with the refusal's problems. */
void gateway_fail_problems(struct http_response *res, const struct gateway_req *r, const char *what, err_code code,
                           const struct err *e, const struct problems *p);

/* The lib/http handler: request id, routing, rate limit, authentication, authorization, path
 * parameters, the handler, the access-log line. ctx is the gateway. */
void gateway_dispatch(void *ctx, const struct http_request *req, struct http_response *res);

/* ---- handlers (handlers.c) ---- */
void gateway_get_healthz(struct gateway *g, const struct gateway_req *r, struct http_response *res);
void gateway_get_readyz(struct gateway *g, const struct gateway_req *r, struct http_response *res);
void gateway_get_regions(struct gateway *g, const struct gateway_req *r, struct http_response *res);

/* Helpers for handlers. gateway_call: bus_call with the request's id and actor and the
 * configured timeout; on failure writes the error response and returns false. gateway_body:
 * the parsed, checked body, or NULL after writing 400. */
bool gateway_call(struct gateway *g, const struct gateway_req *r, struct http_response *res, const char *service,
                  const char *method, const ProtobufCMessage *in, const ProtobufCMessageDescriptor *reply_desc,
                  ProtobufCMessage **reply);
json_t *gateway_body(const struct gateway_req *r, struct http_response *res, const struct jsonv_schema *schema);
/* 204 No Content. */
void gateway_no_content(struct http_response *res);

#define GATEWAY_HANDLER(name) void name(struct gateway *g, const struct gateway_req *r, struct http_response *res)
/* rpc.c: the handler of every route with an `rpc` column. */
GATEWAY_HANDLER(gateway_rpc_route);
/* The API's view of a reply: pbjson_from_message with empty strings as null (new reference). */
json_t *gateway_api_json(const ProtobufCMessage *m);
/* identity.c */
GATEWAY_HANDLER(gateway_post_signup);
GATEWAY_HANDLER(gateway_post_password_set);
GATEWAY_HANDLER(gateway_post_password_reset);
GATEWAY_HANDLER(gateway_post_password_forgot);
GATEWAY_HANDLER(gateway_post_sessions);
GATEWAY_HANDLER(gateway_delete_session);
GATEWAY_HANDLER(gateway_get_me);
GATEWAY_HANDLER(gateway_put_me_password);
GATEWAY_HANDLER(gateway_post_me_2fa);
GATEWAY_HANDLER(gateway_post_me_2fa_confirm);
GATEWAY_HANDLER(gateway_delete_me_2fa);
GATEWAY_HANDLER(gateway_post_me_certificate);
/* organization.c */
GATEWAY_HANDLER(gateway_get_organization);
GATEWAY_HANDLER(gateway_patch_organization);
GATEWAY_HANDLER(gateway_get_accounts);
GATEWAY_HANDLER(gateway_post_accounts);
GATEWAY_HANDLER(gateway_patch_account);
GATEWAY_HANDLER(gateway_delete_account);
GATEWAY_HANDLER(gateway_get_outscale_accounts);
GATEWAY_HANDLER(gateway_post_outscale_accounts);
GATEWAY_HANDLER(gateway_delete_outscale_account);
GATEWAY_HANDLER(gateway_get_operator_organizations);
GATEWAY_HANDLER(gateway_get_operator_organization);
GATEWAY_HANDLER(gateway_post_operator_validate);
GATEWAY_HANDLER(gateway_put_operator_ugap);
GATEWAY_HANDLER(gateway_get_operator_mails);

#endif
