/* Keyset pagination with one opaque cursor for every list of the platform.
 *
 * A list is sorted by (sort key, id), the id breaking ties, and a page is "the first `limit` rows
 * strictly after a position": in SQL `WHERE (key, id) > ($k, $id) ORDER BY key, id LIMIT limit + 1`
 * (or `<` and DESC for newest-first lists), never OFFSET, so inserts and deletes between two
 * requests neither repeat nor skip the rows that were already there. The sort key is one of:
 *   CURSOR_ID      none: the list is sorted by its id alone (UUIDv7 ids sort by creation)
 *   CURSOR_INT     a 64-bit integer (a price in minor units, a count)
 *   CURSOR_TIME    a mkt_time (microseconds, as stored in timestamptz: the round trip is exact)
 *   CURSOR_STRING  text of at most CURSOR_STRING_MAX bytes (a name; compare it in SQL with the
 *                  collation of the ORDER BY, e.g. COLLATE "C" on both)
 *
 * The cursor is the position of the last row shown, as base64url (no padding) of a versioned
 * binary record (version 1: version, kind, key, id) followed by a 16-byte keyed BLAKE2b MAC.
 * The MAC covers the record and binds it to the list's name and to a caller-chosen filter string
 * (the query's filters, the organization...), so a modified, truncated, foreign or differently
 * filtered cursor is refused with ERR_INVALID "cursor: not a cursor returned by this list".
 *
 * What the MAC protects: not access. A cursor only moves the start of a query that the service
 * has already authorized for this caller (the organization of the actor stays in the WHERE), and
 * its contents are the sort key and id of a row the caller was shown. It keeps the format private
 * (clients cannot build cursors, so it may change: hence the version), turns garbage into one
 * clear 400 instead of SQL type errors, and stops a cursor from one list or filter being replayed
 * against another. The key (cursor_key_init) comes from configuration, MKT_CURSOR_KEY (secret),
 * the same on every replica of a service (any replica answers the next page). Unset, a built-in
 * development key is used: cursors still work, and anyone who reads this file could forge one,
 * which by the above only lets them pick a position in a list they may read anyway. Changing
 * the key invalidates the cursors in flight (clients start again from the first page).
 *
 * Pure functions, no allocation, thread-safe (libsodium is initialised through lib/crypto). */
#ifndef MKT_CURSOR_H
#define MKT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "err.h"

#define CURSOR_KEY_LEN 32
#define CURSOR_STRING_MAX 512  /* bytes of a string sort key */
#define CURSOR_ID_MAX 64       /* bytes of the tie-breaking id (1..64) */
#define CURSOR_TEXT_MAX 800    /* an encoded cursor, NUL included (the longest is 796 characters) */
#define CURSOR_LIMIT_DEFAULT 50
#define CURSOR_LIMIT_MAX 100   /* every list has a maximum page size; this one unless it says otherwise */

/* The one refusal of every bad cursor (tests and clients may match it). */
#define CURSOR_REFUSED "cursor: not a cursor returned by this list"

enum cursor_kind { CURSOR_ID = 1, CURSOR_INT, CURSOR_TIME, CURSOR_STRING };

/* The MAC key. Caller-owned storage; read-only once initialised. */
struct cursor_key {
    unsigned char bytes[CURSOR_KEY_LEN];
};
/* Derives the key from a configured secret (any string; NULL or "" = the development key). */
void cursor_key_init(struct cursor_key *key, const char *secret);

/* A position in a list: the sort key of its kind and the row's id. */
struct cursor_pos {
    enum cursor_kind kind;
    int64_t num;                      /* CURSOR_INT, CURSOR_TIME */
    char str[CURSOR_STRING_MAX + 1];  /* CURSOR_STRING */
    char id[CURSOR_ID_MAX + 1];
};

/* Encodes pos for the list `list` with the filter `filter` (NULL = "") into out. ERR_INTERNAL
 * when the id is empty or too long, the kind unknown or a string key too long (a bug of the list,
 * not of the client). */
err_code cursor_encode(const struct cursor_key *key, const char *list, const char *filter,
                       const struct cursor_pos *pos, char out[CURSOR_TEXT_MAX], struct err *e) MKT_MUST_USE;
/* Decodes a cursor that cursor_encode made with the same key, list and filter; anything else is
 * ERR_INVALID CURSOR_REFUSED. *out is written only on success. */
err_code cursor_decode(const struct cursor_key *key, const char *list, const char *filter, const char *text,
                       struct cursor_pos *out, struct err *e) MKT_MUST_USE;

/* ---- the common pattern: validate, fetch limit + 1, emit next_cursor when there is more ---- */

/* A list, declared once next to its handler. */
struct cursor_list {
    const char *name;         /* "identity.accounts": bound into its cursors */
    enum cursor_kind kind;    /* of its sort key */
    int default_limit;        /* 0 = CURSOR_LIMIT_DEFAULT */
    int max_limit;            /* 0 = CURSOR_LIMIT_MAX */
};

/* One request for a page. Caller-owned; keeps pointers to the list and the key (borrowed: they
 * must outlive it). */
struct cursor_page {
    int limit;                /* rows to show: the request's, or the list's default */
    bool has_after;           /* a cursor was given: rows strictly after `after` */
    struct cursor_pos after;  /* with has_after */
    const struct cursor_list *list__;
    const struct cursor_key *key__;
    unsigned char bind__[32]; /* digest of the list name and the filter */
};

/* Checks a request: `limit` 0 means the list's default, else 1..max (ERR_INVALID "limit: must
 * be from 1 to <max>"); `cursor` NULL or "" is the first page, else it must be a cursor of this
 * list and filter (ERR_INVALID CURSOR_REFUSED). `filter` (NULL = "") is any string that
 * changes with the query's filters; it is digested at once (not kept). */
err_code cursor_page_init(struct cursor_page *p, const struct cursor_list *list, const struct cursor_key *key,
                          const char *filter, long long limit, const char *cursor, struct err *e) MKT_MUST_USE;
/* How many rows to ask the store for: limit + 1 (the extra one only says "there is more"). */
int cursor_page_fetch(const struct cursor_page *p);
/* How many of `fetched` rows to show: at most limit. */
size_t cursor_page_shown(const struct cursor_page *p, size_t fetched);
/* True when `fetched` rows mean another page follows. */
bool cursor_page_more(const struct cursor_page *p, size_t fetched);
/* next_cursor into out: "" when !cursor_page_more(p, fetched), else the position of the last row
 * shown (its sort key `num` or `str` per the list's kind, and its id). */
err_code cursor_page_next(const struct cursor_page *p, size_t fetched, int64_t num, const char *str, const char *id,
                          char out[CURSOR_TEXT_MAX], struct err *e) MKT_MUST_USE;

#endif
