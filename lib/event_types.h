/* The registry of event types: which protobuf message each event type's payload is, so that
 * tools (mktctl events tail) and the gateway's event stream can show payloads as JSON. Services
 * add one row to the table in event_types.c for each event type they emit. Pure; thread-safe. */
#ifndef MKT_EVENT_TYPES_H
#define MKT_EVENT_TYPES_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct event_type {
    const char *type;                           /* "<service>.<entity>.<verb>"; a "*" token matches
                                                   any one token ("testing.*.tick") */
    const ProtobufCMessageDescriptor *payload;  /* the payload's message type */
};

extern const struct event_type event_types[];
extern const size_t event_types_count;

/* The payload descriptor of `type` (static), or NULL when the type is not registered. An exact
 * row wins over a row with "*" tokens; among those, the first row in the table. */
const ProtobufCMessageDescriptor *event_types_find(const char *type);

#endif
