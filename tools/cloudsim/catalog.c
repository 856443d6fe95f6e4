/* What the cloud offers and what an account consumed: ReadVmTypes (no signature: the VM types
 * with their vCPU and memory, and the hourly price the emulator bills them at),
 * ReadSubregions (the caller's Region's Subregions) and ReadConsumptionAccount, which answers
 * as the cloud does: whole days only, one entry per day and VM type, no product code. That
 * granularity is why the platform meters from ReadVms rather than from this call. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

#define DAY (24 * CLOCK_HOUR)

/* The VM types the emulator knows. tinavW.cXrYpZ: X vCores, Y GiB, performance Z. */
static const struct vm_type {
    const char *name;
    int vcores;
    double memory_gib;
    double hourly_price_eur; /* what ReadConsumptionAccount's ShowPrice bills per hour */
} vm_types[] = {
    {"tinav5.c1r1p2", 1, 1, 0.041}, {"tinav5.c1r2p2", 1, 2, 0.052}, {"tinav5.c2r4p2", 2, 4, 0.104},
    {"tinav5.c4r8p2", 4, 8, 0.208}, {"tinav5.c8r16p2", 8, 16, 0.416}, {"tinav6.c2r4p2", 2, 4, 0.098},
    {"tinav6.c4r16p1", 4, 16, 0.262}, {"t2.small", 1, 2, 0.050},      {"m4.large", 2, 8, 0.160},
};
#define N_VM_TYPES (sizeof vm_types / sizeof vm_types[0])

static const struct vm_type *vm_type_find(const char *name) {
    for (size_t i = 0; i < N_VM_TYPES; i++)
        if (strcmp(vm_types[i].name, name) == 0)
            return &vm_types[i];
    return NULL;
}

static bool number_in(const json_t *f, const char *key, double v) {
    const json_t *vals = json_object_get(f, key);
    if (!vals)
        return true;
    size_t i;
    const json_t *x;
    json_array_foreach(vals, i, x) if (fabs(json_number_value(x) - v) < 1e-9) return true;
    return false;
}

/* ---- ReadVmTypes ------------------------------------------------------------------------------ */

static const struct jsonv_field vm_type_filter_fields[] = {
    {.name = "BsuOptimized", .type = JSONV_BOOL},
    API_STRINGS("EphemeralsTypes"),
    {.name = "Eths", .type = JSONV_ARRAY, .items = JSONV_INT, .min = 0, .max = 100},
    {.name = "Gpus", .type = JSONV_ARRAY, .items = JSONV_INT, .min = 0, .max = 100},
    {.name = "MemorySizes", .type = JSONV_ARRAY, .items = JSONV_NUMBER, .min = 0, .max = 100},
    {.name = "VcoreCounts", .type = JSONV_ARRAY, .items = JSONV_INT, .min = 0, .max = 100},
    API_STRINGS("VmTypeNames"),
    {.name = "VolumeCounts", .type = JSONV_ARRAY, .items = JSONV_INT, .min = 0, .max = 100},
    {.name = "VolumeSizes", .type = JSONV_ARRAY, .items = JSONV_INT, .min = 0, .max = 100},
};
static const struct jsonv_schema vm_type_filter_schema = JSONV_SCHEMA(vm_type_filter_fields);
static const struct jsonv_field read_vm_types_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &vm_type_filter_schema},
    API_PAGING,
};
static const struct jsonv_schema read_vm_types_schema = JSONV_SCHEMA(read_vm_types_fields);

static err_code read_vm_types(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    const json_t *bsu = json_object_get(f, "BsuOptimized");
    json_t *all = json_array();
    for (size_t i = 0; i < N_VM_TYPES; i++) {
        const struct vm_type *t = &vm_types[i];
        /* no ephemeral storage, GPU nor extra NIC limits in the emulator: 0 / "" match only 0 / "" */
        if (!api_filter_str(f, "VmTypeNames", t->name) || !number_in(f, "VcoreCounts", t->vcores) ||
            !number_in(f, "MemorySizes", t->memory_gib) || (bsu && !json_is_true(bsu)) ||
            !api_filter_str(f, "EphemeralsTypes", "") || !number_in(f, "Eths", 1) || !number_in(f, "Gpus", 0) ||
            !number_in(f, "VolumeCounts", 0) || !number_in(f, "VolumeSizes", 0))
            continue;
        json_array_append_new(all, json_pack("{s:s, s:i, s:f, s:b, s:s, s:i, s:i, s:i, s:i, s:i}", "VmTypeName",
                                             t->name, "VcoreCount", t->vcores, "MemorySize", t->memory_gib,
                                             "BsuOptimized", 1, "EphemeralsType", "", "Eth", 1, "Gpu", 0,
                                             "MaxPrivateIps", 30, "VolumeCount", 0, "VolumeSize", 0));
    }
    return api_page(c, "VmTypes", all);
}

/* ---- ReadSubregions --------------------------------------------------------------------------- */

static const char *const subregion_states[] = {"available", NULL};
static const struct jsonv_field subregion_filter_fields[] = {
    API_STRINGS("RegionNames"),
    {.name = "States", .type = JSONV_ARRAY, .items = JSONV_STRING, .one_of = subregion_states},
    API_STRINGS("SubregionNames"),
};
static const struct jsonv_schema subregion_filter_schema = JSONV_SCHEMA(subregion_filter_fields);
static const struct jsonv_field read_subregions_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &subregion_filter_schema},
    API_PAGING,
};
static const struct jsonv_schema read_subregions_schema = JSONV_SCHEMA(read_subregions_fields);

static err_code read_subregions(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *all = json_array();
    for (char letter = 'a'; letter <= 'c'; letter++) {
        char name[80];
        snprintf(name, sizeof name, "%s%c", c->region, letter);
        if (!api_filter_str(f, "SubregionNames", name) || !api_filter_str(f, "RegionNames", c->region) ||
            !api_filter_str(f, "States", "available"))
            continue;
        json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s}", "SubregionName", name, "RegionName",
                                             c->region, "State", "available", "LocationCode", ""));
    }
    return api_page(c, "Subregions", all);
}

/* ---- ReadConsumptionAccount ------------------------------------------------------------------- */

static const struct jsonv_field consumption_fields[] = {
    API_DRY_RUN,
    {.name = "FromDate", .type = JSONV_STRING, .required = true, .min = 10, .max = 40},
    {.name = "ToDate", .type = JSONV_STRING, .required = true, .min = 10, .max = 40},
    {.name = "IsAccountConsumption", .type = JSONV_BOOL},
    {.name = "Overall", .type = JSONV_BOOL},
    {.name = "ShowPrice", .type = JSONV_BOOL},
};
static const struct jsonv_schema consumption_schema = JSONV_SCHEMA(consumption_fields);

/* A day: "2026-11-21", or a date-time at midnight ("2026-11-21T00:00:00.000Z"); the cloud
 * refuses any other time of day. */
static err_code parse_day(struct api_ctx *c, const char *field, mkt_time *out) {
    const char *s = api_str(c, field);
    char buf[48];
    if (strlen(s) == 10) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        s = buf;
    }
    if (clock_parse(s, out) != 0 || *out % DAY != 0)
        return api_fail(c, API_E_INVALID_VALUE, "%s: a date (YYYY-MM-DD), or a date-time at midnight UTC", field);
    return ERR_OK;
}

/* Seconds a VM ran within [from, to): from its launch to its last stop or termination (the
 * emulator keeps no longer history), or to now. */
static double running_hours(const struct state_vm *vm, mkt_time from, mkt_time to, mkt_time now) {
    mkt_time end = now;
    if (vm->state == STATE_VM_STOPPED || vm->state == STATE_VM_TERMINATED)
        end = vm->state_since;
    mkt_time a = vm->created > from ? vm->created : from, b = end < to ? end : to;
    return b > a ? (double)(b - a) / (double)CLOCK_HOUR : 0;
}

/* One entry per VM type the caller's VMs ran in [from, to). */
static void add_entries(struct api_ctx *c, json_t *out, mkt_time from, mkt_time to, bool price) {
    json_t *hours = json_object(); /* VM type -> hours, in order of first appearance */
    for (size_t i = 0; i < c->st->vms.n; i++) {
        const struct state_vm *vm = c->st->vms.v[i];
        if (strcmp(vm->account_id, c->account->id) != 0 || strcmp(vm->region, c->region) != 0)
            continue;
        double h = running_hours(vm, from, to, c->now);
        if (h > 0)
            json_object_set_new(hours, vm->vm_type,
                                json_real(json_number_value(json_object_get(hours, vm->vm_type)) + h));
    }
    const char *name;
    json_t *v;
    json_object_foreach(hours, name, v) {
        char type[128], title[160], subregion[40];
        snprintf(type, sizeof type, "BoxUsage:%s", name);
        snprintf(title, sizeof title, "Instance - On demand - %s - par heure", name);
        snprintf(subregion, sizeof subregion, "%sa", c->region);
        json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:f}", "AccountId", c->account->id,
                              "PayingAccountId", c->account->id, "FromDate", api_time(from), "ToDate", api_time(to),
                              "Category", "compute", "Service", "TinaOS-FCU", "Operation", "RunInstances-OD", "Type",
                              type, "Title", title, "SubregionName", subregion, "Value", json_real_value(v));
        if (price) {
            const struct vm_type *known = vm_type_find(name);
            double unit = known ? known->hourly_price_eur : 0;
            json_object_set_new(e, "UnitPrice", json_real(unit));
            json_object_set_new(e, "Price", json_real(unit * json_real_value(v)));
        }
        json_array_append_new(out, e);
    }
    json_decref(hours);
}

static err_code read_consumption(struct api_ctx *c) {
    mkt_time from, to;
    if (parse_day(c, "FromDate", &from) != ERR_OK || parse_day(c, "ToDate", &to) != ERR_OK)
        return ERR_INVALID;
    if (to <= from)
        return api_fail(c, API_E_INVALID_VALUE, "ToDate must be later than FromDate");
    if (to - from > 366 * DAY)
        return api_fail(c, API_E_INVALID_VALUE, "the period is limited to one year");
    bool price = json_is_true(json_object_get(c->req, "ShowPrice"));
    json_t *entries = json_array();
    if (json_is_true(json_object_get(c->req, "Overall")))
        add_entries(c, entries, from, to, price);
    else
        for (mkt_time day = from; day < to; day += DAY)
            add_entries(c, entries, day, day + DAY, price);
    json_object_set_new(c->res, "ConsumptionEntries", entries);
    if (price)
        json_object_set_new(c->res, "Currency", json_string("EUR"));
    return ERR_OK;
}

const struct api_op catalog_ops[] = {
    {"ReadVmTypes", &read_vm_types_schema, read_vm_types, false, false},
    {"ReadSubregions", &read_subregions_schema, read_subregions, true, false},
    {"ReadConsumptionAccount", &consumption_schema, read_consumption, true, false},
    {NULL, NULL, NULL, false, false},
};
