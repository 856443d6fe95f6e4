/* Tags on the caller's own images and VMs (CreateTags, DeleteTags). The resource kind comes from
 * the id's prefix; a call naming an unknown or foreign resource changes nothing. */
#include <string.h>

#include "api.h"

static const struct jsonv_field tag_fields[] = {
    {.name = "Key", .type = JSONV_STRING, .required = true, .min = 1, .max = 255},
    {.name = "Value", .type = JSONV_STRING, .min = 0, .max = 255},
};
static const struct jsonv_schema tag_schema = JSONV_SCHEMA(tag_fields);
static const struct jsonv_field tags_fields[] = {
    API_DRY_RUN,
    {.name = "ResourceIds", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 1000, .items = JSONV_STRING},
    {.name = "Tags", .type = JSONV_ARRAY, .required = true, .min = 1, .max = 50, .items = JSONV_OBJECT, .object = &tag_schema},
};
static const struct jsonv_schema tags_schema = JSONV_SCHEMA(tags_fields);

/* The tags of the caller's resource with this id; NULL after api_fail. */
static struct state_tags *resource_tags(struct api_ctx *c, const char *id) {
    if (strncmp(id, "ami-", 4) == 0) {
        struct state_image *im = state_image_find(c->st, id);
        if (im && strcmp(im->account_id, c->account->id) == 0 && strcmp(im->region, c->region) == 0)
            return &im->tags;
        api_fail(c, API_E_NO_IMAGE, "the image '%s' does not exist", id);
        return NULL;
    }
    if (strncmp(id, "i-", 2) == 0) {
        struct state_vm *vm = state_vm_find(c->st, id);
        if (vm && strcmp(vm->account_id, c->account->id) == 0 && strcmp(vm->region, c->region) == 0)
            return &vm->tags;
        api_fail(c, API_E_NO_VM, "the VM '%s' does not exist", id);
        return NULL;
    }
    api_fail(c, API_E_INVALID_VALUE, "ResourceIds: '%s' is not an image or a VM id", id);
    return NULL;
}

static err_code change_tags(struct api_ctx *c, bool create) {
    const json_t *ids = json_object_get(c->req, "ResourceIds"), *tags = json_object_get(c->req, "Tags");
    size_t i, j;
    const json_t *id, *tag;
    json_array_foreach(ids, i, id) if (!resource_tags(c, json_string_value(id))) return ERR_NOT_FOUND;
    json_array_foreach(ids, i, id) {
        struct state_tags *t = resource_tags(c, json_string_value(id));
        json_array_foreach(tags, j, tag) {
            const char *key = json_string_value(json_object_get(tag, "Key"));
            const char *value = json_string_value(json_object_get(tag, "Value"));
            if (create)
                state_tags_set(t, key, value ? value : "");
            else
                state_tags_remove(t, key, value);
        }
    }
    return ERR_OK;
}

static err_code create_tags(struct api_ctx *c) { return change_tags(c, true); }
static err_code delete_tags(struct api_ctx *c) { return change_tags(c, false); }

const struct api_op tags_ops[] = {
    {"CreateTags", &tags_schema, create_tags, true, true},
    {"DeleteTags", &tags_schema, delete_tags, true, true},
    {NULL, NULL, NULL, false, false},
};
