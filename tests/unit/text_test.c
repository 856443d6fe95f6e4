/* lib/text: what counts as acceptable human text, as a table of inputs and verdicts. */
#include <criterion/criterion.h>

#include "text.h"

static const struct {
    const char *in;
    size_t max;
    bool multiline;
    enum text_verdict want;
} cases[] = {
    {"Postgres", 100, false, TEXT_OK},
    {"Base de données é à ç", 100, false, TEXT_OK},
    {"日本語", 3, false, TEXT_OK},
    {"日本語!", 3, false, TEXT_TOO_LONG},
    {"", 10, false, TEXT_BLANK},
    {NULL, 10, false, TEXT_BLANK},
    {"   ", 10, false, TEXT_BLANK},
    {"\xe2\x80\x8b", 10, false, TEXT_BLANK},             /* zero-width space */
    {"\xef\xbb\xbf \xe2\x81\xa0", 10, false, TEXT_BLANK}, /* BOM, word joiner */
    {"\xc2\xa0\xe3\x80\x80", 10, false, TEXT_BLANK},     /* no-break and ideographic spaces */
    {"a\xe2\x80\xae" "b", 10, false, TEXT_BIDI},            /* right-to-left override */
    {"a\xe2\x81\xa6" "b", 10, false, TEXT_BIDI},         /* left-to-right isolate */
    {"a\n" "b", 10, false, TEXT_CONTROL},
    {"a\n" "b\tc", 10, true, TEXT_OK},
    {"a\x01", 10, true, TEXT_CONTROL},
    {"a\x7f", 10, false, TEXT_CONTROL},
    {"a\xc2\x85", 10, false, TEXT_CONTROL},              /* C1 NEL */
    {"\xff", 10, false, TEXT_NOT_UTF8},
    {"\xc0\xaf", 10, false, TEXT_NOT_UTF8},              /* overlong '/' */
    {"\xed\xa0\x80", 10, false, TEXT_NOT_UTF8},          /* surrogate */
    {"\xe2\x82", 10, false, TEXT_NOT_UTF8},              /* truncated */
    {"\xf4\x90\x80\x80", 10, false, TEXT_NOT_UTF8},      /* beyond U+10FFFF */
    {"x", 0, false, TEXT_OK},
};

Test(text, verdicts) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(text_check(cases[i].in, cases[i].max, cases[i].multiline), cases[i].want, "case %zu", i);
    cr_expect_str_eq(text_rule(TEXT_BLANK), "required");
    cr_expect_str_eq(text_rule(TEXT_TOO_LONG), "too_long");
}

Test(text, https_urls) {
    cr_expect(text_is_https_url("https://example.com", 100));
    cr_expect(text_is_https_url("https://example.com/logo.png?x=1", 100));
    cr_expect_not(text_is_https_url("http://example.com", 100));
    cr_expect_not(text_is_https_url("javascript:alert(1)", 100));
    cr_expect_not(text_is_https_url("https://", 100));
    cr_expect_not(text_is_https_url("https:///path", 100));
    cr_expect_not(text_is_https_url("https://exa mple.com", 100));
    cr_expect_not(text_is_https_url("https://example.com/\"onload", 100));
    cr_expect_not(text_is_https_url("https://example.com/long", 10));
    cr_expect_not(text_is_https_url(NULL, 10));
}
