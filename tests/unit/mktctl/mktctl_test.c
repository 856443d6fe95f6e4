/* mktctl's pure helpers: --since parsing (ISO times and durations) and the JSON line printed for
 * each event (registered payload types decoded, others in base64, broken envelopes reported). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tools/mktctl/mktctl.h"
#include "envelope.pb-c.h"
#include "testing.pb-c.h"

Test(mktctl_since, durations_and_times) {
    const mkt_time now = 1800000000LL * CLOCK_SECOND;
    static const struct {
        const char *in;
        bool ok;
        mkt_time back; /* now - out, for durations */
        long long abs_s; /* expected absolute seconds, for times (0: duration) */
    } cases[] = {
        {"90s", true, 90 * CLOCK_SECOND, 0},
        {"10m", true, 10 * CLOCK_MINUTE, 0},
        {"2h", true, 2 * CLOCK_HOUR, 0},
        {"1d", true, 24 * CLOCK_HOUR, 0},
        {"0s", true, 0, 0},
        {"2026-11-21T10:00:00Z", true, 0, 1795255200LL},
        {"2026-11-21T10:00:00+00:00", true, 0, 1795255200LL},
        {"10", false, 0, 0},
        {"10x", false, 0, 0},
        {"m", false, 0, 0},
        {"-5m", false, 0, 0},
        {"", false, 0, 0},
        {"99999999999999d", false, 0, 0},
        {"yesterday", false, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mkt_time out = -1;
        struct err e = {0};
        err_code rc = mktctl_parse_since(cases[i].in, now, &out, &e);
        cr_expect_eq(rc == ERR_OK, cases[i].ok, "'%s': %s", cases[i].in, e.msg);
        if (!cases[i].ok) {
            cr_expect_eq(out, -1, "'%s': out-parameter written on failure", cases[i].in);
            continue;
        }
        if (cases[i].abs_s)
            cr_expect_eq(out, cases[i].abs_s * CLOCK_SECOND, "'%s'", cases[i].in);
        else
            cr_expect_eq(now - out, cases[i].back, "'%s'", cases[i].in);
    }
}

static uint8_t *pack_event(const char *type, const ProtobufCMessage *payload, size_t *len) {
    Mkt__Event ev = MKT__EVENT__INIT;
    ev.id = "01a2005a-f429-7764-aab6-4bb5df3e66b3";
    ev.type = (char *)type;
    ev.time_us = 1795255200LL * CLOCK_SECOND + 123456;
    ev.organization_id = "org";
    ev.actor_id = "acc";
    ev.correlation_id = "corr";
    uint8_t pbuf[256];
    size_t plen = protobuf_c_message_pack(payload, pbuf);
    ev.payload = (ProtobufCBinaryData){plen, pbuf};
    *len = mkt__event__get_packed_size(&ev);
    uint8_t *buf = malloc(*len);
    mkt__event__pack(&ev, buf);
    return buf;
}

Test(mktctl_event, registered_type_is_decoded) {
    Mkt__Testing__Tick t = MKT__TESTING__TICK__INIT;
    t.seq = 7;
    t.note = "hi";
    size_t len;
    uint8_t *buf = pack_event("testing.chain.tick", &t.base, &len);
    json_t *j = mktctl_event_json("mkt.evt.testing.chain.tick", 12, buf, len);
    char *s = json_dumps(j, JSON_COMPACT);
    cr_expect_str_eq(s, "{\"id\":\"01a2005a-f429-7764-aab6-4bb5df3e66b3\",\"type\":\"testing.chain.tick\","
                        "\"time\":\"2026-11-21T10:00:00.123456Z\",\"organization_id\":\"org\",\"actor_id\":\"acc\","
                        "\"correlation_id\":\"corr\",\"subject\":\"mkt.evt.testing.chain.tick\",\"stream_seq\":12,"
                        "\"payload\":{\"seq\":7,\"note\":\"hi\"}}");
    free(s);
    json_decref(j);
    free(buf);
}

Test(mktctl_event, unknown_type_payload_is_base64) {
    Mkt__Testing__Tick t = MKT__TESTING__TICK__INIT;
    t.seq = 1;
    size_t len;
    uint8_t *buf = pack_event("nobody.knows.this", &t.base, &len);
    json_t *j = mktctl_event_json("mkt.evt.nobody.knows.this", 1, buf, len);
    cr_expect_str_eq(json_string_value(json_object_get(j, "payload")), "CAE=");
    cr_expect_null(json_object_get(j, "payload_error"));
    json_decref(j);
    free(buf);
}

Test(mktctl_event, registered_type_with_bad_payload_falls_back) {
    Mkt__Event ev = MKT__EVENT__INIT;
    ev.type = "testing.tick";
    uint8_t junk[] = {0xff, 0xff, 0xff};
    ev.payload = (ProtobufCBinaryData){3, junk};
    uint8_t buf[128];
    size_t len = mkt__event__pack(&ev, buf);
    json_t *j = mktctl_event_json("mkt.evt.testing.tick", 2, buf, len);
    cr_expect_str_eq(json_string_value(json_object_get(j, "payload")), "////");
    cr_expect(json_is_string(json_object_get(j, "payload_error")));
    json_decref(j);
}

Test(mktctl_event, undecodable_envelope) {
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
    json_t *j = mktctl_event_json("mkt.evt.x", 3, junk, sizeof junk);
    cr_assert_not_null(j);
    cr_expect_str_eq(json_string_value(json_object_get(j, "error")), "undecodable envelope");
    cr_expect_str_eq(json_string_value(json_object_get(j, "data")), "/////w==");
    cr_expect_eq(json_integer_value(json_object_get(j, "stream_seq")), 3);
    json_decref(j);
}
