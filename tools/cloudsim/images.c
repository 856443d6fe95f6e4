/* OMIs: copies within a Region (CreateImage with SourceImageId) and OMIs built from a VM
 * (CreateImage with VmId; ImageName optional, the id then names it), reads with the real visibility
 * rule (own, public, shared with the caller's account) and filters, launch-permission and
 * product-code updates, and deletion by the owner. A copy starts "pending" and becomes
 * "available" copy_delay later on the emulator clock (state_tick); it carries the source's
 * product codes plus those requested. */
#include "images.h"

#include <stdio.h>
#include <string.h>

static const char *const image_states[] = {"pending", "available", "failed", NULL};
#define IMAGE_NAME_CHARS "_ ()/.-"
#define IMAGE_ARCHITECTURE "x86_64"
#define IMAGE_ROOT_DEVICE_TYPE "bsu"

bool images_visible(const struct state_image *im, const char *account, const char *region) {
    if (strcmp(im->region, region) != 0)
        return false;
    return strcmp(im->account_id, account) == 0 || im->is_public || state_strs_has(&im->launch_accounts, account);
}

struct state_image *images_find_visible(struct api_ctx *c, const char *id) {
    struct state_image *im = state_image_find(c->st, id);
    if (!im || !images_visible(im, c->account->id, c->region)) {
        api_fail(c, API_E_NO_IMAGE, "the image '%s' does not exist", id);
        return NULL;
    }
    return im;
}

/* The image as `account` sees it: only the owner sees every account it is shared with. */
static json_t *image_json(const struct state_image *im, const char *account) {
    json_t *shared;
    if (strcmp(im->account_id, account) == 0) {
        shared = state_strs_json(&im->launch_accounts);
    } else {
        shared = json_array();
        if (state_strs_has(&im->launch_accounts, account))
            json_array_append_new(shared, json_string(account));
    }
    char location[1024];
    snprintf(location, sizeof location, "%s/%s", im->account_id, im->name);
    json_t *comment = *im->state_message ? json_pack("{s:s, s:s}", "StateCode", "InternalError", "StateMessage",
                                                     im->state_message)
                                         : json_object();
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:{s:b, s:o}, s:o, s:o, s:s, s:s, s:s, s:s, s:[], s:s, "
                     "s:[s]}",
                     "ImageId", im->id, "ImageName", im->name, "AccountId", im->account_id, "AccountAlias", "",
                     "Description", im->description, "State", state_image_state_name(im->state), "StateComment",
                     comment, "CreationDate", api_time(im->created), "PermissionsToLaunch", "GlobalPermission",
                     im->is_public, "AccountIds", shared, "ProductCodes", state_strs_json(&im->product_codes), "Tags",
                     state_tags_json(&im->tags), "ImageType", "machine", "Architecture", IMAGE_ARCHITECTURE,
                     "RootDeviceName", "/dev/sda1", "RootDeviceType", IMAGE_ROOT_DEVICE_TYPE, "BlockDeviceMappings",
                     "FileLocation", location, "BootModes", "legacy");
}

/* ---- CreateImage ------------------------------------------------------------------------------ */

static const struct jsonv_field create_image_fields[] = {
    API_DRY_RUN,
    {.name = "SourceImageId", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "SourceRegionName", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "VmId", .type = JSONV_STRING, .min = 1, .max = 64},
    {.name = "NoReboot", .type = JSONV_BOOL},
    {.name = "ImageName", .type = JSONV_STRING, .min = 3, .max = 128},
    {.name = "Description", .type = JSONV_STRING, .min = 0, .max = 255},
    {.name = "ProductCodes", .type = JSONV_ARRAY, .min = 0, .max = 32, .items = JSONV_STRING, .unique = true},
};
static const struct jsonv_schema create_image_schema = JSONV_SCHEMA(create_image_fields);

/* Where a new image comes from: a visible, available image (a copy) or one of the caller's VMs
 * (an OMI built from it, what sellers do for their source OMIs). */
struct image_source {
    const char *id, *description;
    const struct state_strs *product_codes;
};

static err_code find_source(struct api_ctx *c, struct image_source *out) {
    const char *image_id = api_opt(c, "SourceImageId"), *vm_id = api_opt(c, "VmId");
    if (!image_id == !vm_id)
        return api_fail(c, !image_id ? API_E_MISSING_PARAM : API_E_INVALID_VALUE,
                        "give exactly one of SourceImageId and VmId");
    if (vm_id) {
        if (api_opt(c, "SourceRegionName"))
            return api_fail(c, API_E_INVALID_VALUE, "SourceRegionName: only for copies (SourceImageId)");
        const struct state_vm *vm = state_vm_find(c->st, vm_id);
        if (!vm || strcmp(vm->account_id, c->account->id) != 0 || strcmp(vm->region, c->region) != 0)
            return api_fail(c, API_E_NO_VM, "the VM '%s' does not exist", vm_id);
        if (vm->state == STATE_VM_SHUTTING_DOWN || vm->state == STATE_VM_TERMINATED)
            return api_fail(c, API_E_INVALID_STATE, "the VM '%s' is %s", vm->id, state_vm_state_name(vm->state));
        /* NoReboot: the emulated VM is neither stopped nor rebooted either way */
        *out = (struct image_source){vm->id, "", &vm->product_codes};
        return ERR_OK;
    }
    const char *region = api_opt(c, "SourceRegionName");
    if (region && strcmp(region, c->region) != 0)
        return api_fail(c, API_E_INVALID_VALUE, "SourceRegionName: copies never cross Regions (this is %s)",
                        c->region);
    if (json_object_get(c->req, "NoReboot"))
        return api_fail(c, API_E_INVALID_VALUE, "NoReboot: only with VmId");
    struct state_image *src = images_find_visible(c, image_id);
    if (!src)
        return ERR_NOT_FOUND;
    if (src->state != STATE_IMAGE_AVAILABLE)
        return api_fail(c, API_E_INVALID_STATE, "the image '%s' is %s, not available", src->id,
                        state_image_state_name(src->state));
    *out = (struct image_source){src->id, src->description, &src->product_codes};
    return ERR_OK;
}

static bool name_taken(const struct api_ctx *c, const char *name) {
    for (size_t i = 0; i < c->st->images.n; i++) {
        const struct state_image *im = c->st->images.v[i];
        if (strcmp(im->account_id, c->account->id) == 0 && strcmp(im->region, c->region) == 0 &&
            strcmp(im->name, name) == 0)
            return true;
    }
    return false;
}

static err_code create_image(struct api_ctx *c) {
    const char *name = api_opt(c, "ImageName");
    struct image_source src = {0};
    if (name && !api_chars_ok(name, IMAGE_NAME_CHARS))
        return api_fail(c, API_E_INVALID_VALUE,
                        "ImageName: only letters, digits, spaces and _()/.- are allowed");
    err_code rc = find_source(c, &src);
    if (rc != ERR_OK)
        return rc;
    const json_t *codes = json_object_get(c->req, "ProductCodes");
    if (api_check_product_codes(c, codes) != ERR_OK)
        return ERR_NOT_FOUND;
    if (name && name_taken(c, name))
        return api_fail(c, API_E_DUPLICATE, "an image named '%s' already exists", name);
    struct state_image *im = state_image_new();
    state_new_id(c->st, "ami", im->id, sizeof im->id);
    snprintf(im->account_id, sizeof im->account_id, "%s", c->account->id);
    snprintf(im->region, sizeof im->region, "%s", c->region);
    /* without ImageName the image is named after its id, which no other image of the account
     * can carry (ids are unique, names have no "ami-" prefix rule to collide with) */
    state_set_str(&im->name, name ? name : im->id);
    state_set_str(&im->description, api_opt(c, "Description") ? api_str(c, "Description") : src.description);
    state_set_str(&im->source_id, src.id);
    im->state = STATE_IMAGE_PENDING;
    im->created = c->now;
    im->ready_at = c->now + c->st->copy_delay;
    state_strs_copy(&im->product_codes, src.product_codes);
    size_t i;
    const json_t *v;
    json_array_foreach(codes, i, v) if (!state_strs_has(&im->product_codes, json_string_value(v)))
        state_strs_add(&im->product_codes, json_string_value(v));
    state_vec_push(&c->st->images, im);
    json_object_set_new(c->res, "Image", image_json(im, c->account->id));
    return ERR_OK;
}

/* ---- ReadImages ------------------------------------------------------------------------------- */

static const struct jsonv_field image_filter_fields[] = {
    API_STRINGS("AccountIds"),
    API_STRINGS("Architectures"),
    API_STRINGS("Descriptions"),
    API_STRINGS("ImageIds"),
    API_STRINGS("ImageNames"),
    API_STRINGS("PermissionsToLaunchAccountIds"),
    {.name = "PermissionsToLaunchGlobalPermission", .type = JSONV_BOOL},
    API_STRINGS("ProductCodes"),
    API_STRINGS("ProductCodeNames"),
    API_STRINGS("RootDeviceTypes"),
    {.name = "States", .type = JSONV_ARRAY, .items = JSONV_STRING, .one_of = image_states},
    API_STRINGS("TagKeys"),
    API_STRINGS("TagValues"),
    API_STRINGS("Tags"),
};
static const struct jsonv_schema image_filter_schema = JSONV_SCHEMA(image_filter_fields);
static const struct jsonv_field read_images_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &image_filter_schema},
    API_PAGING,
};
static const struct jsonv_schema read_images_schema = JSONV_SCHEMA(read_images_fields);

/* ProductCodeNames: the names (descriptions) of the image's product types, with wildcards. */
static bool product_code_names_match(const struct state *st, const struct state_image *im, const json_t *f) {
    const json_t *names = json_object_get(f, "ProductCodeNames");
    if (!names)
        return true;
    for (size_t i = 0; i < im->product_codes.n; i++) {
        const struct state_product_type *pt = state_product_type_find(st, im->product_codes.v[i]);
        if (pt && api_filter_glob(f, "ProductCodeNames", pt->description))
            return true;
    }
    return false;
}

static bool image_matches(const struct state *st, const struct state_image *im, const json_t *f) {
    const json_t *global = json_object_get(f, "PermissionsToLaunchGlobalPermission");
    return api_filter_str(f, "AccountIds", im->account_id) && api_filter_str(f, "Architectures", IMAGE_ARCHITECTURE) &&
           api_filter_str(f, "RootDeviceTypes", IMAGE_ROOT_DEVICE_TYPE) && product_code_names_match(st, im, f) &&
           api_filter_glob(f, "Descriptions", im->description) &&
           api_filter_str(f, "ImageIds", im->id) && api_filter_glob(f, "ImageNames", im->name) &&
           api_filter_any(f, "PermissionsToLaunchAccountIds", &im->launch_accounts) &&
           (!global || json_is_true(global) == im->is_public) &&
           api_filter_any(f, "ProductCodes", &im->product_codes) &&
           api_filter_str(f, "States", state_image_state_name(im->state)) && api_filter_tags(f, &im->tags);
}

static err_code read_images(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->images.n; i++) {
        const struct state_image *im = c->st->images.v[i];
        if (images_visible(im, c->account->id, c->region) && image_matches(c->st, im, f))
            json_array_append_new(all, image_json(im, c->account->id));
    }
    return api_page(c, "Images", all);
}

/* ---- UpdateImage ------------------------------------------------------------------------------ */

static const struct jsonv_field permission_change_fields[] = {
    API_STRINGS("AccountIds"),
    {.name = "GlobalPermission", .type = JSONV_BOOL},
};
static const struct jsonv_schema permission_change_schema = JSONV_SCHEMA(permission_change_fields);
static const struct jsonv_field permissions_fields[] = {
    {.name = "Additions", .type = JSONV_OBJECT, .object = &permission_change_schema},
    {.name = "Removals", .type = JSONV_OBJECT, .object = &permission_change_schema},
};
static const struct jsonv_schema permissions_schema = JSONV_SCHEMA(permissions_fields);
static const struct jsonv_field update_image_fields[] = {
    API_DRY_RUN,
    {.name = "ImageId", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "PermissionsToLaunch", .type = JSONV_OBJECT, .object = &permissions_schema},
    {.name = "ProductCodes", .type = JSONV_ARRAY, .min = 0, .max = 32, .items = JSONV_STRING, .unique = true},
    {.name = "Description", .type = JSONV_STRING, .min = 0, .max = 255},
};
static const struct jsonv_schema update_image_schema = JSONV_SCHEMA(update_image_fields);

/* The caller's own image; NULL after api_fail (5023 when invisible, 5 when not the owner). */
static struct state_image *own_image(struct api_ctx *c) {
    struct state_image *im = images_find_visible(c, api_str(c, "ImageId"));
    if (im && strcmp(im->account_id, c->account->id) != 0) {
        api_fail(c, API_E_NOT_AUTHORIZED, "the image '%s' belongs to another account", im->id);
        return NULL;
    }
    return im;
}

static err_code check_accounts(struct api_ctx *c, const json_t *change) {
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(change, "AccountIds"), i, v) {
        if (!api_is_account_id(json_string_value(v)))
            return api_fail(c, API_E_INVALID_VALUE, "PermissionsToLaunch: '%s' is not an account id",
                            json_string_value(v));
    }
    return ERR_OK;
}

static err_code update_image(struct api_ctx *c) {
    struct state_image *im = own_image(c);
    if (!im)
        return c->error == API_E_NO_IMAGE ? ERR_NOT_FOUND : ERR_FORBIDDEN;
    const json_t *perms = json_object_get(c->req, "PermissionsToLaunch");
    const json_t *add = json_object_get(perms, "Additions"), *rem = json_object_get(perms, "Removals");
    const json_t *codes = json_object_get(c->req, "ProductCodes");
    if (check_accounts(c, add) != ERR_OK || check_accounts(c, rem) != ERR_OK)
        return ERR_INVALID;
    if (codes && api_check_product_codes(c, codes) != ERR_OK)
        return ERR_NOT_FOUND;
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(add, "AccountIds"), i, v) if (!state_strs_has(&im->launch_accounts,
                                                                                     json_string_value(v)))
        state_strs_add(&im->launch_accounts, json_string_value(v));
    json_array_foreach(json_object_get(rem, "AccountIds"), i, v)
        state_strs_remove(&im->launch_accounts, json_string_value(v));
    if (json_is_true(json_object_get(add, "GlobalPermission")))
        im->is_public = true;
    if (json_is_true(json_object_get(rem, "GlobalPermission")))
        im->is_public = false;
    if (codes) {
        state_strs_clear(&im->product_codes);
        json_array_foreach(codes, i, v) state_strs_add(&im->product_codes, json_string_value(v));
    }
    if (api_opt(c, "Description"))
        state_set_str(&im->description, api_str(c, "Description"));
    json_object_set_new(c->res, "Image", image_json(im, c->account->id));
    return ERR_OK;
}

/* ---- DeleteImage ------------------------------------------------------------------------------ */

static const struct jsonv_field delete_image_fields[] = {
    API_DRY_RUN,
    {.name = "ImageId", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
};
static const struct jsonv_schema delete_image_schema = JSONV_SCHEMA(delete_image_fields);

static err_code delete_image(struct api_ctx *c) {
    struct state_image *im = own_image(c);
    if (!im)
        return c->error == API_E_NO_IMAGE ? ERR_NOT_FOUND : ERR_FORBIDDEN;
    /* VMs launched from it keep running and keep its id and product codes */
    state_vec_remove(&c->st->images, im);
    state_image_free(im);
    return ERR_OK;
}

const struct api_op images_ops[] = {
    {"CreateImage", &create_image_schema, create_image, true, true},
    {"ReadImages", &read_images_schema, read_images, true, false},
    {"UpdateImage", &update_image_schema, update_image, true, true},
    {"DeleteImage", &delete_image_schema, delete_image, true, true},
    {NULL, NULL, NULL, false, false},
};
