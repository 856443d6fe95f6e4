/* Account-level reads: ReadAccounts (the caller's own account, with the profile fields) and
 * ReadRegions (no signature: the Regions the emulator knows, with the endpoints of the real
 * cloud). */
#include <stdio.h>

#include "api.h"

static const struct jsonv_field dry_run_fields[] = {API_DRY_RUN};
static const struct jsonv_schema dry_run_schema = JSONV_SCHEMA(dry_run_fields);

/* The caller's account with every profile field of the Account schema: the emulator knows only
 * the id and the e-mail, the others are empty. */
static err_code read_accounts(struct api_ctx *c) {
    static const char *const empty[] = {"City",        "CompanyName", "Country",     "CustomerId",
                                        "FirstName",   "JobTitle",    "LastName",    "MobileNumber",
                                        "PhoneNumber", "StateProvince", "VatNumber", "ZipCode"};
    json_t *a = json_pack("{s:s, s:s, s:[]}", "AccountId", c->account->id, "Email", c->account->email,
                          "AdditionalEmails");
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
        json_object_set_new(a, empty[i], json_string(""));
    json_object_set_new(c->res, "Accounts", json_pack("[o]", a));
    return ERR_OK;
}

static err_code read_regions(struct api_ctx *c) {
    json_t *regions = json_array();
    for (const char *const *r = state_regions; *r; r++) {
        char endpoint[128];
        snprintf(endpoint, sizeof endpoint, "api.%s.outscale.com", *r);
        json_array_append_new(regions, json_pack("{s:s, s:s}", "RegionName", *r, "Endpoint", endpoint));
    }
    json_object_set_new(c->res, "Regions", regions);
    return ERR_OK;
}

const struct api_op accounts_ops[] = {
    {"ReadAccounts", &dry_run_schema, read_accounts, true, false},
    {"ReadRegions", &dry_run_schema, read_regions, false, false},
    {NULL, NULL, NULL, false, false},
};
