/* Signature V4 verification for the emulator (OSC4 and AWS4 flavours). The canonical request
 * is rebuilt from the headers the client lists in SignedHeaders, exactly as sent, so clients
 * that sign more or fewer headers than libcurl still verify. Partly overlaps lib/oscsig (the
 * signing side); kept local so the emulator does not depend on the client library. */
#include "sigv4.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

static const struct {
    const char *algorithm, *date_header, *key_prefix, *service, *terminator;
} schemes[] = {
    [SIGV4_OSC4] = {"OSC4-HMAC-SHA256", "x-osc-date", "OSC4", "api", "osc4_request"},
    [SIGV4_AWS4] = {"AWS4-HMAC-SHA256", "x-amz-date", "AWS4", "oapi", "aws4_request"},
};

const char *sigv4_date_header(enum sigv4_scheme s) { return schemes[s].date_header; }

/* A growable string buffer; allocation failure aborts. */
struct buf {
    char *p;
    size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* Copies the value of "Name=value" up to ',' (or the end) from `from`, trimmed. */
static bool get_param(const char *auth, const char *name, char *out, size_t n) {
    size_t len = strlen(name);
    for (const char *p = auth; (p = strstr(p, name)) != NULL; p += len) {
        bool at_start = p == auth || p[-1] == ' ' || p[-1] == ',';
        if (!at_start || p[len] != '=')
            continue;
        const char *v = p + len + 1, *end = strchr(v, ',');
        if (!end)
            end = v + strlen(v);
        while (end > v && end[-1] == ' ')
            end--;
        if ((size_t)(end - v) >= n)
            return false;
        memcpy(out, v, (size_t)(end - v));
        out[end - v] = '\0';
        return true;
    }
    return false;
}

static bool list_has(const char *list, const char *item) {
    size_t len = strlen(item);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, item, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

err_code sigv4_parse(const char *authorization, struct sigv4_auth *out, struct err *e) {
    struct sigv4_auth a;
    memset(&a, 0, sizeof a);
    if (!authorization || !*authorization)
        return err_set(e, ERR_UNAUTHENTICATED, "missing Authorization header");
    const char *rest;
    if (strncmp(authorization, schemes[SIGV4_OSC4].algorithm, strlen(schemes[SIGV4_OSC4].algorithm)) == 0) {
        a.scheme = SIGV4_OSC4;
    } else if (strncmp(authorization, schemes[SIGV4_AWS4].algorithm, strlen(schemes[SIGV4_AWS4].algorithm)) ==
               0) {
        a.scheme = SIGV4_AWS4;
    } else {
        return err_set(e, ERR_UNAUTHENTICATED, "unknown authorization scheme");
    }
    rest = authorization + strlen(schemes[a.scheme].algorithm);
    if (*rest != ' ')
        return err_set(e, ERR_UNAUTHENTICATED, "malformed Authorization header");
    char credential[256];
    if (!get_param(rest, "Credential", credential, sizeof credential) ||
        !get_param(rest, "SignedHeaders", a.signed_headers, sizeof a.signed_headers) ||
        !get_param(rest, "Signature", a.signature, sizeof a.signature))
        return err_set(e, ERR_UNAUTHENTICATED, "Authorization header lacks Credential, SignedHeaders or Signature");
    /* AK/DATE/REGION/SERVICE/TERMINATOR: exactly five non-empty parts */
    char *parts[5] = {0};
    int n = 0;
    for (char *p = credential; n < 5; n++) {
        parts[n] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    if (n != 4 || strchr(parts[4], '/') || !*parts[0] || !*parts[2] || !*parts[3])
        return err_set(e, ERR_UNAUTHENTICATED, "malformed Credential");
    if (strlen(parts[0]) >= sizeof a.access_key || strlen(parts[1]) != 8 || strlen(parts[2]) >= sizeof a.region ||
        strlen(parts[3]) >= sizeof a.service || strlen(parts[4]) >= sizeof a.terminator)
        return err_set(e, ERR_UNAUTHENTICATED, "malformed Credential");
    snprintf(a.access_key, sizeof a.access_key, "%s", parts[0]);
    snprintf(a.date, sizeof a.date, "%s", parts[1]);
    snprintf(a.region, sizeof a.region, "%s", parts[2]);
    snprintf(a.service, sizeof a.service, "%s", parts[3]);
    snprintf(a.terminator, sizeof a.terminator, "%s", parts[4]);
    if (strcmp(a.service, schemes[a.scheme].service) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "credential scope: service must be '%s'", schemes[a.scheme].service);
    if (strcmp(a.terminator, schemes[a.scheme].terminator) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "credential scope must end with '%s'", schemes[a.scheme].terminator);
    if (strlen(a.signature) != 64)
        return err_set(e, ERR_UNAUTHENTICATED, "malformed Signature");
    for (char *p = a.signature; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (char *p = a.signed_headers; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!list_has(a.signed_headers, "host") || !list_has(a.signed_headers, schemes[a.scheme].date_header))
        return err_set(e, ERR_UNAUTHENTICATED, "SignedHeaders must include host and %s",
                       schemes[a.scheme].date_header);
    *out = a;
    return ERR_OK;
}

/* Appends the value trimmed, with inner runs of spaces collapsed to one. */
static void add_header_value(struct buf *b, const char *v) {
    while (*v == ' ' || *v == '\t')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space)
            buf_add(b, " ", 1);
        space = false;
        buf_add(b, v, 1);
    }
}

static void hmac(const void *key, size_t key_len, const char *data, uint8_t out[CRYPTO_SHA256_LEN]) {
    crypto_hmac_sha256(key, key_len, data, strlen(data), out);
}

err_code sigv4_expected(const struct sigv4_auth *a, const char *secret, const struct sigv4_request *r,
                        char out[65], struct err *e) {
    err_code rc = ERR_OK;
    struct buf canon = {0}, sts = {0};
    char *key0 = NULL;

    /* canonical request */
    buf_str(&canon, r->method);
    buf_str(&canon, "\n");
    buf_str(&canon, r->path);
    buf_str(&canon, "\n");
    buf_str(&canon, r->query ? r->query : "");
    buf_str(&canon, "\n");
    char name[128];
    for (const char *p = a->signed_headers; *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || n >= sizeof name) {
            rc = err_set(e, ERR_UNAUTHENTICATED, "malformed SignedHeaders");
            goto done;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        const char *value = r->header(r->header_ctx, name);
        if (!value) {
            rc = err_set(e, ERR_UNAUTHENTICATED, "signed header '%s' is missing", name);
            goto done;
        }
        buf_str(&canon, name);
        buf_str(&canon, ":");
        add_header_value(&canon, value);
        buf_str(&canon, "\n");
        p += n + (end ? 1 : 0);
        if (!end)
            break;
    }
    buf_str(&canon, "\n");
    buf_str(&canon, a->signed_headers);
    buf_str(&canon, "\n");
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    crypto_sha256_hex(r->body ? r->body : "", r->body_len, hash);
    buf_str(&canon, hash);

    /* string to sign */
    const char *stamp = r->header(r->header_ctx, schemes[a->scheme].date_header);
    if (!stamp) {
        rc = err_set(e, ERR_UNAUTHENTICATED, "missing %s header", schemes[a->scheme].date_header);
        goto done;
    }
    buf_str(&sts, schemes[a->scheme].algorithm);
    buf_str(&sts, "\n");
    buf_str(&sts, stamp);
    buf_str(&sts, "\n");
    char scope[256];
    snprintf(scope, sizeof scope, "%s/%s/%s/%s", a->date, a->region, a->service, a->terminator);
    buf_str(&sts, scope);
    buf_str(&sts, "\n");
    crypto_sha256_hex(canon.p, canon.n, hash);
    buf_str(&sts, hash);

    /* signing key: HMAC chain from PREFIX+SK over date, region, service, terminator */
    size_t key0_len = strlen(schemes[a->scheme].key_prefix) + strlen(secret);
    key0 = malloc(key0_len + 1);
    if (!key0)
        abort();
    snprintf(key0, key0_len + 1, "%s%s", schemes[a->scheme].key_prefix, secret);
    uint8_t k[CRYPTO_SHA256_LEN], sig[CRYPTO_SHA256_LEN];
    hmac(key0, key0_len, a->date, k);
    hmac(k, sizeof k, a->region, k);
    hmac(k, sizeof k, a->service, k);
    hmac(k, sizeof k, a->terminator, k);
    crypto_hmac_sha256(k, sizeof k, sts.p, sts.n, sig);
    crypto_hex(sig, sizeof sig, out);
done:
    if (key0)
        memset(key0, 0, strlen(key0));
    free(key0);
    free(sts.p);
    free(canon.p);
    return rc;
}

err_code sigv4_check_time(const struct sigv4_auth *a, const char *stamp, mkt_time now, struct err *e) {
    int y, mo, d, h, mi, sec, consumed = 0;
    if (!stamp || strlen(stamp) != 16 ||
        sscanf(stamp, "%4d%2d%2dT%2d%2d%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6 || consumed != 16)
        return err_set(e, ERR_UNAUTHENTICATED, "%s must look like YYYYMMDDTHHMMSSZ", schemes[a->scheme].date_header);
    if (strncmp(stamp, a->date, 8) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "credential scope date does not match %s",
                       schemes[a->scheme].date_header);
    char iso[32];
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
    mkt_time t;
    if (clock_parse(iso, &t) != 0)
        return err_set(e, ERR_UNAUTHENTICATED, "%s is not a valid time", schemes[a->scheme].date_header);
    mkt_time skew = t > now ? t - now : now - t;
    if (skew > SIGV4_WINDOW)
        return err_set(e, ERR_UNAUTHENTICATED, "request time %s is more than 5 minutes away from the server time",
                       stamp);
    return ERR_OK;
}

bool sigv4_matches(const struct sigv4_auth *a, const char *secret, const struct sigv4_request *r) {
    char expected[65];
    if (sigv4_expected(a, secret, r, expected, NULL) != ERR_OK)
        return false;
    return crypto_equal(expected, a->signature, 64);
}
