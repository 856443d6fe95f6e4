/* Opaque, tamper-checked cursors for keyset pagination (see cursor.h for the format and what the
 * MAC protects). The record is big-endian and length-prefixed, the MAC a 16-byte keyed BLAKE2b
 * (libsodium crypto_generichash) over a digest of the list and filter, then the record; decoding
 * accepts only the canonical base64url of a record whose MAC verifies, and parses it strictly. */
#include "cursor.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"

#define VERSION 1
#define MAC_LEN 16
#define RAW_MAX (2 + 2 + CURSOR_STRING_MAX + 1 + CURSOR_ID_MAX + MAC_LEN)
#define BIND_LEN 32

/* Not a secret: used when MKT_CURSOR_KEY is unset (development, tests). */
static const char dev_secret[] = "mkt development cursor key (not a secret)";

void cursor_key_init(struct cursor_key *key, const char *secret) {
    static const char label[] = "mkt.cursor.key.v1:";
    const char *s = secret && *secret ? secret : dev_secret;
    crypto_init();
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof key->bytes);
    crypto_generichash_update(&st, (const unsigned char *)label, sizeof label - 1);
    crypto_generichash_update(&st, (const unsigned char *)s, strlen(s));
    crypto_generichash_final(&st, key->bytes, sizeof key->bytes);
    sodium_memzero(&st, sizeof st);
}

/* Digest of (list, filter): the list's name is length-prefixed, so no two pairs collide. */
static void bind_digest(const char *list, const char *filter, unsigned char out[BIND_LEN]) {
    size_t n = strlen(list);
    unsigned char len[2] = {(unsigned char)(n >> 8), (unsigned char)n};
    crypto_init();
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, BIND_LEN);
    crypto_generichash_update(&st, len, sizeof len);
    crypto_generichash_update(&st, (const unsigned char *)list, n);
    if (filter)
        crypto_generichash_update(&st, (const unsigned char *)filter, strlen(filter));
    crypto_generichash_final(&st, out, BIND_LEN);
}

static void mac(const struct cursor_key *key, const unsigned char bind[BIND_LEN], const unsigned char *raw, size_t n,
                unsigned char out[MAC_LEN]) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, key->bytes, sizeof key->bytes, MAC_LEN);
    crypto_generichash_update(&st, bind, BIND_LEN);
    crypto_generichash_update(&st, raw, n);
    crypto_generichash_final(&st, out, MAC_LEN);
}

static bool has_key_num(enum cursor_kind k) {
    return k == CURSOR_INT || k == CURSOR_TIME;
}

static err_code encode_bound(const struct cursor_key *key, const unsigned char bind[BIND_LEN],
                             const struct cursor_pos *pos, char out[CURSOR_TEXT_MAX], struct err *e) {
    unsigned char raw[RAW_MAX];
    size_t n = 0, idlen = strnlen(pos->id, sizeof pos->id);
    if (pos->kind < CURSOR_ID || pos->kind > CURSOR_STRING)
        return err_set(e, ERR_INTERNAL, "cursor: unknown sort key kind %d", (int)pos->kind);
    if (idlen == 0 || idlen > CURSOR_ID_MAX)
        return err_set(e, ERR_INTERNAL, "cursor: the row's id must be 1 to %d bytes", CURSOR_ID_MAX);
    raw[n++] = VERSION;
    raw[n++] = (unsigned char)pos->kind;
    if (has_key_num(pos->kind)) {
        uint64_t v = (uint64_t)pos->num;
        for (int i = 7; i >= 0; i--)
            raw[n++] = (unsigned char)(v >> (8 * i));
    } else if (pos->kind == CURSOR_STRING) {
        size_t len = strnlen(pos->str, sizeof pos->str);
        if (len > CURSOR_STRING_MAX)
            return err_set(e, ERR_INTERNAL, "cursor: sort key over %d bytes", CURSOR_STRING_MAX);
        raw[n++] = (unsigned char)(len >> 8);
        raw[n++] = (unsigned char)len;
        memcpy(raw + n, pos->str, len);
        n += len;
    }
    raw[n++] = (unsigned char)idlen;
    memcpy(raw + n, pos->id, idlen);
    n += idlen;
    mac(key, bind, raw, n, raw + n);
    n += MAC_LEN;
    sodium_bin2base64(out, CURSOR_TEXT_MAX, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return ERR_OK;
}

/* A string field of the record: len bytes at p, none of them NUL, into dst (size > len). */
static bool take_string(const unsigned char *p, size_t len, char *dst) {
    if (memchr(p, '\0', len))
        return false;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return true;
}

static err_code decode_bound(const struct cursor_key *key, const unsigned char bind[BIND_LEN], const char *text,
                             struct cursor_pos *out, struct err *e) {
    unsigned char raw[RAW_MAX], want[MAC_LEN];
    char canon[CURSOR_TEXT_MAX];
    size_t tlen = text ? strnlen(text, CURSOR_TEXT_MAX) : 0, n = 0;
    const char *end = NULL;
    if (tlen == 0 || tlen >= CURSOR_TEXT_MAX)
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    if (sodium_base642bin(raw, sizeof raw, text, tlen, NULL, &n, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text + tlen || n < 2 + 1 + 1 + MAC_LEN)
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    /* One spelling per record: unused trailing bits must be zero, so every character counts. */
    sodium_bin2base64(canon, sizeof canon, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (strcmp(canon, text) != 0)
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    size_t body = n - MAC_LEN;
    mac(key, bind, raw, body, want);
    if (crypto_verify_16(want, raw + body) != 0)
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    /* Authentic: parse strictly anyway (a record of another version, or a bug, is refused). */
    struct cursor_pos pos;
    memset(&pos, 0, sizeof pos);
    size_t i = 0;
    if (raw[i++] != VERSION)
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    pos.kind = (enum cursor_kind)raw[i++];
    if (has_key_num(pos.kind)) {
        if (body - i < 8)
            return err_set(e, ERR_INVALID, CURSOR_REFUSED);
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = v << 8 | raw[i++];
        pos.num = (int64_t)v;
    } else if (pos.kind == CURSOR_STRING) {
        if (body - i < 2)
            return err_set(e, ERR_INVALID, CURSOR_REFUSED);
        size_t len = (size_t)raw[i] << 8 | raw[i + 1];
        i += 2;
        if (len > CURSOR_STRING_MAX || body - i < len || !take_string(raw + i, len, pos.str))
            return err_set(e, ERR_INVALID, CURSOR_REFUSED);
        i += len;
    } else if (pos.kind != CURSOR_ID) {
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    }
    if (body - i < 1)
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    size_t idlen = raw[i++];
    if (idlen == 0 || idlen > CURSOR_ID_MAX || body - i != idlen || !take_string(raw + i, idlen, pos.id))
        return err_set(e, ERR_INVALID, CURSOR_REFUSED);
    *out = pos;
    return ERR_OK;
}

err_code cursor_encode(const struct cursor_key *key, const char *list, const char *filter,
                       const struct cursor_pos *pos, char out[CURSOR_TEXT_MAX], struct err *e) {
    unsigned char bind[BIND_LEN];
    bind_digest(list, filter, bind);
    return encode_bound(key, bind, pos, out, e);
}

err_code cursor_decode(const struct cursor_key *key, const char *list, const char *filter, const char *text,
                       struct cursor_pos *out, struct err *e) {
    unsigned char bind[BIND_LEN];
    bind_digest(list, filter, bind);
    return decode_bound(key, bind, text, out, e);
}

/* ---- pages ------------------------------------------------------------------------------------- */

static int list_max(const struct cursor_list *l) {
    return l->max_limit > 0 ? l->max_limit : CURSOR_LIMIT_MAX;
}

err_code cursor_page_init(struct cursor_page *p, const struct cursor_list *list, const struct cursor_key *key,
                          const char *filter, long long limit, const char *cursor, struct err *e) {
    int max = list_max(list);
    int def = list->default_limit > 0 ? list->default_limit : CURSOR_LIMIT_DEFAULT;
    if (limit < 0 || limit > max)
        return err_set(e, ERR_INVALID, "limit: must be from 1 to %d", max);
    struct cursor_page page;
    memset(&page, 0, sizeof page);
    page.limit = limit ? (int)limit : (def < max ? def : max);
    page.list__ = list;
    page.key__ = key;
    bind_digest(list->name, filter, page.bind__);
    if (cursor && *cursor) {
        err_code code = decode_bound(key, page.bind__, cursor, &page.after, e);
        if (code != ERR_OK)
            return code;
        if (page.after.kind != list->kind) /* the MAC binds the list: only a bug gets here */
            return err_set(e, ERR_INVALID, CURSOR_REFUSED);
        page.has_after = true;
    }
    *p = page;
    return ERR_OK;
}

int cursor_page_fetch(const struct cursor_page *p) {
    return p->limit + 1;
}

size_t cursor_page_shown(const struct cursor_page *p, size_t fetched) {
    return fetched > (size_t)p->limit ? (size_t)p->limit : fetched;
}

bool cursor_page_more(const struct cursor_page *p, size_t fetched) {
    return fetched > (size_t)p->limit;
}

err_code cursor_page_next(const struct cursor_page *p, size_t fetched, int64_t num, const char *str, const char *id,
                          char out[CURSOR_TEXT_MAX], struct err *e) {
    if (!cursor_page_more(p, fetched)) {
        out[0] = '\0';
        return ERR_OK;
    }
    struct cursor_pos pos;
    memset(&pos, 0, sizeof pos);
    pos.kind = p->list__->kind;
    if (has_key_num(pos.kind))
        pos.num = num;
    if (pos.kind == CURSOR_STRING) {
        size_t len = str ? strlen(str) : 0;
        if (len > CURSOR_STRING_MAX)
            return err_set(e, ERR_INTERNAL, "cursor: %s: sort key over %d bytes", p->list__->name, CURSOR_STRING_MAX);
        memcpy(pos.str, str ? str : "", len + 1);
    }
    size_t idlen = id ? strlen(id) : 0;
    if (idlen == 0 || idlen > CURSOR_ID_MAX)
        return err_set(e, ERR_INTERNAL, "cursor: %s: the row's id must be 1 to %d bytes", p->list__->name,
                       CURSOR_ID_MAX);
    memcpy(pos.id, id, idlen + 1);
    return encode_bound(p->key__, p->bind__, &pos, out, e);
}
