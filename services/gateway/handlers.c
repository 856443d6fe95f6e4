/* The gateway's route handlers: each turns one HTTP request into bus calls and a JSON response,
 * straight-line, on an HTTP server thread. Probes (/healthz, /readyz) live here too: readiness
 * pings every service at once (no thread per service) and is cached for a second. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.pb-c.h"
#include "envelope.pb-c.h"
#include "gateway.h"
#include "log.h"

#define READY_PING_MS 1000

/* The services /readyz requires, in the order the body lists them. */
static const char *const ready_services[GATEWAY_READY_SERVICES] = {"identity", "catalog", "publisher", "billing",
                                                                   "notifier"};
#define N_READY (sizeof ready_services / sizeof ready_services[0])

static int rpc_timeout(const struct gateway *g) {
    return g->cfg.rpc_timeout_ms > 0 ? (int)g->cfg.rpc_timeout_ms : 5000;
}

bool gateway_call(struct gateway *g, const struct gateway_req *r, struct http_response *res, const char *service,
                  const char *method, const ProtobufCMessage *in, const ProtobufCMessageDescriptor *reply_desc,
                  ProtobufCMessage **reply) {
    struct bus_ctx ctx = {.request_id = r->request_id, .actor = r->actor ? &r->actor_pb : NULL};
    struct err e = {0};
    err_code code = bus_call(g->bus, service, method, &ctx, in, reply_desc, reply, rpc_timeout(g), &e);
    if (code == ERR_OK)
        return true;
    char what[96];
    snprintf(what, sizeof what, "%s.%s", service, method);
    gateway_fail(res, r, what, code, &e);
    return false;
}

json_t *gateway_body(const struct gateway_req *r, struct http_response *res, const struct jsonv_schema *schema) {
    json_t *body = NULL;
    struct err e = {0};
    err_code code = gateway_parse_body(r->http->body, r->http->body_len, schema, &body, &e);
    if (code != ERR_OK) {
        gateway_error(res, r, code, e.msg);
        return NULL;
    }
    return body;
}

void gateway_no_content(struct http_response *res) {
    res->status = 204;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

void gateway_get_healthz(struct gateway *g, const struct gateway_req *r, struct http_response *res) {
    (void)g, (void)r;
    http_response_json(res, 200, json_pack("{s:s}", "status", "ok"));
    http_response_header(res, "Cache-Control", "no-store");
}

/* ---- /readyz ------------------------------------------------------------------------------ */

/* The probe's answer is computed at most once per GATEWAY_READYZ_CACHE_MS and by one request at
 * a time (refresh_mu); while it runs, the other probes get the previous answer rather than
 * wait, so a flood of probes neither pings the services more nor ties up the HTTP threads. No
 * thread is started: bus_ping_all asks every service at once. Draining is read fresh on every
 * request. */
static bool readyz_copy(struct gateway *g, struct gateway_readyz *snap, bool *fresh) {
    pthread_mutex_lock(&g->readyz.mu);
    bool have = g->readyz.at_mono_us != 0;
    *fresh = have && clock_mono_us() - g->readyz.at_mono_us < GATEWAY_READYZ_CACHE_MS * 1000;
    if (have) {
        snap->connected = g->readyz.connected;
        memcpy(snap->pings, g->readyz.pings, sizeof snap->pings);
    }
    pthread_mutex_unlock(&g->readyz.mu);
    return have;
}

static void readyz_refresh(struct gateway *g, const struct gateway_req *r) {
    struct bus_ping pings[N_READY];
    bool connected = bus_connected(g->bus);
    int timeout = rpc_timeout(g) < READY_PING_MS ? rpc_timeout(g) : READY_PING_MS;
    bus_ping_all(g->bus, ready_services, N_READY, r->request_id, timeout, pings);
    pthread_mutex_lock(&g->readyz.mu);
    g->readyz.connected = connected;
    memcpy(g->readyz.pings, pings, sizeof pings);
    g->readyz.at_mono_us = clock_mono_us();
    pthread_mutex_unlock(&g->readyz.mu);
}

void gateway_get_readyz(struct gateway *g, const struct gateway_req *r, struct http_response *res) {
    struct gateway_readyz snap = {.connected = false};
    for (size_t i = 0; i < N_READY; i++)
        snap.pings[i].code = ERR_UNAVAILABLE;
    bool fresh = false, have = readyz_copy(g, &snap, &fresh);
    if (!fresh) {
        /* The first probe ever waits for the first refresh; later ones take the stale answer. */
        if (have ? pthread_mutex_trylock(&g->readyz.refresh_mu) == 0 : pthread_mutex_lock(&g->readyz.refresh_mu) == 0) {
            if (!readyz_copy(g, &snap, &fresh) || !fresh) /* another refresh may have just ended */
                readyz_refresh(g, r);
            pthread_mutex_unlock(&g->readyz.refresh_mu);
            readyz_copy(g, &snap, &fresh);
        }
    }
    bool draining = atomic_load(&g->draining);
    bool ready = snap.connected && !draining;
    json_t *services = json_object();
    for (size_t i = 0; i < N_READY; i++) {
        const struct bus_ping *p = &snap.pings[i];
        json_t *state;
        if (p->code == ERR_OK) {
            state = json_pack("{s:s,s:s,s:I}", "state", "up", "version", p->version, "uptime_s",
                              (json_int_t)p->uptime_s);
        } else {
            ready = false;
            state = json_pack("{s:s,s:s}", "state", "down", "error", err_code_name(p->code));
        }
        json_object_set_new(services, ready_services[i], state);
    }
    json_t *body = json_pack("{s:s,s:s,s:o}", "status", ready ? "ready" : "not_ready", "nats",
                             snap.connected ? "connected" : "disconnected", "services", services);
    if (draining)
        json_object_set_new(body, "draining", json_true());
    http_response_json(res, ready ? 200 : 503, body);
    http_response_header(res, "Cache-Control", "no-store");
}

/* ---- /v1/regions --------------------------------------------------------------------------- */

void gateway_get_regions(struct gateway *g, const struct gateway_req *r, struct http_response *res) {
    Mkt__Catalog__ListRegionsRequest in = MKT__CATALOG__LIST_REGIONS_REQUEST__INIT;
    ProtobufCMessage *out = NULL;
    struct bus_ctx ctx = {.request_id = r->request_id};
    struct err e = {0};
    err_code code = bus_call(g->bus, "catalog", "list_regions", &ctx, &in.base,
                             &mkt__catalog__list_regions_reply__descriptor, &out, rpc_timeout(g), &e);
    if (code != ERR_OK) {
        gateway_fail(res, r, "catalog.list_regions", code, &e);
        return;
    }
    const Mkt__Catalog__ListRegionsReply *rep = (const Mkt__Catalog__ListRegionsReply *)out;
    json_t *regions = json_array();
    for (size_t i = 0; i < rep->n_regions; i++) {
        const Mkt__Catalog__Region *reg = rep->regions[i];
        json_array_append_new(regions, json_pack("{s:s,s:{s:s,s:s}}", "name", reg->name ? reg->name : "",
                                                 "display_name", "en", reg->display_name_en ? reg->display_name_en : "",
                                                 "fr", reg->display_name_fr ? reg->display_name_fr : ""));
    }
    protobuf_c_message_free_unpacked(out, NULL);
    http_response_json(res, 200, json_pack("{s:o}", "regions", regions));
    http_response_header(res, "Cache-Control", "public, max-age=300");
}
