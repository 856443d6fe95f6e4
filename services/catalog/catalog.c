/* The catalog's start-up logic: the settings that a table cannot check alone, and the values the
 * handlers derive from them. */
#include "catalog.h"

#include <string.h>

err_code catalog_check_config(struct catalog *c, struct err *e) {
    if (strcmp(c->cfg.review, "none") != 0 && strcmp(c->cfg.review, "required") != 0)
        return err_set(e, ERR_INVALID, "configuration: MKT_CATALOG_REVIEW: must be none or required");
    c->review_required = strcmp(c->cfg.review, "required") == 0;
    cursor_key_init(&c->cursor_key, c->cfg.cursor_key);
    return ERR_OK;
}
