/* lib/pbjson and lib/event_types. Every field type is covered through a message type whose
 * descriptor is written by hand here (generated code is never committed, and proto/ holds only
 * the platform's messages); the same message is packed and decoded back to check
 * pbjson_from_packed. Real generated messages (mkt.Event, mkt.Actor, mkt.testing.Tick) check
 * the common cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.pb-c.h"
#include "event_types.h"
#include "pbjson.h"
#include "testing.pb-c.h"

/* ---- a hand-made message type with every kind of field ---- */

static const ProtobufCEnumValue color_values[] = {{"RED", "T__RED", 0}, {"GREEN", "T__GREEN", 1}, {"BLUE", "T__BLUE", 2}};
static const ProtobufCEnumValueIndex color_by_name[] = {{"BLUE", 2}, {"GREEN", 1}, {"RED", 0}};
static const ProtobufCIntRange color_ranges[] = {{0, 0}, {0, 3}};
static const ProtobufCEnumDescriptor color_desc = {
    PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC, "t.Color", "Color", "T__Color", "t", 3, color_values, 3, color_by_name, 1,
    color_ranges, NULL, NULL, NULL, NULL};

typedef struct {
    ProtobufCMessage base;
    char *name;
    int32_t n;
} Inner;

typedef struct {
    ProtobufCMessage base;
    int32_t i32, s32, sf32;
    uint32_t u32, f32;
    int64_t i64, s64, sf64;
    uint64_t u64, f64;
    float fl;
    double db;
    protobuf_c_boolean b;
    int color;
    char *str;
    ProtobufCBinaryData data;
    Inner *inner;
    size_t n_ri;
    int32_t *ri;
    size_t n_rs;
    char **rs;
    size_t n_rm;
    Inner **rm;
    size_t n_rcolor;
    int *rcolor;
    protobuf_c_boolean has_opt;
    int32_t opt;
    char *ostr;
    uint32_t choice_case;
    union {
        int32_t choice_a;
        char *choice_b;
    };
} All;

static void inner_init(ProtobufCMessage *m);
static void all_init(ProtobufCMessage *m);

#define F(name, id, label, type, q, off, desc, def, flags) \
    {name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q, off, desc, def, flags, 0, NULL, NULL}

static const ProtobufCFieldDescriptor inner_fields[] = {
    F("name", 1, NONE, STRING, 0, offsetof(Inner, name), NULL, &protobuf_c_empty_string, 0),
    F("n", 2, NONE, INT32, 0, offsetof(Inner, n), NULL, NULL, 0),
};
static const unsigned inner_by_name[] = {1, 0};
static const ProtobufCIntRange inner_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor inner_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.Inner", "Inner", "Inner", "t", sizeof(Inner), 2, inner_fields,
    inner_by_name, 1, inner_ranges, inner_init, NULL, NULL, NULL};

static const ProtobufCFieldDescriptor all_fields[] = {
    F("i32", 1, NONE, INT32, 0, offsetof(All, i32), NULL, NULL, 0),
    F("s32", 2, NONE, SINT32, 0, offsetof(All, s32), NULL, NULL, 0),
    F("sf32", 3, NONE, SFIXED32, 0, offsetof(All, sf32), NULL, NULL, 0),
    F("u32", 4, NONE, UINT32, 0, offsetof(All, u32), NULL, NULL, 0),
    F("f32", 5, NONE, FIXED32, 0, offsetof(All, f32), NULL, NULL, 0),
    F("i64", 6, NONE, INT64, 0, offsetof(All, i64), NULL, NULL, 0),
    F("s64", 7, NONE, SINT64, 0, offsetof(All, s64), NULL, NULL, 0),
    F("sf64", 8, NONE, SFIXED64, 0, offsetof(All, sf64), NULL, NULL, 0),
    F("u64", 9, NONE, UINT64, 0, offsetof(All, u64), NULL, NULL, 0),
    F("f64", 10, NONE, FIXED64, 0, offsetof(All, f64), NULL, NULL, 0),
    F("fl", 11, NONE, FLOAT, 0, offsetof(All, fl), NULL, NULL, 0),
    F("db", 12, NONE, DOUBLE, 0, offsetof(All, db), NULL, NULL, 0),
    F("b", 13, NONE, BOOL, 0, offsetof(All, b), NULL, NULL, 0),
    F("color", 14, NONE, ENUM, 0, offsetof(All, color), &color_desc, NULL, 0),
    F("str", 15, NONE, STRING, 0, offsetof(All, str), NULL, &protobuf_c_empty_string, 0),
    F("data", 16, NONE, BYTES, 0, offsetof(All, data), NULL, NULL, 0),
    F("inner", 17, NONE, MESSAGE, 0, offsetof(All, inner), &inner_desc, NULL, 0),
    F("ri", 18, REPEATED, INT32, offsetof(All, n_ri), offsetof(All, ri), NULL, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
    F("rs", 19, REPEATED, STRING, offsetof(All, n_rs), offsetof(All, rs), NULL, &protobuf_c_empty_string, 0),
    F("rm", 20, REPEATED, MESSAGE, offsetof(All, n_rm), offsetof(All, rm), &inner_desc, NULL, 0),
    F("rcolor", 21, REPEATED, ENUM, offsetof(All, n_rcolor), offsetof(All, rcolor), &color_desc, NULL,
      PROTOBUF_C_FIELD_FLAG_PACKED),
    F("opt", 22, OPTIONAL, INT32, offsetof(All, has_opt), offsetof(All, opt), NULL, NULL, 0),
    F("ostr", 23, OPTIONAL, STRING, 0, offsetof(All, ostr), NULL, NULL, 0),
    F("choice_a", 24, NONE, INT32, offsetof(All, choice_case), offsetof(All, choice_a), NULL, NULL,
      PROTOBUF_C_FIELD_FLAG_ONEOF),
    F("choice_b", 25, NONE, STRING, offsetof(All, choice_case), offsetof(All, choice_b), NULL, NULL,
      PROTOBUF_C_FIELD_FLAG_ONEOF),
};
/* Indexes of all_fields sorted by name. */
static const unsigned all_by_name[] = {12, 23, 24, 13, 15, 11, 4, 9, 10, 0, 5, 16, 21, 22, 20, 17, 19, 18, 1, 6, 2, 7, 14, 3, 8};
static const ProtobufCIntRange all_ranges[] = {{1, 0}, {0, 25}};
static const ProtobufCMessageDescriptor all_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.All", "All", "All", "t", sizeof(All), 25, all_fields, all_by_name, 1,
    all_ranges, all_init, NULL, NULL, NULL};

static void inner_init(ProtobufCMessage *m) {
    memset(m, 0, sizeof(Inner));
    m->descriptor = &inner_desc;
    ((Inner *)m)->name = (char *)protobuf_c_empty_string;
}

static void all_init(ProtobufCMessage *m) {
    memset(m, 0, sizeof(All));
    m->descriptor = &all_desc;
    ((All *)m)->str = (char *)protobuf_c_empty_string;
}

static json_t *expected_all(void) {
    return json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:f,s:f,s:b,s:s,s:s,s:s,s:{s:s,s:i},"
                     "s:[i,i,i],s:[s,s],s:[{s:s,s:i}],s:[s,s,i],s:i,s:s,s:s}",
                     "i32", -5, "s32", -6, "sf32", -7, "u32", (json_int_t)4000000000u, "f32", (json_int_t)7,
                     "i64", (json_int_t)-9000000000LL, "s64", (json_int_t)-2, "sf64", (json_int_t)3,
                     "u64", "18446744073709551615", "f64", (json_int_t)1234567890123LL, "fl", 1.5, "db", -0.25,
                     "b", 1, "color", "BLUE", "str", "héllo", "data", "AAH/YQ==", "inner", "name", "in", "n", 1,
                     "ri", 1, 2, 3, "rs", "a", "", "rm", "name", "x", "n", 2, "rcolor", "RED", "GREEN", 7,
                     "opt", 0, "ostr", "set", "choice_b", "b!");
}

static void fill_all(All *m, Inner *in, Inner **rm, int32_t *ri, char **rs, int *rc, uint8_t *bytes) {
    all_init(&m->base);
    m->i32 = -5, m->s32 = -6, m->sf32 = -7, m->u32 = 4000000000u, m->f32 = 7;
    m->i64 = -9000000000LL, m->s64 = -2, m->sf64 = 3, m->u64 = UINT64_MAX, m->f64 = 1234567890123ULL;
    m->fl = 1.5f, m->db = -0.25, m->b = 1, m->color = 2, m->str = "héllo";
    m->data = (ProtobufCBinaryData){4, bytes};
    inner_init(&in[0].base), in[0].name = "in", in[0].n = 1;
    inner_init(&in[1].base), in[1].name = "x", in[1].n = 2;
    m->inner = &in[0];
    ri[0] = 1, ri[1] = 2, ri[2] = 3;
    m->n_ri = 3, m->ri = ri;
    rs[0] = "a", rs[1] = "";
    m->n_rs = 2, m->rs = rs;
    rm[0] = &in[1];
    m->n_rm = 1, m->rm = rm;
    rc[0] = 0, rc[1] = 1, rc[2] = 7; /* 7: not a known value */
    m->n_rcolor = 3, m->rcolor = rc;
    m->has_opt = 1, m->opt = 0; /* set, at its default: still shown */
    m->ostr = "set";
    m->choice_case = 25, m->choice_b = "b!";
}

static void expect_json_eq(json_t *got, json_t *want) {
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT), *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
    cr_expect(json_equal(got, want), "\n got: %s\nwant: %s", g, w);
    free(g);
    free(w);
}

Test(pbjson, every_field_type) {
    All m;
    Inner in[2], *rm[1];
    int32_t ri[3];
    char *rs[2];
    int rc[3];
    uint8_t bytes[] = {0x00, 0x01, 0xff, 'a'};
    fill_all(&m, in, rm, ri, rs, rc, bytes);
    json_t *got = pbjson_from_message(&m.base), *want = expected_all();
    cr_assert_not_null(got);
    cr_assert_not_null(want);
    expect_json_eq(got, want);
    json_decref(got);
    json_decref(want);
}

Test(pbjson, packed_round_trip) {
    All m;
    Inner in[2], *rm[1];
    int32_t ri[3];
    char *rs[2];
    int rc[3];
    uint8_t bytes[] = {0x00, 0x01, 0xff, 'a'};
    fill_all(&m, in, rm, ri, rs, rc, bytes);
    size_t len = protobuf_c_message_get_packed_size(&m.base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&m.base, buf);
    json_t *got = NULL, *want = expected_all();
    struct err e = {0};
    cr_assert_eq(pbjson_from_packed(&all_desc, buf, len, &got, &e), ERR_OK, "%s", e.msg);
    expect_json_eq(got, want);
    json_decref(got);
    json_decref(want);

    /* Garbage does not decode; the out-parameter stays untouched. */
    json_t *untouched = (json_t *)0x1;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff};
    cr_expect_eq(pbjson_from_packed(&all_desc, junk, sizeof junk, &untouched, &e), ERR_INVALID);
    cr_expect_eq(untouched, (json_t *)0x1);
    cr_expect_not_null(strstr(e.msg, "t.All"), "%s", e.msg);
    free(buf);
}

Test(pbjson, presence_rules) {
    All m;
    all_init(&m.base);
    json_t *got = pbjson_from_message(&m.base);
    /* proto3 scalars at their defaults are shown; unset optionals, oneofs, sub-messages are not. */
    cr_expect(json_is_integer(json_object_get(got, "i32")) && json_integer_value(json_object_get(got, "i32")) == 0);
    cr_expect_str_eq(json_string_value(json_object_get(got, "str")), "");
    cr_expect_str_eq(json_string_value(json_object_get(got, "color")), "RED");
    cr_expect_str_eq(json_string_value(json_object_get(got, "data")), "");
    cr_expect(json_is_false(json_object_get(got, "b")));
    cr_expect_eq(json_array_size(json_object_get(got, "ri")), 0);
    cr_expect(json_is_array(json_object_get(got, "rm")));
    const char *absent[] = {"inner", "opt", "ostr", "choice_a", "choice_b"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        cr_expect_null(json_object_get(got, absent[i]), "%s should be absent", absent[i]);
    json_decref(got);

    m.choice_case = 24;
    m.choice_a = 0;
    got = pbjson_from_message(&m.base);
    cr_expect(json_is_integer(json_object_get(got, "choice_a")) && json_integer_value(json_object_get(got, "choice_a")) == 0);
    cr_expect_null(json_object_get(got, "choice_b"));
    json_decref(got);
}

Test(pbjson, floats_and_bad_utf8) {
    All m;
    all_init(&m.base);
    m.db = NAN;
    m.fl = -INFINITY;
    char bad[] = {'o', 'k', (char)0xc3, '!', 0};
    m.str = bad;
    json_t *got = pbjson_from_message(&m.base);
    cr_assert_not_null(got);
    cr_expect_str_eq(json_string_value(json_object_get(got, "db")), "NaN");
    cr_expect_str_eq(json_string_value(json_object_get(got, "fl")), "-Infinity");
    cr_expect_str_eq(json_string_value(json_object_get(got, "str")), "ok\xef\xbf\xbd!");
    char *dump = json_dumps(got, 0);
    cr_expect_not_null(dump, "the result must serialise");
    free(dump);
    json_decref(got);
}

Test(pbjson, base64_padding) {
    static const struct {
        const char *in, *out;
    } cases[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
                 {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = pbjson_base64((const uint8_t *)cases[i].in, strlen(cases[i].in));
        cr_expect_str_eq(json_string_value(j), cases[i].out);
        json_decref(j);
    }
}

Test(pbjson, generated_messages) {
    Mkt__Actor a = MKT__ACTOR__INIT;
    char *types[] = {"buyer", "seller"};
    a.account_id = "acc";
    a.n_org_types = 2;
    a.org_types = types;
    a.operator_ = 1;
    Mkt__Testing__Tick t = MKT__TESTING__TICK__INIT;
    t.seq = 42;
    t.note = "n";
    json_t *ja = pbjson_from_message(&a.base), *jt = pbjson_from_message(&t.base);
    cr_expect_str_eq(json_string_value(json_object_get(ja, "account_id")), "acc");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(ja, "org_types"), 1)), "seller");
    cr_expect(json_is_true(json_object_get(ja, "operator")), "the .proto name, not the C name");
    cr_expect_eq(json_object_size(ja), mkt__actor__descriptor.n_fields, "every field is present, defaults included");
    json_t *want = json_pack("{s:I,s:s}", "seq", (json_int_t)42, "note", "n");
    expect_json_eq(jt, want);
    json_decref(want);
    json_decref(ja);
    json_decref(jt);

    /* An event envelope: bytes payload as base64. */
    Mkt__Event ev = MKT__EVENT__INIT;
    ev.id = "id1";
    ev.type = "testing.tick";
    ev.time_us = 1;
    uint8_t p[] = {1, 2, 3};
    ev.payload = (ProtobufCBinaryData){3, p};
    json_t *je = pbjson_from_message(&ev.base);
    cr_expect_str_eq(json_string_value(json_object_get(je, "payload")), "AQID");
    json_decref(je);
    cr_expect_null(pbjson_from_message(NULL));
}

Test(event_types, lookup) {
    cr_expect_eq(event_types_find("testing.tick"), &mkt__testing__tick__descriptor);
    cr_expect_eq(event_types_find("testing.chain.tick"), &mkt__testing__tick__descriptor);
    cr_expect_null(event_types_find("testing.a.b.tick"));
    cr_expect_null(event_types_find("testing..tick"));
    cr_expect_null(event_types_find("testing.chain.tick."));
    cr_expect_null(event_types_find("testing.chain"));
    cr_expect_null(event_types_find("nobody.knows"));
    cr_expect_null(event_types_find(""));
    cr_expect_null(event_types_find(NULL));
    /* Every row names a type and a payload, and exact types are unique. */
    for (size_t i = 0; i < event_types_count; i++) {
        cr_expect_not_null(event_types[i].payload, "%s", event_types[i].type);
        for (size_t j = i + 1; j < event_types_count; j++)
            cr_expect_neq(strcmp(event_types[i].type, event_types[j].type), 0, "duplicate %s", event_types[i].type);
    }
}
