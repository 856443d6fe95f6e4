/* OSC4 / AWS4 request signatures, written once so that the cloud client's tests and the cloud
 * emulator agree byte for byte with what libcurl's CURLOPT_AWS_SIGV4 sends. Everything here is a
 * pure function of its inputs; the only allocations are the returned strings and a scratch
 * buffer for the canonical request. */
#include "oscsig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sbuf.h"

const char *oscsig_algorithm(enum oscsig_scheme s) {
    return s == OSCSIG_AWS4 ? "AWS4-HMAC-SHA256" : "OSC4-HMAC-SHA256";
}
const char *oscsig_date_header(enum oscsig_scheme s) {
    return s == OSCSIG_AWS4 ? "X-Amz-Date" : "X-Osc-Date";
}
const char *oscsig_default_service(enum oscsig_scheme s) { return s == OSCSIG_AWS4 ? "oapi" : "api"; }
const char *oscsig_terminator(enum oscsig_scheme s) {
    return s == OSCSIG_AWS4 ? "aws4_request" : "osc4_request";
}
static const char *key_prefix(enum oscsig_scheme s) { return s == OSCSIG_AWS4 ? "AWS4" : "OSC4"; }

/* Hands the finished string to *out (owned), or reports that an allocation failed. */
static err_code sb_finish(struct sbuf *b, char **out, struct err *e) {
    if (b->oom)
        return err_set(e, ERR_INTERNAL, "oscsig: out of memory");
    *out = b->data;
    b->data = NULL;
    return ERR_OK;
}

/* ---- canonical request ------------------------------------------------------------------- */

struct hdr {
    char name[64];
    const char *value;
};

static int hdr_cmp(const void *a, const void *b) {
    return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* SigV4 value canonicalisation: trim, collapse inner runs of spaces to one. */
static void sb_trimmed(struct sbuf *b, const char *v) {
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            space = true;
            continue;
        }
        if (space)
            sbuf_addc(b, ' ');
        space = false;
        sbuf_addc(b, v[i]);
    }
}

static err_code check_request(const struct oscsig_request *r, struct err *e) {
    if (!r->method || !r->path || !r->stamp || !r->region || (!r->body && r->body_len))
        return err_set(e, ERR_INVALID, "oscsig: method, path, stamp and region are required");
    if (strlen(r->stamp) != OSCSIG_STAMP_LEN)
        return err_set(e, ERR_INVALID, "oscsig: stamp must be YYYYMMDDTHHMMSSZ");
    if (r->n_headers == 0 || r->n_headers > 32)
        return err_set(e, ERR_INVALID, "oscsig: between 1 and 32 signed headers");
    return ERR_OK;
}

err_code oscsig_canonical_request(const struct oscsig_request *r, char **out, struct err *e) {
    struct sbuf b = {0};
    struct hdr h[32];
    err_code rc = check_request(r, e);
    if (rc)
        goto done;
    for (size_t i = 0; i < r->n_headers; i++) {
        const char *n = r->headers[i].name;
        size_t len = n ? strlen(n) : 0;
        if (len == 0 || len >= sizeof h[i].name || !r->headers[i].value) {
            rc = err_set(e, ERR_INVALID, "oscsig: bad signed header #%zu", i);
            goto done;
        }
        for (size_t k = 0; k <= len; k++)
            h[i].name[k] = (char)tolower((unsigned char)n[k]);
        h[i].value = r->headers[i].value;
    }
    qsort(h, r->n_headers, sizeof h[0], hdr_cmp);

    sbuf_adds(&b, r->method);
    sbuf_addc(&b, '\n');
    sbuf_adds(&b, r->path);
    sbuf_addc(&b, '\n');
    sbuf_adds(&b, r->query ? r->query : "");
    sbuf_addc(&b, '\n');
    for (size_t i = 0; i < r->n_headers; i++) {
        sbuf_adds(&b, h[i].name);
        sbuf_addc(&b, ':');
        sb_trimmed(&b, h[i].value);
        sbuf_addc(&b, '\n');
    }
    sbuf_addc(&b, '\n');
    for (size_t i = 0; i < r->n_headers; i++) {
        if (i)
            sbuf_addc(&b, ';');
        sbuf_adds(&b, h[i].name);
    }
    sbuf_addc(&b, '\n');
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    crypto_sha256_hex(r->body ? r->body : "", r->body_len, hash);
    sbuf_adds(&b, hash);
    rc = sb_finish(&b, out, e);
done:
    free(b.data);
    return rc;
}

static const char *service_of(const struct oscsig_request *r) {
    return r->service ? r->service : oscsig_default_service(r->scheme);
}

/* The credential scope "<date8>/<region>/<service>/<terminator>". */
static void sb_scope(struct sbuf *b, const struct oscsig_request *r) {
    sbuf_add(b, r->stamp, 8);
    sbuf_addc(b, '/');
    sbuf_adds(b, r->region);
    sbuf_addc(b, '/');
    sbuf_adds(b, service_of(r));
    sbuf_addc(b, '/');
    sbuf_adds(b, oscsig_terminator(r->scheme));
}

err_code oscsig_string_to_sign(const struct oscsig_request *r, char **out, struct err *e) {
    char *canon = NULL;
    struct sbuf b = {0};
    err_code rc = oscsig_canonical_request(r, &canon, e);
    if (rc)
        goto done;
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    crypto_sha256_hex(canon, strlen(canon), hash);
    sbuf_adds(&b, oscsig_algorithm(r->scheme));
    sbuf_addc(&b, '\n');
    sbuf_adds(&b, r->stamp);
    sbuf_addc(&b, '\n');
    sb_scope(&b, r);
    sbuf_addc(&b, '\n');
    sbuf_adds(&b, hash);
    rc = sb_finish(&b, out, e);
done:
    free(b.data);
    free(canon);
    return rc;
}

void oscsig_signing_key(enum oscsig_scheme s, const char *secret_key, const char *date8,
                        const char *region, const char *service, uint8_t key[CRYPTO_SHA256_LEN]) {
    size_t sk_len = strlen(secret_key);
    char *first = malloc(sk_len + 5);
    uint8_t k[CRYPTO_SHA256_LEN];
    if (!first)
        abort(); /* a few bytes: nothing sensible to do without them */
    memcpy(first, key_prefix(s), 4);
    memcpy(first + 4, secret_key, sk_len);
    crypto_hmac_sha256(first, sk_len + 4, date8, 8, k);
    crypto_hmac_sha256(k, sizeof k, region, strlen(region), k);
    crypto_hmac_sha256(k, sizeof k, service, strlen(service), k);
    const char *term = oscsig_terminator(s);
    crypto_hmac_sha256(k, sizeof k, term, strlen(term), key);
    memset(first, 0, sk_len + 4);
    memset(k, 0, sizeof k);
    free(first);
}

err_code oscsig_signature(const struct oscsig_request *r, const char *secret_key,
                          char out[OSCSIG_SIG_HEX_LEN + 1], struct err *e) {
    char *sts = NULL;
    err_code rc = oscsig_string_to_sign(r, &sts, e);
    if (rc)
        goto done;
    uint8_t key[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
    oscsig_signing_key(r->scheme, secret_key, r->stamp, r->region, service_of(r), key);
    crypto_hmac_sha256(key, sizeof key, sts, strlen(sts), mac);
    memset(key, 0, sizeof key);
    crypto_hex(mac, sizeof mac, out);
done:
    free(sts);
    return rc;
}

err_code oscsig_authorization(const struct oscsig_request *r, const char *access_key,
                              const char *secret_key, char **out, struct err *e) {
    char sig[OSCSIG_SIG_HEX_LEN + 1];
    struct sbuf b = {0};
    err_code rc = oscsig_signature(r, secret_key, sig, e);
    if (rc)
        goto done;
    /* The signed header list, in canonical order, is the second-to-last line of the canonical
     * request: recompute it rather than duplicate the sorting. */
    char *canon = NULL;
    rc = oscsig_canonical_request(r, &canon, e);
    if (rc)
        goto done;
    char *end = strrchr(canon, '\n');
    *end = '\0';
    char *start = strrchr(canon, '\n') + 1;

    sbuf_adds(&b, oscsig_algorithm(r->scheme));
    sbuf_adds(&b, " Credential=");
    sbuf_adds(&b, access_key);
    sbuf_addc(&b, '/');
    sb_scope(&b, r);
    sbuf_adds(&b, ", SignedHeaders=");
    sbuf_adds(&b, start);
    sbuf_adds(&b, ", Signature=");
    sbuf_adds(&b, sig);
    free(canon);
    rc = sb_finish(&b, out, e);
done:
    free(b.data);
    return rc;
}

/* ---- dates --------------------------------------------------------------------------------- */

void oscsig_format_stamp(mkt_time t, char out[OSCSIG_STAMP_LEN + 1]) {
    time_t s = (time_t)(t / CLOCK_SECOND);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, OSCSIG_STAMP_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

err_code oscsig_parse_stamp(const char *stamp, mkt_time *out, struct err *e) {
    if (!stamp || strlen(stamp) != OSCSIG_STAMP_LEN || stamp[8] != 'T' || stamp[15] != 'Z')
        return err_set(e, ERR_INVALID, "date stamp must be YYYYMMDDTHHMMSSZ");
    int v[6];
    static const int pos[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int k = 0; k < len[i]; k++) {
            char c = stamp[pos[i] + k];
            if (c < '0' || c > '9')
                return err_set(e, ERR_INVALID, "date stamp must be YYYYMMDDTHHMMSSZ");
            v[i] = v[i] * 10 + (c - '0');
        }
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return err_set(e, ERR_INVALID, "date stamp out of range");
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    *out = (mkt_time)timegm(&tm) * CLOCK_SECOND;
    return ERR_OK;
}

/* ---- parsing and verifying ---------------------------------------------------------------- */

/* Copies [s, s+n) into dst (size cap) when it fits and is non-empty. */
static bool copy_part(char *dst, size_t cap, const char *s, size_t n) {
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* Finds "Key=" in the comma-separated parameter list and returns the value's extent. */
static bool find_param(const char *params, const char *key, const char **val, size_t *n) {
    size_t klen = strlen(key);
    const char *p = params;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            *val = p + klen + 1;
            *n = (size_t)(end - *val);
            while (*n > 0 && (*val)[*n - 1] == ' ')
                (*n)--;
            return true;
        }
        p = end;
    }
    return false;
}

/* True when the ';'-separated list holds `name` (case-insensitive). */
static bool list_has(const char *list, const char *name) {
    size_t len = strlen(name);
    for (const char *p = list;; p++) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncasecmp(p, name, n) == 0)
            return true;
        if (!end)
            return false;
        p = end;
    }
}

const char *oscsig_auth_date_header(const struct oscsig_auth *a, char buf[OSCSIG_DATE_HEADER_MAX + 1]) {
    const char *own = oscsig_date_header(a->scheme);
    snprintf(buf, OSCSIG_DATE_HEADER_MAX + 1, "X-%s-Date", a->service);
    buf[2] = (char)toupper((unsigned char)buf[2]);
    for (char *p = buf + 3; *p && *p != '-'; p++)
        *p = (char)tolower((unsigned char)*p);
    if (list_has(a->signed_headers, own) || !list_has(a->signed_headers, buf))
        snprintf(buf, OSCSIG_DATE_HEADER_MAX + 1, "%s", own);
    return buf;
}

err_code oscsig_parse_authorization(const char *value, struct oscsig_auth *out, struct err *e) {
    struct oscsig_auth a = {0};
    if (!value)
        return err_set(e, ERR_UNAUTHENTICATED, "missing Authorization header");
    while (*value == ' ')
        value++;
    const char *params;
    if (strncmp(value, "OSC4-HMAC-SHA256 ", 17) == 0)
        a.scheme = OSCSIG_OSC4;
    else if (strncmp(value, "AWS4-HMAC-SHA256 ", 17) == 0)
        a.scheme = OSCSIG_AWS4;
    else
        return err_set(e, ERR_UNAUTHENTICATED, "unsupported authorization scheme");
    params = value + 17;

    const char *v;
    size_t n;
    if (!find_param(params, "Credential", &v, &n))
        return err_set(e, ERR_UNAUTHENTICATED, "authorization lacks Credential");
    /* <AK>/<date8>/<region>/<service>/<terminator> */
    const char *parts[5];
    size_t lens[5];
    const char *p = v, *end = v + n;
    for (int i = 0; i < 5; i++) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (i < 4 && !slash)
            return err_set(e, ERR_UNAUTHENTICATED, "malformed Credential");
        if (i == 4 && slash)
            return err_set(e, ERR_UNAUTHENTICATED, "malformed Credential");
        parts[i] = p;
        lens[i] = (size_t)((i < 4 ? slash : end) - p);
        p = slash ? slash + 1 : end;
    }
    if (!copy_part(a.access_key, sizeof a.access_key, parts[0], lens[0]) || lens[1] != 8 ||
        !copy_part(a.date8, sizeof a.date8, parts[1], lens[1]) ||
        !copy_part(a.region, sizeof a.region, parts[2], lens[2]) ||
        !copy_part(a.service, sizeof a.service, parts[3], lens[3]))
        return err_set(e, ERR_UNAUTHENTICATED, "malformed Credential");
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)a.date8[i]))
            return err_set(e, ERR_UNAUTHENTICATED, "malformed Credential date");
    const char *term = oscsig_terminator(a.scheme);
    if (lens[4] != strlen(term) || strncmp(parts[4], term, lens[4]) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "Credential must end with %s", term);

    if (!find_param(params, "SignedHeaders", &v, &n) ||
        !copy_part(a.signed_headers, sizeof a.signed_headers, v, n))
        return err_set(e, ERR_UNAUTHENTICATED, "authorization lacks SignedHeaders");
    for (size_t i = 0; i < n; i++) {
        char c = a.signed_headers[i];
        if (c == ' ' || isupper((unsigned char)c))
            return err_set(e, ERR_UNAUTHENTICATED, "SignedHeaders must be lower-case names");
    }

    if (!find_param(params, "Signature", &v, &n) || n != OSCSIG_SIG_HEX_LEN)
        return err_set(e, ERR_UNAUTHENTICATED, "authorization lacks a 64-digit Signature");
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)v[i]))
            return err_set(e, ERR_UNAUTHENTICATED, "Signature must be hexadecimal");
    for (size_t i = 0; i < n; i++)
        a.signature[i] = (char)tolower((unsigned char)v[i]);
    a.signature[n] = '\0';
    *out = a;
    return ERR_OK;
}

err_code oscsig_check_scope(const struct oscsig_auth *a, const char *service, struct err *e) {
    const char *want = service ? service : oscsig_default_service(a->scheme);
    char date_buf[OSCSIG_DATE_HEADER_MAX + 1];
    const char *date_hdr = oscsig_auth_date_header(a, date_buf);
    if (strcmp(a->service, want) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "credential scope names service %s, not %s", a->service, want);
    if (!list_has(a->signed_headers, "host") || !list_has(a->signed_headers, date_hdr))
        return err_set(e, ERR_UNAUTHENTICATED, "host and %s must be signed", date_hdr);
    return ERR_OK;
}

/* The date header must be a stamp of the credential's day: the signing key is derived from it. */
static err_code check_day(const struct oscsig_auth *a, const char *stamp, struct err *e) {
    char date_buf[OSCSIG_DATE_HEADER_MAX + 1];
    if (!stamp || strlen(stamp) != OSCSIG_STAMP_LEN || strncmp(stamp, a->date8, 8) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "%s does not match the credential date",
                       oscsig_auth_date_header(a, date_buf));
    return ERR_OK;
}

err_code oscsig_verify(const struct oscsig_auth *a, const char *method, const char *path,
                       const char *query, oscsig_header_fn get_header, void *ctx,
                       const void *body, size_t body_len, const char *service,
                       const char *secret_key, struct err *e) {
    struct oscsig_header h[32];
    char names[OSCSIG_SIGNED_HEADERS_MAX + 1];
    size_t n = 0;
    char date_buf[OSCSIG_DATE_HEADER_MAX + 1];
    const char *date_hdr = oscsig_auth_date_header(a, date_buf);
    const char *stamp = NULL; /* set below: check_scope makes sure the date header is listed */

    if (oscsig_check_scope(a, service, e) != ERR_OK)
        return ERR_UNAUTHENTICATED;
    memcpy(names, a->signed_headers, sizeof names);
    for (char *save = NULL, *tok = strtok_r(names, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        if (n == sizeof h / sizeof h[0])
            return err_set(e, ERR_UNAUTHENTICATED, "too many signed headers");
        const char *val = get_header(ctx, tok);
        if (!val)
            return err_set(e, ERR_UNAUTHENTICATED, "signed header %s is missing", tok);
        if (strcasecmp(tok, date_hdr) == 0)
            stamp = val;
        h[n].name = tok;
        h[n].value = val;
        n++;
    }
    if (check_day(a, stamp, e) != ERR_OK)
        return ERR_UNAUTHENTICATED;

    struct oscsig_request r = {
        .scheme = a->scheme, .method = method, .path = path, .query = query,
        .headers = h, .n_headers = n, .body = body, .body_len = body_len,
        .stamp = stamp, .region = a->region, .service = a->service,
    };
    char sig[OSCSIG_SIG_HEX_LEN + 1];
    struct err inner;
    if (oscsig_signature(&r, secret_key, sig, &inner) != ERR_OK)
        return err_set(e, ERR_UNAUTHENTICATED, "cannot recompute the signature: %s", inner.msg);
    if (!crypto_equal(sig, a->signature, OSCSIG_SIG_HEX_LEN))
        return err_set(e, ERR_UNAUTHENTICATED, "signature does not match");
    return ERR_OK;
}

err_code oscsig_check_time(const struct oscsig_auth *a, const char *stamp, mkt_time now, mkt_time window,
                           struct err *e) {
    char date_buf[OSCSIG_DATE_HEADER_MAX + 1];
    const char *date_hdr = oscsig_auth_date_header(a, date_buf);
    mkt_time t;
    struct err inner;
    if (oscsig_parse_stamp(stamp, &t, &inner) != ERR_OK)
        return err_set(e, ERR_UNAUTHENTICATED, "%s: %s", date_hdr, inner.msg);
    if (check_day(a, stamp, e) != ERR_OK)
        return ERR_UNAUTHENTICATED;
    mkt_time skew = t > now ? t - now : now - t;
    if (skew > window) {
        long long s = (long long)(window / CLOCK_SECOND);
        return err_set(e, ERR_UNAUTHENTICATED, "request time %s is more than %lld %s away from the server time",
                       stamp, s % 60 ? s : s / 60, s % 60 ? "seconds" : "minutes");
    }
    return ERR_OK;
}
