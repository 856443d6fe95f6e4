/* lib/problems: every problem kept in order, duplicates once, overflow counted, validators'
 * "field 'x': rule" errors folded in, and the ERR_INVALID message listing them all. */
#include <criterion/criterion.h>
#include <string.h>

#include "problems.h"

Test(problems, collects_in_order_without_duplicates) {
    struct problems p;
    problems_init(&p);
    cr_expect_not(problems_any(&p));
    problems_add(&p, "required", "description.%s", "fr");
    problems_add(&p, "required", "offers");
    problems_add(&p, "required", "description.fr");
    cr_expect_eq(p.n, 2);
    cr_expect_str_eq(p.items[0].field, "description.fr");
    cr_expect_str_eq(p.items[1].field, "offers");
    cr_expect(problems_has(&p, "offers", "required"));
    cr_expect_not(problems_has(&p, "offers", "too_long"));
    struct err e = {0};
    cr_expect_eq(problems_err(&p, &e), ERR_INVALID);
    cr_expect_str_eq(e.msg, "2 problems: description.fr: required; offers: required");
}

Test(problems, empty_list_is_ok) {
    struct problems p;
    problems_init(&p);
    struct err e = {0};
    cr_expect_eq(problems_err(&p, &e), ERR_OK);
}

Test(problems, overflow_is_counted) {
    struct problems p;
    problems_init(&p);
    for (int i = 0; i < PROBLEMS_MAX + 5; i++)
        problems_add(&p, "required", "f%d", i);
    cr_expect_eq(p.n, PROBLEMS_MAX);
    cr_expect_eq(p.dropped, 5);
    struct err e = {0};
    cr_expect_eq(problems_err(&p, &e), ERR_INVALID);
    cr_expect(strncmp(e.msg, "37 problems:", 12) == 0, "%s", e.msg);
}

Test(problems, validator_errors_become_problems) {
    struct problems p;
    problems_init(&p);
    struct err e = {0};
    (void)err_set(&e, ERR_INVALID, "field 'organization.name': at most 100 characters");
    problems_add_err(&p, &e);
    (void)err_set(&e, ERR_INVALID, "something without a field");
    problems_add_err(&p, &e);
    cr_expect_eq(p.n, 2);
    cr_expect_str_eq(p.items[0].field, "organization.name");
    cr_expect_str_eq(p.items[0].rule, "at most 100 characters");
    cr_expect_str_eq(p.items[1].field, "");
    cr_expect_str_eq(p.items[1].rule, "something without a field");
}
