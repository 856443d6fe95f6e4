/* Request/reply methods of the notifier (mkt.rpc.notifier.<method>), served on the worker pool:
 *   list_mails  (mkt.mail.ListMailsRequest -> ListMailsReply): operators' view of the ledger,
 *               newest first, filtered by state, recipient or template, without secrets. */
#ifndef NOTIFIER_HANDLERS_H
#define NOTIFIER_HANDLERS_H

#include <stddef.h>

#include "bus.h"

extern const struct bus_method handlers_methods[];
extern const size_t handlers_methods_count;

err_code handlers_list_mails(struct bus_call *call, struct err *e) MKT_MUST_USE;

#endif
