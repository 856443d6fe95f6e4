/* The transactional outbox. A service changes its tables and calls outbox_add in the same
 * transaction; the relay (one thread per service) publishes committed rows to JetStream in order,
 * waits for the acks, then marks them sent. It wakes on LISTEN/NOTIFY and polls as a fallback.
 * A crash anywhere republishes at worst, and the event id (Nats-Msg-Id) absorbs the duplicate.
 * Table: `outbox` in the service's schema (lib/migrations/001_outbox.sql). */
#ifndef MKT_OUTBOX_H
#define MKT_OUTBOX_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>

#include "bus.h"
#include "envelope.pb-c.h"
#include "err.h"

/* Inserts an event for `subject` inside the caller's open transaction. */
err_code outbox_add(PGconn *tx, const char *subject, const Mkt__Event *ev, struct err *e) MKT_MUST_USE;

/* Builds the envelope (lib/events.h) and inserts it on `mkt.evt.<type>`; the common case. */
err_code outbox_emit(PGconn *tx, const char *type, const char *organization_id, const char *actor_id,
                     const char *correlation_id, const ProtobufCMessage *payload, struct err *e) MKT_MUST_USE;

/* Same, for a secret-carrying mail command on `mkt.mail.<kind>` (read by the notifier only). */
err_code outbox_mail(PGconn *tx, const char *kind, const char *organization_id, const char *correlation_id,
                     const ProtobufCMessage *payload, struct err *e) MKT_MUST_USE;

struct outbox_relay;
/* Starts the relay thread with its own connection to `dsn`. */
err_code outbox_relay_start(const char *dsn, struct bus *b, struct outbox_relay **out, struct err *e) MKT_MUST_USE;
/* Publishes what is pending (up to deadline_ms), stops and frees; NULL is a no-op. */
void outbox_relay_stop(struct outbox_relay *r, int deadline_ms);
/* Rows published since start (for tests and stats). */
long outbox_relay_published(struct outbox_relay *r);

#endif
