/* What counts as acceptable human text on the platform, in one place: valid UTF-8, no control
 * characters (C0, DEL, C1; newlines and tabs only where the caller allows multi-line text), no
 * bidirectional overrides (they make a name display as something it is not), within a length in
 * characters, and not made only of spaces and invisible characters (zero-width space, joiners,
 * BOM, word joiner), so "\u200b" is as empty as "". Pure, thread-safe. */
#ifndef MKT_TEXT_H
#define MKT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A text in the platform's two languages (MAIL-1), as the API carries it: {"en": "..", "fr": ".."}.
 * Borrowed strings; NULL is absent. */
struct text_bilingual {
    const char *en, *fr;
};

enum text_verdict {
    TEXT_OK,
    TEXT_BLANK,     /* empty, or only spaces and invisible characters */
    TEXT_NOT_UTF8,
    TEXT_CONTROL,   /* control characters (or newlines in single-line text) */
    TEXT_BIDI,      /* bidirectional override or isolate characters */
    TEXT_TOO_LONG,  /* more than max_chars characters */
};

/* max_chars 0 = no limit; multiline allows \n, \r and \t. */
enum text_verdict text_check(const char *s, size_t max_chars, bool multiline);
/* The rule word for a verdict, as refusals list it: "required", "not_utf8", "control_characters",
 * "bidi_override", "too_long" ("" for TEXT_OK). */
const char *text_rule(enum text_verdict v);
/* An absolute https URL with a host, no spaces or control characters, at most max bytes. */
bool text_is_https_url(const char *s, size_t max);

#endif
