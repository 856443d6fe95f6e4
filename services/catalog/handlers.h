/* The catalog's request/reply methods (mkt.rpc.catalog.<name>). */
#ifndef CATALOG_HANDLERS_H
#define CATALOG_HANDLERS_H

#include "bus.h"

extern const struct bus_method catalog_methods[];
extern const size_t catalog_methods_count;

#endif
