/* The catalog's generic read (JSON rows mapped onto protobuf messages), Regions and showcases.
 * See store.h for the conventions every store*.c file follows. */
#include "store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pbjson.h"

err_code store_list_regions(PGconn *c, struct region_list *out, struct err *e) {
    PGresult *r = NULL;
    err_code code = db_query(c, &r, e, "SELECT name, display_name_en, display_name_fr FROM regions ORDER BY position",
                             DB_NO_PARAMS);
    if (code != ERR_OK)
        return code;
    out->result = r;
    out->count = (size_t)PQntuples(r);
    out->regions = calloc(out->count ? out->count : 1, sizeof *out->regions);
    out->ptrs = calloc(out->count ? out->count : 1, sizeof *out->ptrs);
    if (!out->regions || !out->ptrs) {
        region_list_cleanup(out);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < out->count; i++) {
        Mkt__Catalog__Region *g = &out->regions[i];
        mkt__catalog__region__init(g);
        g->name = PQgetvalue(r, (int)i, 0);
        g->display_name_en = PQgetvalue(r, (int)i, 1);
        g->display_name_fr = PQgetvalue(r, (int)i, 2);
        out->ptrs[i] = g;
    }
    return ERR_OK;
}

void region_list_cleanup(struct region_list *l) {
    free(l->regions);
    free(l->ptrs);
    PQclear(l->result);
    memset(l, 0, sizeof *l);
}

/* ---- JSON rows -> messages ---------------------------------------------------------------------- */

static err_code row_message(const ProtobufCMessageDescriptor *desc, const char *text, ProtobufCMessage **out,
                            struct err *e) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        return err_set(e, ERR_INTERNAL, "%s row: %s", desc->short_name, je.text);
    struct problems p;
    problems_init(&p);
    err_code code = pbjson_to_message(desc, j, out, &p, e);
    json_decref(j);
    if (code != ERR_OK)
        return err_set(e, ERR_INTERNAL, "%s row: %s %s", desc->short_name, p.n ? p.items[0].field : "",
                       p.n ? p.items[0].rule : "");
    return ERR_OK;
}

void store_messages_free(ProtobufCMessage **m, size_t n) {
    for (size_t i = 0; m && i < n; i++)
        protobuf_c_message_free_unpacked(m[i], NULL);
    free(m);
}

err_code store_messages(PGconn *c, const ProtobufCMessageDescriptor *desc, ProtobufCMessage ***out, size_t *count,
                        struct err *e, const char *sql, int n, const char *const *params) {
    PGresult *r = NULL;
    ProtobufCMessage **list = NULL;
    size_t rows = 0, done_rows = 0;
    err_code code = db_query(c, &r, e, sql, n, params);
    if (code != ERR_OK)
        goto done;
    rows = (size_t)PQntuples(r);
    list = calloc(rows ? rows : 1, sizeof *list);
    if (!list) {
        code = err_set(e, ERR_INTERNAL, "out of memory");
        goto done;
    }
    for (; done_rows < rows; done_rows++) {
        code = row_message(desc, PQgetvalue(r, (int)done_rows, 0), &list[done_rows], e);
        if (code != ERR_OK)
            goto done;
    }
    *out = list;
    *count = rows;
    list = NULL;
done:
    store_messages_free(list, done_rows);
    PQclear(r);
    return code;
}

err_code store_message(PGconn *c, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, const char *what,
                       const char *id, struct err *e, const char *sql, int n, const char *const *params) {
    ProtobufCMessage **list = NULL;
    size_t count = 0;
    err_code code = store_messages(c, desc, &list, &count, e, sql, n, params);
    if (code != ERR_OK)
        return code;
    if (count == 0) {
        store_messages_free(list, count);
        return err_set(e, ERR_NOT_FOUND, "%s %s", what, id ? id : "");
    }
    *out = list[0];
    for (size_t i = 1; i < count; i++)
        protobuf_c_message_free_unpacked(list[i], NULL);
    free(list);
    return ERR_OK;
}

char *store_json_messages(ProtobufCMessage *const *items, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, pbjson_from_message(items[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return s;
}

char *store_json_strings(char *const *items, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, json_string(items[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return s;
}

/* ---- showcases (SHOW-1, SHOW-2) ---------------------------------------------------------------- */

static const char *en(const Mkt__Catalog__Text *t) { return t && t->en ? t->en : ""; }
static const char *fr(const Mkt__Catalog__Text *t) { return t && t->fr ? t->fr : ""; }

err_code store_showcase_get(PGconn *c, const char *org, Mkt__Catalog__Showcase **out, struct err *e) {
    return store_message(c, &mkt__catalog__showcase__descriptor, (ProtobufCMessage **)out, "showcase of", org, e,
                         "SELECT json_build_object('organization_id', organization_id, 'name', txt(name_en, name_fr),"
                         " 'short_description', txt(short_en, short_fr), 'description', txt(description_en, description_fr),"
                         " 'logo_url', logo_url, 'links', links, 'state', state, 'published_at', iso(published_at),"
                         " 'updated_at', iso(updated_at)) FROM showcases WHERE organization_id = $1",
                         DB_PARAMS(org));
}

err_code store_showcase_put(PGconn *c, const char *org, const Mkt__Catalog__PutShowcase *in, mkt_time now,
                            struct err *e) {
    char t[40];
    char *links = store_json_messages((ProtobufCMessage *const *)in->links, in->n_links);
    if (!links)
        return err_set(e, ERR_INTERNAL, "out of memory");
    err_code code = db_exec(
        c, e, NULL,
        "INSERT INTO showcases (organization_id, name_en, name_fr, short_en, short_fr, description_en, description_fr,"
        " logo_url, links, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)"
        " ON CONFLICT (organization_id) DO UPDATE SET name_en = $2, name_fr = $3, short_en = $4, short_fr = $5,"
        " description_en = $6, description_fr = $7, logo_url = $8, links = $9::jsonb, updated_at = $10",
        DB_PARAMS(org, en(in->name), fr(in->name), en(in->short_description), fr(in->short_description),
                  en(in->description), fr(in->description), in->logo_url ? in->logo_url : "", links,
                  db_time_param(now, t, sizeof t)));
    free(links);
    return code;
}

err_code store_showcase_publish(PGconn *c, const char *org, mkt_time now, struct err *e) {
    char t[40];
    return db_exec(c, e, NULL,
                   "UPDATE showcases SET state = 'published', published_at = coalesce(published_at, $2), updated_at = $2"
                   " WHERE organization_id = $1",
                   DB_PARAMS(org, db_time_param(now, t, sizeof t)));
}
