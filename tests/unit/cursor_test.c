/* lib/cursor: positions of every kind survive the round trip exactly; any change to a cursor
 * (each character, each bit of the record), a truncation, an extension, garbage, another key,
 * another list or another filter is refused with the one message; page sizes are validated
 * (default, maximum) and the limit + 1 pattern emits next_cursor only when there is more. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"

static struct cursor_key key;

static void setup(void) {
    cursor_key_init(&key, "unit-test cursor secret");
}

TestSuite(cursor, .init = setup);

static const char *const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static struct cursor_pos pos_of(enum cursor_kind kind, int64_t num, const char *str, const char *id) {
    struct cursor_pos p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.num = num;
    snprintf(p.str, sizeof p.str, "%s", str ? str : "");
    snprintf(p.id, sizeof p.id, "%s", id);
    return p;
}

static void expect_refused(const char *list, const char *filter, const char *text, const char *why) {
    struct cursor_pos out;
    struct err e = {0};
    memset(&out, 0x5a, sizeof out);
    cr_expect_eq(cursor_decode(&key, list, filter, text, &out, &e), ERR_INVALID, "%s: accepted '%s'", why,
                 text ? text : "(null)");
    cr_expect_str_eq(e.msg, CURSOR_REFUSED, "%s", why);
    cr_expect_eq(out.id[0], 0x5a, "%s: the output was written on failure", why);
}

static void round_trip(const struct cursor_pos *p) {
    char text[CURSOR_TEXT_MAX];
    struct cursor_pos out;
    struct err e = {0};
    cr_assert_eq(cursor_encode(&key, "test.list", "f=1", p, text, &e), ERR_OK, "%s", e.msg);
    cr_expect(strspn(text, b64url) == strlen(text), "not base64url: %s", text);
    cr_assert_eq(cursor_decode(&key, "test.list", "f=1", text, &out, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(out.kind, p->kind);
    cr_expect_str_eq(out.id, p->id);
    if (p->kind == CURSOR_INT || p->kind == CURSOR_TIME)
        cr_expect_eq(out.num, p->num, "%lld != %lld", (long long)out.num, (long long)p->num);
    if (p->kind == CURSOR_STRING)
        cr_expect_str_eq(out.str, p->str);
}

Test(cursor, round_trip_of_every_kind) {
    const char *uuid = "0190a0a0-1234-7000-8000-00000000abcd";
    struct cursor_pos p = pos_of(CURSOR_ID, 0, NULL, uuid);
    round_trip(&p);
    int64_t nums[] = {0, 1, -1, 4999, INT64_MAX, INT64_MIN, 1700000000123456LL};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        p = pos_of(CURSOR_INT, nums[i], NULL, uuid);
        round_trip(&p);
        p = pos_of(CURSOR_TIME, nums[i], NULL, "x");
        round_trip(&p);
    }
    const char *strs[] = {"", "a", "Société Générale", "名前", "O'Brien; DROP TABLE", "with\nnewline"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        p = pos_of(CURSOR_STRING, 0, strs[i], uuid);
        round_trip(&p);
    }
    /* The largest record: a string key and an id at their maximum. */
    char big[CURSOR_STRING_MAX + 1], id[CURSOR_ID_MAX + 1];
    memset(big, 'z', CURSOR_STRING_MAX);
    big[CURSOR_STRING_MAX] = '\0';
    memset(id, '9', CURSOR_ID_MAX);
    id[CURSOR_ID_MAX] = '\0';
    p = pos_of(CURSOR_STRING, 0, big, id);
    round_trip(&p);
}

Test(cursor, encoding_refuses_what_no_list_should_emit) {
    char text[CURSOR_TEXT_MAX];
    struct err e = {0};
    struct cursor_pos p = pos_of(CURSOR_ID, 0, NULL, "");
    cr_expect_eq(cursor_encode(&key, "l", NULL, &p, text, &e), ERR_INTERNAL, "empty id");
    p = pos_of(CURSOR_ID, 0, NULL, "x");
    p.kind = (enum cursor_kind)9;
    cr_expect_eq(cursor_encode(&key, "l", NULL, &p, text, &e), ERR_INTERNAL, "unknown kind");
    struct cursor_page page;
    struct cursor_list l = {"l", CURSOR_STRING, 1, 0};
    cr_assert_eq(cursor_page_init(&page, &l, &key, NULL, 1, NULL, &e), ERR_OK);
    char big[CURSOR_STRING_MAX + 2], id[CURSOR_ID_MAX + 2];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memset(id, '1', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    cr_expect_eq(cursor_page_next(&page, 2, 0, big, "x", text, &e), ERR_INTERNAL, "string key too long");
    cr_expect_eq(cursor_page_next(&page, 2, 0, "a", id, text, &e), ERR_INTERNAL, "id too long");
    cr_expect_eq(cursor_page_next(&page, 2, 0, "a", NULL, text, &e), ERR_INTERNAL, "no id");
}

/* One cursor of each kind, for the tampering tests. */
static void samples(char texts[4][CURSOR_TEXT_MAX]) {
    struct cursor_pos ps[4] = {
        pos_of(CURSOR_ID, 0, NULL, "0190a0a0-1234-7000-8000-00000000abcd"),
        pos_of(CURSOR_INT, -42, NULL, "0190a0a0-1234-7000-8000-00000000abce"),
        pos_of(CURSOR_TIME, 1700000000123456LL, NULL, "0190a0a0-1234-7000-8000-00000000abcf"),
        pos_of(CURSOR_STRING, 0, "Acme Cloud", "0190a0a0-1234-7000-8000-00000000abd0"),
    };
    struct err e = {0};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cursor_encode(&key, "test.list", "f=1", &ps[i], texts[i], &e), ERR_OK, "%s", e.msg);
}

Test(cursor, every_changed_character_is_refused) {
    char texts[4][CURSOR_TEXT_MAX];
    samples(texts);
    for (int s = 0; s < 4; s++) {
        size_t len = strlen(texts[s]);
        for (size_t i = 0; i < len; i++) {
            for (const char *c = b64url; *c; c++) {
                if (*c == texts[s][i])
                    continue;
                char t[CURSOR_TEXT_MAX];
                memcpy(t, texts[s], len + 1);
                t[i] = *c;
                char why[64];
                snprintf(why, sizeof why, "sample %d, character %zu -> %c", s, i, *c);
                expect_refused("test.list", "f=1", t, why);
            }
        }
    }
}

Test(cursor, every_flipped_bit_of_the_record_is_refused) {
    char texts[4][CURSOR_TEXT_MAX];
    samples(texts);
    for (int s = 0; s < 4; s++) {
        unsigned char raw[1024];
        size_t n = 0;
        cr_assert_eq(sodium_base642bin(raw, sizeof raw, texts[s], strlen(texts[s]), NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
        for (size_t i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit++) {
                raw[i] ^= (unsigned char)(1u << bit);
                char t[CURSOR_TEXT_MAX];
                sodium_bin2base64(t, sizeof t, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                raw[i] ^= (unsigned char)(1u << bit);
                char why[64];
                snprintf(why, sizeof why, "sample %d, byte %zu bit %d", s, i, bit);
                expect_refused("test.list", "f=1", t, why);
            }
        }
    }
}

Test(cursor, truncated_extended_empty_and_garbage_are_refused) {
    char texts[4][CURSOR_TEXT_MAX];
    samples(texts);
    for (int s = 0; s < 4; s++) {
        size_t len = strlen(texts[s]);
        for (size_t k = 0; k < len; k++) {
            char t[CURSOR_TEXT_MAX];
            memcpy(t, texts[s], k);
            t[k] = '\0';
            expect_refused("test.list", "f=1", t, "truncated");
        }
        char t[CURSOR_TEXT_MAX + 8];
        snprintf(t, sizeof t, "%sA", texts[s]);
        expect_refused("test.list", "f=1", t, "extended");
        snprintf(t, sizeof t, "%s=", texts[s]);
        expect_refused("test.list", "f=1", t, "padded");
        snprintf(t, sizeof t, " %s", texts[s]);
        expect_refused("test.list", "f=1", t, "leading space");
    }
    expect_refused("test.list", "f=1", NULL, "NULL");
    expect_refused("test.list", "f=1", "", "empty");
    expect_refused("test.list", "f=1", "0190a0a0-1234-7000-8000-00000000abcd", "an id (the old convention)");
    expect_refused("test.list", "f=1", "hello", "garbage");
    expect_refused("test.list", "f=1", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "not base64");
    expect_refused("test.list", "f=1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "zeros");
    char huge[CURSOR_TEXT_MAX + 100];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    expect_refused("test.list", "f=1", huge, "too long");
}

Test(cursor, another_list_filter_or_key_is_refused) {
    char texts[4][CURSOR_TEXT_MAX];
    samples(texts);
    expect_refused("test.other", "f=1", texts[0], "another list");
    expect_refused("test.lis", "tf=1", texts[0], "list and filter shifted");
    expect_refused("test.list", "f=2", texts[0], "another filter");
    expect_refused("test.list", "", texts[0], "no filter");
    struct cursor_key other;
    cursor_key_init(&other, "another secret");
    struct cursor_pos out;
    struct err e = {0};
    cr_expect_eq(cursor_decode(&other, "test.list", "f=1", texts[0], &out, &e), ERR_INVALID, "another key");
    cr_expect_str_eq(e.msg, CURSOR_REFUSED);
    /* The development key is one key, the same every time (every replica shares it). */
    struct cursor_key d1, d2;
    cursor_key_init(&d1, NULL);
    cursor_key_init(&d2, "");
    cr_expect(memcmp(d1.bytes, d2.bytes, sizeof d1.bytes) == 0);
    cr_expect(memcmp(d1.bytes, key.bytes, sizeof d1.bytes) != 0);
    /* A list with the same name but another sort key kind refuses the cursor too. */
    struct cursor_list as_int = {"test.list", CURSOR_INT, 0, 0};
    struct cursor_page page;
    cr_expect_eq(cursor_page_init(&page, &as_int, &key, "f=1", 0, texts[0], &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, CURSOR_REFUSED);
}

Test(cursor, limits_default_and_maximum) {
    struct cursor_list plain = {"test.plain", CURSOR_ID, 0, 0}, big = {"test.big", CURSOR_ID, 20, 500},
                       small = {"test.small", CURSOR_ID, 80, 30};
    struct cursor_page p;
    struct err e = {0};
    cr_assert_eq(cursor_page_init(&p, &plain, &key, NULL, 0, NULL, &e), ERR_OK);
    cr_expect_eq(p.limit, CURSOR_LIMIT_DEFAULT);
    cr_expect_eq(p.limit, 50);
    cr_expect_not(p.has_after);
    cr_expect_eq(cursor_page_init(&p, &plain, &key, NULL, 0, "", &e), ERR_OK, "\"\" is the first page");
    cr_expect_eq(cursor_page_init(&p, &plain, &key, NULL, 1, NULL, &e), ERR_OK);
    cr_expect_eq(p.limit, 1);
    cr_expect_eq(cursor_page_init(&p, &plain, &key, NULL, 100, NULL, &e), ERR_OK);
    cr_expect_eq(p.limit, CURSOR_LIMIT_MAX);
    long long bad[] = {101, 1000, -1, 1LL << 40};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&p, 0x5a, sizeof p);
        cr_expect_eq(cursor_page_init(&p, &plain, &key, NULL, bad[i], NULL, &e), ERR_INVALID, "%lld", bad[i]);
        cr_expect_str_eq(e.msg, "limit: must be from 1 to 100");
        cr_expect_eq(p.limit, 0x5a5a5a5a, "written on failure");
    }
    cr_expect_eq(cursor_page_init(&p, &big, &key, NULL, 0, NULL, &e), ERR_OK);
    cr_expect_eq(p.limit, 20);
    cr_expect_eq(cursor_page_init(&p, &big, &key, NULL, 500, NULL, &e), ERR_OK);
    cr_expect_eq(cursor_page_init(&p, &big, &key, NULL, 501, NULL, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "limit: must be from 1 to 500");
    cr_expect_eq(cursor_page_init(&p, &small, &key, NULL, 0, NULL, &e), ERR_OK);
    cr_expect_eq(p.limit, 30, "a default over the maximum is the maximum");
}

Test(cursor, limit_plus_one_and_next_cursor) {
    struct cursor_list l = {"test.names", CURSOR_STRING, 2, 10};
    struct cursor_page p;
    struct err e = {0};
    cr_assert_eq(cursor_page_init(&p, &l, &key, "org=1", 0, NULL, &e), ERR_OK);
    cr_expect_eq(cursor_page_fetch(&p), 3);
    cr_expect_eq(cursor_page_shown(&p, 0), 0);
    cr_expect_eq(cursor_page_shown(&p, 2), 2);
    cr_expect_eq(cursor_page_shown(&p, 3), 2);
    cr_expect_not(cursor_page_more(&p, 2));
    cr_expect(cursor_page_more(&p, 3));
    char next[CURSOR_TEXT_MAX] = "stale";
    cr_assert_eq(cursor_page_next(&p, 2, 0, "Bravo", "id-2", next, &e), ERR_OK);
    cr_expect_str_eq(next, "", "no next page when nothing more was fetched");
    cr_assert_eq(cursor_page_next(&p, 3, 0, "Bravo", "id-2", next, &e), ERR_OK, "%s", e.msg);
    cr_expect_gt(strlen(next), 0);
    /* The next request with it starts after (Bravo, id-2). */
    struct cursor_page q;
    cr_assert_eq(cursor_page_init(&q, &l, &key, "org=1", 2, next, &e), ERR_OK, "%s", e.msg);
    cr_expect(q.has_after);
    cr_expect_eq(q.after.kind, CURSOR_STRING);
    cr_expect_str_eq(q.after.str, "Bravo");
    cr_expect_str_eq(q.after.id, "id-2");
    /* ... but not under another filter (another organization, another status). */
    cr_expect_eq(cursor_page_init(&q, &l, &key, "org=2", 2, next, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, CURSOR_REFUSED);
    /* A time-sorted list. */
    struct cursor_list t = {"test.times", CURSOR_TIME, 0, 0};
    cr_assert_eq(cursor_page_init(&p, &t, &key, NULL, 1, NULL, &e), ERR_OK);
    cr_assert_eq(cursor_page_next(&p, 2, 1700000000654321LL, NULL, "row-9", next, &e), ERR_OK);
    cr_assert_eq(cursor_page_init(&q, &t, &key, NULL, 1, next, &e), ERR_OK);
    cr_expect_eq(q.after.num, 1700000000654321LL);
    cr_expect_str_eq(q.after.id, "row-9");
}
