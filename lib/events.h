/* Events on JetStream: stream setup, the event envelope, publishing, durable consumers.
 *
 * Streams: EVENTS (`mkt.evt.>`, kept), MAIL (`mkt.mail.>`, work queue, read by the notifier
 * only: it carries secrets) and DLQ (`mkt.dlq.>`, dead letters). An event's subject is
 * `mkt.evt.<type>` where type is "<service>.<entity>.<verb>"; its id is the Nats-Msg-Id, so a
 * republished event is dropped by the stream's duplicate window.
 *
 * Consumers are durable pull consumers with explicit ack. Each fetched batch is processed on the
 * worker pool; with `inbox` set, every message is handled inside a transaction that first
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

/* Creates or updates the EVENTS, MAIL and DLQ streams with `replicas` copies each (1 on a single
 * server, 3 on a cluster; MKT_STREAM_REPLICAS). Idempotent; every service calls it at start.
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
struct consumer_msg {
    struct worker *worker;     /* borrowed */
    PGconn *tx;                /* open transaction (inbox consumers), else NULL */
    const char *subject;
    const Mkt__Event *event;   /* unpacked envelope (EVENTS and MAIL both carry mkt.Event) */
    int delivery;              /* 1 on first delivery */
};

typedef err_code (*consumer_fn)(const struct consumer_msg *m, struct err *e);

struct consumer_spec {
    const char *stream;        /* "EVENTS" or "MAIL" */
    const char *durable;       /* durable name, e.g. "notifier-events" (also the inbox key) */
    const char *filter;        /* subject filter, e.g. "mkt.evt.catalog.>" */
    consumer_fn fn;
    bool inbox;                /* run fn in a transaction with the inbox record */
    int max_deliver;           /* default 8 */
    int batch;                 /* messages per fetch, default 64 */
    int ack_wait_ms;           /* default 30000 */
};

struct consumer;
/* Creates the durable consumer if needed and starts fetching on its own thread. */
err_code consumer_start(struct bus *b, const struct consumer_spec *spec, struct pool *pool, struct consumer **out,
                        struct err *e) MKT_MUST_USE;
/* Stops fetching, waits for the batch in hand, frees; NULL is a no-op. */
void consumer_free(struct consumer *c);

#endif
