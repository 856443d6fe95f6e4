/* The NATS bus: one connection per process ("send ASAP" so replies do not wait for the flusher),
 * the request/reply client with distinct timeout / no-responders errors, and the server side
 * that hands each call from cnats' threads to the worker pool and replies from the worker. */
#include "bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "id.h"
#include "log.h"

#define BUS_MAX_SERVERS 16

struct bus {
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *rpc_sub;
    /* serving */
    char service[32];
    const struct bus_method *methods;
    size_t n_methods;
    struct pool *pool;
    int64_t started_mono;
    char instance[96];
    atomic_bool closing;  /* set by bus_free: a disconnection then is expected, not news */
    int pending_msgs, pending_bytes;
    atomic_long rpc_refused, dropped;
    struct log_limiter refused_log, dropped_log;
    /* cnats runs the disconnected/closed callbacks on its own thread, after Close returns: bus_free
     * waits for the closed callback (the last one) before freeing what they point at. */
    pthread_mutex_t mu;
    pthread_cond_t closed_cv;
    bool closed;
};

static err_code nats_err(natsStatus s, struct err *e, const char *what) {
    err_code code = s == NATS_TIMEOUT ? ERR_TIMEOUT
                  : s == NATS_NO_RESPONDERS ? ERR_NO_RESPONDERS
                  : (s == NATS_CONNECTION_CLOSED || s == NATS_NOT_YET_CONNECTED || s == NATS_CONNECTION_DISCONNECTED ||
                     s == NATS_NO_SERVER || s == NATS_STALE_CONNECTION)
                      ? ERR_UNAVAILABLE
                      : ERR_INTERNAL;
    return err_set(e, code, "%s: %s", what, natsStatus_GetText(s));
}

static void on_disconnected(natsConnection *nc, void *closure) {
    (void)nc;
    struct bus *b = closure;
    if (!atomic_load(&b->closing))
        log_warn("nats: disconnected, reconnecting");
}
static void on_closed(natsConnection *nc, void *closure) {
    (void)nc;
    struct bus *b = closure;
    pthread_mutex_lock(&b->mu);
    b->closed = true;
    pthread_cond_broadcast(&b->closed_cv);
    pthread_mutex_unlock(&b->mu);
}
/* cnats reports asynchronous errors here; the one that matters is a subscription over its
 * pending limits ("slow consumer"): messages were dropped. */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure) {
    (void)nc;
    struct bus *b = closure;
    if (err != NATS_SLOW_CONSUMER) {
        log_warn("nats: %s", natsStatus_GetText(err));
        return;
    }
    int64_t dropped = 0;
    if (sub)
        natsSubscription_GetDropped(sub, &dropped);
    atomic_fetch_add(&b->dropped, 1);
    long n = 0;
    if (log_limiter_allow(&b->dropped_log, &n))
        log_warn("nats: subscription over its pending limits: messages dropped (%lld on this subscription, %ld "
                 "reports in the last second)", (long long)dropped, n);
}

static void on_reconnected(natsConnection *nc, void *closure) {
    (void)nc;
    (void)closure;
    log_info("nats: reconnected");
}

err_code bus_new(const char *servers, const char *name, struct bus **out, struct err *e) {
    natsOptions *opts = NULL;
    struct bus *b = calloc(1, sizeof *b);
    char *list = strdup(servers ? servers : "");
    const char *urls[BUS_MAX_SERVERS];
    int n = 0;
    err_code code = ERR_OK;
    natsStatus s;
    if (b) {
        b->pending_msgs = 65536;
        b->pending_bytes = 64 << 20;
        pthread_mutex_init(&b->mu, NULL);
        pthread_cond_init(&b->closed_cv, NULL);
    }
    if (!b || !list) {
        code = err_set(e, ERR_INTERNAL, "bus: out of memory");
        goto done;
    }
    for (char *save = NULL, *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (n == BUS_MAX_SERVERS) {
            code = err_set(e, ERR_INVALID, "bus: more than %d NATS server URLs", BUS_MAX_SERVERS);
            goto done;
        }
        urls[n++] = tok;
    }
    if (n == 0) {
        code = err_set(e, ERR_INVALID, "bus: no NATS server URL");
        goto done;
    }
    if ((s = natsOptions_Create(&opts)) != NATS_OK || (s = natsOptions_SetServers(opts, urls, n)) != NATS_OK ||
        (s = natsOptions_SetName(opts, name)) != NATS_OK || (s = natsOptions_SetSendAsap(opts, true)) != NATS_OK ||
        (s = natsOptions_SetMaxReconnect(opts, -1)) != NATS_OK ||
        (s = natsOptions_SetReconnectWait(opts, 250)) != NATS_OK ||
        (s = natsOptions_SetMaxPendingMsgs(opts, 1 << 20)) != NATS_OK ||
        (s = natsOptions_SetDisconnectedCB(opts, on_disconnected, b)) != NATS_OK ||
        (s = natsOptions_SetClosedCB(opts, on_closed, b)) != NATS_OK ||
        (s = natsOptions_SetReconnectedCB(opts, on_reconnected, NULL)) != NATS_OK ||
        (s = natsOptions_SetErrorHandler(opts, on_async_error, b)) != NATS_OK) {
        code = nats_err(s, e, "bus: options");
        goto done;
    }
    if ((s = natsConnection_Connect(&b->nc, opts)) != NATS_OK) {
        code = nats_err(s, e, "bus: connect");
        if (code == ERR_INTERNAL)
            code = e ? (e->code = ERR_UNAVAILABLE) : ERR_UNAVAILABLE;
        goto done;
    }
    if ((s = natsConnection_JetStream(&b->js, b->nc, NULL)) != NATS_OK) {
        code = nats_err(s, e, "bus: jetstream");
        goto done;
    }
    b->started_mono = clock_mono_us();
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(b->instance, sizeof b->instance, "%s:%d", host, (int)getpid());
    *out = b;
    b = NULL;
done:
    natsOptions_Destroy(opts);
    free(list);
    bus_free(b);
    return code;
}

void bus_set_pending_limits(struct bus *b, int msgs, int bytes) {
    b->pending_msgs = msgs;
    b->pending_bytes = bytes;
}

void bus_get_stats(struct bus *b, struct bus_stats *out) {
    out->rpc_refused = atomic_load(&b->rpc_refused);
    out->dropped = atomic_load(&b->dropped);
}

void bus_stop_serving(struct bus *b, int timeout_ms) {
    if (b && b->rpc_sub) {
        /* Drain, not unsubscribe: calls already delivered to this client still reach the pool. */
        if (natsSubscription_Drain(b->rpc_sub) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(b->rpc_sub, timeout_ms > 0 ? timeout_ms : 1);
        natsSubscription_Destroy(b->rpc_sub);
        b->rpc_sub = NULL;
    }
}

void bus_free(struct bus *b) {
    if (!b)
        return;
    atomic_store(&b->closing, true);
    bus_stop_serving(b, 5000);
    if (b->nc) {
        natsConnection_FlushTimeout(b->nc, 1000);
        natsConnection_Close(b->nc);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_mutex_lock(&b->mu);
        while (!b->closed && pthread_cond_timedwait(&b->closed_cv, &b->mu, &until) == 0) {
        }
        pthread_mutex_unlock(&b->mu);
    }
    jsCtx_Destroy(b->js);
    natsConnection_Destroy(b->nc);
    pthread_cond_destroy(&b->closed_cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

bool bus_connected(struct bus *b) { return b && b->nc && natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED; }
natsConnection *bus_nats(struct bus *b) { return b->nc; }
jsCtx *bus_js(struct bus *b) { return b->js; }

/* ---- client ---------------------------------------------------------------------------------- */

err_code bus_call(struct bus *b, const char *service, const char *method, const struct bus_ctx *ctx,
                  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                  ProtobufCMessage **reply, int timeout_ms, struct err *e) {
    char subject[128], rid[ID_UUID_LEN + 1];
    uint8_t *payload = NULL, *packed = NULL;
    natsMsg *answer = NULL;
    Mkt__Reply *rep = NULL;
    err_code code = ERR_OK;
    snprintf(subject, sizeof subject, "mkt.rpc.%s.%s", service, method);
    if (!bus_connected(b)) {
        code = err_set(e, ERR_UNAVAILABLE, "%s: not connected to NATS", subject);
        goto done;
    }
    Mkt__Request r = MKT__REQUEST__INIT;
    if (ctx && ctx->request_id && *ctx->request_id) {
        r.request_id = (char *)ctx->request_id;
    } else {
        id_uuid(rid);
        r.request_id = rid;
    }
    r.actor = ctx ? (Mkt__Actor *)ctx->actor : NULL;
    if (req) {
        r.payload.len = protobuf_c_message_get_packed_size(req);
        payload = malloc(r.payload.len ? r.payload.len : 1);
        if (!payload) {
            code = err_set(e, ERR_INTERNAL, "%s: out of memory", subject);
            goto done;
        }
        protobuf_c_message_pack(req, payload);
        r.payload.data = payload;
    }
    size_t len = mkt__request__get_packed_size(&r);
    packed = malloc(len ? len : 1);
    if (!packed) {
        code = err_set(e, ERR_INTERNAL, "%s: out of memory", subject);
        goto done;
    }
    mkt__request__pack(&r, packed);
    natsStatus s = natsConnection_Request(&answer, b->nc, subject, packed, (int)len, timeout_ms);
    if (s != NATS_OK) {
        code = nats_err(s, e, subject);
        goto done;
    }
    rep = mkt__reply__unpack(NULL, (size_t)natsMsg_GetDataLength(answer), (const uint8_t *)natsMsg_GetData(answer));
    if (!rep) {
        code = err_set(e, ERR_INTERNAL, "%s: undecodable reply", subject);
        goto done;
    }
    if (rep->code != ERR_OK) {
        err_code rc = (rep->code > 0 && rep->code < ERR__COUNT) ? (err_code)rep->code : ERR_INTERNAL;
        code = err_set(e, rc, "%s", rep->message ? rep->message : "");
        if (e)
            e->retry_after_s = rep->retry_after_s;
        for (size_t i = 0; ctx && ctx->problems && i < rep->n_problems; i++)
            problems_add(ctx->problems, rep->problems[i]->rule, "%s", rep->problems[i]->field);
        goto done;
    }
    if (reply_desc && reply) {
        ProtobufCMessage *m = protobuf_c_message_unpack(reply_desc, NULL, rep->payload.len, rep->payload.data);
        if (!m) {
            code = err_set(e, ERR_INTERNAL, "%s: undecodable reply payload", subject);
            goto done;
        }
        *reply = m;
    }
done:
    if (rep)
        mkt__reply__free_unpacked(rep, NULL);
    natsMsg_Destroy(answer);
    free(packed);
    free(payload);
    return code;
}

/* ---- server ---------------------------------------------------------------------------------- */

err_code bus_refuse(struct bus_call *call, const struct problems *p, struct err *e) {
    call->problems = *p;
    return problems_err(p, e);
}

void bus_reply(struct bus_call *call, const ProtobufCMessage *msg) {
    free(call->reply_buf__);
    call->reply_len__ = protobuf_c_message_get_packed_size(msg);
    call->reply_buf__ = malloc(call->reply_len__ ? call->reply_len__ : 1);
    if (call->reply_buf__)
        protobuf_c_message_pack(msg, call->reply_buf__);
    else
        call->reply_len__ = 0;
}

static void send_reply(struct bus *b, natsMsg *msg, err_code code, const char *message, int retry_after_s,
                       const uint8_t *payload, size_t payload_len, const struct problems *problems) {
    const char *to = natsMsg_GetReply(msg);
    if (!to || !*to)
        return; /* a publish without reply subject: nobody waits */
    Mkt__Reply rep = MKT__REPLY__INIT;
    rep.code = (int32_t)code;
    rep.message = (char *)(message ? message : "");
    rep.payload.data = (uint8_t *)payload;
    rep.payload.len = payload_len;
    rep.retry_after_s = retry_after_s;
    Mkt__Problem items[PROBLEMS_MAX], *ptrs[PROBLEMS_MAX];
    for (size_t i = 0; problems && i < problems->n; i++) {
        mkt__problem__init(&items[i]);
        items[i].field = (char *)problems->items[i].field;
        items[i].rule = (char *)problems->items[i].rule;
        ptrs[i] = &items[i];
    }
    rep.n_problems = problems ? problems->n : 0;
    rep.problems = rep.n_problems ? ptrs : NULL;
    size_t len = mkt__reply__get_packed_size(&rep);
    uint8_t stackbuf[4096], *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!buf)
        return;
    mkt__reply__pack(&rep, buf);
    natsStatus s = natsConnection_Publish(b->nc, to, buf, (int)len);
    if (s != NATS_OK)
        log_warn("reply to %s: %s", natsMsg_GetSubject(msg), natsStatus_GetText(s));
    if (buf != stackbuf)
        free(buf);
}

static err_code handle_ping(struct bus *b, struct bus_call *call) {
    Mkt__PingReply p = MKT__PING_REPLY__INIT;
    p.service = b->service;
    p.version = (char *)MKT_VERSION;
    p.uptime_s = (clock_mono_us() - b->started_mono) / 1000000;
    p.instance = b->instance;
    bus_reply(call, &p.base);
    return ERR_OK;
}

struct rpc_job {
    struct bus *bus;
    natsMsg *msg;
};

static void rpc_run(struct pool_worker *w, void *arg) {
    struct rpc_job *job = arg;
    struct bus *b = job->bus;
    natsMsg *msg = job->msg;
    free(job);
    const char *subject = natsMsg_GetSubject(msg);
    snprintf(w->job, sizeof w->job, "rpc %s", subject);
    const char *method = strrchr(subject, '.');
    method = method ? method + 1 : subject;
    struct err e = {0};
    err_code code = ERR_OK;
    struct bus_call call = {.worker = w}; /* about 5 KiB with its problems: worker stacks are 8 MiB */
    ProtobufCMessage *in = NULL;
    Mkt__Request *req = mkt__request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg), (const uint8_t *)natsMsg_GetData(msg));
    if (!req) {
        code = err_set(&e, ERR_INVALID, "request envelope: undecodable");
        goto reply;
    }
    log_set_context(req->request_id, subject);
    call.req = req;
    if (strcmp(method, "ping") == 0) {
        code = handle_ping(b, &call);
        goto reply;
    }
    const struct bus_method *m = NULL;
    for (size_t i = 0; i < b->n_methods; i++)
        if (strcmp(b->methods[i].name, method) == 0)
            m = &b->methods[i];
    if (!m) {
        code = err_set(&e, ERR_NOT_FOUND, "%s: unknown method %s", b->service, method);
        goto reply;
    }
    if (m->in) {
        in = protobuf_c_message_unpack(m->in, NULL, req->payload.len, req->payload.data);
        if (!in) {
            code = err_set(&e, ERR_INVALID, "%s.%s: undecodable request payload", b->service, method);
            goto reply;
        }
    }
    call.in = in;
    int64_t t0 = clock_mono_us();
    code = m->fn(&call, &e);
    int64_t us = clock_mono_us() - t0;
    if (code == ERR_INTERNAL || code == ERR_UNAVAILABLE)
        log_error("%s.%s failed after %ld us: %s: %s", b->service, method, (long)us, err_code_name(code), e.msg);
    else
        log_debug("%s.%s %s in %ld us", b->service, method, err_code_name(code), (long)us);
reply:
    if (code == ERR_OK)
        send_reply(b, msg, ERR_OK, NULL, 0, call.reply_buf__, call.reply_len__, NULL);
    else
        send_reply(b, msg, code, code == ERR_INTERNAL ? "internal error" : e.msg, e.retry_after_s, NULL, 0,
                   code == ERR_INVALID ? &call.problems : NULL);
    if (in)
        protobuf_c_message_free_unpacked(in, NULL);
    if (req)
        mkt__request__free_unpacked(req, NULL);
    free(call.reply_buf__);
    natsMsg_Destroy(msg);
}

/* The pool gave up on a queued call (drain deadline): tell the caller now rather than let it
 * time out. */
static void rpc_cancel(void *arg) {
    struct rpc_job *job = arg;
    send_reply(job->bus, job->msg, ERR_UNAVAILABLE, "service is shutting down", 1, NULL, 0, NULL);
    natsMsg_Destroy(job->msg);
    free(job);
}

static void on_rpc(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    struct bus *b = closure;
    struct rpc_job *job = malloc(sizeof *job);
    enum pool_refusal r = POOL_FULL;
    if (job) {
        job->bus = b;
        job->msg = msg;
        struct pool_job pj = {.name = "rpc", .fn = rpc_run, .cancel = rpc_cancel, .arg = job};
        if ((r = pool_submit_job(b->pool, &pj)) == POOL_QUEUED)
            return;
        free(job);
    }
    if (r == POOL_FULL) {
        atomic_fetch_add(&b->rpc_refused, 1);
        long n = 0;
        if (log_limiter_allow(&b->refused_log, &n))
            log_warn("rpc: worker queue full: %ld call(s) refused in the last second (%ld since start)", n,
                     atomic_load(&b->rpc_refused));
        send_reply(b, msg, ERR_UNAVAILABLE, "service overloaded", 1, NULL, 0, NULL);
    } else {
        send_reply(b, msg, ERR_UNAVAILABLE, "service is shutting down", 1, NULL, 0, NULL);
    }
    natsMsg_Destroy(msg);
}

err_code bus_serve(struct bus *b, const char *service, const struct bus_method *methods, size_t n,
                   struct pool *pool, struct err *e) {
    char subject[64];
    snprintf(b->service, sizeof b->service, "%s", service);
    b->methods = methods;
    b->n_methods = n;
    b->pool = pool;
    snprintf(subject, sizeof subject, "mkt.rpc.%s.*", service);
    natsStatus s = natsConnection_QueueSubscribe(&b->rpc_sub, b->nc, subject, service, on_rpc, b);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(b->rpc_sub, b->pending_msgs, b->pending_bytes);
    if (s != NATS_OK)
        return nats_err(s, e, subject);
    /* Make sure the server knows the subscription before we say we are ready. */
    s = natsConnection_FlushTimeout(b->nc, 5000);
    return s == NATS_OK ? ERR_OK : nats_err(s, e, "flush");
}

/* ---- pings ----------------------------------------------------------------------------------- */

/* The answer of one ping, as a bus_ping. */
static void read_ping(natsMsg *m, struct bus_ping *out) {
    if (natsMsg_IsNoResponders(m)) {
        out->code = ERR_NO_RESPONDERS;
        return;
    }
    Mkt__Reply *rep = mkt__reply__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    Mkt__PingReply *p = rep && rep->code == ERR_OK ? mkt__ping_reply__unpack(NULL, rep->payload.len, rep->payload.data)
                                                   : NULL;
    if (p) {
        out->code = ERR_OK;
        snprintf(out->version, sizeof out->version, "%s", p->version ? p->version : "");
        out->uptime_s = (long long)p->uptime_s;
        mkt__ping_reply__free_unpacked(p, NULL);
    } else {
        out->code = rep && rep->code > 0 && rep->code < ERR__COUNT ? (err_code)rep->code : ERR_INTERNAL;
    }
    if (rep)
        mkt__reply__free_unpacked(rep, NULL);
}

/* One inbox subscription per service, all requests sent before the first wait: the answers come
 * in parallel and the whole takes at most timeout_ms. (One subscription per service, not one
 * wildcard for all: cnats turns a "no responders" status into NATS_NO_RESPONDERS from NextMsg,
 * without saying which request it answered.) */
void bus_ping_all(struct bus *b, const char *const *services, size_t n, const char *request_id, int timeout_ms,
                  struct bus_ping *out) {
    enum { MAX_PINGS = 16 };
    natsInbox *inbox[MAX_PINGS] = {0};
    natsSubscription *sub[MAX_PINGS] = {0};
    char subject[128], rid[ID_UUID_LEN + 1];
    for (size_t i = 0; i < n; i++)
        out[i] = (struct bus_ping){.code = ERR_UNAVAILABLE};
    if (n > MAX_PINGS || !bus_connected(b))
        return;
    Mkt__Request r = MKT__REQUEST__INIT;
    if (request_id && *request_id) {
        r.request_id = (char *)request_id;
    } else {
        id_uuid(rid);
        r.request_id = rid;
    }
    uint8_t packed[256];
    size_t len = mkt__request__get_packed_size(&r);
    if (len > sizeof packed)
        return;
    mkt__request__pack(&r, packed);
    for (size_t i = 0; i < n; i++) {
        snprintf(subject, sizeof subject, "mkt.rpc.%s.ping", services[i]);
        if (natsInbox_Create(&inbox[i]) == NATS_OK &&
            natsConnection_SubscribeSync(&sub[i], b->nc, (const char *)inbox[i]) == NATS_OK &&
            natsConnection_PublishRequest(b->nc, subject, (const char *)inbox[i], packed, (int)len) == NATS_OK)
            out[i].code = ERR_TIMEOUT;
    }
    natsConnection_Flush(b->nc);
    int64_t until = clock_mono_us() + (int64_t)timeout_ms * 1000;
    for (size_t i = 0; i < n; i++) {
        if (out[i].code != ERR_TIMEOUT)
            continue;
        int64_t left = (until - clock_mono_us()) / 1000;
        natsMsg *m = NULL;
        natsStatus st = natsSubscription_NextMsg(&m, sub[i], left > 0 ? left : 1);
        if (st == NATS_OK)
            read_ping(m, &out[i]);
        else if (st == NATS_NO_RESPONDERS)
            out[i].code = ERR_NO_RESPONDERS;
        natsMsg_Destroy(m);
    }
    for (size_t i = 0; i < n; i++) {
        natsSubscription_Destroy(sub[i]);
        natsInbox_Destroy(inbox[i]);
    }
}
