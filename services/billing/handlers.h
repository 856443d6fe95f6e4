/* The billing service's request/reply methods (mkt.rpc.billing.<name>): none yet but the built-in
 * ping (lib/bus.h). */
#ifndef BILLING_HANDLERS_H
#define BILLING_HANDLERS_H

#include "bus.h"

extern const struct bus_method handlers_methods[];
extern const size_t handlers_methods_count;

#endif
