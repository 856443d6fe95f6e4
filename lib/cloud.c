/* The cloud client's transport: one reused CURL handle per client, OSC4 signing by libcurl,
 * retries with full-jitter backoff, and the mapping from the OUTSCALE error envelope to our error
 * codes. Also the helpers shared by the typed calls (paging, JSON accessors, list building) in
 * cloud_images.c, cloud_product_types.c, cloud_vms.c and cloud_eim.c. */
#define _GNU_SOURCE /* asprintf */
#include "cloud_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "crypto.h"
#include "log.h"

#define RESPONSE_MAX (64u << 20) /* refuse answers over 64 MiB rather than exhaust memory */
#define MAX_PAGES 10000

struct cloud {
    CURL *curl;
    struct curl_slist *headers;
    char *endpoint; /* without a trailing slash */
    char *region;
    char *access_key;
    char *secret_key;
    int max_tries, backoff_base_ms, backoff_max_ms;
    /* the answer of the current attempt */
    char *buf;
    size_t len, cap;
    bool too_large;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void wipe_free(char *s) {
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void cloud_free(struct cloud *c) {
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    if (c->buf) {
        explicit_bzero(c->buf, c->cap);
        free(c->buf);
    }
    free(c->endpoint);
    free(c->region);
    free(c->access_key);
    wipe_free(c->secret_key);
    free(c);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    struct cloud *c = ud;
    size_t n = size * nmemb;
    if (c->len + n + 1 > RESPONSE_MAX) {
        c->too_large = true;
        return 0;
    }
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *p = malloc(cap);
        if (!p)
            return 0;
        if (c->buf) {
            memcpy(p, c->buf, c->len);
            explicit_bzero(c->buf, c->cap); /* answers may hold a SecretKey */
            free(c->buf);
        }
        c->buf = p;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, ptr, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return n;
}

static bool is_token(const char *s, size_t max) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ':' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

err_code cloud_new(const struct cloud_config *cfg, struct cloud **out, struct err *e) {
    struct cloud *c = NULL;
    err_code rc = ERR_OK;
    char sigv4[128];

    if (!cfg || !is_token(cfg->region, 64)) {
        rc = err_set(e, ERR_INVALID, "cloud: region is required (letters, digits, dashes)");
        goto done;
    }
    if (!is_token(cfg->access_key, 128)) {
        rc = err_set(e, ERR_INVALID, "cloud: access_key is required");
        goto done;
    }
    if (!cfg->secret_key || !cfg->secret_key[0] || strlen(cfg->secret_key) > 256) {
        rc = err_set(e, ERR_INVALID, "cloud: secret_key is required");
        goto done;
    }
    if (cfg->timeout_ms < 0 || cfg->connect_timeout_ms < 0 || cfg->max_tries < 0 || cfg->max_tries > 20 ||
        cfg->backoff_base_ms < 0 || cfg->backoff_max_ms < 0) {
        rc = err_set(e, ERR_INVALID, "cloud: timeouts and backoff must be >= 0, max_tries 0..20");
        goto done;
    }
    if (cfg->endpoint && cfg->endpoint[0] && strncmp(cfg->endpoint, "http://", 7) != 0 &&
        strncmp(cfg->endpoint, "https://", 8) != 0) {
        rc = err_set(e, ERR_INVALID, "cloud: endpoint must start with http:// or https://");
        goto done;
    }
    pthread_once(&curl_once, curl_init_once);

    c = calloc(1, sizeof *c);
    if (!c) {
        rc = err_set(e, ERR_INTERNAL, "cloud: out of memory");
        goto done;
    }
    c->max_tries = cfg->max_tries ? cfg->max_tries : 3;
    c->backoff_base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : 200;
    c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
    c->region = strdup(cfg->region);
    c->access_key = strdup(cfg->access_key);
    c->secret_key = strdup(cfg->secret_key);
    if (cfg->endpoint && cfg->endpoint[0]) {
        c->endpoint = strdup(cfg->endpoint);
        if (c->endpoint) {
            size_t n = strlen(c->endpoint);
            while (n > 0 && c->endpoint[n - 1] == '/')
                c->endpoint[--n] = '\0';
        }
    } else if (asprintf(&c->endpoint, "https://api.%s.outscale.com", cfg->region) < 0) {
        c->endpoint = NULL;
    }
    c->curl = curl_easy_init();
    /* Without an explicit Content-Type curl signs a different header set. Do not add "Expect:"
     * either: curl 7.88 would sign an empty "expect" header it never sends. */
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c->region || !c->access_key || !c->secret_key || !c->endpoint || !c->curl || !c->headers) {
        rc = err_set(e, ERR_INTERNAL, "cloud: out of memory");
        goto done;
    }
    /* The four-part form: with plain "osc" curl derives region and service from the host name,
     * which breaks on 127.0.0.1. */
    snprintf(sigv4, sizeof sigv4, "osc:osc:%s:api", c->region);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_ms ? cfg->timeout_ms : 30000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* workers are threads: no SIGALRM */
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mkt-cloud/1");
    *out = c;
    c = NULL;
done:
    cloud_free(c);
    return rc;
}

const char *cloud_region(const struct cloud *c) { return c->region; }
const char *cloud_endpoint(const struct cloud *c) { return c->endpoint; }

bool cloud_strv_has(const struct cloud_strv *v, const char *s) {
    for (size_t i = 0; v && s && i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

/* ---- decisions ------------------------------------------------------------------------------ */

static void copy_str(char *dst, size_t cap, const char *s) {
    snprintf(dst, cap, "%s", s ? s : "");
}

void cloud__parse_envelope(const char *body, size_t len, struct cloud__envelope *out) {
    memset(out, 0, sizeof *out);
    if (!body || len == 0)
        return;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root))
        goto done;
    json_t *errors = json_object_get(root, "Errors");
    json_t *first = json_array_get(errors, 0);
    copy_str(out->request_id, sizeof out->request_id,
             json_string_value(json_object_get(json_object_get(root, "ResponseContext"), "RequestId")));
    if (!json_is_object(first))
        goto done;
    out->n_errors = (int)json_array_size(errors);
    copy_str(out->type, sizeof out->type, json_string_value(json_object_get(first, "Type")));
    json_t *code = json_object_get(first, "Code");
    if (json_is_integer(code)) /* the API sends a string; be lenient with numbers */
        snprintf(out->code, sizeof out->code, "%lld", (long long)json_integer_value(code));
    else
        copy_str(out->code, sizeof out->code, json_string_value(code));
    copy_str(out->details, sizeof out->details, json_string_value(json_object_get(first, "Details")));
done:
    json_decref(root);
}

static long code_number(const char *code) {
    if (!code || !code[0])
        return -1;
    char *end;
    long v = strtol(code, &end, 10);
    return *end ? -1 : v;
}

err_code cloud__map_status(long status, const char *type, const char *code) {
    long n = code_number(code);
    if (status == 400) {
        if (type && strcmp(type, "InvalidResource") == 0 && n >= 5000 && n <= 5999)
            return ERR_NOT_FOUND;
        /* The cloud answers permanent conflicts (duplicate name 9011, in use 9029, key still
         * active 6003) with 400: never retried, and the caller may carry on as with 409. */
        if (type && (strcmp(type, "ResourceConflict") == 0 || strcmp(type, "InvalidState") == 0))
            return ERR_CONFLICT;
        return ERR_INVALID;
    }
    if (status == 401)
        return n == 5 ? ERR_FORBIDDEN : ERR_UNAUTHENTICATED;
    if (status == 403)
        return ERR_FORBIDDEN;
    if (status == 404)
        return ERR_UNSUPPORTED;
    if (status == 409)
        return ERR_CONFLICT;
    if (status == 429)
        return ERR_THROTTLED;
    if (status >= 500 && status <= 599)
        return ERR_UNAVAILABLE;
    if (status >= 400 && status <= 499)
        return ERR_INVALID;
    return ERR_INTERNAL; /* 1xx/3xx: nothing we asked for */
}

err_code cloud__http_error(const char *op, long status, const char *body, size_t len, struct err *e) {
    struct cloud__envelope env;
    cloud__parse_envelope(body, len, &env);
    err_code code = cloud__map_status(status, env.type, env.code);
    char what[160];
    if (env.n_errors)
        snprintf(what, sizeof what, "%s %s%s%s%s", env.type[0] ? env.type : "Error",
                 env.code[0] ? env.code : "?", env.details[0] ? " (" : "", env.details,
                 env.details[0] ? ")" : "");
    else
        snprintf(what, sizeof what, "HTTP %ld", status);
    return err_set(e, code, "%s: %s%s%s", op, what, env.request_id[0] ? " request " : "",
                   env.request_id);
}

err_code cloud__transport_error(const char *op, int curl_code, const char *detail, struct err *e) {
    const char *what = detail && detail[0] ? detail : curl_easy_strerror((CURLcode)curl_code);
    switch ((CURLcode)curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
        return err_set(e, ERR_TIMEOUT, "%s: no answer in time (%s)", op, what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return err_set(e, ERR_INVALID, "%s: bad endpoint (%s)", op, what);
    default:
        return err_set(e, ERR_UNAVAILABLE, "%s: transport: %s", op, what);
    }
}

bool cloud__retryable(long status, int curl_code) {
    if (status == 0)
        return curl_code != CURLE_OK && curl_code != CURLE_URL_MALFORMAT &&
               curl_code != CURLE_UNSUPPORTED_PROTOCOL && curl_code != CURLE_OUT_OF_MEMORY &&
               curl_code != CURLE_WRITE_ERROR; /* WRITE_ERROR: we refused an oversized answer */
    return status == 429 || (status >= 500 && status <= 599);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- the call ------------------------------------------------------------------------------ */

static bool is_op_name(const char *op) {
    if (!op || !op[0] || strlen(op) > 64)
        return false;
    for (const char *p = op; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

err_code cloud_call(struct cloud *c, const char *op, json_t *req, json_t **resp, struct err *e) {
    char *body = NULL, *url = NULL;
    json_t *answer = NULL;
    err_code rc = ERR_OK;
    struct err last = {0};
    int tries = 0;

    if (!is_op_name(op)) {
        rc = err_set(e, ERR_INVALID, "cloud: bad operation name");
        goto done;
    }
    body = req ? json_dumps(req, JSON_COMPACT) : strdup("{}");
    if (!body || asprintf(&url, "%s/api/v1/%s", c->endpoint, op) < 0) {
        url = NULL;
        rc = err_set(e, ERR_INTERNAL, "%s: out of memory", op);
        goto done;
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));

    for (tries = 1;; tries++) {
        char detail[CURL_ERROR_SIZE] = "";
        c->len = 0;
        c->too_large = false;
        curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, detail);
        int64_t started = clock_mono_us();
        CURLcode cc = curl_easy_perform(c->curl);
        curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);

        if (cc == CURLE_OK && status >= 200 && status <= 299) {
            json_error_t jerr;
            answer = c->len ? json_loadb(c->buf, c->len, 0, &jerr) : NULL;
            if (!json_is_object(answer)) {
                rc = err_set(e, ERR_INTERNAL, "%s: HTTP %ld with a body that is not a JSON object", op, status);
                goto done;
            }
            log_debug("cloud %s: HTTP %ld in %lld ms request %s", op, status,
                      (long long)((clock_mono_us() - started) / 1000),
                      cloud__str(json_object_get(answer, "ResponseContext"), "RequestId"));
            break;
        }
        if (cc != CURLE_OK)
            cloud__transport_error(op, cc, c->too_large ? "answer too large" : detail, &last);
        else
            cloud__http_error(op, status, c->buf, c->len, &last);
        if (tries >= c->max_tries || !cloud__retryable(status, c->too_large ? CURLE_WRITE_ERROR : (int)cc))
            break;
        struct backoff b = {.base = c->backoff_base_ms, .cap = c->backoff_max_ms};
        long delay = (long)backoff_next(&b, tries);
        log_warn("cloud %s: attempt %d/%d failed (%s): retrying in %ld ms", op, tries, c->max_tries,
                 last.msg, delay);
        sleep_ms(delay);
    }
    if (!answer) {
        if (tries > 1)
            rc = err_set(e, last.code, "%s (after %d tries)", last.msg, tries);
        else
            rc = err_set(e, last.code, "%s", last.msg);
        goto done;
    }
    if (resp) {
        *resp = answer;
        answer = NULL;
    }
done:
    if (c->buf)
        explicit_bzero(c->buf, c->len);
    c->len = 0;
    json_decref(answer);
    json_decref(req);
    free(url);
    free(body);
    return rc;
}

/* ---- helpers for typed calls ---------------------------------------------------------------- */

json_t *cloud__json_strv(const char *const *v) {
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

void cloud__set_strv(json_t *obj, const char *key, const char *const *v) {
    if (v)
        json_object_set_new(obj, key, cloud__json_strv(v));
}

void cloud__set_str(json_t *obj, const char *key, const char *s) {
    if (s)
        json_object_set_new(obj, key, json_string(s));
}

const char *cloud__str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

mkt_time cloud__date(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    mkt_time t;
    return (s && clock_parse(s, &t) == 0) ? t : 0;
}

err_code cloud__strv(const json_t *o, const char *key, struct cloud_strv *out, struct err *e) {
    const json_t *a = json_object_get(o, key);
    size_t n = json_array_size(a);
    out->n = 0;
    out->v = NULL;
    if (n == 0)
        return ERR_OK;
    out->v = calloc(n, sizeof *out->v);
    if (!out->v)
        return err_set(e, ERR_INTERNAL, "cloud: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s)
            out->v[out->n++] = s;
    }
    return ERR_OK;
}

err_code cloud__read_all(struct cloud *c, const char *op, json_t *req, const char *key,
                         enum cloud__paging paging, int results_per_page, json_t **items,
                         struct err *e) {
    json_t *all = json_array();
    json_t *answer = NULL;
    char *token = NULL;
    err_code rc = ERR_OK;
    long long first = 0;

    if (!req)
        req = json_object();
    if (results_per_page > 0 && paging != CLOUD_PAGING_NONE)
        json_object_set_new(req, "ResultsPerPage", json_integer(results_per_page));
    for (int page = 0;; page++) {
        if (page == MAX_PAGES) {
            rc = err_set(e, ERR_INTERNAL, "%s: more than %d pages", op, MAX_PAGES);
            goto done;
        }
        json_t *this_req = json_deep_copy(req);
        if (token)
            json_object_set_new(this_req, "NextPageToken", json_string(token));
        if (paging == CLOUD_PAGING_ITEMS && page > 0)
            json_object_set_new(this_req, "FirstItem", json_integer(first));
        json_decref(answer);
        answer = NULL;
        rc = cloud_call(c, op, this_req, &answer, e);
        if (rc)
            goto done;
        json_t *got = json_object_get(answer, key);
        if (got && !json_is_array(got)) {
            rc = err_set(e, ERR_INTERNAL, "%s: %s is not an array", op, key);
            goto done;
        }
        if (got) /* a missing key reads as an empty page */
            json_array_extend(all, got);
        if (paging == CLOUD_PAGING_TOKEN) {
            const char *next = json_string_value(json_object_get(answer, "NextPageToken"));
            if (!next || !next[0])
                break;
            if (token && strcmp(token, next) == 0) {
                rc = err_set(e, ERR_INTERNAL, "%s: the cloud repeated a page token", op);
                goto done;
            }
            free(token);
            token = strdup(next);
            if (!token) {
                rc = err_set(e, ERR_INTERNAL, "%s: out of memory", op);
                goto done;
            }
        } else if (paging == CLOUD_PAGING_ITEMS) {
            if (!json_is_true(json_object_get(answer, "HasMoreItems")))
                break;
            if (json_array_size(got) == 0) {
                rc = err_set(e, ERR_INTERNAL, "%s: HasMoreItems with an empty page", op);
                goto done;
            }
            first += (long long)json_array_size(got);
        } else {
            break;
        }
    }
    *items = all;
    all = NULL;
done:
    free(token);
    json_decref(answer);
    json_decref(all);
    json_decref(req);
    return rc;
}

err_code cloud__call_one(struct cloud *c, const char *op, json_t *req, const char *key,
                         json_t **items, struct err *e) {
    json_t *answer = NULL;
    err_code rc = cloud_call(c, op, req, &answer, e);
    if (rc)
        goto done;
    json_t *obj = json_object_get(answer, key);
    if (!json_is_object(obj)) {
        rc = err_set(e, ERR_INTERNAL, "%s: the answer has no %s object", op, key);
        goto done;
    }
    *items = json_array();
    json_array_append(*items, obj);
done:
    json_decref(answer);
    return rc;
}

err_code cloud__build_list(json_t *array, size_t item_size, cloud__fill_fn fill, size_t *n,
                           void **items, json_t **json, struct err *e) {
    err_code rc = ERR_OK;
    size_t count = json_array_size(array);
    *json = array; /* the list holds the strings its items point to */
    *n = 0;
    *items = count ? calloc(count, item_size) : NULL;
    if (count && !*items)
        return err_set(e, ERR_INTERNAL, "cloud: out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *obj = json_array_get(array, i);
        if (!json_is_object(obj))
            continue;
        rc = fill((char *)*items + *n * item_size, obj, e);
        (*n)++; /* counted even on failure so the _free releases what fill allocated */
        if (rc)
            return rc;
    }
    return ERR_OK;
}
