/* JetStream plumbing: the three streams, the event envelope, acknowledged publishing with
 * Nats-Msg-Id, and durable pull consumers whose batches run on the worker pool with inbox
 * deduplication, bounded redelivery with backoff, and dead-lettering. */
#include "events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct consumer {
    struct bus *bus;
    struct consumer_spec spec;
    struct pool *pool;
    natsSubscription *sub;
    pthread_t thread;
    atomic_bool stop;
    /* the batch in hand */
    pthread_mutex_t mu;
    pthread_cond_t done;
    int in_flight;
};

struct msg_job {
    struct consumer *c;
    natsMsg *msg;
};

/* Publishes the message to the consumer's dead-letter subject; false when that failed (the
 * caller then leaves the message for redelivery rather than lose it). */
static bool dead_letter(struct consumer *c, natsMsg *msg, const char *reason) {
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

static int64_t backoff_ms(int delivery) {
    int64_t ms = 500;
    for (int i = 1; i < delivery && ms < 30000; i++)
        ms *= 2;
    return ms < 30000 ? ms : 30000;
}

static err_code run_handler(struct consumer *c, struct worker *w, struct consumer_msg *m, struct err *e) {
    if (!c->spec.inbox)
        return c->spec.fn(m, e);
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
        code = c->spec.fn(m, e);
    }
    if (code == ERR_OK)
        code = db_commit(w->db, e);
    if (code != ERR_OK)
        db_rollback(w->db);
    return code;
}

static void msg_run(struct worker *w, void *arg) {
    struct msg_job *job = arg;
    struct consumer *c = job->c;
    natsMsg *msg = job->msg;
    free(job);
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
        log_set_context(ev->correlation_id, natsMsg_GetSubject(msg));
        struct consumer_msg m = {.worker = w, .subject = natsMsg_GetSubject(msg), .event = ev, .delivery = delivery};
        code = run_handler(c, w, &m, &e);
    }
    if (code == ERR_OK) {
        natsMsg_Ack(msg, NULL);
    } else if (code == ERR_INVALID || delivery >= c->spec.max_deliver) {
        char reason[ERR_MSG_MAX + 64];
        snprintf(reason, sizeof reason, "%s after %d deliveries: %s", err_code_name(code), delivery, e.msg);
        if (dead_letter(c, msg, reason))
            natsMsg_Ack(msg, NULL);
        else
            natsMsg_NakWithDelay(msg, backoff_ms(delivery), NULL);
    } else {
        log_warn("%s: delivery %d failed (%s: %s); retrying in %lld ms", c->spec.durable, delivery,
                 err_code_name(code), e.msg, (long long)backoff_ms(delivery));
        natsMsg_NakWithDelay(msg, backoff_ms(delivery), NULL);
    }
    if (ev)
        mkt__event__free_unpacked(ev, NULL);
    natsMsg_Destroy(msg);
    pthread_mutex_lock(&c->mu);
    c->in_flight--;
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->mu);
}

/* Fetches while fewer than one batch is in flight, so the pool never idles between batches;
 * each job owns its message (acks and destroys it). On stop, waits for the jobs in hand. */
static void *consumer_run(void *arg) {
    struct consumer *c = arg;
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
            struct msg_job *job = malloc(sizeof *job);
            if (!job)
                break; /* not acked: redelivered after AckWait */
            job->c = c;
            job->msg = list.Msgs[i];
            pthread_mutex_lock(&c->mu);
            c->in_flight++;
            pthread_mutex_unlock(&c->mu);
            if (pool_submit(c->pool, msg_run, job)) {
                list.Msgs[i] = NULL; /* the job owns it now */
            } else {
                free(job);
                pthread_mutex_lock(&c->mu);
                c->in_flight--;
                pthread_mutex_unlock(&c->mu);
            }
        }
        natsMsgList_Destroy(&list); /* frees what no job took */
    }
    pthread_mutex_lock(&c->mu);
    while (c->in_flight > 0)
        pthread_cond_wait(&c->done, &c->mu);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

err_code consumer_start(struct bus *b, const struct consumer_spec *spec, struct pool *pool, struct consumer **out,
                        struct err *e) {
    struct consumer *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, ERR_INTERNAL, "consumer: out of memory");
    c->bus = b;
    c->spec = *spec;
    c->pool = pool;
    if (c->spec.max_deliver <= 0)
        c->spec.max_deliver = 8;
    if (c->spec.batch <= 0)
        c->spec.batch = 64;
    if (c->spec.ack_wait_ms <= 0)
        c->spec.ack_wait_ms = 30000;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->done, NULL);
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
    if (s != NATS_OK) {
        err_code code = err_set(e, ERR_UNAVAILABLE, "consumer %s on %s: %s (%d)", c->spec.durable, c->spec.stream,
                                natsStatus_GetText(s), (int)jerr);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->done);
        free(c);
        return code;
    }
    if (pthread_create(&c->thread, NULL, consumer_run, c) != 0) {
        natsSubscription_Destroy(c->sub);
        free(c);
        return err_set(e, ERR_INTERNAL, "consumer %s: cannot start thread", spec->durable);
    }
    *out = c;
    return ERR_OK;
}

void consumer_free(struct consumer *c) {
    if (!c)
        return;
    atomic_store(&c->stop, true);
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->done); /* wake a fetch loop waiting for room */
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    natsSubscription_Destroy(c->sub); /* keeps the durable consumer on the server */
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->done);
    free(c);
}
