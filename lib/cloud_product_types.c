/* Product-type calls of the cloud client. A product type's id is the product code that the
 * cloud carries from an OMI to its copies and to the VMs launched from them, which is how the
 * marketplace recognises its software in a buyer's account. */
#include <stdlib.h>

#include "cloud_internal.h"

void cloud_product_types_free(struct cloud_product_types *l) {
    if (!l)
        return;
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_product_type(void *item, const json_t *o, struct err *e) {
    (void)e;
    struct cloud_product_type *p = item;
    p->json = o;
    p->product_type_id = cloud__str(o, "ProductTypeId");
    p->description = cloud__str(o, "Description");
    p->vendor = cloud__str(o, "Vendor");
    return ERR_OK;
}

CLOUD__DEFINE_TO_LIST(to_list, struct cloud_product_types, struct cloud_product_type, fill_product_type,
                      cloud_product_types_free)

err_code cloud_create_product_type(struct cloud *c, const char *description, const char *vendor,
                                   struct cloud_product_types **out, struct err *e) {
    json_t *items = NULL;
    if (!description)
        return err_set(e, ERR_INVALID, "CreateProductType: description is required");
    json_t *req = json_object();
    json_object_set_new(req, "Description", json_string(description));
    cloud__set_str(req, "Vendor", vendor);
    err_code rc = cloud__call_one(c, "CreateProductType", req, "ProductType", &items, e);
    if (rc)
        return rc;
    return to_list(items, out, e);
}

err_code cloud_read_product_types(struct cloud *c, const char *const *product_type_ids,
                                  struct cloud_product_types **out, struct err *e) {
    json_t *req = json_object(), *items = NULL;
    if (product_type_ids) {
        json_t *filters = json_object();
        cloud__set_strv(filters, "ProductTypeIds", product_type_ids);
        json_object_set_new(req, "Filters", filters);
    }
    err_code rc = cloud__read_all(c, "ReadProductTypes", req, "ProductTypes", CLOUD_PAGING_TOKEN, 0,
                                  &items, e);
    if (rc)
        return rc;
    return to_list(items, out, e);
}

err_code cloud_delete_product_type(struct cloud *c, const char *product_type_id, bool force,
                                   struct err *e) {
    if (!product_type_id)
        return err_set(e, ERR_INVALID, "DeleteProductType: product_type_id is required");
    json_t *req = json_object();
    json_object_set_new(req, "ProductTypeId", json_string(product_type_id));
    if (force)
        json_object_set_new(req, "Force", json_true());
    return cloud_call(c, "DeleteProductType", req, NULL, e);
}
