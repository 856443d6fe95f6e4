/* Mail templates: loaded once at start from a folder, checked whole, then read-only (thread-safe
 * to share between workers).
 *
 * Layout of the folder, for each template <name> ([a-z][a-z0-9_]*):
 *   <name>.vars                the manifest: one declared variable per line, "name" or
 *                              "name secret"; '#' starts a comment
 *   <name>.<lang>.subject      one line
 *   <name>.<lang>.txt          the plain-text part (its own content only when a layout wraps it)
 *   <name>.<lang>.html         the HTML part (likewise)
 * for every language of tmpl_languages ("en", "fr"). Parts use {{variable}} placeholders. Besides
 * the declared variables, every template may use the built-ins: platform, public_url,
 * recipient_name, recipient_address.
 *
 * And once for the folder, each optional:
 *   _layout.txt, _layout.html  wrap that part of every template in every language. Placeholders:
 *                              the built-ins and the slots {{content}} (the template's part, exactly
 *                              once; its last line end is dropped), {{subject}} (the rendered
 *                              subject), {{footer}} (the language's footer) and {{lang}} ("en").
 *                              Subject and footer are inserted as values (HTML-escaped in HTML).
 *   _layout.<lang>.footer      one line per language, built-ins only; there exactly when a layout
 *                              uses {{footer}}
 *
 * Loading fails, naming the file and line, when a file is missing or unexpected, a placeholder is
 * malformed or names an undeclared variable (in a layout: anything but a built-in or a slot), a
 * declared variable is not used in some language, or a secret variable appears in a subject. So a
 * template cannot refer to a variable that a command is not required to carry: the
 * missing-variable error happens at load time, not in a mail. */
#ifndef NOTIFIER_TEMPLATES_H
#define NOTIFIER_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define TMPL_LANG_COUNT 2
extern const char *const tmpl_languages[TMPL_LANG_COUNT]; /* "en", "fr" */

#define TMPL_BUILTIN_COUNT 4
extern const char *const tmpl_builtins[TMPL_BUILTIN_COUNT];

#define TMPL_FILE_MAX (64 * 1024)

struct tmpl_var {
    const char *name;
    bool secret; /* kept only until the mail is sent or failed; never shown to operators */
};

struct tmpl;     /* one template, all languages */
struct tmpl_set; /* every template of a folder */

/* Loads and checks every template of `dir`. On success *out is owned (tmpl_set_free). */
err_code tmpl_set_new(const char *dir, struct tmpl_set **out, struct err *e) MKT_MUST_USE;
void tmpl_set_free(struct tmpl_set *s); /* NULL is a no-op */

size_t tmpl_set_count(const struct tmpl_set *s);
const struct tmpl *tmpl_set_at(const struct tmpl_set *s, size_t i); /* sorted by name; borrowed */
const struct tmpl *tmpl_find(const struct tmpl_set *s, const char *name); /* NULL when unknown */

const char *tmpl_name(const struct tmpl *t);
size_t tmpl_var_count(const struct tmpl *t);
const struct tmpl_var *tmpl_var_at(const struct tmpl *t, size_t i); /* borrowed */
/* The declared variable `name`, or NULL. */
const struct tmpl_var *tmpl_var_find(const struct tmpl *t, const char *name);

/* A value for a placeholder; strings are borrowed for the call. */
struct tmpl_binding {
    const char *name;
    const char *value;
};

/* The three rendered parts, UTF-8 with LF line ends; owned (tmpl_output_cleanup). */
struct tmpl_output {
    char *subject; /* one line: newlines and tabs in values become spaces */
    char *text;    /* values as given */
    char *html;    /* values HTML-escaped */
};

/* Renders `t` in `lang` (one of tmpl_languages; anything else is ERR_INVALID) with the given
 * bindings (built-ins included), the text and HTML parts inside the folder's layouts. A
 * placeholder without binding is ERR_INVALID. `out` is written only on success. */
err_code tmpl_render(const struct tmpl *t, const char *lang, const struct tmpl_binding *b, size_t n,
                     struct tmpl_output *out, struct err *e) MKT_MUST_USE;
void tmpl_output_cleanup(struct tmpl_output *o);

#endif
