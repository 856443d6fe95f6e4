/* VMs: launched from an image the caller sees, carrying that image's product codes for life
 * (metering reads them), listed only to their owner, stopped, started and deleted. Transient
 * states (pending, stopping, shutting-down) end vm_delay later on the emulator clock
 * (state_tick); a terminated VM stays visible for an hour, like on the real cloud, then
 * disappears. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "images.h"

#define DEFAULT_VM_TYPE "tinav5.c1r1p2"
#define MAX_VMS_PER_CALL 50

static const char *const vm_states[] = {"pending", "running", "stopping", "stopped", "shutting-down", "terminated",
                                        NULL};
static const char *const performances[] = {"medium", "high", "highest", NULL};

static json_t *vm_json(const struct state_vm *vm, int launch_number) {
    char subregion[40];
    snprintf(subregion, sizeof subregion, "%sa", vm->region);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:b, s:s, s:[], s:[]}",
        "VmId", vm->id, "VmType", vm->vm_type, "ImageId", vm->image_id, "State", state_vm_state_name(vm->state),
        "StateReason", "", "CreationDate", api_time(vm->created), "LaunchNumber", launch_number, "ProductCodes",
        state_strs_json(&vm->product_codes), "Tags", state_tags_json(&vm->tags), "Placement", "SubregionName",
        subregion, "Tenancy", "default", "Architecture", "x86_64", "Performance", "high", "RootDeviceType", "bsu",
        "RootDeviceName", "/dev/sda1", "DeletionProtection", 0, "VmInitiatedShutdownBehavior", "stop",
        "SecurityGroups", "BlockDeviceMappings");
    if (*vm->keypair)
        json_object_set_new(o, "KeypairName", json_string(vm->keypair));
    return o;
}

/* ---- CreateVms -------------------------------------------------------------------------------- */

static const struct jv_schema any_object_schema = {NULL, 0, true};
static const struct jv_field create_vms_fields[] = {
    API_DRY_RUN,
    {.name = "ImageId", .type = JV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "VmType", .type = JV_STRING, .min = 1, .max = 64},
    {.name = "MinVmsCount", .type = JV_INT, .min = 1, .max = MAX_VMS_PER_CALL},
    {.name = "MaxVmsCount", .type = JV_INT, .min = 1, .max = MAX_VMS_PER_CALL},
    {.name = "KeypairName", .type = JV_STRING, .min = 1, .max = 255},
    API_STRINGS("SecurityGroupIds"),
    API_STRINGS("SecurityGroups"),
    {.name = "SubnetId", .type = JV_STRING, .min = 1, .max = 64},
    {.name = "UserData", .type = JV_STRING, .min = 0, .max = 500000},
    {.name = "BootOnCreation", .type = JV_BOOL},
    {.name = "Placement", .type = JV_OBJECT, .object = &any_object_schema},
    {.name = "Performance", .type = JV_STRING, .one_of = performances},
    {.name = "DeletionProtection", .type = JV_BOOL},
    {.name = "ClientToken", .type = JV_STRING, .min = 1, .max = 255},
    {.name = "VmInitiatedShutdownBehavior", .type = JV_STRING, .min = 1, .max = 32},
    {.name = "NestedVirtualization", .type = JV_BOOL},
    {.name = "BlockDeviceMappings", .type = JV_ARRAY, .items = JV_OBJECT, .object = &any_object_schema},
};
static const struct jv_schema create_vms_schema = JV_SCHEMA(create_vms_fields);

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
    for (long long i = 0; i < max; i++) {
        struct state_vm *vm = state_vm_new();
        state_new_id(c->st, "i", vm->id, sizeof vm->id);
        snprintf(vm->account_id, sizeof vm->account_id, "%s", c->account->id);
        snprintf(vm->region, sizeof vm->region, "%s", c->region);
        snprintf(vm->image_id, sizeof vm->image_id, "%s", im->id);
        state_set_str(&vm->vm_type, type ? type : DEFAULT_VM_TYPE);
        state_set_str(&vm->keypair, api_str(c, "KeypairName"));
        /* without BootOnCreation the VM goes straight to stopped, through stopping */
        vm->state = boot ? STATE_VM_PENDING : STATE_VM_STOPPING;
        vm->created = vm->state_since = c->now;
        state_strs_copy(&vm->product_codes, &im->product_codes);
        state_vec_push(&c->st->vms, vm);
        json_array_append_new(vms, vm_json(vm, (int)i));
    }
    json_object_set_new(c->res, "Vms", vms);
    return ERR_OK;
}

/* ---- ReadVms ---------------------------------------------------------------------------------- */

static const struct jv_field vm_filter_fields[] = {
    API_STRINGS("VmIds"),
    API_STRINGS("ImageIds"),
    API_STRINGS("ProductCodes"),
    {.name = "VmStateNames", .type = JV_ARRAY, .items = JV_STRING, .one_of = vm_states},
    API_STRINGS("VmTypes"),
    API_STRINGS("TagKeys"),
    API_STRINGS("TagValues"),
    API_STRINGS("Tags"),
};
static const struct jv_schema vm_filter_schema = JV_SCHEMA(vm_filter_fields);
static const struct jv_field read_vms_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JV_OBJECT, .object = &vm_filter_schema},
    API_PAGING,
};
static const struct jv_schema read_vms_schema = JV_SCHEMA(read_vms_fields);

static bool own_vm(const struct api_ctx *c, const struct state_vm *vm) {
    return strcmp(vm->account_id, c->account->id) == 0 && strcmp(vm->region, c->region) == 0;
}

static err_code read_vms(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->vms.n; i++) {
        const struct state_vm *vm = c->st->vms.v[i];
        if (!own_vm(c, vm) || !api_filter_str(f, "VmIds", vm->id) || !api_filter_str(f, "ImageIds", vm->image_id) ||
            !api_filter_any(f, "ProductCodes", &vm->product_codes) ||
            !api_filter_str(f, "VmStateNames", state_vm_state_name(vm->state)) ||
            !api_filter_str(f, "VmTypes", vm->vm_type) || !api_filter_tags(f, &vm->tags))
            continue;
        json_array_append_new(all, vm_json(vm, 0));
    }
    return api_page(c, "Vms", all);
}

/* ---- StopVms, StartVms, DeleteVms ------------------------------------------------------------- */

#define VM_IDS {.name = "VmIds", .type = JV_ARRAY, .required = true, .min = 1, .max = 1000, .items = JV_STRING}
static const struct jv_field vm_ids_fields[] = {API_DRY_RUN, VM_IDS};
static const struct jv_schema vm_ids_schema = JV_SCHEMA(vm_ids_fields);
static const struct jv_field stop_vms_fields[] = {API_DRY_RUN, VM_IDS, {.name = "ForceStop", .type = JV_BOOL}};
static const struct jv_schema stop_vms_schema = JV_SCHEMA(stop_vms_fields);

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
