/* Product types: the product codes carried by images and VMs. ReadProductTypes needs no
 * signature; "0001" (Linux) is built in. Product types are global (not per Region) in the
 * emulator, and only their creator may delete them; deleting one that images still carry needs
 * Force (the images keep the code). */
#include <stdio.h>
#include <string.h>

#include "api.h"

static json_t *product_type_json(const struct state_product_type *pt) {
    return json_pack("{s:s, s:s, s:s}", "ProductTypeId", pt->id, "Description", pt->description, "Vendor",
                     pt->vendor);
}

static const struct jsonv_field create_fields[] = {
    API_DRY_RUN,
    {.name = "Description", .type = JSONV_STRING, .required = true, .min = 1, .max = 255},
    {.name = "Vendor", .type = JSONV_STRING, .min = 0, .max = 255},
};
static const struct jsonv_schema create_schema = JSONV_SCHEMA(create_fields);

static err_code create_product_type(struct api_ctx *c) {
    struct state_product_type *pt = state_product_type_new();
    state_new_id(c->st, "pty", pt->id, sizeof pt->id);
    snprintf(pt->account_id, sizeof pt->account_id, "%s", c->account->id);
    state_set_str(&pt->description, api_str(c, "Description"));
    state_set_str(&pt->vendor, api_str(c, "Vendor"));
    pt->created = c->now;
    state_vec_push(&c->st->product_types, pt);
    json_object_set_new(c->res, "ProductType", product_type_json(pt));
    return ERR_OK;
}

static const struct jsonv_field filter_fields[] = {API_STRINGS("ProductTypeIds")};
static const struct jsonv_schema filter_schema = JSONV_SCHEMA(filter_fields);
static const struct jsonv_field read_fields[] = {
    API_DRY_RUN,
    {.name = "Filters", .type = JSONV_OBJECT, .object = &filter_schema},
    API_PAGING,
};
static const struct jsonv_schema read_schema = JSONV_SCHEMA(read_fields);

static err_code read_product_types(struct api_ctx *c) {
    const json_t *f = json_object_get(c->req, "Filters");
    json_t *all = json_array();
    for (size_t i = 0; i < c->st->product_types.n; i++) {
        const struct state_product_type *pt = c->st->product_types.v[i];
        if (api_filter_str(f, "ProductTypeIds", pt->id))
            json_array_append_new(all, product_type_json(pt));
    }
    return api_page(c, "ProductTypes", all);
}

static const struct jsonv_field delete_fields[] = {
    API_DRY_RUN,
    {.name = "ProductTypeId", .type = JSONV_STRING, .required = true, .min = 1, .max = 64},
    {.name = "Force", .type = JSONV_BOOL},
};
static const struct jsonv_schema delete_schema = JSONV_SCHEMA(delete_fields);

static err_code delete_product_type(struct api_ctx *c) {
    const char *id = api_str(c, "ProductTypeId");
    struct state_product_type *pt = state_product_type_find(c->st, id);
    if (!pt)
        return api_fail(c, API_E_NO_PRODUCT_TYPE, "the product type '%s' does not exist", id);
    if (strcmp(pt->account_id, c->account->id) != 0)
        return api_fail(c, API_E_NOT_AUTHORIZED, "the product type '%s' belongs to another account", id);
    if (!json_is_true(json_object_get(c->req, "Force"))) {
        for (size_t i = 0; i < c->st->images.n; i++) {
            const struct state_image *im = c->st->images.v[i];
            if (state_strs_has(&im->product_codes, id))
                return api_fail(c, API_E_IN_USE, "the product type '%s' is used by images (use Force)", id);
        }
    }
    state_vec_remove(&c->st->product_types, pt);
    state_product_type_free(pt);
    return ERR_OK;
}

const struct api_op product_types_ops[] = {
    {"CreateProductType", &create_schema, create_product_type, true, true},
    {"ReadProductTypes", &read_schema, read_product_types, false, false},
    {"DeleteProductType", &delete_schema, delete_product_type, true, true},
    {NULL, NULL, NULL, false, false},
};
