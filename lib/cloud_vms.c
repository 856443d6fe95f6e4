/* VM and account calls of the cloud client. Billing meters a buyer's VMs with ReadVms through
 * the buyer's own marketplace EIM key (ReadVms only lists the caller's VMs); the VM lifecycle
 * calls exist for tests, demos and operators. ReadAccounts tells whose keys these are. */
#include <stdlib.h>

#include "cloud_internal.h"

void cloud_vms_free(struct cloud_vms *l) {
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].product_codes.v);
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_vm(void *item, const json_t *o, struct err *e) {
    struct cloud_vm *v = item;
    v->json = o;
    v->vm_id = cloud__str(o, "VmId");
    v->image_id = cloud__str(o, "ImageId");
    v->state = cloud__str(o, "State");
    v->vm_type = cloud__str(o, "VmType");
    v->creation_date = cloud__date(o, "CreationDate");
    return cloud__strv(o, "ProductCodes", &v->product_codes, e);
}

CLOUD__DEFINE_TO_LIST(to_vms, struct cloud_vms, struct cloud_vm, fill_vm, cloud_vms_free)

err_code cloud_read_vms(struct cloud *c, const struct cloud_vm_filters *f, struct cloud_vms **out,
                        struct err *e) {
    json_t *req = json_object(), *items = NULL;
    int per_page = 0;
    if (f) {
        json_t *filters = json_object();
        cloud__set_strv(filters, "VmIds", f->vm_ids);
        cloud__set_strv(filters, "ImageIds", f->image_ids);
        cloud__set_strv(filters, "ProductCodes", f->product_codes);
        cloud__set_strv(filters, "VmStateNames", f->vm_state_names);
        if (json_object_size(filters))
            json_object_set_new(req, "Filters", filters);
        else
            json_decref(filters);
        per_page = f->results_per_page;
    }
    err_code rc = cloud__read_all(c, "ReadVms", req, "Vms", CLOUD_PAGING_TOKEN, per_page, &items, e);
    if (rc)
        return rc;
    return to_vms(items, out, e);
}

err_code cloud_create_vms(struct cloud *c, const struct cloud_vm_create *in, struct cloud_vms **out,
                          struct err *e) {
    json_t *answer = NULL;
    if (!in || !in->image_id || in->count < 0)
        return err_set(e, ERR_INVALID, "CreateVms: image_id is required");
    json_t *req = json_object();
    json_object_set_new(req, "ImageId", json_string(in->image_id));
    cloud__set_str(req, "VmType", in->vm_type);
    if (in->count > 1) {
        json_object_set_new(req, "MinVmsCount", json_integer(in->count));
        json_object_set_new(req, "MaxVmsCount", json_integer(in->count));
    }
    err_code rc = cloud_call(c, "CreateVms", req, &answer, e);
    if (rc)
        goto done;
    json_t *vms = json_object_get(answer, "Vms");
    if (!json_is_array(vms)) {
        rc = err_set(e, ERR_INTERNAL, "CreateVms: the answer has no Vms array");
        goto done;
    }
    rc = to_vms(json_incref(vms), out, e);
done:
    json_decref(answer);
    return rc;
}

static err_code vm_action(struct cloud *c, const char *op, const char *const *vm_ids, struct err *e) {
    if (!vm_ids || !vm_ids[0])
        return err_set(e, ERR_INVALID, "%s: at least one vm id is required", op);
    json_t *req = json_object();
    cloud__set_strv(req, "VmIds", vm_ids);
    return cloud_call(c, op, req, NULL, e);
}

err_code cloud_stop_vms(struct cloud *c, const char *const *vm_ids, struct err *e) {
    return vm_action(c, "StopVms", vm_ids, e);
}
err_code cloud_start_vms(struct cloud *c, const char *const *vm_ids, struct err *e) {
    return vm_action(c, "StartVms", vm_ids, e);
}
err_code cloud_delete_vms(struct cloud *c, const char *const *vm_ids, struct err *e) {
    return vm_action(c, "DeleteVms", vm_ids, e);
}

void cloud_accounts_free(struct cloud_accounts *l) {
    if (!l)
        return;
    free(l->items);
    json_decref(l->json__);
    free(l);
}

static err_code fill_account(void *item, const json_t *o, struct err *e) {
    (void)e;
    struct cloud_account *a = item;
    a->json = o;
    a->account_id = cloud__str(o, "AccountId");
    a->email = cloud__str(o, "Email");
    return ERR_OK;
}

CLOUD__DEFINE_TO_LIST(to_accounts, struct cloud_accounts, struct cloud_account, fill_account,
                      cloud_accounts_free)

err_code cloud_read_accounts(struct cloud *c, struct cloud_accounts **out, struct err *e) {
    json_t *items = NULL;
    err_code rc = cloud__read_all(c, "ReadAccounts", NULL, "Accounts", CLOUD_PAGING_NONE, 0, &items, e);
    if (rc)
        return rc;
    return to_accounts(items, out, e);
}
