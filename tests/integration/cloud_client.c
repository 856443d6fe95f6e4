/* Integration tests of lib/cloud against the cloud emulator (tools/cloudsim) started by
 * tests/harness/run.sh: every call the client offers, image visibility (a buyer sees a copy only
 * once it is shared or public), product codes carried from image to copy to VM, deletion-order
 * refusals, an EIM key limited by its policy, a bad secret, and retries under injected faults.
 * Each test creates its own accounts through the emulator's admin API (/_sim/accounts), so tests
 * never share cloud state. Fault rules are global to the emulator, so fault tests clear what
 * they inject and rely on run.sh running tests one at a time (-j1). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "crypto.h"
#include "harness.h"

#define REGION "eu-west-2"
#define PROVIDER_ACCOUNT "999999999999" /* owner of the emulator's public base OMIs */
#define WAIT_MS 20000

struct account {
    char id[13];
    char ak[21];
    char sk[41];
    char email[64];
};

static const char *sim_url(void) { return th_env("MKT_TEST_CLOUD_URL"); }

static void random_chars(char *out, size_t n, const char *alphabet) {
    uint8_t b[64];
    size_t m = strlen(alphabet);
    cr_assert(n <= sizeof b);
    crypto_random(b, n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[b[i] % m];
    out[n] = '\0';
}

/* A fresh account in the emulator, with its root key. */
static struct account new_account(void) {
    struct account a;
    random_chars(a.id, 12, "0123456789");
    a.id[0] = '1' + (char)(a.id[0] % 8); /* never the provider's 999999999999 */
    random_chars(a.ak, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    random_chars(a.sk, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    snprintf(a.email, sizeof a.email, "owner-%s@example.com", a.id);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:[s,s]}", "account_id", a.id, "email", a.email,
                             "access_key", a.ak, "secret_key", a.sk, "regions", "cloudgouv-eu-west-1", REGION);
    char *text = json_dumps(body, JSON_COMPACT);
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/_sim/accounts", sim_url());
    int status = th_http("POST", url, text, NULL, &resp);
    cr_assert(status == 200 || status == 201, "POST /_sim/accounts: %d %s", status, resp ? resp : "");
    free(resp);
    free(text);
    json_decref(body);
    return a;
}

static struct cloud *client_with(const char *ak, const char *sk, int max_tries) {
    struct cloud_config cfg = {
        .endpoint = sim_url(), .region = REGION, .access_key = ak, .secret_key = sk,
        .timeout_ms = 10000, .max_tries = max_tries, .backoff_base_ms = 20, .backoff_max_ms = 200,
    };
    struct cloud *c = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_new(&cfg, &c, &e), ERR_OK, "%s", e.msg);
    return c;
}
static struct cloud *client_for(const struct account *a) { return client_with(a->ak, a->sk, 3); }

static void sim_faults(const char *json_body) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/_sim/faults", sim_url());
    int status = json_body ? th_http("POST", url, json_body, NULL, &resp) : th_http("DELETE", url, NULL, NULL, &resp);
    cr_assert(status >= 200 && status < 300, "%s /_sim/faults: %d %s", json_body ? "POST" : "DELETE", status,
              resp ? resp : "");
    free(resp);
}

/* A public base OMI of the provider in REGION. */
static void base_image(struct cloud *c, char out[32]) {
    const char *owners[] = {PROVIDER_ACCOUNT, NULL};
    const char *states[] = {"available", NULL};
    struct cloud_image_filters f = {.account_ids = owners, .states = states};
    struct cloud_images *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_images(c, &f, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_gt(l->n, 0, "the emulator offers no base OMI in " REGION);
    cr_assert(l->items[0].global_permission, "base OMIs are public");
    snprintf(out, 32, "%s", l->items[0].image_id);
    cloud_images_free(l);
}

/* Whether c sees image_id (an invisible image may read as empty or as not found). */
static bool sees_image(struct cloud *c, const char *image_id) {
    const char *ids[] = {image_id, NULL};
    struct cloud_image_filters f = {.image_ids = ids};
    struct cloud_images *l = NULL;
    struct err e = {0};
    err_code rc = cloud_read_images(c, &f, &l, &e);
    if (rc == ERR_NOT_FOUND)
        return false;
    cr_assert_eq(rc, ERR_OK, "%s", e.msg);
    bool seen = false;
    for (size_t i = 0; i < l->n; i++)
        seen = seen || strcmp(l->items[i].image_id, image_id) == 0;
    cloud_images_free(l);
    return seen;
}

/* Reads one image the caller sees (fails the test when absent). Owned. */
static struct cloud_images *read_image(struct cloud *c, const char *image_id) {
    const char *ids[] = {image_id, NULL};
    struct cloud_image_filters f = {.image_ids = ids};
    struct cloud_images *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_images(c, &f, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1, "image %s", image_id);
    return l;
}

static void wait_image_available(struct cloud *c, const char *image_id) {
    for (int waited = 0;; waited += 100) {
        struct cloud_images *l = read_image(c, image_id);
        bool ok = strcmp(l->items[0].state, "available") == 0;
        bool failed = strcmp(l->items[0].state, "failed") == 0;
        cloud_images_free(l);
        cr_assert(!failed, "copy %s failed", image_id);
        if (ok)
            return;
        cr_assert(waited < WAIT_MS, "copy %s still pending after %d ms", image_id, WAIT_MS);
        th_sleep_ms(100);
    }
}

static void wait_vm_state(struct cloud *c, const char *vm_id, const char *state) {
    const char *ids[] = {vm_id, NULL};
    struct cloud_vm_filters f = {.vm_ids = ids};
    for (int waited = 0;; waited += 100) {
        struct cloud_vms *l = NULL;
        struct err e = {0};
        cr_assert_eq(cloud_read_vms(c, &f, &l, &e), ERR_OK, "%s", e.msg);
        cr_assert_eq(l->n, 1);
        bool ok = strcmp(l->items[0].state, state) == 0;
        char now[32];
        snprintf(now, sizeof now, "%s", l->items[0].state);
        cloud_vms_free(l);
        if (ok)
            return;
        cr_assert(waited < WAIT_MS, "VM %s is %s, not %s, after %d ms", vm_id, now, state, WAIT_MS);
        th_sleep_ms(100);
    }
}

/* A seller's available copy of a base OMI carrying `code`; image id into out. */
static void seller_copy(struct cloud *seller, const char *code, char out[32]) {
    char base[32], name[64];
    base_image(seller, base);
    th_unique("mkt-copy-", name, sizeof name);
    const char *codes[] = {code, NULL};
    struct cloud_image_copy in = {.source_image_id = base, .image_name = name, .description = "it copy",
                                  .product_codes = codes};
    struct cloud_images *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_create_image(seller, &in, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cr_assert(strncmp(l->items[0].image_id, "ami-", 4) == 0, "%s", l->items[0].image_id);
    cr_assert_str_eq(l->items[0].image_name, name);
    snprintf(out, 32, "%s", l->items[0].image_id);
    cloud_images_free(l);
    wait_image_available(seller, out);
}

static void new_product_type(struct cloud *c, char out[32]) {
    struct cloud_product_types *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_create_product_type(c, "it product", "it vendor", &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cr_assert(strncmp(l->items[0].product_type_id, "pty-", 4) == 0, "%s", l->items[0].product_type_id);
    snprintf(out, 32, "%s", l->items[0].product_type_id);
    cloud_product_types_free(l);
}

/* ---- tests ---------------------------------------------------------------------------------- */

Test(cloud_client, read_accounts_of_the_seeded_account) {
    json_error_t je;
    json_t *seed = json_load_file(th_env("MKT_TEST_CLOUD_SEED"), 0, &je);
    cr_assert(seed, "seed: %s", je.text);
    json_t *first = json_array_get(json_object_get(seed, "accounts"), 0);
    cr_assert(json_is_object(first), "the seed has no accounts");
    const char *id = json_string_value(json_object_get(first, "account_id"));
    const char *email = json_string_value(json_object_get(first, "email"));
    struct cloud *c = client_with(json_string_value(json_object_get(first, "access_key")),
                                  json_string_value(json_object_get(first, "secret_key")), 3);
    struct cloud_accounts *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_accounts(c, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cr_assert_str_eq(l->items[0].account_id, id);
    if (email)
        cr_assert_str_eq(l->items[0].email, email);
    cloud_accounts_free(l);
    cloud_free(c);
    json_decref(seed);
}

Test(cloud_client, read_accounts_of_a_new_account) {
    struct account a = new_account();
    struct cloud *c = client_for(&a);
    struct cloud_accounts *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_accounts(c, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cr_assert_str_eq(l->items[0].account_id, a.id);
    cr_assert_str_eq(l->items[0].email, a.email);
    cloud_accounts_free(l);
    cloud_free(c);
}

Test(cloud_client, bad_secret_is_refused_without_retry) {
    struct account a = new_account();
    char wrong[41];
    memcpy(wrong, a.sk, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    struct cloud *c = client_with(a.ak, wrong, 3);
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_UNAUTHENTICATED, "%s", e.msg);
    cr_assert(strstr(e.msg, "ReadVms: AccessDenied 1") == e.msg, "%s", e.msg);
    cr_assert(strstr(e.msg, "tries") == NULL, "401 is not retried: %s", e.msg);
    cr_assert(strstr(e.msg, wrong) == NULL && strstr(e.msg, a.sk) == NULL);
    cloud_free(c);
    /* An unknown access key is refused the same way. */
    c = client_with("ZZZZZZZZZZZZZZZZZZZZ", a.sk, 3);
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_UNAUTHENTICATED, "%s", e.msg);
    cloud_free(c);
    /* And the right secret still works (one bad signature does not lock the key). */
    c = client_for(&a);
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_OK, "%s", e.msg);
    cloud_free(c);
}

Test(cloud_client, unknown_operation_and_bad_parameters) {
    struct account a = new_account();
    struct cloud *c = client_for(&a);
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadNothing", NULL, NULL, &e), ERR_UNSUPPORTED, "%s", e.msg);
    json_t *req = json_pack("{s:s}", "NoSuchKey", "x");
    cr_assert_eq(cloud_call(c, "ReadVms", req, NULL, &e), ERR_INVALID, "%s", e.msg);
    cr_assert_eq(cloud_delete_image(c, "ami-00000000", &e), ERR_NOT_FOUND, "%s", e.msg);
    cr_assert(strstr(e.msg, "DeleteImage: InvalidResource 5") == e.msg, "%s", e.msg);
    cr_assert(strstr(e.msg, " request "), "the request id is kept: %s", e.msg);
    cloud_free(c);
}

Test(cloud_client, product_types) {
    struct account a = new_account();
    struct cloud *c = client_for(&a);
    char pty[32];
    new_product_type(c, pty);
    struct cloud_product_types *l = NULL;
    struct err e = {0};
    const char *ids[] = {pty, "0001", NULL};
    cr_assert_eq(cloud_read_product_types(c, ids, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 2);
    bool mine = false, linux_type = false;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].product_type_id, pty) == 0) {
            mine = true;
            cr_assert_str_eq(l->items[i].description, "it product");
            cr_assert_str_eq(l->items[i].vendor, "it vendor");
        }
        linux_type = linux_type || strcmp(l->items[i].product_type_id, "0001") == 0;
    }
    cr_assert(mine && linux_type);
    cloud_product_types_free(l);

    /* In use by an OMI: refused without Force. */
    char image[32];
    seller_copy(c, pty, image);
    cr_assert_eq(cloud_delete_product_type(c, pty, false, &e), ERR_CONFLICT, "%s", e.msg);
    cr_assert_eq(cloud_delete_product_type(c, pty, true, &e), ERR_OK, "%s", e.msg);
    const char *gone[] = {pty, NULL};
    err_code rc = cloud_read_product_types(c, gone, &l, &e);
    if (rc == ERR_OK) {
        cr_assert_eq(l->n, 0, "deleted product type still listed");
        cloud_product_types_free(l);
    } else {
        cr_assert_eq(rc, ERR_NOT_FOUND, "%s", e.msg);
    }
    cr_assert_eq(cloud_delete_product_type(c, pty, false, &e), ERR_NOT_FOUND, "%s", e.msg);
    cloud_free(c);
}

Test(cloud_client, copy_visibility_and_product_codes_down_to_vms) {
    struct account s = new_account(), b = new_account();
    struct cloud *seller = client_for(&s), *buyer = client_for(&b);
    struct err e = {0};
    char pty[32], image[32];
    new_product_type(seller, pty);
    seller_copy(seller, pty, image);

    struct cloud_images *l = read_image(seller, image);
    cr_assert_str_eq(l->items[0].account_id, s.id);
    cr_assert_str_eq(l->items[0].description, "it copy");
    cr_assert(cloud_strv_has(&l->items[0].product_codes, pty), "the copy carries the product code");
    cr_assert(!l->items[0].global_permission);
    cr_assert_eq(l->items[0].permission_account_ids.n, 0);
    cr_assert_neq(l->items[0].creation_date, 0);
    cloud_images_free(l);

    /* Private: the buyer does not see it, nor can it launch it. */
    cr_assert(!sees_image(buyer, image), "a private copy is invisible to others");
    struct cloud_vm_create vm_in = {.image_id = image};
    struct cloud_vms *vms = NULL;
    cr_assert_eq(cloud_create_vms(buyer, &vm_in, &vms, &e), ERR_NOT_FOUND, "%s", e.msg);

    /* Shared with the buyer's account. */
    const char *buyer_ids[] = {b.id, NULL};
    struct cloud_image_update share = {.image_id = image, .add_account_ids = buyer_ids};
    cr_assert_eq(cloud_update_image(seller, &share, &e), ERR_OK, "%s", e.msg);
    cr_assert(sees_image(buyer, image), "a shared copy is visible to the buyer");
    l = read_image(seller, image);
    cr_assert(cloud_strv_has(&l->items[0].permission_account_ids, b.id));
    cloud_images_free(l);
    const char *perm_filter[] = {b.id, NULL};
    struct cloud_image_filters by_perm = {.permissions_to_launch_account_ids = perm_filter};
    cr_assert_eq(cloud_read_images(buyer, &by_perm, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cr_assert_str_eq(l->items[0].image_id, image);
    cloud_images_free(l);

    /* Only the owner changes permissions. */
    struct cloud_image_update hijack = {.image_id = image, .add_global = true};
    err_code rc = cloud_update_image(buyer, &hijack, &e);
    cr_assert(rc == ERR_FORBIDDEN || rc == ERR_NOT_FOUND, "non-owner UpdateImage: %s", e.msg);

    /* The buyer launches it: the VM carries the code; the seller does not see the buyer's VM. */
    cr_assert_eq(cloud_create_vms(buyer, &vm_in, &vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(vms->n, 1);
    char vm_id[32];
    snprintf(vm_id, sizeof vm_id, "%s", vms->items[0].vm_id);
    cr_assert(strncmp(vm_id, "i-", 2) == 0, "%s", vm_id);
    cr_assert_str_eq(vms->items[0].image_id, image);
    cr_assert(cloud_strv_has(&vms->items[0].product_codes, pty), "the VM carries the product code");
    cloud_vms_free(vms);
    const char *codes[] = {pty, NULL};
    struct cloud_vm_filters by_code = {.product_codes = codes};
    cr_assert_eq(cloud_read_vms(buyer, &by_code, &vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(vms->n, 1);
    cr_assert_str_eq(vms->items[0].vm_id, vm_id);
    cloud_vms_free(vms);
    cr_assert_eq(cloud_read_vms(seller, &by_code, &vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(vms->n, 0, "ReadVms lists only the caller's VMs");
    cloud_vms_free(vms);

    /* Unshared: invisible again. Public: visible to anyone. Private again: invisible. */
    struct cloud_image_update unshare = {.image_id = image, .remove_account_ids = buyer_ids};
    cr_assert_eq(cloud_update_image(seller, &unshare, &e), ERR_OK, "%s", e.msg);
    cr_assert(!sees_image(buyer, image));
    struct cloud_image_update make_public = {.image_id = image, .add_global = true};
    cr_assert_eq(cloud_update_image(seller, &make_public, &e), ERR_OK, "%s", e.msg);
    cr_assert(sees_image(buyer, image));
    struct cloud_image_filters public_only = {.permissions_to_launch_global_permission = CLOUD_YES,
                                              .image_ids = (const char *[]){image, NULL}};
    cr_assert_eq(cloud_read_images(buyer, &public_only, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cr_assert(l->items[0].global_permission);
    cloud_images_free(l);
    struct cloud_image_update make_private = {.image_id = image, .remove_global = true};
    cr_assert_eq(cloud_update_image(seller, &make_private, &e), ERR_OK, "%s", e.msg);
    cr_assert(!sees_image(buyer, image));

    /* Deleting the OMI leaves the buyer's VM running. */
    cr_assert_eq(cloud_delete_image(seller, image, &e), ERR_OK, "%s", e.msg);
    cr_assert(!sees_image(seller, image));
    wait_vm_state(buyer, vm_id, "running");
    cr_assert_eq(cloud_delete_vms(buyer, (const char *[]){vm_id, NULL}, &e), ERR_OK, "%s", e.msg);
    cloud_free(seller);
    cloud_free(buyer);
}

Test(cloud_client, copy_of_a_shared_copy_keeps_codes_and_update_replaces_them) {
    struct account s = new_account(), b = new_account();
    struct cloud *seller = client_for(&s), *buyer = client_for(&b);
    struct err e = {0};
    char pty[32], pty2[32], image[32], name[64];
    new_product_type(seller, pty);
    new_product_type(seller, pty2);
    seller_copy(seller, pty, image);

    /* A buyer cannot copy a private image; once shared it can, and the copy keeps the code. */
    th_unique("buyer-copy-", name, sizeof name);
    struct cloud_image_copy in = {.source_image_id = image, .image_name = name};
    struct cloud_images *l = NULL;
    err_code rc = cloud_create_image(buyer, &in, &l, &e);
    cr_assert(rc == ERR_NOT_FOUND || rc == ERR_FORBIDDEN, "copying a private image: %s", e.msg);
    struct cloud_image_update share = {.image_id = image, .add_account_ids = (const char *[]){b.id, NULL}};
    cr_assert_eq(cloud_update_image(seller, &share, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_create_image(buyer, &in, &l, &e), ERR_OK, "%s", e.msg);
    char copy[32];
    snprintf(copy, sizeof copy, "%s", l->items[0].image_id);
    cloud_images_free(l);
    wait_image_available(buyer, copy);
    l = read_image(buyer, copy);
    cr_assert_str_eq(l->items[0].account_id, b.id);
    cr_assert(cloud_strv_has(&l->items[0].product_codes, pty));
    cloud_images_free(l);

    /* Same name twice in one account: conflict. */
    rc = cloud_create_image(buyer, &in, &l, &e);
    cr_assert_eq(rc, ERR_CONFLICT, "%s", e.msg);

    /* Copies never cross Regions. */
    struct cloud_image_copy cross = {.source_image_id = image, .source_region_name = "cloudgouv-eu-west-1",
                                     .image_name = "cross-region-copy"};
    rc = cloud_create_image(seller, &cross, &l, &e);
    cr_assert(rc != ERR_OK, "a cross-Region copy must be refused");
    if (rc == ERR_OK)
        cloud_images_free(l);

    /* UpdateImage replaces the codes and the description. */
    struct cloud_image_update upd = {.image_id = image, .set_product_codes = true,
                                     .product_codes = (const char *[]){pty2, NULL}, .description = "v2"};
    cr_assert_eq(cloud_update_image(seller, &upd, &e), ERR_OK, "%s", e.msg);
    l = read_image(seller, image);
    cr_assert_eq(l->items[0].product_codes.n, 1);
    cr_assert_str_eq(l->items[0].product_codes.v[0], pty2);
    cr_assert_str_eq(l->items[0].description, "v2");
    cloud_images_free(l);
    struct cloud_image_filters by_code = {.product_codes = (const char *[]){pty2, NULL},
                                          .account_ids = (const char *[]){s.id, NULL}};
    cr_assert_eq(cloud_read_images(seller, &by_code, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(l->n, 1);
    cloud_images_free(l);

    /* Only the owner deletes. */
    rc = cloud_delete_image(buyer, image, &e);
    cr_assert(rc == ERR_FORBIDDEN || rc == ERR_NOT_FOUND, "non-owner DeleteImage: %s", e.msg);
    cr_assert_eq(cloud_delete_image(buyer, copy, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_image(seller, image, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_image(seller, image, &e), ERR_NOT_FOUND, "%s", e.msg);
    cloud_free(seller);
    cloud_free(buyer);
}

Test(cloud_client, vm_lifecycle_and_paging) {
    struct account a = new_account();
    struct cloud *c = client_for(&a);
    struct err e = {0};
    char base[32];
    base_image(c, base);
    struct cloud_vm_create in = {.image_id = base, .vm_type = "tinav5.c1r1p2", .count = 3};
    struct cloud_vms *vms = NULL;
    cr_assert_eq(cloud_create_vms(c, &in, &vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(vms->n, 3);
    char ids[3][32];
    for (int i = 0; i < 3; i++) {
        snprintf(ids[i], sizeof ids[i], "%s", vms->items[i].vm_id);
        cr_assert(cloud_strv_has(&vms->items[i].product_codes, "0001"), "base OMIs carry 0001");
    }
    cloud_vms_free(vms);

    /* One VM per page: the client follows NextPageToken to the end. */
    struct cloud_vm_filters all = {.results_per_page = 1};
    cr_assert_eq(cloud_read_vms(c, &all, &vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(vms->n, 3);
    for (int i = 0; i < 3; i++) {
        bool found = false;
        for (size_t k = 0; k < vms->n; k++)
            found = found || strcmp(vms->items[k].vm_id, ids[i]) == 0;
        cr_assert(found, "%s missing from the pages", ids[i]);
    }
    cr_assert_str_eq(vms->items[0].vm_type, "tinav5.c1r1p2");
    cloud_vms_free(vms);

    wait_vm_state(c, ids[0], "running");
    const char *one[] = {ids[0], NULL};
    cr_assert_eq(cloud_stop_vms(c, one, &e), ERR_OK, "%s", e.msg);
    wait_vm_state(c, ids[0], "stopped");
    struct cloud_vm_filters stopped = {.vm_state_names = (const char *[]){"stopped", NULL}};
    cr_assert_eq(cloud_read_vms(c, &stopped, &vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(vms->n, 1);
    cr_assert_str_eq(vms->items[0].vm_id, ids[0]);
    cloud_vms_free(vms);
    cr_assert_eq(cloud_start_vms(c, one, &e), ERR_OK, "%s", e.msg);
    wait_vm_state(c, ids[0], "running");

    const char *three[] = {ids[0], ids[1], ids[2], NULL};
    cr_assert_eq(cloud_delete_vms(c, three, &e), ERR_OK, "%s", e.msg);
    wait_vm_state(c, ids[0], "terminated");
    cr_assert_eq(cloud_start_vms(c, one, &e), ERR_CONFLICT, "a terminated VM cannot start: %s", e.msg);
    cr_assert_eq(cloud_stop_vms(c, (const char *[]){"i-00000000", NULL}, &e), ERR_NOT_FOUND, "%s", e.msg);
    cloud_free(c);
}

Test(cloud_client, eim_user_key_limited_by_policy_and_teardown_order) {
    struct account a = new_account();
    struct cloud *root = client_for(&a);
    struct err e = {0};
    char user[64], group[64], policy[64];
    th_unique("marketplace_", user, sizeof user);
    th_unique("mkt-meter-", group, sizeof group);
    th_unique("mkt-readvms-", policy, sizeof policy);

    struct cloud_users *users = NULL;
    cr_assert_eq(cloud_create_user(root, user, "/mkt/", "ops@example.com", &users, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(users->n, 1);
    cr_assert_str_eq(users->items[0].user_name, user);
    cr_assert_str_eq(users->items[0].path, "/mkt/");
    char user_id[64];
    snprintf(user_id, sizeof user_id, "%s", users->items[0].user_id);
    cloud_users_free(users);
    cr_assert_eq(cloud_create_user(root, user, "/mkt/", NULL, &users, &e), ERR_CONFLICT, "%s", e.msg);
    cr_assert_eq(cloud_read_users(root, NULL, &users, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(users->n, 1);
    cr_assert_str_eq(users->items[0].user_email, "ops@example.com");
    cloud_users_free(users);
    if (user_id[0]) {
        cr_assert_eq(cloud_read_users(root, (const char *[]){user_id, NULL}, &users, &e), ERR_OK, "%s", e.msg);
        cr_assert_eq(users->n, 1);
        cloud_users_free(users);
    }

    struct cloud_user_groups *groups = NULL;
    cr_assert_eq(cloud_create_user_group(root, group, NULL, &groups, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(groups->n, 1);
    cr_assert_str_eq(groups->items[0].name, group);
    cr_assert(strncmp(groups->items[0].user_group_id, "ug-", 3) == 0, "%s", groups->items[0].user_group_id);
    cloud_user_groups_free(groups);
    cr_assert_eq(cloud_read_user_groups(root, "/", NULL, &groups, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(groups->n, 1);
    cloud_user_groups_free(groups);

    struct cloud_policies *pols = NULL;
    static const char doc[] = "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"api:ReadVms\"],\"Resource\":[\"*\"]}]}";
    cr_assert_eq(cloud_create_policy(root, policy, doc, NULL, "metering", &pols, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(pols->n, 1);
    char orn[256];
    snprintf(orn, sizeof orn, "%s", pols->items[0].orn);
    cloud_policies_free(pols);
    cr_assert(strncmp(orn, "orn:ows:idauth::", 16) == 0 && strstr(orn, a.id) && strstr(orn, policy), "%s", orn);
    cr_assert_eq(cloud_read_policies(root, NULL, false, &pols, &e), ERR_OK, "%s", e.msg);
    bool listed = false;
    for (size_t i = 0; i < pols->n; i++)
        listed = listed || strcmp(pols->items[i].orn, orn) == 0;
    cr_assert(listed);
    cloud_policies_free(pols);

    cr_assert_eq(cloud_add_user_to_user_group(root, group, NULL, user, "/mkt/", &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_link_managed_policy_to_user_group(root, orn, group, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_read_policies(root, NULL, true, &pols, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(pols->n, 1, "only the linked policy");
    cloud_policies_free(pols);
    cr_assert_eq(cloud_delete_policy(root, orn, &e), ERR_CONFLICT, "a linked policy cannot go: %s", e.msg);

    struct cloud_access_keys *keys = NULL;
    cr_assert_eq(cloud_create_access_key(root, user, &keys, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(keys->n, 1);
    cr_assert_not_null(keys->items[0].secret_key);
    char ak[64], sk[64];
    snprintf(ak, sizeof ak, "%s", keys->items[0].access_key_id);
    snprintf(sk, sizeof sk, "%s", keys->items[0].secret_key);
    cr_assert_str_eq(keys->items[0].state, "ACTIVE");
    cloud_access_keys_free(keys);
    cr_assert_eq(cloud_read_access_keys(root, user, &keys, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(keys->n, 1);
    cr_assert_str_eq(keys->items[0].access_key_id, ak);
    cr_assert_null(keys->items[0].secret_key, "the secret is shown only once");
    cloud_access_keys_free(keys);

    /* The EIM key: ReadVms allowed, everything else refused. */
    struct cloud *eim = client_with(ak, sk, 3);
    struct cloud_vms *vms = NULL;
    cr_assert_eq(cloud_read_vms(eim, NULL, &vms, &e), ERR_OK, "%s", e.msg);
    cloud_vms_free(vms);
    struct cloud_images *imgs = NULL;
    cr_assert_eq(cloud_read_images(eim, NULL, &imgs, &e), ERR_FORBIDDEN, "%s", e.msg);
    cr_assert(strstr(e.msg, "ReadImages: AccessDenied 5") == e.msg, "%s", e.msg);
    cr_assert_eq(cloud_create_vms(eim, &(struct cloud_vm_create){.image_id = "ami-00000000"}, &vms, &e),
                 ERR_FORBIDDEN, "%s", e.msg);
    cr_assert_eq(cloud_create_user(eim, "intruder", NULL, NULL, &users, &e), ERR_FORBIDDEN, "%s", e.msg);

    /* Deletion order: the user cannot go while it has keys and a group; an ACTIVE key cannot go. */
    cr_assert_eq(cloud_delete_user(root, user, &e), ERR_CONFLICT, "%s", e.msg);
    cr_assert_eq(cloud_delete_access_key(root, user, ak, &e), ERR_CONFLICT, "%s", e.msg);
    cr_assert_eq(cloud_delete_user_group(root, group, NULL, false, &e), ERR_CONFLICT, "%s", e.msg);

    /* Teardown in the documented order. */
    cr_assert_eq(cloud_update_access_key(root, user, ak, false, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_read_vms(eim, NULL, &vms, &e), ERR_UNAUTHENTICATED, "an INACTIVE key is refused: %s", e.msg);
    cr_assert_eq(cloud_read_access_keys(root, user, &keys, &e), ERR_OK, "%s", e.msg);
    cr_assert_str_eq(keys->items[0].state, "INACTIVE");
    cloud_access_keys_free(keys);
    cr_assert_eq(cloud_delete_access_key(root, user, ak, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_user(root, user, &e), ERR_CONFLICT, "still in the group: %s", e.msg);
    cr_assert_eq(cloud_remove_user_from_user_group(root, group, NULL, user, "/mkt/", &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_unlink_managed_policy_from_user_group(root, orn, group, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_user(root, user, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_policy(root, orn, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_user_group(root, group, NULL, false, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_read_users(root, NULL, &users, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(users->n, 0);
    cloud_users_free(users);
    cr_assert_eq(cloud_read_user_groups(root, NULL, NULL, &groups, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(groups->n, 0);
    cloud_user_groups_free(groups);
    cr_assert_eq(cloud_delete_user(root, user, &e), ERR_NOT_FOUND, "%s", e.msg);
    cloud_free(eim);
    cloud_free(root);
}

Test(cloud_client, force_deletes_a_non_empty_group) {
    struct account a = new_account();
    struct cloud *root = client_for(&a);
    struct err e = {0};
    struct cloud_users *u = NULL;
    struct cloud_user_groups *g = NULL;
    cr_assert_eq(cloud_create_user(root, "member", NULL, NULL, &u, &e), ERR_OK, "%s", e.msg);
    cloud_users_free(u);
    cr_assert_eq(cloud_create_user_group(root, "grp", "/x/", &g, &e), ERR_OK, "%s", e.msg);
    cr_assert_str_eq(g->items[0].path, "/x/");
    cloud_user_groups_free(g);
    cr_assert_eq(cloud_add_user_to_user_group(root, "grp", "/x/", "member", NULL, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_user_group(root, "grp", "/x/", false, &e), ERR_CONFLICT, "%s", e.msg);
    cr_assert_eq(cloud_delete_user_group(root, "grp", "/x/", true, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_user(root, "member", &e), ERR_OK, "no group left: %s", e.msg);
    cloud_free(root);
}

Test(cloud_client, faults_are_retried_until_success) {
    struct account a = new_account();
    struct cloud *c = client_for(&a); /* max_tries 3 */
    struct err e = {0};
    sim_faults("{\"operations\":[\"ReadVms\"],\"status\":503,\"count\":2}");
    struct cloud_vms *vms = NULL;
    err_code rc = cloud_read_vms(c, NULL, &vms, &e);
    sim_faults(NULL);
    cr_assert_eq(rc, ERR_OK, "two 503 then success within 3 tries: %s", e.msg);
    cloud_vms_free(vms);

    sim_faults("{\"operations\":[\"ReadVms\"],\"status\":429,\"count\":2}");
    rc = cloud_read_vms(c, NULL, &vms, &e);
    sim_faults(NULL);
    cr_assert_eq(rc, ERR_OK, "two 429 then success within 3 tries: %s", e.msg);
    cloud_vms_free(vms);
    cloud_free(c);
}

Test(cloud_client, more_faults_than_tries_give_a_clear_error) {
    struct account a = new_account();
    struct cloud *c = client_for(&a); /* max_tries 3 */
    struct err e = {0};
    struct cloud_vms *vms = NULL;
    sim_faults("{\"operations\":[\"ReadVms\"],\"status\":503,\"count\":5}");
    err_code rc = cloud_read_vms(c, NULL, &vms, &e);
    sim_faults(NULL);
    cr_assert_eq(rc, ERR_UNAVAILABLE, "%s", e.msg);
    cr_assert(strstr(e.msg, "ReadVms: ") == e.msg && strstr(e.msg, "(after 3 tries)"), "%s", e.msg);

    sim_faults("{\"operations\":[\"ReadVms\"],\"status\":429,\"count\":5}");
    rc = cloud_read_vms(c, NULL, &vms, &e);
    sim_faults(NULL);
    cr_assert_eq(rc, ERR_THROTTLED, "%s", e.msg);
    cr_assert(strstr(e.msg, "(after 3 tries)"), "%s", e.msg);

    sim_faults("{\"operations\":[\"ReadVms\"],\"status\":500,\"count\":1}");
    struct cloud *once = client_with(a.ak, a.sk, 1);
    rc = cloud_read_vms(once, NULL, &vms, &e);
    sim_faults(NULL);
    cr_assert_eq(rc, ERR_UNAVAILABLE, "max_tries 1 means no retry: %s", e.msg);
    cr_assert(strstr(e.msg, "tries") == NULL, "%s", e.msg);
    cloud_free(once);

    /* Faults target only the named operations. */
    sim_faults("{\"operations\":[\"ReadImages\"],\"status\":503,\"count\":5}");
    rc = cloud_read_vms(c, NULL, &vms, &e);
    sim_faults(NULL);
    cr_assert_eq(rc, ERR_OK, "%s", e.msg);
    cloud_vms_free(vms);
    cloud_free(c);
}

/* The client, unchanged, against the emulator addressed as the cloud is: api.<region>.localhost.
 * It signs with its own Region ("osc:osc:<region>:api"); the emulator checks it against the
 * Region the host names, as the cloud's per-Region endpoints do. */
Test(cloud_client, host_named_endpoint) {
    struct account a = new_account();
    char endpoint[128];
    const char *port = strrchr(sim_url(), ':') + 1;
    snprintf(endpoint, sizeof endpoint, "http://api.%s.localhost:%s", REGION, port);
    struct cloud_config cfg = {.endpoint = endpoint, .region = REGION, .access_key = a.ak, .secret_key = a.sk,
                               .timeout_ms = 10000, .max_tries = 1};
    struct cloud *c = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_new(&cfg, &c, &e), ERR_OK, "%s", e.msg);
    struct cloud_accounts *l = NULL;
    cr_assert_eq(cloud_read_accounts(c, &l, &e), ERR_OK, "%s", e.msg);
    cr_assert_str_eq(l->items[0].account_id, a.id);
    cloud_accounts_free(l);
    cloud_free(c);
    /* a client configured for another Region than its endpoint's is refused */
    cfg.region = "cloudgouv-eu-west-1";
    cr_assert_eq(cloud_new(&cfg, &c, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_UNAUTHENTICATED, "%s", e.msg);
    cloud_free(c);
}
