/* mktctl, the operators' command-line client: shared declarations of its files.
 *
 *   main.c    argument parsing (the only reader of argv and the environment)
 *   health.c  `mktctl health`: the gateway's /readyz, pretty-printed
 *   events.c  `mktctl events tail`: the EVENTS stream as JSON lines
 *
 * Commands return the process exit code: 0 success, 1 failure (or "not ready"), 2 bad usage. */
#ifndef MKT_MKTCTL_H
#define MKT_MKTCTL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "err.h"

#define MKTCTL_DEFAULT_URL "http://127.0.0.1:8080"
#define MKTCTL_DEFAULT_NATS "nats://127.0.0.1:4222"
#define MKTCTL_DEFAULT_SUBJECT "mkt.evt.>"

/* GETs <base_url>/readyz, prints the JSON body indented on stdout; 0 when the platform is ready. */
int mktctl_health(const char *base_url);

struct mktctl_tail_opts {
    const char *nats_url;
    const char *subject;   /* filter on the EVENTS stream */
    const char *since;     /* NULL: from the start of the stream */
    long long count;       /* stop after this many events; 0 = follow until SIGINT/SIGTERM */
};
int mktctl_events_tail(const struct mktctl_tail_opts *o);

/* ---- pure helpers (unit-tested) ---- */

/* `since` as an ISO 8601 time ("2026-11-21T10:00:00Z") or a duration back from `now`
 * ("90s", "10m", "2h", "1d"); *out is a wall time. */
err_code mktctl_parse_since(const char *since, mkt_time now, mkt_time *out, struct err *e) MKT_MUST_USE;

/* One event as the JSON object tail prints: the envelope's id, type, time (ISO 8601),
 * organization_id, actor_id, correlation_id, the NATS subject and stream sequence, and
 * "payload": the payload as JSON when its type is registered (lib/event_types.h), else as a
 * base64 string. An undecodable envelope gives {"subject","stream_seq","error","data"}.
 * Returns a new reference (NULL only when out of memory). */
json_t *mktctl_event_json(const char *subject, uint64_t stream_seq, const uint8_t *data, size_t len);

#endif
