/* VMs: launched from an image the caller sees, carrying that image's product codes for life
 * (metering reads them), listed only to their owner, stopped, started and deleted. Transient
 * states (pending, stopping, shutting-down) end vm_delay later on the emulator clock
 * (state_tick); a terminated VM stays visible for an hour, like on the real cloud, then
 * disappears. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "images.h"

#define DEFAULT_VM_TYPE "tinav5.c1r1p2"
#define MAX_VMS_PER_CALL 50

static const char *const vm_states[] = {"pending", "running", "stopping", "stopped", "shutting-down", "terminated",
                                        NULL};
static const char *const performances[] = {"medium", "high", "highest", NULL};

/* The state codes the API pairs with the state names. */
static int vm_state_code(enum state_vm_state st) {
    switch (st) {
    case STATE_VM_PENDING: return 0;
    case STATE_VM_RUNNING: return 16;
    case STATE_VM_SHUTTING_DOWN: return 32;
    case STATE_VM_TERMINATED: return 48;
    case STATE_VM_STOPPING: return 64;
    case STATE_VM_STOPPED: return 80;
    }
    return 0;
}

static void subregion_of(const struct state_vm *vm, char out[40]) { snprintf(out, 40, "%sa", vm->region); }

/* A stable private address derived from the VM id (public-cloud VMs get one outside any Net). */
static void private_ip_of(const struct state_vm *vm, char out[20]) {
    unsigned long h = strtoul(vm->id + 2, NULL, 16);
    snprintf(out, 20, "10.%lu.%lu.%lu", (h >> 16) & 0xff, (h >> 8) & 0xff, (h & 0xfd) + 2);
}

static json_t *vm_json(const struct state_vm *vm) {
    char subregion[40], ip[20], dns[96];
    subregion_of(vm, subregion);
    private_ip_of(vm, ip);
    snprintf(dns, sizeof dns, "ip-%s.%s.compute.internal", ip, vm->region);
    for (size_t i = 3; /* ip-10-1-2-3.<region>.compute.internal */ dns[i] && i < 3 + strlen(ip); i++)
        if (dns[i] == '.')
            dns[i] = '-';
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:b, s:s, s:[], s:[]}",
        "VmId", vm->id, "VmType", vm->vm_type, "ImageId", vm->image_id, "State", state_vm_state_name(vm->state),
        "StateReason", "", "CreationDate", api_time(vm->created), "LaunchNumber", vm->launch_number, "ProductCodes",
        state_strs_json(&vm->product_codes), "Tags", state_tags_json(&vm->tags), "Placement", "SubregionName",
        subregion, "Tenancy", "default", "Architecture", "x86_64", "Performance", "high", "RootDeviceType", "bsu",
        "RootDeviceName", "/dev/sda1", "DeletionProtection", 0, "VmInitiatedShutdownBehavior", "stop",
        "SecurityGroups", "BlockDeviceMappings");
    /* what a VM has outside a Net: no NICs, a private address, no subnet */
    json_object_set_new(o, "Nics", json_array());
    json_object_set_new(o, "PrivateIp", json_string(ip));
    json_object_set_new(o, "PrivateDnsName", json_string(dns));
    json_object_set_new(o, "SubnetId", json_string(vm->subnet_id));
    json_object_set_new(o, "NetId", json_string(""));
    json_object_set_new(o, "ReservationId", json_string(vm->reservation_id));
    json_object_set_new(o, "IsSourceDestChecked", json_true());
    if (*vm->keypair)
        json_object_set_new(o, "KeypairName", json_string(vm->keypair));
    return o;
}

/* ---- CreateVms -------------------------------------------------------------------------------- */

static const struct jsonv_schema any_object_schema = {NULL, 0, true};
static const struct jsonv_field create_vms_fields[] = {
    API_DRY_RUN,
    {.name = "ImageId", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "VmType", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "MinVmsCount", .type = JSONV_INT, .min = 1, .max = MAX_VMS_PER_CALL},
    {.name = "MaxVmsCount", .type = JSONV_INT, .min = 1, .max = MAX_VMS_PER_CALL},
    {.name = "KeypairName", .type = JSONV_STRING, .min = 1, .max = 255},
    API_STRINGS("SecurityGroupIds"),
    API_STRINGS("SecurityGroups"),
    {.name = "SubnetId", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "UserData", .type = JSONV_STRING, .min = 0, .max = 500000},
    {.name = "BootOnCreation", .type = JSONV_BOOL},
    {.name = "Placement", .type = JSONV_OBJECT, .object = &any_object_schema},
    {.name = "Performance", .type = JSONV_STRING, .one_of = performances},
    {.name = "DeletionProtection", .type = JSONV_BOOL},
    {.name = "ClientToken", .type = JSONV_STRING, .min = 1, .max = 255},
    {.name = "VmInitiatedShutdownBehavior", .type = JSONV_STRING, .min = 1, .max = 32},
    {.name = "NestedVirtualization", .type = JSONV_BOOL},
    {.name = "BlockDeviceMappings", .type = JSONV_ARRAY, .items = JSONV_OBJECT, .object = &any_object_schema},
};
static const struct jsonv_schema create_vms_schema = JSONV_SCHEMA(create_vms_fields);

static err_code create_vms(struct api_ctx *c) {
    const json_t *jmin = json_object_get(c->req, "MinVmsCount"), *jmax = json_object_get(c->req, "MaxVmsCount");
    long long min = jmin ? json_integer_value(jmin) : 1, max = jmax ? json_integer_value(jmax) : min;
    if (min > max)
        return api_fail(c, API_E_INVALID_VALUE, "MinVmsCount must not exceed MaxVmsCount");
    struct state_image *im = images_find_visible(c, api_str(c, "ImageId"));
    if (!im)
        return ERR_NOT_FOUND;
    if (im->state != STATE_IMAGE_AVAILABLE)
        return api_fail(c, API_E_INVALID_STATE, "the image '%s' is %s, not available", im->id,
                        state_image_state_name(im->state));
    const char *type = api_opt(c, "VmType");
    bool boot = !json_is_false(json_object_get(c->req, "BootOnCreation"));
    json_t *vms = json_array();
    char reservation[16];
    state_new_id(c->st, "r", reservation, sizeof reservation);
    for (long long i = 0; i < max; i++) {
        struct state_vm *vm = state_vm_new();
        state_new_id(c->st, "i", vm->id, sizeof vm->id);
        snprintf(vm->account_id, sizeof vm->account_id, "%s", c->account->id);
        snprintf(vm->region, sizeof vm->region, "%s", c->region);
        snprintf(vm->image_id, sizeof vm->image_id, "%s", im->id);
        state_set_str(&vm->vm_type, type ? type : DEFAULT_VM_TYPE);
        state_set_str(&vm->keypair, api_str(c, "KeypairName"));
        state_set_str(&vm->subnet_id, api_str(c, "SubnetId"));
        snprintf(vm->reservation_id, sizeof vm->reservation_id, "%s", reservation);
        vm->launch_number = (int)i;
        /* without BootOnCreation the VM goes straight to stopped, through stopping */
        vm->state = boot ? STATE_VM_PENDING : STATE_VM_STOPPING;
        vm->created = vm->state_since = c->now;
        state_strs_copy(&vm->product_codes, &im->product_codes);
        state_vec_push(&c->st->vms, vm);
        json_array_append_new(vms, vm_json(vm));
    }
    json_object_set_new(c->res, "Vms", vms);
    return ERR_OK;
}

/* ---- ReadVms ---------------------------------------------------------------------------------- */

static const struct jsonv_field vm_filter_fields[] = {
    API_STRINGS("VmIds"),
    API_STRINGS("ImageIds"),
    API_STRINGS("ProductCodes"),
    {.name = "VmStateNames", .type = JSONV_ARRAY, .items = JSONV_STRING, .one_of = vm_states},
    {.name = "VmStateCodes", .type = JSONV_ARRAY, .items = JSONV_INT, .min = 0, .max = 1000},
    API_STRINGS("CreationDates"),
    API_STRINGS("SubregionNames"),
    API_STRINGS("ReservationIds"),
    API_STRINGS("SubnetIds"),
    API_STRINGS("VmTypes"),
    API_STRINGS("TagKeys"),
    API_STRINGS("TagValues"),
    API_STRINGS("Tags"),
};
static const struct jsonv_schema vm_filter_schema = JSONV_SCHEMA(vm_filter_fields);
static const struct jsonv_field read_vms_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &vm_filter_schema},
    API_PAGING,
};
static const struct jsonv_schema read_vms_schema = JSONV_SCHEMA(read_vms_fields);

static bool own_vm(const struct api_ctx *c, const struct state_vm *vm) {
    return strcmp(vm->account_id, c->account->id) == 0 && strcmp(vm->region, c->region) == 0;
}

static bool code_matches(const json_t *f, int code) {
    const json_t *codes = json_object_get(f, "VmStateCodes");
    if (!codes)
        return true;
    size_t i;
    const json_t *v;
    json_array_foreach(codes, i, v) if (json_integer_value(v) == code) return true;
    return false;
}

/* CreationDates: a day ("2026-11-21") or a full date-time; a VM matches when its creation date
 * starts with one of them. */
static bool created_matches(const json_t *f, const struct state_vm *vm) {
    const json_t *dates = json_object_get(f, "CreationDates");
    if (!dates)
        return true;
    char when[32];
    state_format_time(vm->created, when);
    size_t i;
    const json_t *v;
    json_array_foreach(dates, i, v) {
        const char *d = json_string_value(v);
        if (*d && strncmp(when, d, strlen(d)) == 0)
            return true;
        mkt_time t;
        if (clock_parse(d, &t) == 0 && t / CLOCK_SECOND == vm->created / CLOCK_SECOND)
            return true;
    }
    return false;
}

static bool vm_matches(const json_t *f, const struct state_vm *vm) {
    char subregion[40];
    subregion_of(vm, subregion);
    return api_filter_str(f, "VmIds", vm->id) && api_filter_str(f, "ImageIds", vm->image_id) &&
           api_filter_any(f, "ProductCodes", &vm->product_codes) &&
           api_filter_str(f, "VmStateNames", state_vm_state_name(vm->state)) &&
           code_matches(f, vm_state_code(vm->state)) && created_matches(f, vm) &&
           api_filter_str(f, "SubregionNames", subregion) && api_filter_str(f, "ReservationIds", vm->reservation_id) &&
           api_filter_str(f, "SubnetIds", vm->subnet_id) && api_filter_str(f, "VmTypes", vm->vm_type) &&
           api_filter_tags(f, &vm->tags);
}

static err_code read_vms(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->vms.n; i++) {
        const struct state_vm *vm = c->st->vms.v[i];
        if (own_vm(c, vm) && vm_matches(f, vm))
            json_array_append_new(all, vm_json(vm));
    }
    return api_page(c, "Vms", all);
}

/* ---- StopVms, StartVms, DeleteVms ------------------------------------------------------------- */

#define VM_IDS {.name = "VmIds", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 1000, .items = JSONV_STRING}
static const struct jsonv_field vm_ids_fields[] = {API_DRY_RUN, VM_IDS};
static const struct jsonv_schema vm_ids_schema = JSONV_SCHEMA(vm_ids_fields);
static const struct jsonv_field stop_vms_fields[] = {API_DRY_RUN, VM_IDS, {.name = "ForceStop", .type = JSONV_BOOL}};
static const struct jsonv_schema stop_vms_schema = JSONV_SCHEMA(stop_vms_fields);

enum vm_action { VM_STOP, VM_START, VM_DELETE };

/* The next state for an action, or -1 when the VM's state forbids it. */
static int next_state(enum state_vm_state s, enum vm_action a) {
    switch (a) {
    case VM_STOP:
        if (s == STATE_VM_PENDING || s == STATE_VM_RUNNING)
            return STATE_VM_STOPPING;
        return s == STATE_VM_STOPPING || s == STATE_VM_STOPPED ? (int)s : -1;
    case VM_START:
        if (s == STATE_VM_STOPPED)
            return STATE_VM_PENDING;
        return s == STATE_VM_PENDING || s == STATE_VM_RUNNING ? (int)s : -1;
    case VM_DELETE:
        if (s == STATE_VM_TERMINATED || s == STATE_VM_SHUTTING_DOWN)
            return (int)s;
        return STATE_VM_SHUTTING_DOWN;
    }
    return -1;
}

/* All-or-nothing: every id is checked before any VM changes. */
static err_code change_vms(struct api_ctx *c, enum vm_action action) {
    const json_t *ids = json_object_get(c->req, "VmIds");
    size_t i;
    const json_t *v;
    json_array_foreach(ids, i, v) {
        struct state_vm *vm = state_vm_find(c->st, json_string_value(v));
        if (!vm || !own_vm(c, vm))
            return api_fail(c, API_E_NO_VM, "the VM '%s' does not exist", json_string_value(v));
        if (next_state(vm->state, action) < 0)
            return api_fail(c, API_E_INVALID_STATE, "the VM '%s' is %s", vm->id, state_vm_state_name(vm->state));
    }
    json_t *out = json_array();
    json_array_foreach(ids, i, v) {
        struct state_vm *vm = state_vm_find(c->st, json_string_value(v));
        enum state_vm_state prev = vm->state, next = (enum state_vm_state)next_state(vm->state, action);
        if (next != prev) {
            vm->state = next;
            vm->state_since = c->now;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "VmId", vm->id, "PreviousState",
                                             state_vm_state_name(prev), "CurrentState", state_vm_state_name(next)));
    }
    json_object_set_new(c->res, "Vms", out);
    return ERR_OK;
}

static err_code stop_vms(struct api_ctx *c) { return change_vms(c, VM_STOP); }
static err_code start_vms(struct api_ctx *c) { return change_vms(c, VM_START); }
static err_code delete_vms(struct api_ctx *c) { return change_vms(c, VM_DELETE); }

const struct api_op vms_ops[] = {
    {"CreateVms", &create_vms_schema, create_vms, true, true},
    {"ReadVms", &read_vms_schema, read_vms, true, false},
    {"StopVms", &stop_vms_schema, stop_vms, true, true},
    {"StartVms", &vm_ids_schema, start_vms, true, true},
    {"DeleteVms", &vm_ids_schema, delete_vms, true, true},
    {NULL, NULL, NULL, false, false},
};
