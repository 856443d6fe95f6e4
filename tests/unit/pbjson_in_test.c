/* lib/pbjson JSON -> protobuf: every field kind maps, round trips through pbjson_from_message,
 * and every misfit is one problem with its JSON path, all reported at once. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "pbjson.h"
#include "catalog.pb-c.h"
#include "testing.pb-c.h"

static Mkt__Testing__Mapped *parse_ok(const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    cr_assert(j, "bad test JSON: %s", je.text);
    struct problems p;
    problems_init(&p);
    struct err e = {0};
    ProtobufCMessage *m = NULL;
    err_code rc = pbjson_to_message(&mkt__testing__mapped__descriptor, j, &m, &p, &e);
    json_decref(j);
    cr_assert_eq(rc, ERR_OK, "%s", e.msg);
    return (Mkt__Testing__Mapped *)m;
}

static struct problems parse_bad(const char *text) {
    json_t *j = json_loads(text, 0, NULL);
    cr_assert(j);
    struct problems p;
    problems_init(&p);
    struct err e = {0};
    ProtobufCMessage *m = NULL;
    cr_expect_eq(pbjson_to_message(&mkt__testing__mapped__descriptor, j, &m, &p, &e), ERR_INVALID);
    cr_expect_null(m);
    json_decref(j);
    return p;
}

Test(pbjson_in, every_field_kind) {
    Mkt__Testing__Mapped *m = parse_ok(
        "{\"name\":\"Postgres é\",\"small\":-5,\"count\":7,\"big\":9007199254740993,\"flag\":true,\"ratio\":0.5,"
        "\"kind\":\"hourly\",\"blob\":\"aGVsbG8=\",\"title\":{\"en\":\"Hi\",\"fr\":\"Salut\"},"
        "\"prices\":[{\"vm_type\":\"tinav5.c2r4p2\",\"cents_per_hour\":12},{\"vm_type\":\"tinav6.c4r8p1\"}],"
        "\"tags\":[\"a\",\"b\"],\"by_number\":42}");
    cr_expect_str_eq(m->name, "Postgres é");
    cr_expect_eq(m->small, -5);
    cr_expect_eq(m->count, 7);
    cr_expect_eq(m->big, 9007199254740993LL);
    cr_expect(m->flag);
    cr_expect_float_eq(m->ratio, 0.5, 1e-9);
    cr_expect_eq(m->kind, MKT__TESTING__MAPPED__KIND__hourly);
    cr_expect_eq(m->blob.len, 5);
    cr_expect(memcmp(m->blob.data, "hello", 5) == 0);
    cr_assert_not_null(m->title);
    cr_expect_str_eq(m->title->fr, "Salut");
    cr_assert_eq(m->n_prices, 2);
    cr_expect_str_eq(m->prices[1]->vm_type, "tinav6.c4r8p1");
    cr_expect_eq(m->prices[0]->cents_per_hour, 12);
    cr_expect_eq(m->n_tags, 2);
    cr_expect_eq(m->choice_case, MKT__TESTING__MAPPED__CHOICE_BY_NUMBER);
    cr_expect_eq(m->by_number, 42);

    /* And back: the same JSON names and values. */
    json_t *back = pbjson_from_message(&m->base);
    cr_expect_str_eq(json_string_value(json_object_get(back, "kind")), "hourly");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(back, "title"), "en")), "Hi");
    cr_expect_eq(json_integer_value(json_object_get(back, "by_number")), 42);
    json_decref(back);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

Test(pbjson_in, absent_and_null_are_defaults) {
    Mkt__Testing__Mapped *m = parse_ok("{\"title\":null,\"name\":null}");
    cr_expect_null(m->title);
    cr_expect_str_eq(m->name, "");
    cr_expect_eq(m->choice_case, MKT__TESTING__MAPPED__CHOICE__NOT_SET);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

Test(pbjson_in, every_misfit_is_listed_with_its_path) {
    struct problems p = parse_bad(
        "{\"nam\":1,\"small\":3000000000,\"count\":-1,\"flag\":\"yes\",\"kind\":\"weekly\",\"blob\":\"***\","
        "\"title\":{\"en\":5,\"de\":\"x\"},\"prices\":[{\"vm_type\":\"t\",\"cents_per_hour\":1.5},7],"
        "\"tags\":\"a\",\"ratio\":\"1\"}");
    const struct {
        const char *field, *rule;
    } want[] = {
        {"nam", "unknown_field"},
        {"small", "out_of_range"},
        {"count", "out_of_range"},
        {"flag", "must_be_boolean"},
        {"kind", "unknown_value"},
        {"blob", "not_base64"},
        {"title.en", "must_be_string"},
        {"title.de", "unknown_field"},
        {"prices[0].cents_per_hour", "must_be_integer"},
        {"prices[1]", "must_be_object"},
        {"tags", "must_be_array"},
        {"ratio", "must_be_number"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(problems_has(&p, want[i].field, want[i].rule), "%s %s", want[i].field, want[i].rule);
    cr_expect_eq(p.n, sizeof want / sizeof want[0]);
}

Test(pbjson_in, body_must_be_an_object) {
    json_t *arr = json_array();
    struct problems p;
    problems_init(&p);
    struct err e = {0};
    ProtobufCMessage *m = NULL;
    cr_expect_eq(pbjson_to_message(&mkt__testing__mapped__descriptor, arr, &m, &p, &e), ERR_INVALID);
    cr_expect(problems_has(&p, "body", "must_be_object"));
    json_decref(arr);
}

Test(pbjson_in, maps_from_objects) {
    /* mkt.catalog.VersionRequest.source_omis is a map<string, string>. */
    json_t *j = json_loads("{\"source_omis\":{\"eu-west-2\":\"ami-1\",\"cloudgouv-eu-west-1\":\"ami-2\"}}", 0, NULL);
    struct problems p;
    problems_init(&p);
    struct err e = {0};
    ProtobufCMessage *m = NULL;
    cr_assert_eq(pbjson_to_message(&mkt__catalog__version_request__descriptor, j, &m, &p, &e), ERR_OK, "%s", e.msg);
    Mkt__Catalog__VersionRequest *v = (Mkt__Catalog__VersionRequest *)m;
    cr_assert_eq(v->n_source_omis, 2);
    cr_expect_str_eq(v->source_omis[0]->key, "eu-west-2");
    cr_expect_str_eq(v->source_omis[0]->value, "ami-1");
    protobuf_c_message_free_unpacked(m, NULL);
    json_decref(j);
    j = json_loads("{\"source_omis\":{\"eu-west-2\":5}}", 0, NULL);
    problems_init(&p);
    cr_expect_eq(pbjson_to_message(&mkt__catalog__version_request__descriptor, j, &m, &p, &e), ERR_INVALID);
    cr_expect(problems_has(&p, "source_omis.eu-west-2.value", "must_be_string"), "%s", p.n ? p.items[0].field : "");
    json_decref(j);
}
