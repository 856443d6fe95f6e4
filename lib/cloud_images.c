/* OMI calls of the cloud client: copy an image (CreateImage with a source), read images with
 * filters across pages, change launch permissions, product codes and description, delete. The
 * publisher uses these to put a seller's OMI in each Region and share it with buyers. */
#include <stdlib.h>
#include <string.h>

#include "cloud_internal.h"

void cloud_images_free(struct cloud_images *l) {
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].permission_account_ids.v);
        free(l->items[i].product_codes.v);
    }
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_image(void *item, const json_t *o, struct err *e) {
    struct cloud_image *im = item;
    const json_t *perm = json_object_get(o, "PermissionsToLaunch");
    im->json = o;
    im->image_id = cloud__str(o, "ImageId");
    im->account_id = cloud__str(o, "AccountId");
    im->image_name = cloud__str(o, "ImageName");
    im->description = cloud__str(o, "Description");
    im->state = cloud__str(o, "State");
    im->global_permission = json_is_true(json_object_get(perm, "GlobalPermission"));
    im->creation_date = cloud__date(o, "CreationDate");
    err_code rc = cloud__strv(perm, "AccountIds", &im->permission_account_ids, e);
    if (rc == ERR_OK)
        rc = cloud__strv(o, "ProductCodes", &im->product_codes, e);
    return rc;
}

CLOUD__DEFINE_TO_LIST(to_list, struct cloud_images, struct cloud_image, fill_image, cloud_images_free)

err_code cloud_create_image(struct cloud *c, const struct cloud_image_copy *in,
                            struct cloud_images **out, struct err *e) {
    json_t *items = NULL;
    if (!in || !in->source_image_id || !in->image_name)
        return err_set(e, ERR_INVALID, "CreateImage: source_image_id and image_name are required");
    json_t *req = json_object();
    json_object_set_new(req, "SourceImageId", json_string(in->source_image_id));
    json_object_set_new(req, "SourceRegionName",
                        json_string(in->source_region_name ? in->source_region_name : cloud_region(c)));
    json_object_set_new(req, "ImageName", json_string(in->image_name));
    cloud__set_str(req, "Description", in->description);
    cloud__set_strv(req, "ProductCodes", in->product_codes);
    err_code rc = cloud__call_one(c, "CreateImage", req, "Image", &items, e);
    if (rc)
        return rc;
    return to_list(items, out, e);
}

err_code cloud_read_images(struct cloud *c, const struct cloud_image_filters *f,
                           struct cloud_images **out, struct err *e) {
    json_t *req = json_object(), *items = NULL;
    int per_page = 0;
    if (f) {
        json_t *filters = json_object();
        cloud__set_strv(filters, "ImageIds", f->image_ids);
        cloud__set_strv(filters, "ImageNames", f->image_names);
        cloud__set_strv(filters, "AccountIds", f->account_ids);
        cloud__set_strv(filters, "ProductCodes", f->product_codes);
        cloud__set_strv(filters, "PermissionsToLaunchAccountIds", f->permissions_to_launch_account_ids);
        cloud__set_strv(filters, "States", f->states);
        if (f->permissions_to_launch_global_permission != CLOUD_ANY)
            json_object_set_new(filters, "PermissionsToLaunchGlobalPermission",
                                json_boolean(f->permissions_to_launch_global_permission == CLOUD_YES));
        if (json_object_size(filters))
            json_object_set_new(req, "Filters", filters);
        else
            json_decref(filters);
        per_page = f->results_per_page;
    }
    err_code rc = cloud__read_all(c, "ReadImages", req, "Images", CLOUD_PAGING_TOKEN, per_page, &items, e);
    if (rc)
        return rc;
    return to_list(items, out, e);
}

err_code cloud_update_image(struct cloud *c, const struct cloud_image_update *u, struct err *e) {
    if (!u || !u->image_id)
        return err_set(e, ERR_INVALID, "UpdateImage: image_id is required");
    json_t *req = json_object();
    json_object_set_new(req, "ImageId", json_string(u->image_id));
    json_t *perms = json_object();
    if (u->add_account_ids || u->add_global) {
        json_t *add = json_object();
        cloud__set_strv(add, "AccountIds", u->add_account_ids);
        if (u->add_global)
            json_object_set_new(add, "GlobalPermission", json_true());
        json_object_set_new(perms, "Additions", add);
    }
    if (u->remove_account_ids || u->remove_global) {
        json_t *rem = json_object();
        cloud__set_strv(rem, "AccountIds", u->remove_account_ids);
        if (u->remove_global)
            json_object_set_new(rem, "GlobalPermission", json_true());
        json_object_set_new(perms, "Removals", rem);
    }
    if (json_object_size(perms))
        json_object_set_new(req, "PermissionsToLaunch", perms);
    else
        json_decref(perms);
    if (u->set_product_codes)
        json_object_set_new(req, "ProductCodes", cloud__json_strv(u->product_codes));
    cloud__set_str(req, "Description", u->description);
    return cloud_call(c, "UpdateImage", req, NULL, e);
}

err_code cloud_delete_image(struct cloud *c, const char *image_id, struct err *e) {
    if (!image_id)
        return err_set(e, ERR_INVALID, "DeleteImage: image_id is required");
    json_t *req = json_object();
    json_object_set_new(req, "ImageId", json_string(image_id));
    return cloud_call(c, "DeleteImage", req, NULL, e);
}
