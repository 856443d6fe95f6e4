/* The HTTP/1.1 server behind the gateway and the cloud emulator, over libmicrohttpd's internal
 * epoll thread pool. It turns MHD's incremental access-handler protocol into one call per
 * complete request (body accumulated up to max_body, 413 beyond), answering from the second call
 * on so that keep-alive survives. Streaming responses that have nothing to send are parked
 * (suspended) and woken by a ticker thread instead of busy-polling the server threads. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "id.h"
#include "log.h"

#define STREAM_BLOCK 4096
#define STREAM_TICK_MS 50
#define DISCARD_MAX (16u << 20) /* chunked bytes read past max_body before hanging up */

struct stream;

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler_fn fn;
    void *ctx;
    size_t max_body;
    int port;
    MHD_socket quiesced_fd; /* listen socket handed back by MHD_quiesce_daemon, closed at free */
    atomic_bool quiescing;  /* streams end at their next read */
    atomic_int active;      /* requests between first call and completion */

    /* Parked streams and the ticker that resumes them. */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t ticker;
    bool ticker_started;
    bool stopping;          /* under mu */
    struct stream *parked;  /* under mu; singly linked through stream->next */
};

/* Per-request state, MHD's *con_cls: the accumulated body. */
struct req_state {
    char *body;
    size_t len, cap;
    size_t discarded; /* bytes dropped past max_body */
    bool too_large;
};

/* Per-streaming-response state, the reader callback's cls. */
struct stream {
    struct http_server *server;
    struct MHD_Connection *conn;
    http_stream_fn fn;
    void *ctx;
    void (*free_fn)(void *ctx);
    struct stream *next;
};

/* ---- requests ------------------------------------------------------------------------------ */

const char *http_header(const struct http_request *req, const char *name) {
    return MHD_lookup_connection_value(req->conn__, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *req, const char *name) {
    return MHD_lookup_connection_value(req->conn__, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- responses ----------------------------------------------------------------------------- */

void http_response_json(struct http_response *res, int status, json_t *body) {
    res->status = status;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->content_type = "application/json";
    if (body) {
        res->body = json_dumps(body, JSON_COMPACT);
        res->body_len = res->body ? strlen(res->body) : 0;
        json_decref(body);
    }
}

void http_response_text(struct http_response *res, int status, const char *content_type, const char *text) {
    res->status = status;
    free(res->body);
    res->body = text ? strdup(text) : NULL;
    res->body_len = res->body ? strlen(res->body) : 0;
    res->content_type = content_type;
}

void http_response_header(struct http_response *res, const char *name, const char *value) {
    if (res->n_headers >= HTTP_MAX_HEADERS || strlen(name) >= sizeof res->headers[0].name ||
        strlen(value) >= sizeof res->headers[0].value)
        return;
    strcpy(res->headers[res->n_headers].name, name);
    strcpy(res->headers[res->n_headers].value, value);
    res->n_headers++;
}

/* ---- streaming ----------------------------------------------------------------------------- */

/* Called by MHD on a server thread whenever the socket can take more of the stream. A reader
 * with nothing to say parks the connection (MHD must not be asked again at once: in internal
 * polling mode that would spin); the ticker resumes it STREAM_TICK_MS later. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    struct stream *st = cls;
    struct http_server *s = st->server;
    if (atomic_load(&s->quiescing))
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = st->fn(st->ctx, pos, buf, max);
    if (n > 0)
        return n;
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    pthread_mutex_lock(&s->mu);
    /* Checked again under the lock: quiesce and free sweep the parked list under it, so a stream
     * parked after their sweep would sleep forever (or outlive the daemon). */
    if (s->stopping || atomic_load(&s->quiescing)) {
        pthread_mutex_unlock(&s->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    MHD_suspend_connection(st->conn);
    st->next = s->parked;
    s->parked = st;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void stream_free(void *cls) {
    struct stream *st = cls;
    if (st->free_fn)
        st->free_fn(st->ctx);
    free(st);
}

static void resume_all(struct stream *list) {
    while (list) {
        struct stream *next = list->next;
        list->next = NULL;
        MHD_resume_connection(list->conn);
        list = next;
    }
}

static void add_ms(struct timespec *ts, int ms) {
    ts->tv_nsec += (long)ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

/* Resumes parked streams every STREAM_TICK_MS while there are any; sleeps otherwise. */
static void *ticker_main(void *arg) {
    struct http_server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (!s->parked) {
            pthread_cond_wait(&s->cond, &s->mu);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        add_ms(&until, STREAM_TICK_MS);
        while (!s->stopping && pthread_cond_timedwait(&s->cond, &s->mu, &until) != ETIMEDOUT) {
        }
        if (s->stopping)
            break;
        struct stream *list = s->parked;
        s->parked = NULL;
        pthread_mutex_unlock(&s->mu);
        resume_all(list);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the access handler -------------------------------------------------------------------- */

static bool sane_request_id(const char *s) {
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '_'))
            return false;
    }
    return true;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct http_server *s, struct http_response *res) {
    struct MHD_Response *r = NULL;
    struct stream *st = NULL;
    enum MHD_Result ok = MHD_NO;
    if (res->stream) {
        st = calloc(1, sizeof *st);
        if (!st) {
            if (res->stream_free)
                res->stream_free(res->stream_ctx);
            goto done;
        }
        *st = (struct stream){s, conn, res->stream, res->stream_ctx, res->stream_free, NULL};
        /* On failure MHD does not call stream_free: do it ourselves below. */
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
        if (!r) {
            stream_free(st);
            goto done;
        }
    } else if (res->body && res->body_len) {
        r = MHD_create_response_from_buffer(res->body_len, res->body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            goto done;
        res->body = NULL; /* MHD frees it now */
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!r)
            goto done;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "application/json");
    for (int i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    ok = MHD_queue_response(conn, res->status ? (unsigned)res->status : 200u, r);
done:
    if (r)
        MHD_destroy_response(r);
    free(res->body);
    res->body = NULL;
    return ok;
}

/* 413 without calling the handler; the request id is echoed (or made) like the gateway does, so
 * even this answer can be correlated. */
static enum MHD_Result queue_too_large(struct MHD_Connection *conn, struct http_server *s, const char *method,
                                       const char *url) {
    char rid[ID_UUID_LEN + 1 > 65 ? ID_UUID_LEN + 1 : 65];
    const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (sane_request_id(given))
        snprintf(rid, sizeof rid, "%s", given);
    else
        id_uuid(rid);
    char msg[96];
    snprintf(msg, sizeof msg, "request body over %zu bytes", s->max_body);
    struct http_response res = {0};
    http_response_json(&res, 413,
                       json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "too_large", "message", msg, "request_id", rid));
    http_response_header(&res, "X-Request-Id", rid);
    /* The handler (and its access log) never sees this request: leave a trace here. */
    log_set_context(rid, NULL);
    log_info("http %s %s 413 body over %zu bytes", method, url, s->max_body);
    log_set_context(NULL, NULL);
    return queue(conn, s, &res);
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t n) {
    snprintf(out, n, "?");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)n);
}

static bool append_body(struct req_state *rs, const char *data, size_t n, size_t max) {
    if (rs->len + n > max)
        return false;
    if (rs->len + n + 1 > rs->cap) {
        size_t cap = rs->cap ? rs->cap : 1024;
        while (cap < rs->len + n + 1)
            cap *= 2;
        char *p = realloc(rs->body, cap);
        if (!p)
            return false;
        rs->body = p;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, data, n);
    rs->len += n;
    rs->body[rs->len] = '\0';
    return true;
}

/* MHD calls this first when the headers are in (we only set up state: answering now would cost
 * keep-alive), then once per chunk of body, then once more with *upload_data_size == 0. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
    (void)version;
    struct http_server *s = cls;
    struct req_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof *rs);
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        atomic_fetch_add(&s->active, 1);
        /* The one exception to "never answer on the first call": a declared length over the
         * limit. MHD 0.9.75 cannot answer in the middle of an upload, and reading the whole body
         * just to refuse it is worse than losing keep-alive on a misbehaving client. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || *end || v > s->max_body) {
                rs->too_large = true;
                return queue_too_large(conn, s, method, url);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* A chunked body without declared length: keep reading (and dropping) what is over the
         * limit so the 413 can be sent at the end, but not forever. */
        if (!rs->too_large && !append_body(rs, upload_data, *upload_data_size, s->max_body))
            rs->too_large = true;
        if (rs->too_large) {
            rs->discarded += *upload_data_size;
            if (rs->discarded > DISCARD_MAX)
                return MHD_NO; /* closes the connection */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rs->too_large)
        return queue_too_large(conn, s, method, url);

    char addr[INET6_ADDRSTRLEN];
    client_addr(conn, addr, sizeof addr);
    struct http_request req = {
        .method = method,
        .path = url,
        .body = rs->body ? rs->body : "",
        .body_len = rs->len,
        .client_addr = addr,
        .conn__ = conn,
    };
    struct http_response res = {.status = 200};
    s->fn(s->ctx, &req, &res);
    return queue(conn, s, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)conn;
    (void)toe;
    struct http_server *s = cls;
    struct req_state *rs = *con_cls;
    if (!rs)
        return;
    free(rs->body);
    free(rs);
    *con_cls = NULL;
    atomic_fetch_sub(&s->active, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_warn("http: %s", line);
}

/* ---- the server ---------------------------------------------------------------------------- */

err_code http_server_start(const struct http_server_config *cfg, http_handler_fn fn, void *ctx,
                           struct http_server **out, struct err *e) {
    struct http_server *s = NULL;
    err_code rc = ERR_OK;
    if (!cfg || !fn || cfg->threads < 1 || cfg->port < 0 || cfg->port > 65535) {
        rc = err_set(e, ERR_INVALID, "http: bad server configuration");
        goto done;
    }
    struct sockaddr_in sa4 = {0};
    struct sockaddr_in6 sa6 = {0};
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const char *addr = cfg->addr && *cfg->addr ? cfg->addr : "127.0.0.1";
    if (inet_pton(AF_INET, addr, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        rc = err_set(e, ERR_INVALID, "http: address '%s' is not a numeric IPv4 or IPv6 address", addr);
        goto done;
    }

    s = calloc(1, sizeof *s);
    if (!s) {
        rc = err_set(e, ERR_INTERNAL, "http: out of memory");
        goto done;
    }
    s->fn = fn;
    s->ctx = ctx;
    s->max_body = cfg->max_body;
    s->quiesced_fd = MHD_INVALID_SOCKET;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->ticker, NULL, ticker_main, s) != 0) {
        rc = err_set(e, ERR_INTERNAL, "http: cannot start the stream ticker");
        goto done;
    }
    s->ticker_started = true;

    struct MHD_OptionItem opts[8];
    int n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL}; /* must be first */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, sa};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s > 0 ? cfg->timeout_s : 0, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
    if (cfg->threads > 1)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!s->daemon) {
        rc = err_set(e, ERR_UNAVAILABLE, "http: cannot listen on %s:%d", addr, cfg->port);
        goto done;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    s = NULL;
done:
    http_server_stop(s);
    return rc;
}

int http_server_port(const struct http_server *s) {
    return s->port;
}

void http_server_quiesce(struct http_server *s) {
    if (!s || atomic_exchange(&s->quiescing, true))
        return;
    s->quiesced_fd = MHD_quiesce_daemon(s->daemon);
    /* MHD stops accepting but the socket keeps listening: the kernel would still complete new
     * connections into the backlog, where clients would hang until the process exits. Shutting
     * it down refuses them at once; the descriptor itself is closed after MHD_stop_daemon (MHD's
     * threads may still refer to it). */
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        shutdown(s->quiesced_fd, SHUT_RDWR);
    /* Parked streams would otherwise sleep until the next tick before noticing. */
    pthread_mutex_lock(&s->mu);
    struct stream *list = s->parked;
    s->parked = NULL;
    pthread_mutex_unlock(&s->mu);
    resume_all(list);
}

bool http_server_wait_idle(struct http_server *s, int deadline_ms) {
    int64_t waited = 0;
    while (atomic_load(&s->active) > 0) {
        if (waited >= deadline_ms)
            return false;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
        waited += 5;
    }
    return true;
}

void http_server_stop(struct http_server *s) {
    if (!s)
        return;
    if (s->ticker_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->ticker, NULL);
    }
    /* MHD must not be stopped with suspended connections: wake them; they end at once since
     * `stopping` is set. */
    pthread_mutex_lock(&s->mu);
    struct stream *list = s->parked;
    s->parked = NULL;
    pthread_mutex_unlock(&s->mu);
    resume_all(list);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        close(s->quiesced_fd);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
