/* The MIME message builder: RFC 5322 headers with RFC 2047 encoded-words for non-ASCII text, a
 * multipart/alternative body (text then HTML, the order clients prefer), quoted-printable parts
 * so that no line exceeds 76 characters whatever the template or values contain. base64 (of the
 * encoded-words) and SHA-256 (of the boundary) are libsodium's.
 *
 * Why not libcurl's curl_mime (checked against libcurl 7.88): it cannot give what mime_build
 * promises. (1) It has no call that writes a message into memory: a curl_mime is only read by a
 * transfer (CURLOPT_MIMEPOST), so neither mime_build's buffer, nor the unit tests, nor smtp.c's
 * upload of that buffer could use it. (2) Its boundary is random (curl_mime_init draws it) and
 * cannot be set, so sending the same ledger row twice would no longer give byte-identical mails.
 * (3) It does not encode header values: Subject and display names would still need the RFC 2047
 * code below. (4) Its quoted-printable encoder only treats CRLF as a line end: the templates' LF
 * lines would come out as "=0A" unless rewritten first. What would remain for curl_mime is the
 * part framing (a dozen lines), so all of it stays here. */
#include "mime.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

#define HEADER_FOLD 78
#define WORD_BYTES 39 /* bytes of UTF-8 per encoded-word: 52 base64 characters, 64 in all */

void mime_date(mkt_time t, char *out, size_t n) {
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(t / CLOCK_SECOND);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool printable_ascii(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Length of the longest prefix of s (at most max bytes) that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max) {
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n ? n : max;
}

static void add_encoded_words(struct sbuf *b, const char *s, size_t used) {
    size_t len = strlen(s);
    bool first = true;
    (void)used; /* an encoded-word is at most 64 characters: it fits after any header name we use */
    while (len > 0) {
        size_t n = utf8_cut(s, len, WORD_BYTES);
        char b64[WORD_BYTES * 2];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
        if (!first)
            sbuf_adds(b, "\r\n ");
        sbuf_addf(b, "=?UTF-8?B?%s?=", b64);
        first = false;
        s += n;
        len -= n;
    }
}

static void add_folded_ascii(struct sbuf *b, const char *s, size_t used) {
    size_t col = used;
    bool first = true;
    while (*s) {
        const char *sp = strchr(s, ' ');
        size_t wlen = sp ? (size_t)(sp - s) : strlen(s);
        if (!first) {
            if (col + 1 + wlen > HEADER_FOLD) {
                sbuf_adds(b, "\r\n ");
                col = 1;
            } else {
                sbuf_addc(b, ' ');
                col++;
            }
        }
        sbuf_add(b, s, wlen);
        col += wlen;
        first = false;
        s += wlen;
        if (*s == ' ')
            s++;
    }
}

/* True when no space-separated word is too long to fold (header lines stop at 998 bytes). */
static bool foldable(const char *s) {
    size_t word = 0;
    for (; *s; s++) {
        word = *s == ' ' ? 0 : word + 1;
        if (word > 900)
            return false;
    }
    return true;
}

void mime_header_value(struct sbuf *b, const char *value, size_t used) {
    if (printable_ascii(value) && foldable(value))
        add_folded_ascii(b, value, used);
    else
        add_encoded_words(b, value, used);
}

/* "Name" <addr>, =?UTF-8?B?...?= <addr>, or <addr> alone. */
static void add_mailbox(struct sbuf *b, const char *name, const char *address, size_t used) {
    if (name && *name) {
        if (printable_ascii(name)) {
            sbuf_addc(b, '"');
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    sbuf_addc(b, '\\');
                sbuf_addc(b, *p);
            }
            sbuf_adds(b, "\" ");
        } else {
            add_encoded_words(b, name, used);
            sbuf_addc(b, ' ');
        }
    }
    sbuf_addf(b, "<%s>", address);
}

void mime_qp_encode(struct sbuf *b, const char *text) {
    static const char hex[] = "0123456789ABCDEF";
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len && s[len - 1] == '\r')
            len--;
        size_t col = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            bool last = i + 1 == len;
            bool encode = c == '=' || c > 126 || (c < 32 && c != '\t') || ((c == ' ' || c == '\t') && last);
            size_t tok = encode ? 3 : 1;
            if (col + tok > (last ? 76u : 75u)) {
                sbuf_adds(b, "=\r\n");
                col = 0;
            }
            if (encode) {
                char t[3] = {'=', hex[c >> 4], hex[c & 15]};
                sbuf_add(b, t, 3);
            } else {
                sbuf_addc(b, (char)c);
            }
            col += tok;
        }
        sbuf_adds(b, "\r\n");
        s += nl ? (size_t)(nl - s) + 1 : strlen(s);
    }
}

static void add_part(struct sbuf *b, const char *boundary, const char *type, const char *content) {
    sbuf_addf(b, "--%s\r\nContent-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
              boundary, type);
    mime_qp_encode(b, content);
}

err_code mime_build(const struct mime_mail *m, char **out, size_t *len, struct err *e) {
    char date[40], boundary[48], hex[2 * CRYPTO_SHA256_LEN + 1];
    mime_date(m->date, date, sizeof date);
    crypto_sha256_hex(m->message_id, strlen(m->message_id), hex);
    /* "=_" never occurs in quoted-printable text, so the boundary cannot collide with content. */
    snprintf(boundary, sizeof boundary, "=_mkt_%.32s", hex);

    struct sbuf b;
    sbuf_init(&b);
    sbuf_addf(&b, "Date: %s\r\nFrom: ", date);
    add_mailbox(&b, m->from_name, m->from_address, 6);
    sbuf_adds(&b, "\r\nTo: ");
    add_mailbox(&b, m->to_name, m->to_address, 4);
    sbuf_adds(&b, "\r\nSubject: ");
    mime_header_value(&b, m->subject, 9);
    sbuf_addf(&b, "\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n", m->message_id);
    if (m->language && *m->language)
        sbuf_addf(&b, "Content-Language: %s\r\n", m->language);
    sbuf_adds(&b, "Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n");
    if (m->template_name && *m->template_name)
        sbuf_addf(&b, "X-Mkt-Template: %s\r\n", m->template_name);
    sbuf_addf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", boundary);
    sbuf_adds(&b, "This is a multi-part message in MIME format.\r\n\r\n");
    add_part(&b, boundary, "text/plain", m->text);
    add_part(&b, boundary, "text/html", m->html);
    sbuf_addf(&b, "--%s--\r\n", boundary);
    size_t n = b.len;
    char *msg = sbuf_take(&b);
    if (!msg)
        return err_set(e, ERR_INTERNAL, "mime: out of memory");
    *out = msg;
    *len = n;
    return ERR_OK;
}
