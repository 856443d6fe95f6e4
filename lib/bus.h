/* The NATS bus: connection, request/reply calls and servers.
 *
 * Calls: subject `mkt.rpc.<service>.<method>`, body = mkt.Request (request id, actor, packed
 * payload), answer = mkt.Reply (code, message, payload). A service serves all its methods with
 * one queue subscription on `mkt.rpc.<service>.*` in queue group `<service>`, so any number of
 * replicas share the load. Messages arrive on cnats threads and are handed to the RPC worker
 * pool; the handler runs on a worker and its reply is sent from there ("send ASAP" connection).
 *
 * Floods are refused early rather than buffered without limit: a call the pool cannot queue
 * (its queue is bounded) is answered ERR_UNAVAILABLE with retry-after 1 s at once, and the
 * subscription's pending limits (bus_set_pending_limits) make cnats drop what the client has not
 * even handed over yet (a "slow consumer"; the caller then times out). Both are counted
 * (bus_get_stats) and logged at most once a second.
 *
 * Client errors are distinct: ERR_TIMEOUT (nobody answered in time), ERR_NO_RESPONDERS (nobody
 * subscribes to the subject), ERR_UNAVAILABLE (not connected), or the code the handler returned. */
#ifndef MKT_BUS_H
#define MKT_BUS_H

#include <nats/nats.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "envelope.pb-c.h"
#include "err.h"
#include "pool.h"
#include "problems.h"

struct bus;

/* Connects to a comma-separated server list ("nats://a:4222,nats://b:4222", at most 16) with
 * reconnects forever; `name` identifies the client in the server's monitoring. */
err_code bus_new(const char *servers, const char *name, struct bus **out, struct err *e) MKT_MUST_USE;
/* Drains subscriptions, flushes and closes; NULL is a no-op. */
void bus_free(struct bus *b);
bool bus_connected(struct bus *b);
/* Limits of messages and bytes waiting in the RPC subscription before on_rpc takes them (set
 * before bus_serve; default 65536 messages, 64 MiB). */
void bus_set_pending_limits(struct bus *b, int msgs, int bytes);

struct bus_stats {
    long rpc_refused;   /* calls answered "unavailable" because the pool's queue was full */
    long dropped;       /* messages cnats dropped on a subscription over its pending limits */
};
void bus_get_stats(struct bus *b, struct bus_stats *out);
natsConnection *bus_nats(struct bus *b);   /* borrowed */
jsCtx *bus_js(struct bus *b);              /* borrowed; JetStream context */

/* ---- client ---- */
struct bus_ctx {
    const char *request_id;    /* propagated; generated when NULL */
    const Mkt__Actor *actor;   /* may be NULL (anonymous) */
    struct problems *problems; /* optional: filled with the refusal's problems (ERR_INVALID) */
};

/* Calls service.method with `req` (NULL sends an empty payload). On ERR_OK and when reply_desc is
 * given, *reply is an unpacked message the caller frees with protobuf_c_message_free_unpacked. */
err_code bus_call(struct bus *b, const char *service, const char *method, const struct bus_ctx *ctx,
                  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                  ProtobufCMessage **reply, int timeout_ms, struct err *e) MKT_MUST_USE;

/* ---- server ---- */
struct bus_call {
    struct pool_worker *worker;        /* borrowed: the worker's db connection and app state */
    const Mkt__Request *req;      /* borrowed: request id and actor (req->actor may be NULL) */
    const ProtobufCMessage *in;   /* borrowed: unpacked payload of the method's input type */
    struct problems problems;     /* a refusal's problems, set with bus_refuse */
    uint8_t *reply_buf__;         /* internal: packed reply payload */
    size_t reply_len__;
};

/* A handler answers one call: it returns ERR_OK after bus_reply, or an error code with the reason
 * in e (sent to the caller as the reply's code and message). */
typedef err_code (*bus_handler_fn)(struct bus_call *call, struct err *e);

struct bus_method {
    const char *name;                       /* "list_regions" */
    const ProtobufCMessageDescriptor *in;   /* input payload type; NULL when it takes nothing */
    bus_handler_fn fn;
};

/* Records every problem of a refused call (sent with the ERR_INVALID reply) and returns
 * problems_err(p, e): `return bus_refuse(call, &p, e);` when p is not empty. */
err_code bus_refuse(struct bus_call *call, const struct problems *p, struct err *e);
/* Packs msg as the call's reply payload (the message itself stays the handler's). */
void bus_reply(struct bus_call *call, const ProtobufCMessage *msg);

/* Serves `methods` (plus the built-in `ping`) for `service` on `pool`. The table must outlive
 * the bus. Unknown methods answer ERR_NOT_FOUND; undecodable payloads ERR_INVALID. */
err_code bus_serve(struct bus *b, const char *service, const struct bus_method *methods, size_t n,
                   struct pool *pool, struct err *e) MKT_MUST_USE;
/* Stops taking new calls: drains the subscription, waiting up to timeout_ms for the calls
 * already delivered to reach the pool; calls already queued still get their replies. */
void bus_stop_serving(struct bus *b, int timeout_ms);

/* ---- pings ---- */
struct bus_ping {
    err_code code;          /* ERR_OK, ERR_TIMEOUT, ERR_NO_RESPONDERS, ERR_UNAVAILABLE */
    char version[64];
    long long uptime_s;
};
/* Pings every service at once (one inbox subscription, no thread per service) and waits up to
 * timeout_ms for the answers: out[i] is services[i]'s. Any thread. */
void bus_ping_all(struct bus *b, const char *const *services, size_t n, const char *request_id, int timeout_ms,
                  struct bus_ping *out);

#endif
