/* SQL of OMI product versions and their per-Region source OMIs and copies (VER-1..9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"

static const char *en(const Mkt__Catalog__Text *t) { return t && t->en ? t->en : ""; }
static const char *fr(const Mkt__Catalog__Text *t) { return t && t->fr ? t->fr : ""; }
static const char *str(const char *s) { return s ? s : ""; }

#define VERSION_JSON                                                                                                   \
    "json_build_object('id', v.id, 'product_id', v.product_id, 'number', v.number,"                                   \
    " 'software_version', v.software_version, 'operating_system', v.operating_system,"                              \
    " 'software_base', v.software_base, 'release_note', txt(v.release_note_en, v.release_note_fr),"                \
    " 'instructions', txt(v.instructions_en, v.instructions_fr),"                                                    \
    " 'regions', (SELECT coalesce(json_agg(json_build_object('region', g.region, 'source_omi', g.source_omi,"       \
    " 'copy_omi', g.copy_omi, 'copy_state', g.copy_state, 'reason', g.reason) ORDER BY g.region), '[]')"           \
    " FROM version_regions g WHERE g.version_id = v.id),"                                                            \
    " 'state', v.state, 'created_at', iso(v.created_at), 'updated_at', iso(v.updated_at),"                          \
    " 'published_at', iso(v.published_at))"

/* Writes the version's Regions (source OMIs); copies and their states are the publisher's. */
static err_code write_regions(PGconn *c, const Mkt__Catalog__Version *v, struct err *e) {
    char *regions = store_json_messages((ProtobufCMessage *const *)v->regions, v->n_regions);
    if (!regions)
        return err_set(e, ERR_INTERNAL, "out of memory");
    err_code code = db_exec(c, e, NULL,
                            "INSERT INTO version_regions (version_id, region, source_omi)"
                            " SELECT $1::uuid, g->>'region', coalesce(g->>'source_omi', '')"
                            " FROM json_array_elements($2::json) g"
                            " ON CONFLICT (version_id, region) DO UPDATE SET source_omi = excluded.source_omi",
                            DB_PARAMS(v->id, regions));
    free(regions);
    return code;
}

err_code store_version_insert(PGconn *c, const Mkt__Catalog__Version *v, mkt_time now, struct err *e) {
    char t[40];
    char *base = store_json_messages((ProtobufCMessage *const *)v->software_base, v->n_software_base);
    if (!base)
        return err_set(e, ERR_INTERNAL, "out of memory");
    err_code code = db_exec(
        c, e, NULL,
        "INSERT INTO versions (id, product_id, number, software_version, operating_system, software_base,"
        " release_note_en, release_note_fr, instructions_en, instructions_fr, created_at, updated_at)"
        " VALUES ($1::uuid, $2::uuid, (SELECT coalesce(max(number), 0) + 1 FROM versions WHERE product_id = $2::uuid),"
        " $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $10)",
        DB_PARAMS(v->id, v->product_id, str(v->software_version), str(v->operating_system), base, en(v->release_note),
                  fr(v->release_note), en(v->instructions), fr(v->instructions), db_time_param(now, t, sizeof t)));
    free(base);
    if (code != ERR_OK)
        return code;
    return write_regions(c, v, e);
}

err_code store_version_get(PGconn *c, const char *product, const char *id, bool lock, Mkt__Catalog__Version **out,
                           struct err *e) {
    return store_message(c, &mkt__catalog__version__descriptor, (ProtobufCMessage **)out, "version", id, e,
                         lock ? "SELECT " VERSION_JSON " FROM versions v WHERE v.id = $1::uuid AND v.product_id = $2::uuid"
                                " FOR UPDATE"
                              : "SELECT " VERSION_JSON " FROM versions v WHERE v.id = $1::uuid AND v.product_id = $2::uuid",
                         DB_PARAMS(id, product));
}

err_code store_version_last(PGconn *c, const char *product, Mkt__Catalog__Version **out, struct err *e) {
    return store_message(c, &mkt__catalog__version__descriptor, (ProtobufCMessage **)out, "last version of", product,
                         e,
                         "SELECT " VERSION_JSON " FROM versions v WHERE v.product_id = $1::uuid"
                         " ORDER BY v.number DESC LIMIT 1",
                         DB_PARAMS(product));
}

err_code store_version_list(PGconn *c, const char *product, const char *after_id, int limit,
                            Mkt__Catalog__Version ***out, size_t *n, struct err *e) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    return store_messages(c, &mkt__catalog__version__descriptor, (ProtobufCMessage ***)out, n, e,
                          "SELECT " VERSION_JSON " FROM versions v WHERE v.product_id = $1::uuid"
                          " AND ($2 = '' OR v.id < nullif($2, '')::uuid) ORDER BY v.id DESC LIMIT $3::int",
                          DB_PARAMS(product, str(after_id), lim));
}

err_code store_version_update(PGconn *c, const Mkt__Catalog__Version *v, mkt_time now, struct err *e) {
    char t[40];
    char *base = store_json_messages((ProtobufCMessage *const *)v->software_base, v->n_software_base);
    if (!base)
        return err_set(e, ERR_INTERNAL, "out of memory");
    err_code code = db_exec(c, e, NULL,
                            "UPDATE versions SET software_version = $2, operating_system = $3, software_base = $4::jsonb,"
                            " release_note_en = $5, release_note_fr = $6, instructions_en = $7, instructions_fr = $8,"
                            " updated_at = $9 WHERE id = $1::uuid",
                            DB_PARAMS(v->id, str(v->software_version), str(v->operating_system), base,
                                      en(v->release_note), fr(v->release_note), en(v->instructions), fr(v->instructions),
                                      db_time_param(now, t, sizeof t)));
    free(base);
    if (code != ERR_OK)
        return code;
    return write_regions(c, v, e);
}

err_code store_version_set_state(PGconn *c, const char *id, const char *state, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE versions SET state = $2, updated_at = $3,"
                   " published_at = CASE WHEN $2 = 'published' THEN $3 ELSE published_at END WHERE id = $1::uuid",
                   DB_PARAMS(id, state, db_time_param(now, t, sizeof t)));
}

err_code store_version_published_count(PGconn *c, const char *product, const char *except, long *n, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e,
                             "SELECT count(*) FROM versions WHERE product_id = $1::uuid AND state = 'published'"
                             " AND id <> $2::uuid",
                             DB_PARAMS(product, except));
    if (code == ERR_OK)
        *n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return code;
}
