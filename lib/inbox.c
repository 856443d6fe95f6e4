/* The consumer inbox: one INSERT ... ON CONFLICT DO NOTHING in the caller's transaction tells
 * whether an event is new to this consumer. */
#include "inbox.h"

#include "db.h"

err_code inbox_claim(PGconn *tx, const char *consumer, const char *event_id, struct err *e) {
    long affected = 0;
    err_code code = db_exec(tx, e, &affected,
                            "INSERT INTO inbox(consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            DB_PARAMS(consumer, event_id));
    if (code != ERR_OK)
        return code;
    return affected == 1 ? ERR_OK : err_set(e, ERR_CONFLICT, "event %s already processed by %s", event_id, consumer);
}

err_code inbox_seen(PGconn *c, const char *consumer, const char *event_id, bool *seen, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2",
                             DB_PARAMS(consumer, event_id));
    if (code != ERR_OK)
        return code;
    *seen = PQntuples(r) > 0;
    PQclear(r);
    return ERR_OK;
}
