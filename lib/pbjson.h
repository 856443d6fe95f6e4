/* Any protobuf-c message as JSON, by walking its descriptor: for operator tools (event tail) and
 * logs, where a readable view of a payload matters more than a canonical encoding.
 *
 * Mapping: field names as in the .proto; 32-bit integers, bools and doubles as JSON numbers and
 * booleans; 64-bit integers as numbers (uint64 above INT64_MAX as a decimal string); NaN and
 * infinities as the strings "NaN", "Infinity", "-Infinity"; strings as strings (invalid UTF-8
 * replaced by U+FFFD); bytes as standard base64 with padding; enums by value name (the number
 * when the value is unknown); nested messages as objects; repeated fields as arrays (map fields
 * appear as arrays of {"key","value"} entries). proto3 scalars are always present, even at
 * their default; proto2 optionals and oneof members only when set; absent sub-messages are
 * omitted. Pure and thread-safe. */
#ifndef MKT_PBJSON_H
#define MKT_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "problems.h"

/* A new JSON object for `m` (borrowed); NULL only when out of memory. */
json_t *pbjson_from_message(const ProtobufCMessage *m);

/* Unpacks `len` bytes as a `desc` message and converts it; *out is a new reference. Fails with
 * ERR_INVALID when the bytes do not decode as that message. */
err_code pbjson_from_packed(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, json_t **out,
                            struct err *e) MKT_MUST_USE;

/* Standard base64 (RFC 4648, with padding) of n bytes as a new JSON string. */
json_t *pbjson_base64(const uint8_t *data, size_t n);

/* The inverse mapping, for request bodies: a new `desc` message from the JSON object `obj`
 * (same names and value forms as above; enums by name; bytes as standard base64; null is
 * absent). Every key that is not a field ("unknown_field"), every value of the wrong type
 * ("must_be_string", "must_be_integer", "must_be_boolean", "must_be_number", "must_be_object",
 * "must_be_array"), out of range for its integer type ("out_of_range"), not a value of its enum
 * ("unknown_value") or not base64 ("not_base64") is added to `p` with its JSON path
 * ("prices[1].vm_type"); then the answer is ERR_INVALID and nothing is returned. On success *out
 * is owned by the caller: protobuf_c_message_free_unpacked(*out, NULL). Presence: a singular
 * message is NULL unless its key is present, so a field whose presence matters (PATCH bodies)
 * is a message (`Text`, a wrapper): protobuf-c 1.4 has no proto3 `optional`. Oneof members get
 * their case; proto2 optional scalars their has_ flag. Map fields take a JSON object {"key": value}. */
err_code pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *obj, ProtobufCMessage **out,
                           struct problems *p, struct err *e) MKT_MUST_USE;

/* internal, shared by the two directions: bytes of one value of a field of type t in memory. */
size_t pbjson__elem_size(ProtobufCType t);

#endif
