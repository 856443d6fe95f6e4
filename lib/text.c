/* Human text checks (text.h): one pass decodes UTF-8 and classifies each code point. */
#include "text.h"

#include <string.h>

/* Decodes one code point at s (n bytes left); returns its length, or 0 when invalid. */
static size_t decode(const unsigned char *s, size_t n, unsigned *cp) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0; /* overlong, out of range, or a surrogate */
    *cp = c;
    return len;
}

static bool invisible(unsigned cp) {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0 || (cp >= 0x200b && cp <= 0x200d) ||
           cp == 0x2060 || cp == 0xfeff || cp == 0x180e || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200a);
}

static bool bidi(unsigned cp) {
    return cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x061c;
}

enum text_verdict text_check(const char *s, size_t max_chars, bool multiline) {
    if (!s)
        return TEXT_BLANK;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0;
    bool visible = false;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t len = decode(p + i, n - i, &cp);
        if (len == 0)
            return TEXT_NOT_UTF8;
        bool allowed_space = multiline && (cp == '\n' || cp == '\r' || cp == '\t');
        if (!allowed_space && (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)))
            return TEXT_CONTROL;
        if (bidi(cp))
            return TEXT_BIDI;
        if (!invisible(cp))
            visible = true;
        chars++;
        i += len;
    }
    if (!visible)
        return TEXT_BLANK;
    if (max_chars && chars > max_chars)
        return TEXT_TOO_LONG;
    return TEXT_OK;
}

const char *text_rule(enum text_verdict v) {
    static const char *const rules[] = {
        [TEXT_OK] = "", [TEXT_BLANK] = "required", [TEXT_NOT_UTF8] = "not_utf8",
        [TEXT_CONTROL] = "control_characters", [TEXT_BIDI] = "bidi_override", [TEXT_TOO_LONG] = "too_long",
    };
    return (size_t)v < sizeof rules / sizeof rules[0] ? rules[v] : "invalid";
}

bool text_is_https_url(const char *s, size_t max) {
    if (!s || strncmp(s, "https://", 8) != 0 || strlen(s) > max)
        return false;
    const char *host = s + 8;
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0 || host[0] == ':' || host[0] == '@')
        return false;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '"' || *c == '<' || *c == '>' || *c == '\\')
            return false;
    return true;
}
