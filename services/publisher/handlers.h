/* The publisher service's request/reply methods (mkt.rpc.publisher.<name>): none yet but the built-in
 * ping (lib/bus.h). */
#ifndef PUBLISHER_HANDLERS_H
#define PUBLISHER_HANDLERS_H

#include "bus.h"

extern const struct bus_method handlers_methods[];
extern const size_t handlers_methods_count;

#endif
