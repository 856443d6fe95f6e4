/* A growable byte buffer for building strings (SQL statements and COPY data, canonical requests
 * for signatures, rendered templates, MIME messages). Appends never
 * fail loudly: an allocation failure sets `oom`, later appends are ignored, and the caller checks
 * `oom` once at the end. The content is always NUL-terminated. Not thread-safe (one owner). */
#ifndef MKT_SBUF_H
#define MKT_SBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct sbuf {
    char *data; /* owned; NULL until the first append */
    size_t len, cap;
    bool oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_cleanup(struct sbuf *b);
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) MKT_PRINTF(2, 3);
/* Hands the content over (caller frees; "" when empty) and resets the buffer; NULL on oom. */
char *sbuf_take(struct sbuf *b);

#endif
