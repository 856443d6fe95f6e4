/* The delivery loop: claim due ledger rows (lib/job: a lease owned by the job), render and send
 * them over a reused SMTP session, and record each outcome at once (one short transaction per
 * mail with its event, so a crash re-sends at most the mail in hand per sender, with the same
 * Message-ID). A listener thread turns LISTEN/NOTIFY (lib/db's wait) and scheduled wake-ups into
 * kicks; a circuit breaker pauses deliveries while the server is down, growing its pause with
 * lib/backoff. */
#include "delivery.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "mail.h"
#include "mail.pb-c.h"
#include "mime.h"
#include "outbox.h"
#include "smtp.h"
#include "store.h"

#define LISTEN_POLL_MS 250
#define STATS_EVERY_US (60 * CLOCK_SECOND)
#define PRUNE_EVERY_US (CLOCK_HOUR)
#define PRUNE_BATCH 5000
#define MAX_BINDINGS 64

struct delivery {
    struct notifier *n;
    struct pool *pool;        /* owned: one worker (and database connection) per sender */
    char *dsn;
    int concurrency;
    struct smtp_sender **senders; /* senders[i] belongs to the pool's worker i */
    struct job_table ledger;  /* the ledger as lib/job sees it (store_mail_jobs) */
    atomic_int jobs;          /* delivery jobs queued or running */
    atomic_bool dirty;        /* rows may have become due since the last claim */
    atomic_bool draining;
    atomic_bool stop_listener;
    _Atomic int64_t pause_until; /* wall time: deliveries paused while the server is down */
    atomic_int down_streak;
    _Atomic int64_t wake_at;     /* wall time of the earliest scheduled retry or pause end */
    atomic_long sent, failed, retried;
    _Atomic int64_t last_stats, last_prune; /* monotonic */
    atomic_bool prune_busy;
    pthread_t listener;
    bool listener_started;
};

static void job_run(struct pool_worker *w, void *arg);

/* ---- scheduling --------------------------------------------------------------------------------- */

static bool paused(struct delivery *d) { return clock_now() < atomic_load(&d->pause_until); }

/* Remembers that work becomes due at `when` (keeps the earliest). */
static void schedule_wake(struct delivery *d, mkt_time when) {
    int64_t cur = atomic_load(&d->wake_at);
    while (when < cur && !atomic_compare_exchange_weak(&d->wake_at, &cur, when)) {
    }
}

void delivery_kick(struct delivery *d) {
    atomic_store(&d->dirty, true);
    if (!d->pool || atomic_load(&d->draining))
        return;
    if (paused(d)) {
        schedule_wake(d, atomic_load(&d->pause_until)); /* try again when the pause ends */
        return;
    }
    /* One more job, up to the concurrency; a job that finds a full batch kicks again, so the
     * number of jobs follows the backlog. */
    int j = atomic_load(&d->jobs);
    while (j < d->concurrency) {
        if (atomic_compare_exchange_weak(&d->jobs, &j, j + 1)) {
            if (!pool_submit(d->pool, job_run, d))
                atomic_fetch_sub(&d->jobs, 1);
            return;
        }
    }
}

/* The server did not answer: pause every delivery, longer each time, up to the backoff cap. */
static void breaker_down(struct delivery *d, const char *reason) {
    int streak = atomic_fetch_add(&d->down_streak, 1) + 1;
    struct backoff b = {.base = CLOCK_SECOND / 4, .cap = d->n->cfg.backoff_max_s * CLOCK_SECOND};
    mkt_time delay = backoff_next(&b, streak);
    mkt_time until = clock_now() + delay;
    atomic_store(&d->pause_until, until);
    schedule_wake(d, until);
    if (streak == 1)
        log_warn("smtp server unavailable (%s): deliveries paused, mails wait", reason);
    else
        log_debug("smtp server still unavailable (%s): pausing %lld ms", reason, (long long)(delay / 1000));
}

static void breaker_ok(struct delivery *d) {
    if (atomic_exchange(&d->down_streak, 0) > 0) {
        atomic_store(&d->pause_until, 0);
        log_info("smtp server reachable again: deliveries resume");
        delivery_kick(d);
    }
}

/* ---- one mail ----------------------------------------------------------------------------------- */

/* Adds the string members of a JSON object (text) to the bindings; the json_t keeps them alive. */
static err_code bind_json(const char *text, json_t **keep, struct tmpl_binding *b, size_t *n, struct err *e) {
    if (!text)
        return ERR_OK;
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return err_set(e, ERR_INTERNAL, "ledger variables: not a JSON object");
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (*n < MAX_BINDINGS && json_is_string(v))
            b[(*n)++] = (struct tmpl_binding){k, json_string_value(v)};
    }
    *keep = o;
    return ERR_OK;
}

/* Renders the row's template into a complete MIME message (*msg owned). */
static err_code compose(struct delivery *d, const struct store_mail *m, char **msg, size_t *len, struct err *e) {
    const struct notifier_config *cfg = &d->n->cfg;
    json_t *pub = NULL, *sec = NULL;
    struct tmpl_output out = {0};
    err_code code = ERR_OK;
    const struct tmpl *t = tmpl_find(d->n->templates, m->template_name);
    if (!t) {
        code = err_set(e, ERR_INVALID, "template '%s' is not loaded", m->template_name);
        goto done;
    }
    const char *shown_name = *m->recipient_name ? m->recipient_name : m->recipient;
    struct tmpl_binding b[MAX_BINDINGS] = {
        {"platform", cfg->platform_name},
        {"public_url", cfg->public_url},
        {"recipient_name", shown_name},
        {"recipient_address", m->recipient},
    };
    size_t n = 4;
    if ((code = bind_json(m->vars_json, &pub, b, &n, e)) != ERR_OK ||
        (code = bind_json(m->secret_vars_json, &sec, b, &n, e)) != ERR_OK ||
        (code = tmpl_render(t, m->language, b, n, &out, e)) != ERR_OK)
        goto done;
    struct mime_mail mm = {
        .from_name = cfg->platform_name,
        .from_address = cfg->mail_from,
        .to_name = m->recipient_name,
        .to_address = m->recipient,
        .subject = out.subject,
        .text = out.text,
        .html = out.html,
        .message_id = m->message_id,
        .date = m->created_at,
        .language = m->language,
        .template_name = m->template_name,
    };
    code = mime_build(&mm, msg, len, e);
done:
    tmpl_output_cleanup(&out);
    json_decref(pub);
    json_decref(sec);
    return code;
}

/* What the outcome's hook needs to write the mail.sent / mail.failed event. */
struct final {
    const struct store_mail *m;
    bool sent;
    const char *reason;
};

/* tx (lib/job's hook): the event, committed with the final state. */
static err_code emit_final(PGconn *tx, void *arg, struct err *e) {
    const struct final *f = arg;
    const struct store_mail *m = f->m;
    if (f->sent) {
        Mkt__Mail__MailSent ev = MKT__MAIL__MAIL_SENT__INIT;
        ev.ledger_id = (char *)m->id;
        ev.template_ = (char *)m->template_name;
        ev.recipient = (char *)m->recipient;
        ev.attempts = m->attempts;
        ev.message_id = (char *)m->message_id;
        ev.event_key = (char *)m->event_key;
        return outbox_emit(tx, "notifier.mail.sent", m->organization_id, NULL, m->correlation_id, &ev.base, e);
    }
    Mkt__Mail__MailFailed ev = MKT__MAIL__MAIL_FAILED__INIT;
    ev.ledger_id = (char *)m->id;
    ev.template_ = (char *)m->template_name;
    ev.recipient = (char *)m->recipient;
    ev.attempts = m->attempts;
    ev.reason = (char *)f->reason;
    ev.event_key = (char *)m->event_key;
    return outbox_emit(tx, "notifier.mail.failed", m->organization_id, NULL, m->correlation_id, &ev.base, e);
}

/* Records a final state and its event in one transaction (lib/job runs the hook inside it). */
static void record_final(struct delivery *d, struct pool_worker *w, const char *owner, const struct store_mail *m,
                         bool sent, const char *reason) {
    struct err e = {0};
    bool changed = false;
    mkt_time now = clock_now();
    struct final f = {m, sent, reason};
    struct job_hook hook = {emit_final, &f};
    err_code code = sent ? job_done(w->db, &d->ledger, m->id, owner, now, &hook, &changed, &e)
                         : job_fail(w->db, &d->ledger, m->id, owner, now, reason, &hook, &changed, &e);
    if (code != ERR_OK) {
        /* The row stays claimed until its lease ends, then goes out again: the receiver gets an
         * identical copy (same Message-ID) at worst. */
        log_error("mail %s to %s: %s but the ledger was not updated: %s", m->id, m->recipient,
                  sent ? "sent" : "failed", e.msg);
        return;
    }
    if (!changed)
        return;
    if (sent) {
        atomic_fetch_add(&d->sent, 1);
        log_debug("mail %s (%s) to %s sent, attempt %d", m->id, m->template_name, m->recipient, m->attempts);
    } else {
        atomic_fetch_add(&d->failed, 1);
        log_warn("mail %s (%s) to %s failed for good after %d attempt(s): %s", m->id, m->template_name, m->recipient,
                 m->attempts, reason);
    }
}

static void retry_later(struct delivery *d, struct pool_worker *w, const char *owner, const struct store_mail *m,
                        const char *reason) {
    mkt_time now = clock_now();
    if (now >= m->give_up_at) {
        char why[ERR_MSG_MAX];
        snprintf(why, sizeof why, "gave up after %d attempts over %lld s: %s", m->attempts,
                 (long long)((now - m->created_at) / CLOCK_SECOND), reason);
        record_final(d, w, owner, m, false, why);
        return;
    }
    struct err e = {0};
    struct job_retry_result res = {0};
    if (job_retry(w->db, &d->ledger, m->id, owner, m->attempts, now, reason, false, NULL, &res, &e) != ERR_OK) {
        log_error("mail %s to %s: %s", m->id, m->recipient, e.msg);
        return; /* due again when the lease ends */
    }
    if (!res.recorded)
        return;
    atomic_fetch_add(&d->retried, 1);
    schedule_wake(d, res.next);
    log_info("mail %s (%s) to %s: attempt %d failed (%s); next in %lld s", m->id, m->template_name, m->recipient,
             m->attempts, reason, (long long)((res.next - now) / CLOCK_SECOND));
}

static void deliver_one(struct delivery *d, struct pool_worker *w, const char *owner, struct smtp_sender *s,
                        const struct store_mail *m) {
    char *msg = NULL;
    size_t len = 0;
    struct err e = {0};
    if (compose(d, m, &msg, &len, &e) != ERR_OK) {
        /* Checked at intake, so only a template removed since then (or a bug) gets here. */
        record_final(d, w, owner, m, false, e.msg);
        return;
    }
    struct smtp_result res;
    smtp_send(s, m->recipient, msg, len, &res);
    free(msg);
    switch (res.outcome) {
    case MAIL_SENT:
        breaker_ok(d);
        record_final(d, w, owner, m, true, NULL);
        break;
    case MAIL_REJECTED:
        breaker_ok(d);
        record_final(d, w, owner, m, false, res.reason);
        break;
    case MAIL_RETRY:
        breaker_ok(d);
        retry_later(d, w, owner, m, res.reason);
        break;
    case MAIL_SERVER_DOWN:
        breaker_down(d, res.reason);
        retry_later(d, w, owner, m, res.reason);
        break;
    }
}

/* ---- jobs --------------------------------------------------------------------------------------- */

static void release_rest(struct delivery *d, struct pool_worker *w, const char *owner, const struct store_batch *b,
                         size_t from) {
    const char **ids = malloc((b->n - from) * sizeof *ids);
    struct err e = {0};
    if (!ids)
        return; /* they come back when their lease ends */
    for (size_t i = from; i < b->n; i++)
        ids[i - from] = b->rows[i].id;
    if (job_release(w->db, &d->ledger, ids, b->n - from, owner, clock_now(), &e) != ERR_OK)
        log_warn("delivery: %s (the rows come back when their lease ends)", e.msg);
    free(ids);
}

static void job_run(struct pool_worker *w, void *arg) {
    struct delivery *d = arg;
    const struct notifier_config *cfg = &d->n->cfg;
    struct store_batch b = {0};
    struct smtp_sender *s = NULL;
    struct err e = {0};
    char owner[64];
    bool again = false, stalled = true;
    if (atomic_load(&d->draining) || paused(d))
        goto done;
    s = d->senders[w->index];
    atomic_store(&d->dirty, false);
    job_owner("notifier", w->index, owner);
    mkt_time now = clock_now(), lease = cfg->lease_s * CLOCK_SECOND;
    if (store_claim(w->db, &d->ledger, owner, now, now + lease, (int)cfg->batch, &b, &e) != ERR_OK) {
        log_warn("delivery: %s", e.msg);
        goto done; /* the database is away: the maintenance timer tries again */
    }
    stalled = false;
    if (b.n == (size_t)cfg->batch)
        delivery_kick(d);
    /* Stop well before the lease ends: a row sent after it could be sent by another job too.
     * (main checks that the lease exceeds the SMTP time limit by 3 s, so this leaves >= 1 s.) */
    int64_t deadline = clock_mono_us() + lease - cfg->smtp_timeout_ms * 1000 - 2 * CLOCK_SECOND;
    size_t i = 0;
    for (; i < b.n; i++) {
        if (atomic_load(&d->draining) || paused(d) || clock_mono_us() > deadline)
            break;
        deliver_one(d, w, owner, s, &b.rows[i]);
    }
    if (i < b.n)
        release_rest(d, w, owner, &b, i);
    again = b.n == (size_t)cfg->batch || atomic_load(&d->dirty);
done:
    store_batch_cleanup(&b);
    if (again && !atomic_load(&d->draining) && !paused(d) && pool_submit(d->pool, job_run, d))
        return;
    atomic_fetch_sub(&d->jobs, 1);
    /* A kick that came while every job was busy must not be lost (unless we are stalled on the
     * database or paused: then the timer and the wake-ups take over). */
    if (!stalled && atomic_load(&d->dirty))
        delivery_kick(d);
}

/* ---- listener ----------------------------------------------------------------------------------- */

static void check_wake(struct delivery *d) {
    int64_t at = atomic_load(&d->wake_at);
    if (at != INT64_MAX && clock_now() >= at && atomic_compare_exchange_strong(&d->wake_at, &at, INT64_MAX))
        delivery_kick(d);
}

static void *listen_run(void *arg) {
    struct delivery *d = arg;
    PGconn *c = NULL;
    int64_t retry_at = 0;
    bool warned = false;
    while (!atomic_load(&d->stop_listener)) {
        struct err e = {0};
        if (!c) {
            if (clock_mono_us() < retry_at) {
                usleep(LISTEN_POLL_MS * 1000);
                check_wake(d);
                continue;
            }
            char channel[160];
            if (db_connect(d->dsn, &c, &e) != ERR_OK ||
                db_channel(c, STORE_MAIL_CHANNEL, channel, sizeof channel, &e) != ERR_OK ||
                db_listen(c, channel, &e) != ERR_OK) {
                if (!warned)
                    log_warn("delivery listener: %s (retrying every second)", e.msg);
                warned = true;
                db_close(c);
                c = NULL;
                retry_at = clock_mono_us() + CLOCK_SECOND;
                continue;
            }
            warned = false;
            delivery_kick(d); /* notifications sent while we were not listening are lost */
        }
        enum db_wake why;
        if (db_wait_notify(c, LISTEN_POLL_MS, -1, &why, &e) != ERR_OK) {
            log_warn("delivery listener: %s", e.msg);
            db_close(c);
            c = NULL;
            continue;
        }
        if (why == DB_WAKE_NOTIFY)
            delivery_kick(d);
        check_wake(d);
    }
    db_close(c);
    return NULL;
}

/* ---- maintenance -------------------------------------------------------------------------------- */

static void prune_job(struct pool_worker *w, void *arg) {
    struct delivery *d = arg;
    struct err e = {0};
    long deleted = 0;
    mkt_time before = clock_now() - d->n->cfg.keep_days * 24 * CLOCK_HOUR;
    if (store_prune(w->db, before, PRUNE_BATCH, &deleted, &e) != ERR_OK)
        log_warn("ledger prune: %s", e.msg);
    else if (deleted > 0)
        log_info("ledger prune: %ld mails older than %lld days removed", deleted, d->n->cfg.keep_days);
    atomic_store(&d->prune_busy, false);
}

/* Duties: (1) kick deliveries, which picks up due retries and rows whose lease ended (a crashed
 * replica's); (2) once a minute, log what was sent, failed and deferred; (3) once an hour, prune
 * final rows older than MKT_MAIL_KEEP_DAYS. */
void delivery_maintenance(struct delivery *d) {
    delivery_kick(d);
    int64_t mono = clock_mono_us();
    if (mono - atomic_load(&d->last_stats) >= STATS_EVERY_US) {
        atomic_store(&d->last_stats, mono);
        long sent = atomic_exchange(&d->sent, 0), failed = atomic_exchange(&d->failed, 0),
             retried = atomic_exchange(&d->retried, 0);
        if (sent || failed || retried)
            log_info("mail: %ld sent, %ld failed, %ld deferred in the last minute%s", sent, failed, retried,
                     paused(d) ? " (smtp server unavailable)" : "");
    }
    if (mono - atomic_load(&d->last_prune) >= PRUNE_EVERY_US && !atomic_exchange(&d->prune_busy, true)) {
        atomic_store(&d->last_prune, mono);
        if (!pool_submit(d->pool, prune_job, d))
            atomic_store(&d->prune_busy, false);
    }
}

/* ---- life cycle --------------------------------------------------------------------------------- */

err_code delivery_new(struct notifier *n, struct delivery **out, struct err *e) {
    err_code code = ERR_OK;
    struct delivery *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_INTERNAL, "delivery: out of memory");
    d->n = n;
    d->concurrency = (int)n->cfg.concurrency;
    store_mail_jobs(&d->ledger, n->cfg.backoff_max_s * CLOCK_SECOND);
    atomic_store(&d->wake_at, INT64_MAX);
    atomic_store(&d->last_stats, clock_mono_us());
    d->senders = calloc((size_t)d->concurrency, sizeof *d->senders);
    if (!d->senders) {
        code = err_set(e, ERR_INTERNAL, "delivery: out of memory");
        goto done;
    }
    struct smtp_config sc = {
        .url = n->cfg.smtp_url,
        .user = n->cfg.smtp_user,
        .password = n->cfg.smtp_password,
        .starttls = n->cfg.smtp_starttls,
        .from = n->cfg.mail_from,
        .timeout_ms = (long)n->cfg.smtp_timeout_ms,
        .connect_timeout_ms = (long)(n->cfg.smtp_timeout_ms < 10000 ? n->cfg.smtp_timeout_ms : 10000),
    };
    for (int i = 0; i < d->concurrency; i++) {
        if ((code = smtp_sender_new(&sc, &d->senders[i], e)) != ERR_OK)
            goto done;
    }
    *out = d;
    d = NULL;
done:
    delivery_free(d);
    return code;
}

err_code delivery_start(struct delivery *d, const char *dsn, struct err *e) {
    if (!(d->dsn = strdup(dsn)))
        return err_set(e, ERR_INTERNAL, "delivery: out of memory");
    /* A pool of its own: deliveries wait on SMTP, and must neither starve the consumers and
     * requests on the service's pool nor wait behind them. */
    err_code code = pool_new(&(struct pool_config){.name = "delivery", .workers = d->concurrency, .dsn = dsn, .app = d->n}, &d->pool, e);
    if (code != ERR_OK)
        return err_wrap(e, "delivery");
    if (pthread_create(&d->listener, NULL, listen_run, d) != 0)
        return err_set(e, ERR_INTERNAL, "delivery: cannot start the listener thread");
    d->listener_started = true;
    delivery_kick(d);
    return ERR_OK;
}

void delivery_drain(struct delivery *d) {
    if (!d)
        return;
    atomic_store(&d->draining, true);
    atomic_store(&d->stop_listener, true);
}

void delivery_stop(struct delivery *d, int deadline_ms) {
    if (!d)
        return;
    delivery_drain(d);
    if (d->listener_started)
        pthread_join(d->listener, NULL);
    d->listener_started = false;
    if (d->pool && !pool_drain(d->pool, deadline_ms))
        log_warn("delivery: deadline reached with %zu jobs pending", pool_pending(d->pool));
    pool_free(d->pool); /* joins the workers: the mail in hand is finished and recorded */
    d->pool = NULL;
}

void delivery_free(struct delivery *d) {
    if (!d)
        return;
    delivery_stop(d, 0);
    for (int i = 0; d->senders && i < d->concurrency; i++)
        smtp_sender_free(d->senders[i]);
    free(d->senders);
    free(d->dsn);
    free(d);
}
