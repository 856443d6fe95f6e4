/* `mktctl events tail`: reads the EVENTS stream through an ephemeral ordered consumer (nothing is
 * acknowledged, nothing is left behind on the server) and prints each event as one JSON line,
 * decoding payloads through the event type registry so operators read fields, not bytes. */
#include <ctype.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "envelope.pb-c.h"
#include "event_types.h"
#include "mktctl.h"
#include "pbjson.h"

#define POLL_MS 250

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

err_code mktctl_parse_since(const char *since, mkt_time now, mkt_time *out, struct err *e) {
    if (!since || !*since)
        return err_set(e, ERR_INVALID, "--since: empty");
    mkt_time t;
    if (clock_parse(since, &t) == 0) {
        *out = t;
        return ERR_OK;
    }
    const char *p = since;
    long long n = 0;
    if (!isdigit((unsigned char)*p))
        return err_set(e, ERR_INVALID, "--since '%s': expected an ISO 8601 time or a duration like 10m", since);
    for (; isdigit((unsigned char)*p); p++) {
        n = n * 10 + (*p - '0');
        if (n > 100LL * 365 * 24 * 3600)
            return err_set(e, ERR_INVALID, "--since '%s': too far back", since);
    }
    mkt_time unit;
    if (strcmp(p, "s") == 0)
        unit = CLOCK_SECOND;
    else if (strcmp(p, "m") == 0)
        unit = CLOCK_MINUTE;
    else if (strcmp(p, "h") == 0)
        unit = CLOCK_HOUR;
    else if (strcmp(p, "d") == 0)
        unit = 24 * CLOCK_HOUR;
    else
        return err_set(e, ERR_INVALID, "--since '%s': the unit must be s, m, h or d", since);
    if (n > 100LL * 365 * 24 * CLOCK_HOUR / unit)
        return err_set(e, ERR_INVALID, "--since '%s': too far back", since);
    *out = now - n * unit;
    return ERR_OK;
}

json_t *mktctl_event_json(const char *subject, uint64_t stream_seq, const uint8_t *data, size_t len) {
    Mkt__Event *ev = mkt__event__unpack(NULL, len, data);
    json_t *j = NULL;
    if (!ev) {
        j = json_pack("{s:s,s:I,s:s,s:o}", "subject", subject ? subject : "", "stream_seq", (json_int_t)stream_seq,
                      "error", "undecodable envelope", "data", pbjson_base64(data, len));
        goto done;
    }
    char when[40];
    clock_format(ev->time_us, when, sizeof when);
    /* Envelope strings come from our own services; pbjson's string handling also guards UTF-8. */
    json_t *env = pbjson_from_message(&ev->base);
    if (!env)
        goto done;
    j = json_object();
    static const char *const keys[] = {"id", "type"};
    for (size_t i = 0; i < 2; i++)
        json_object_set(j, keys[i], json_object_get(env, keys[i]));
    json_object_set_new(j, "time", json_string(when));
    static const char *const more[] = {"organization_id", "actor_id", "correlation_id"};
    for (size_t i = 0; i < 3; i++)
        json_object_set(j, more[i], json_object_get(env, more[i]));
    json_object_set_new(j, "subject", json_string(subject ? subject : ""));
    json_object_set_new(j, "stream_seq", json_integer((json_int_t)stream_seq));
    json_decref(env);

    const ProtobufCMessageDescriptor *desc = event_types_find(ev->type);
    json_t *payload = NULL;
    if (desc) {
        struct err e = {0};
        if (pbjson_from_packed(desc, ev->payload.data, ev->payload.len, &payload, &e) != ERR_OK)
            json_object_set_new(j, "payload_error", json_string(e.msg));
    }
    json_object_set_new(j, "payload", payload ? payload : pbjson_base64(ev->payload.data, ev->payload.len));
done:
    if (ev)
        mkt__event__free_unpacked(ev, NULL);
    return j;
}

static void print_event(natsMsg *msg) {
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    json_t *j = mktctl_event_json(natsMsg_GetSubject(msg), seq, (const uint8_t *)natsMsg_GetData(msg),
                                  (size_t)natsMsg_GetDataLength(msg));
    char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(line);
    json_decref(j);
}

int mktctl_events_tail(const struct mktctl_tail_opts *o) {
    struct bus *b = NULL;
    natsSubscription *sub = NULL;
    struct err e = {0};
    int rc = 1;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = "EVENTS";
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    if (o->since) {
        mkt_time since;
        if (mktctl_parse_since(o->since, clock_now(), &since, &e) != ERR_OK) {
            fprintf(stderr, "mktctl: %s\n", e.msg);
            rc = 2;
            goto done;
        }
        so.Config.DeliverPolicy = js_DeliverByStartTime;
        so.Config.OptStartTime = since * 1000; /* nanoseconds */
    }
    if (bus_new(o->nats_url, "mktctl", &b, &e) != ERR_OK) {
        fprintf(stderr, "mktctl: %s\n", e.msg);
        goto done;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&sub, bus_js(b), o->subject, NULL, &so, &jerr);
    if (s != NATS_OK) {
        fprintf(stderr, "mktctl: subscribe to %s on EVENTS: %s (%s, js error %d)\n", o->subject, natsStatus_GetText(s),
                nats_GetLastError(NULL), (int)jerr);
        goto done;
    }
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    long long seen = 0;
    rc = 0;
    while (!stop_requested && (o->count <= 0 || seen < o->count)) {
        natsMsg *msg = NULL;
        s = natsSubscription_NextMsg(&msg, sub, POLL_MS);
        if (s == NATS_TIMEOUT)
            continue;
        if (s != NATS_OK) {
            fprintf(stderr, "mktctl: reading EVENTS: %s\n", natsStatus_GetText(s));
            rc = 1;
            break;
        }
        print_event(msg);
        natsMsg_Destroy(msg);
        seen++;
    }
done:
    if (sub) {
        natsSubscription_Unsubscribe(sub); /* removes the ephemeral consumer now */
        natsSubscription_Destroy(sub);
    }
    bus_free(b);
    nats_CloseAndWait(2000);
    return rc;
}
