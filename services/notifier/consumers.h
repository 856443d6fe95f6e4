/* The notifier's consumers. Both insert pending ledger rows in the transaction that records the
 * message in the inbox (the delivery loop sends them after the commit), and never talk SMTP:
 *   - MAIL (durable "<MKT_NOTIFIER_CONSUMER>-mail", subjects MKT_MAIL_SUBJECTS): mail commands
 *     (mkt.mail.Command) carrying their recipients and secrets; an inbox consumer (lib/events
 *     opens the transaction);
 *   - EVENTS (one durable, "<MKT_NOTIFIER_CONSUMER>-events", carrying every routed event type
 *     in its type -> handler table; filter: the narrowest subject covering the routes): events
 *     that call for a mail; the recipients and variables come from the service owning the event
 *     (mkt.rpc.<service>.mail_recipients, see proto/mail.proto). That call runs with no
 *     transaction open: a non-inbox consumer whose function, after the call, claims the inbox row
 *     (key: the durable name) and inserts the rows in a transaction of its own.
 * A bad message (unknown template, missing variable, malformed address) is ERR_INVALID: it is
 * dead-lettered at once with the reason in the log and the DLQ header, never retried. */
#ifndef NOTIFIER_CONSUMERS_H
#define NOTIFIER_CONSUMERS_H

#include <stddef.h>

#include "err.h"
#include "events.h"
#include "notifier.h"

/* An event type that calls for a mail, and the template it uses. */
struct consumers_route {
    const char *event_type;    /* "catalog.version.published" */
    const char *template_name; /* "version_published" */
};
extern const struct consumers_route consumers_routes[];
extern const size_t consumers_routes_count;

/* Starts the MAIL consumer and (unless MKT_MAIL_EVENTS=false) the EVENTS consumer. */
err_code consumers_start(struct notifier *n, struct err *e) MKT_MUST_USE;

/* The consumer functions, exposed for tests (m->worker->app is the notifier). */
err_code consumers_on_command(const struct events_msg *m, struct err *e) MKT_MUST_USE;
err_code consumers_on_event(const struct events_msg *m, struct err *e) MKT_MUST_USE;

#endif
