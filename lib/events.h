/* Events on JetStream: stream setup, the event envelope, publishing, durable consumers.
 *
 * Streams: EVENTS (`mkt.evt.>`, kept), MAIL (`mkt.mail.>`, work queue, read by the notifier
 * only: it carries secrets) and DLQ (`mkt.dlq.>`, dead letters). An event's subject is
 * `mkt.evt.<type>` where type is "<service>.<entity>.<verb>"; its id is the Nats-Msg-Id, so a
 * republished event is dropped by the stream's duplicate window.
 *
 * Consumers are durable pull consumers with explicit ack. Each fetched batch is processed on the
 * consumer worker pool (lib/svc.h); one durable may serve several event types through a
 * type -> handler table; with `inbox` set, every message is handled inside a transaction that first
 * records its event id in the consumer's inbox (lib/inbox.h), so a redelivered event is acked
 * without running the handler again. Handler results: ERR_OK acks; ERR_INVALID (a poison
 * message) dead-letters at once; anything else is retried with backoff up to max_deliver times,
 * then dead-lettered. Dead letters go to `mkt.dlq.<durable>` with the reason in a header. */
#ifndef MKT_EVENTS_H
#define MKT_EVENTS_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "bus.h"
#include "clock.h"
#include "envelope.pb-c.h"
#include "err.h"
#include "pool.h"

#define EVENTS_SUBJECT_PREFIX "mkt.evt."
#define MAIL_SUBJECT_PREFIX "mkt.mail."
#define DLQ_SUBJECT_PREFIX "mkt.dlq."

/* Creates or updates the EVENTS, MAIL and DLQ streams with `replicas` copies each
 * (MKT_STREAM_REPLICAS: 1 by default and on a single server, 3 on deploy/'s three-node cluster).
 * Idempotent; every service calls it at start (svc_connect).
 * JetStream not ready yet (timeouts, "temporarily unavailable") is ERR_UNAVAILABLE. */
err_code events_setup_streams(struct bus *b, int replicas, struct err *e) MKT_MUST_USE;

/* Fills an envelope (fresh id, time from lib/clock) around a packed payload. Strings are copied
 * into `storage`, which must outlive the envelope. */
struct event_storage {
    char id[40];
    char type[96];
    char organization_id[40];
    char actor_id[40];
    char correlation_id[64];
    uint8_t *payload; /* owned; freed by events_storage_cleanup */
};
void events_envelope(Mkt__Event *ev, struct event_storage *st, const char *type, const char *organization_id,
                     const char *actor_id, const char *correlation_id, const ProtobufCMessage *payload);
void events_storage_cleanup(struct event_storage *st);

/* Publishes a packed envelope on `subject` with Nats-Msg-Id = msg_id and waits for the stream's
 * ack. Used by the outbox relay and by tools; services go through the outbox. */
err_code events_publish(struct bus *b, const char *subject, const void *data, size_t len, const char *msg_id,
                        int timeout_ms, struct err *e) MKT_MUST_USE;

/* ---- consumers ---- */
struct events_msg {
    struct pool_worker *worker;     /* borrowed */
    PGconn *tx;                /* open transaction (inbox consumers), else NULL */
    const char *subject;
    const Mkt__Event *event;   /* unpacked envelope (EVENTS and MAIL both carry mkt.Event) */
    int delivery;              /* 1 on first delivery */
};

typedef err_code (*events_consumer_fn)(const struct events_msg *m, struct err *e);

/* One line of a consumer's type -> handler table. `type` is an event type ("catalog.version.
 * published") or a pattern in NATS token syntax ("catalog.version.*", "identity.>"), matched
 * against the envelope's type (the subject without "mkt.evt." when the envelope has none). The
 * first matching line wins. */
struct events_route {
    const char *type;
    events_consumer_fn fn;
};

struct events_consumer_spec {
    const char *stream;        /* "EVENTS" or "MAIL" */
    const char *durable;       /* durable name, e.g. "notifier-events" (also the inbox key) */
    /* Subject filter of the durable consumer, e.g. "mkt.evt.catalog.>". NULL with `routes` on
     * EVENTS: the narrowest filter covering every route ("mkt.evt." + the routes' common tokens
     * + ">"). One subject: the installed nats-server (2.9) and nats.c (3.4) have no
     * FilterSubjects; with 2.10 the routes can become the consumer's filter subjects. */
    const char *filter;
    /* Either one function for every message... */
    events_consumer_fn fn;
    /* ...or a table: a message whose type matches no line is acknowledged without effect (and
     * without inbox record), so one durable serves several event types. */
    const struct events_route *routes;  /* borrowed; must outlive the consumer */
    size_t n_routes;
    bool inbox;                /* run fn in a transaction with the inbox record */
    int max_deliver;           /* default 8 */
    int batch;                 /* messages per fetch, default 64 */
    int ack_wait_ms;           /* default 30000 */
};

/* True when `type` matches `pattern` ('*' one token, '>' the rest: one token or more). */
bool events_type_matches(const char *pattern, const char *type);
/* The narrowest single subject filter on EVENTS covering every route, into buf; false when there
 * is no route or buf is too small. */
bool events_routes_filter(const struct events_route *routes, size_t n_routes, char *buf, size_t n);

struct events_consumer;
/* Creates the durable consumer if needed and starts fetching on its own thread; every message is
 * a job on `pool` (named "consumer <durable>"). A message the pool refuses (queue full) is
 * nak'ed for redelivery a second later, counted and logged at most once a second. */
err_code events_consumer_start(struct bus *b, const struct events_consumer_spec *spec, struct pool *pool,
                               struct events_consumer **out, struct err *e) MKT_MUST_USE;
/* Stops fetching; returns at once (a fetch in progress ends within half a second and what it
 * brings is nak'ed, not started). The messages already handed to the pool are still processed
 * and acknowledged. Any thread. */
void events_consumer_stop(struct events_consumer *c);
/* Messages fetched but not yet acknowledged (queued on the pool or running). */
int events_consumer_in_flight(struct events_consumer *c);
/* After a drain deadline: stops fetching and waits for the fetch in progress to end (up to half a
 * second: no pull request may stay open to receive the redeliveries), then naks every message
 * still in flight (queued or running) so that another consumer gets it at once; a handler still running on an abandoned message has its result
 * ignored (with an inbox, a later redelivery of a committed message is acknowledged without
 * effect). Returns how many were nak'ed. The pool's cancel callback naks queued jobs the same
 * way. */
int events_consumer_abandon(struct events_consumer *c);
/* Stops fetching, waits for the messages in hand, frees; NULL is a no-op. */
void events_consumer_free(struct events_consumer *c);

#endif
