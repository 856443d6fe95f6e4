/* JetStream plumbing: the three streams, the event envelope, acknowledged publishing with
 * Nats-Msg-Id, and durable pull consumers whose batches run on the worker pool with inbox
 * deduplication, bounded redelivery with backoff, and dead-lettering. */
#include "events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "db.h"
#include "id.h"
#include "inbox.h"
#include "log.h"

#define NS_PER_MS 1000000LL

/* ---- streams ---------------------------------------------------------------------------------- */

struct stream_def {
    const char *name;
    const char *subject;
    jsRetentionPolicy retention;
    int64_t max_age_ns;
    const char *description;
};

static const struct stream_def streams[] = {
    {"EVENTS", "mkt.evt.>", js_LimitsPolicy, 0, "Everything that happened, for every consumer and for ops"},
    {"MAIL", "mkt.mail.>", js_WorkQueuePolicy, 0, "Mail commands carrying secrets; read by the notifier only"},
    {"DLQ", "mkt.dlq.>", js_LimitsPolicy, 30LL * 24 * 3600 * 1000 * NS_PER_MS, "Dead letters, with the reason"},
};

err_code events_setup_streams(struct bus *b, int replicas, struct err *e) {
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        const struct stream_def *d = &streams[i];
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        const char *subjects[] = {d->subject};
        cfg.Name = d->name;
        cfg.Description = d->description;
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Retention = d->retention;
        cfg.Storage = js_FileStorage;
        cfg.MaxAge = d->max_age_ns;
        cfg.Replicas = replicas > 0 ? replicas : 1;
        cfg.Duplicates = 10LL * 60 * 1000 * NS_PER_MS; /* a relay restart republishes within minutes */
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_AddStream(&si, bus_js(b), &cfg, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr)
            s = js_UpdateStream(&si, bus_js(b), &cfg, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (s != NATS_OK)
            /* Everything but a refused configuration is JetStream not being ready (yet). */
            return err_set(e, jerr == JSStreamInvalidConfig ? ERR_INTERNAL : ERR_UNAVAILABLE, "stream %s: %s (%d)", d->name,
                           natsStatus_GetText(s), (int)jerr);
    }
    return ERR_OK;
}

/* ---- envelope and publishing --------------------------------------------------------------------- */

void events_envelope(Mkt__Event *ev, struct event_storage *st, const char *type, const char *organization_id,
                     const char *actor_id, const char *correlation_id, const ProtobufCMessage *payload) {
    mkt__event__init(ev);
    memset(st, 0, sizeof *st);
    id_uuid(st->id);
    snprintf(st->type, sizeof st->type, "%s", type);
    snprintf(st->organization_id, sizeof st->organization_id, "%s", organization_id ? organization_id : "");
    snprintf(st->actor_id, sizeof st->actor_id, "%s", actor_id ? actor_id : "");
    snprintf(st->correlation_id, sizeof st->correlation_id, "%s", correlation_id ? correlation_id : "");
    ev->id = st->id;
    ev->type = st->type;
    ev->time_us = clock_now();
    ev->organization_id = st->organization_id;
    ev->actor_id = st->actor_id;
    ev->correlation_id = st->correlation_id;
    if (payload) {
        size_t len = protobuf_c_message_get_packed_size(payload);
        st->payload = malloc(len ? len : 1);
        if (st->payload) {
            protobuf_c_message_pack(payload, st->payload);
            ev->payload.data = st->payload;
            ev->payload.len = len;
        }
    }
}

void events_storage_cleanup(struct event_storage *st) {
    free(st->payload);
    st->payload = NULL;
}

err_code events_publish(struct bus *b, const char *subject, const void *data, size_t len, const char *msg_id,
                        int timeout_ms, struct err *e) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.MaxWait = timeout_ms;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Publish(&ack, bus_js(b), subject, data, (int)len, &po, &jerr);
    jsPubAck_Destroy(ack);
    if (s != NATS_OK)
        return err_set(e, s == NATS_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE, "publish %s: %s (%d)", subject,
                       natsStatus_GetText(s), (int)jerr);
    return ERR_OK;
}

/* ---- consumers ----------------------------------------------------------------------------------- */

struct msg_job;

struct events_consumer {
    struct bus *bus;
    struct events_consumer_spec spec;
    struct pool *pool;
    natsSubscription *sub;
    pthread_t thread;
    bool thread_running;
    atomic_bool stop;
    char filter[160];          /* computed from the routes when spec.filter is NULL */
    char job_name[POOL_JOB_NAME_MAX];
    struct log_limiter refused_log;
    atomic_long refused;       /* messages the pool refused (queue full), since start */
    /* the messages in hand (queued on the pool or running), for events_consumer_abandon */
    pthread_mutex_t mu;
    pthread_cond_t done;
    int in_flight;
    struct msg_job *jobs;
};

struct msg_job {
    struct events_consumer *c;
    natsMsg *msg;
    struct msg_job *prev, *next;
    bool abandoned;            /* nak'ed by events_consumer_abandon: the result is ignored */
};

static const struct backoff redelivery = {.base = 500, .cap = 30000}; /* ms */

static void jobs_unlink(struct events_consumer *c, struct msg_job *j) {
    if (j->prev)
        j->prev->next = j->next;
    else
        c->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

/* Takes the job out of the list in hand; false when events_consumer_abandon already settled it. */
static bool job_claim(struct msg_job *j) {
    struct events_consumer *c = j->c;
    pthread_mutex_lock(&c->mu);
    bool mine = !j->abandoned;
    if (mine)
        jobs_unlink(c, j);
    pthread_mutex_unlock(&c->mu);
    return mine;
}

/* Ends a job: one less in flight, the message and the job freed. */
static void job_finish(struct msg_job *j) {
    struct events_consumer *c = j->c;
    natsMsg_Destroy(j->msg);
    free(j);
    pthread_mutex_lock(&c->mu);
    c->in_flight--;
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->mu);
}

bool events_type_matches(const char *pattern, const char *type) {
    const char *p = pattern, *t = type;
    if (!p || !t)
        return false;
    for (;;) {
        size_t pl = strcspn(p, "."), tl = strcspn(t, ".");
        if (pl == 1 && *p == '>')
            return tl > 0;
        if (tl == 0 || !((pl == 1 && *p == '*') || (pl == tl && memcmp(p, t, pl) == 0)))
            return false;
        p += pl, t += tl;
        if (!*p || !*t)
            return !*p && !*t;
        p++, t++;
    }
}

/* The handler of a message, or NULL when the table routes it nowhere. */
static events_consumer_fn route_of(const struct events_consumer *c, const char *type) {
    if (!c->spec.routes)
        return c->spec.fn;
    for (size_t i = 0; i < c->spec.n_routes; i++)
        if (events_type_matches(c->spec.routes[i].type, type))
            return c->spec.routes[i].fn;
    return NULL;
}

/* Leading tokens that `a` and `b` share, as a byte length of `a` ending before a dot (or at the
 * end of both); wildcard tokens are never shared. */
static size_t shared_tokens(const char *a, const char *b) {
    size_t len = 0, i = 0;
    for (;;) {
        size_t al = strcspn(a + i, "."), bl = strcspn(b + i, ".");
        if (al != bl || memcmp(a + i, b + i, al) != 0 || (al == 1 && (a[i] == '*' || a[i] == '>')))
            return len;
        len = i + al;
        if (!a[len] || !b[len])
            return len;
        i = len + 1;
    }
}

/* "mkt.evt." + the tokens every route shares + ">" (or the one route itself when it is exact). */
bool events_routes_filter(const struct events_route *routes, size_t n_routes, char *buf, size_t n) {
    if (!routes || n_routes == 0)
        return false;
    const char *first = routes[0].type;
    size_t common = strlen(first);
    for (size_t i = 0; i < n_routes; i++) {
        size_t k = shared_tokens(first, routes[i].type);
        if (k < common)
            common = k;
    }
    bool all_same = true, one_is_prefix = false;
    for (size_t i = 0; i < n_routes; i++) {
        all_same = all_same && strcmp(routes[i].type, first) == 0;
        one_is_prefix = one_is_prefix || strlen(routes[i].type) == common;
    }
    if (!all_same && one_is_prefix) /* "a.b" and "a.b.c": "a.>" covers both, "a.b.>" does not */
        while (common > 0 && first[--common] != '.') {
        }
    int len;
    if (all_same && common == strlen(first))
        len = snprintf(buf, n, EVENTS_SUBJECT_PREFIX "%s", first);
    else if (common == 0)
        len = snprintf(buf, n, EVENTS_SUBJECT_PREFIX ">");
    else
        len = snprintf(buf, n, EVENTS_SUBJECT_PREFIX "%.*s.>", (int)common, first);
    return len > 0 && (size_t)len < n;
}

/* Publishes the message to the consumer's dead-letter subject; false when that failed (the
 * caller then leaves the message for redelivery rather than lose it). */
static bool dead_letter(struct events_consumer *c, natsMsg *msg, const char *reason) {
    bool ok = false;
    char subject[160];
    snprintf(subject, sizeof subject, DLQ_SUBJECT_PREFIX "%s", c->spec.durable);
    natsMsg *dl = NULL;
    if (natsMsg_Create(&dl, subject, NULL, natsMsg_GetData(msg), natsMsg_GetDataLength(msg)) == NATS_OK) {
        natsMsgHeader_Set(dl, "Mkt-Dlq-Reason", reason);
        natsMsgHeader_Set(dl, "Mkt-Dlq-Subject", natsMsg_GetSubject(msg));
        jsPubAck *ack = NULL;
        natsStatus s = js_PublishMsg(&ack, bus_js(c->bus), dl, NULL, NULL);
        jsPubAck_Destroy(ack);
        ok = s == NATS_OK;
        if (!ok)
            log_error("dead-letter %s: %s", subject, natsStatus_GetText(s));
    }
    natsMsg_Destroy(dl);
    if (ok)
        log_error("dead-lettered %s from %s: %s", natsMsg_GetSubject(msg), c->spec.durable, reason);
    return ok;
}

static err_code run_handler(struct events_consumer *c, events_consumer_fn fn, struct pool_worker *w,
                            struct events_msg *m, struct err *e) {
    if (!c->spec.inbox)
        return fn(m, e);
    if (!w->db)
        return err_set(e, ERR_UNAVAILABLE, "no database connection");
    err_code code = db_begin(w->db, e);
    if (code != ERR_OK)
        return code;
    code = inbox_claim(w->db, c->spec.durable, m->event->id, e);
    if (code == ERR_CONFLICT) { /* processed before: nothing to do but ack */
        db_rollback(w->db);
        return ERR_OK;
    }
    if (code == ERR_OK) {
        m->tx = w->db;
        code = fn(m, e);
    }
    if (code == ERR_OK)
        code = db_commit(w->db, e);
    if (code != ERR_OK)
        db_rollback(w->db);
    return code;
}

static void msg_run(struct pool_worker *w, void *arg) {
    struct msg_job *job = arg;
    struct events_consumer *c = job->c;
    natsMsg *msg = job->msg;
    struct err e = {0};
    jsMsgMetaData *meta = NULL;
    int delivery = 1;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        delivery = (int)meta->NumDelivered;
        jsMsgMetaData_Destroy(meta);
    }
    Mkt__Event *ev = mkt__event__unpack(NULL, (size_t)natsMsg_GetDataLength(msg), (const uint8_t *)natsMsg_GetData(msg));
    err_code code;
    if (!ev || !ev->id || !*ev->id) {
        code = err_set(&e, ERR_INVALID, "undecodable event envelope");
    } else {
        const char *subject = natsMsg_GetSubject(msg);
        const char *type = ev->type && *ev->type ? ev->type
                         : strncmp(subject, EVENTS_SUBJECT_PREFIX, strlen(EVENTS_SUBJECT_PREFIX)) == 0
                             ? subject + strlen(EVENTS_SUBJECT_PREFIX)
                             : subject;
        log_set_context(ev->correlation_id, subject);
        events_consumer_fn fn = route_of(c, type);
        if (!fn) {
            log_debug("%s: no handler for %s: acknowledged", c->spec.durable, type);
            code = ERR_OK;
        } else {
            struct events_msg m = {.worker = w, .subject = subject, .event = ev, .delivery = delivery};
            code = run_handler(c, fn, w, &m, &e);
        }
    }
    if (!job_claim(job)) {
        /* events_consumer_abandon nak'ed it at the drain deadline: the message is someone else's now. */
        log_warn("%s: %s finished after the drain deadline (%s): result ignored", c->spec.durable,
                 natsMsg_GetSubject(msg), err_code_name(code));
    } else if (code == ERR_OK) {
        natsMsg_Ack(msg, NULL);
    } else if (code == ERR_INVALID || delivery >= c->spec.max_deliver) {
        char reason[ERR_MSG_MAX + 64];
        snprintf(reason, sizeof reason, "%s after %d deliveries: %s", err_code_name(code), delivery, e.msg);
        if (dead_letter(c, msg, reason))
            natsMsg_Ack(msg, NULL);
        else
            natsMsg_NakWithDelay(msg, backoff_next(&redelivery, delivery), NULL);
    } else {
        int64_t wait = backoff_next(&redelivery, delivery);
        log_warn("%s: delivery %d failed (%s: %s); retrying in %lld ms", c->spec.durable, delivery,
                 err_code_name(code), e.msg, (long long)wait);
        natsMsg_NakWithDelay(msg, wait, NULL);
    }
    if (ev)
        mkt__event__free_unpacked(ev, NULL);
    job_finish(job);
}

/* The pool gave up on a queued message (drain deadline): hand it back to the stream at once. */
static void msg_cancel(void *arg) {
    struct msg_job *job = arg;
    if (job_claim(job))
        natsMsg_Nak(job->msg, NULL);
    job_finish(job);
}

static void hand_over(struct events_consumer *c, natsMsg *msg) {
    struct msg_job *job = calloc(1, sizeof *job);
    if (!job) {
        natsMsg_Destroy(msg); /* not acked: redelivered after AckWait */
        return;
    }
    job->c = c;
    job->msg = msg;
    pthread_mutex_lock(&c->mu);
    c->in_flight++;
    job->next = c->jobs;
    if (c->jobs)
        c->jobs->prev = job;
    c->jobs = job;
    pthread_mutex_unlock(&c->mu);
    struct pool_job pj = {.name = c->job_name, .fn = msg_run, .cancel = msg_cancel, .arg = job};
    enum pool_refusal r = pool_submit_job(c->pool, &pj);
    if (r == POOL_QUEUED)
        return;
    if (job_claim(job)) {
        /* Refused (queue full, or draining): back to the stream, for this or another consumer. */
        natsMsg_NakWithDelay(job->msg, r == POOL_FULL ? 1000 : 0, NULL);
        if (r == POOL_FULL) {
            atomic_fetch_add(&c->refused, 1);
            long n = 0;
            if (log_limiter_allow(&c->refused_log, &n))
                log_warn("%s: worker queue full: %ld message(s) handed back for redelivery (%ld since start)",
                         c->spec.durable, n, atomic_load(&c->refused));
        }
    }
    job_finish(job);
}

/* Fetches while fewer than one batch is in flight, so the pool never idles between batches;
 * each job owns its message (acks and destroys it). Ends when stopped. */
static void *consumer_run(void *arg) {
    struct events_consumer *c = arg;
    while (!atomic_load(&c->stop)) {
        pthread_mutex_lock(&c->mu);
        while (c->in_flight >= c->spec.batch && !atomic_load(&c->stop))
            pthread_cond_wait(&c->done, &c->mu);
        int room = c->spec.batch - c->in_flight;
        pthread_mutex_unlock(&c->mu);
        if (atomic_load(&c->stop))
            break;
        natsMsgList list = {0};
        natsStatus s = natsSubscription_Fetch(&list, c->sub, room, 500, NULL);
        if (s == NATS_TIMEOUT)
            continue;
        if (s != NATS_OK) {
            if (!atomic_load(&c->stop))
                log_warn("%s: fetch: %s", c->spec.durable, natsStatus_GetText(s));
            nats_Sleep(200);
            continue;
        }
        for (int i = 0; i < list.Count; i++) {
            natsMsg *m = list.Msgs[i];
            list.Msgs[i] = NULL; /* hand_over owns it now */
            if (atomic_load(&c->stop)) {
                natsMsg_Nak(m, NULL); /* fetched while stopping: not ours to start */
                natsMsg_Destroy(m);
                continue;
            }
            hand_over(c, m);
        }
        natsMsgList_Destroy(&list);
    }
    return NULL;
}

err_code events_consumer_start(struct bus *b, const struct events_consumer_spec *spec, struct pool *pool,
                               struct events_consumer **out, struct err *e) {
    struct events_consumer *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, ERR_INTERNAL, "consumer: out of memory");
    c->bus = b;
    c->spec = *spec;
    c->pool = pool;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->done, NULL);
    if (!c->spec.filter) {
        if (strcmp(c->spec.stream, "EVENTS") != 0 || !events_routes_filter(c->spec.routes, c->spec.n_routes, c->filter, sizeof c->filter)) {
            events_consumer_free(c);
            return err_set(e, ERR_INVALID, "consumer %s: no filter subject", spec->durable);
        }
        c->spec.filter = c->filter;
    }
    if ((!c->spec.fn && !c->spec.routes) || (c->spec.routes && c->spec.n_routes == 0)) {
        events_consumer_free(c);
        return err_set(e, ERR_INVALID, "consumer %s: no handler", spec->durable);
    }
    if (c->spec.max_deliver <= 0)
        c->spec.max_deliver = 8;
    if (c->spec.batch <= 0)
        c->spec.batch = 64;
    if (c->spec.ack_wait_ms <= 0)
        c->spec.ack_wait_ms = 30000;
    snprintf(c->job_name, sizeof c->job_name, "consumer %s", c->spec.durable);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = c->spec.stream;
    so.Config.Durable = c->spec.durable;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.AckWait = (int64_t)c->spec.ack_wait_ms * NS_PER_MS;
    so.Config.MaxDeliver = c->spec.max_deliver + 1; /* we dead-letter at max_deliver; the server is the backstop */
    so.Config.MaxAckPending = 4 * c->spec.batch;
    so.Config.FilterSubject = c->spec.filter;
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&c->sub, bus_js(b), c->spec.filter, c->spec.durable, NULL, &so, &jerr);
    if (s == NATS_OK) /* what one fetch may buffer in the client, bounded like everything else */
        s = natsSubscription_SetPendingLimits(c->sub, 4 * c->spec.batch + 64, 64 << 20);
    if (s != NATS_OK) {
        err_code code = err_set(e, ERR_UNAVAILABLE, "consumer %s on %s: %s (%d)", c->spec.durable, c->spec.stream,
                                natsStatus_GetText(s), (int)jerr);
        events_consumer_free(c);
        return code;
    }
    if (pthread_create(&c->thread, NULL, consumer_run, c) != 0) {
        events_consumer_free(c);
        return err_set(e, ERR_INTERNAL, "consumer %s: cannot start thread", spec->durable);
    }
    c->thread_running = true;
    log_info("consumer %s on %s (%s, %zu route(s))", c->spec.durable, c->spec.stream, c->spec.filter,
             c->spec.routes ? c->spec.n_routes : (size_t)1);
    *out = c;
    return ERR_OK;
}

void events_consumer_stop(struct events_consumer *c) {
    if (!c)
        return;
    atomic_store(&c->stop, true);
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->done); /* wake a fetch loop waiting for room */
    pthread_mutex_unlock(&c->mu);
}

int events_consumer_in_flight(struct events_consumer *c) {
    pthread_mutex_lock(&c->mu);
    int n = c->in_flight;
    pthread_mutex_unlock(&c->mu);
    return n;
}

int events_consumer_abandon(struct events_consumer *c) {
    /* First let the fetch in progress end (within its 500 ms expiry): a pull request still open
     * would receive the redeliveries of these very naks, and this process is about to die with
     * them, so they would wait for AckWait instead of going to the next consumer at once. */
    events_consumer_stop(c);
    if (c->thread_running)
        pthread_join(c->thread, NULL);
    c->thread_running = false;
    int n = 0;
    pthread_mutex_lock(&c->mu);
    while (c->jobs) {
        struct msg_job *j = c->jobs;
        jobs_unlink(c, j);
        j->abandoned = true;
        natsMsg_Nak(j->msg, NULL);
        n++;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

void events_consumer_free(struct events_consumer *c) {
    if (!c)
        return;
    events_consumer_stop(c);
    if (c->thread_running)
        pthread_join(c->thread, NULL); /* a fetch in progress ends within its 500 ms */
    c->thread_running = false;
    pthread_mutex_lock(&c->mu);
    while (c->in_flight > 0)
        pthread_cond_wait(&c->done, &c->mu);
    pthread_mutex_unlock(&c->mu);
    natsSubscription_Destroy(c->sub); /* keeps the durable consumer on the server */
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->done);
    free(c);
}
