/* Templates: the shipped set loads and renders in both languages, each part wrapped by the
 * folder's layout in the mail's language; each kind of broken template folder (layouts included) is
 * refused at load time with a reason naming the file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "../../../services/notifier/templates.h"

static const char *const shipped[] = {"org_validated",   "product_unpublished", "reset_password",
                                      "review_approved", "review_rejected",     "set_password",
                                      "version_published", "version_unpublished"};

Test(templates, shipped_set_loads) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(th_templates_dir(), &s, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(tmpl_set_count(s), sizeof shipped / sizeof shipped[0]);
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        cr_expect_not_null(tmpl_find(s, shipped[i]), "%s", shipped[i]);
        cr_expect_str_eq(tmpl_name(tmpl_set_at(s, i)), shipped[i], "sorted by name");
    }
    const struct tmpl *t = tmpl_find(s, "set_password");
    cr_assert_not_null(tmpl_var_find(t, "token"));
    cr_expect(tmpl_var_find(t, "token")->secret);
    cr_expect_not(tmpl_var_find(t, "organization_name")->secret);
    cr_expect_null(tmpl_find(s, "nope"));
    tmpl_set_free(s);
}

static const struct tmpl_binding base[] = {
    {"platform", "OUTSCALE Marketplace"},
    {"public_url", "https://marketplace.example"},
    {"recipient_name", "Jane <Doe> & Co"},
    {"recipient_address", "jane@example.com"},
    {"organization_name", "ACME\nSAS"},
    {"token", "tok_ABC-123"},
};

Test(templates, render_both_languages) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(th_templates_dir(), &s, &e), ERR_OK, "%s", e.msg);
    const struct tmpl *t = tmpl_find(s, "set_password");
    struct tmpl_output en, fr;
    cr_assert_eq(tmpl_render(t, "en", base, 6, &en, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(tmpl_render(t, "fr", base, 6, &fr, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(en.subject, "Set your password for OUTSCALE Marketplace");
    cr_expect_str_eq(fr.subject, "Définissez votre mot de passe OUTSCALE Marketplace");
    const char *link = "https://marketplace.example/set-password?token=tok_ABC-123";
    cr_expect(strstr(en.text, link) && strstr(fr.text, link) && strstr(en.html, link) && strstr(fr.html, link));
    cr_expect(strstr(en.text, "Hello Jane <Doe> & Co,") != NULL, "text part: values as given");
    cr_expect(strstr(en.html, "Hello Jane &lt;Doe&gt; &amp; Co,") != NULL, "html part: values escaped");
    cr_expect(strstr(fr.text, "Bonjour Jane") != NULL);
    cr_expect(strstr(en.text, "24 hours") != NULL, "ORG-2/ACC-3: the validity is stated");
    cr_expect(strstr(fr.text, "24 heures") != NULL);
    tmpl_output_cleanup(&en);
    tmpl_output_cleanup(&fr);
    tmpl_set_free(s);
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A shipped template rendered with `base` (the output owns its strings, not the set's). */
static struct tmpl_output render_shipped(const char *name, const char *lang) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    struct tmpl_output o = {0};
    cr_assert_eq(tmpl_set_new(th_templates_dir(), &s, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(tmpl_render(tmpl_find(s, name), lang, base, 6, &o, &e), ERR_OK, "%s.%s: %s", name, lang, e.msg);
    tmpl_set_free(s);
    return o;
}

/* The shipped templates hold only their content: page, title, header and footer come from the
 * layout, in the mail's language, around the template's own part. */
Test(templates, wrapped_by_language_layout) {
    struct tmpl_output en = render_shipped("reset_password", "en"), fr = render_shipped("reset_password", "fr");

    const char *fr_footer =
        "Ce message a été envoyé automatiquement par OUTSCALE Marketplace ; merci de ne pas y répondre.";
    cr_expect(starts_with(fr.html, "<!DOCTYPE html>\n<html lang=\"fr\">\n"), "%.40s", fr.html);
    cr_expect(strstr(fr.html, "<title>Réinitialisez votre mot de passe OUTSCALE Marketplace</title>") != NULL,
              "the title is the subject");
    const char *header = strstr(fr.html, ">OUTSCALE Marketplace</td></tr>");
    const char *content = strstr(fr.html, "<p style=\"margin:0 0 16px 0;\">Bonjour Jane &lt;Doe&gt; &amp; Co,</p>");
    const char *footer = strstr(fr.html, fr_footer);
    cr_expect(header && content && footer && header < content && content < footer, "header, content, footer");
    cr_expect(ends_with(fr.html, "</body>\n</html>\n"));
    cr_expect(starts_with(fr.text, "Bonjour Jane <Doe> & Co,\n"), "the text part starts with its content");
    char tail[256];
    snprintf(tail, sizeof tail, "ne change pas.\n\n-- \n%s\n", fr_footer);
    cr_expect(ends_with(fr.text, tail), "%s", fr.text);

    cr_expect(starts_with(en.html, "<!DOCTYPE html>\n<html lang=\"en\">\n"), "%.40s", en.html);
    cr_expect(strstr(en.html, "<title>Reset your OUTSCALE Marketplace password</title>") != NULL);
    const char *en_footer = "This message was sent automatically by OUTSCALE Marketplace; please do not reply to it.";
    cr_expect(strstr(en.html, en_footer) != NULL && strstr(en.html, "Ce message") == NULL);
    cr_expect(strstr(en.text, "does not change.\n\n-- \nThis message was sent automatically") != NULL, "%s", en.text);
    cr_expect(strstr(en.text, "Ce message") == NULL);
    tmpl_output_cleanup(&en);
    tmpl_output_cleanup(&fr);
}

Test(templates, subject_values_are_flattened) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(th_templates_dir(), &s, &e), ERR_OK, "%s", e.msg);
    struct tmpl_output o;
    cr_assert_eq(tmpl_render(tmpl_find(s, "org_validated"), "en", base, 6, &o, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(o.subject, "ACME SAS is validated on OUTSCALE Marketplace");
    cr_expect(strstr(o.text, "ACME\nSAS") != NULL);
    tmpl_output_cleanup(&o);
    tmpl_set_free(s);
}

Test(templates, render_errors) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(th_templates_dir(), &s, &e), ERR_OK, "%s", e.msg);
    struct tmpl_output o = {0};
    cr_expect_eq(tmpl_render(tmpl_find(s, "set_password"), "de", base, 6, &o, &e), ERR_INVALID);
    cr_expect_eq(tmpl_render(tmpl_find(s, "set_password"), "en", base, 5, &o, &e), ERR_INVALID, "token missing");
    cr_expect(strstr(e.msg, "token") != NULL, "%s", e.msg);
    cr_expect_null(o.text, "out untouched on failure");
    tmpl_set_free(s);
}

/* ---- broken folders ---- */

static char dir[128];

static void put(const char *name, const char *content) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(content, f);
    fclose(f);
}

static void good_template(const char *name) {
    char f[128];
    snprintf(f, sizeof f, "%s.vars", name);
    put(f, "# a comment\nlink_token secret\ncity\n");
    const char *langs[] = {"en", "fr"};
    for (int i = 0; i < 2; i++) {
        snprintf(f, sizeof f, "%s.%s.subject", name, langs[i]);
        put(f, "Hi from {{ city }}\n");
        snprintf(f, sizeof f, "%s.%s.txt", name, langs[i]);
        put(f, "{{public_url}}/x?t={{link_token}}\n");
        snprintf(f, sizeof f, "%s.%s.html", name, langs[i]);
        put(f, "<a href=\"{{public_url}}/x?t={{link_token}}\">{{recipient_name}}</a>\n");
    }
}

static void setup_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/notifier-tmpl-%d", (int)getpid());
    mkdir(dir, 0700);
    good_template("alpha");
}

static void teardown_dir(void) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

static void expect_refused(const char *needle) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_expect_eq(tmpl_set_new(dir, &s, &e), ERR_INVALID, "should be refused (%s)", needle);
    cr_expect_null(s);
    cr_expect(strstr(e.msg, needle) != NULL, "reason '%s' should contain '%s'", e.msg, needle);
}

TestSuite(broken, .init = setup_dir, .fini = teardown_dir);

Test(broken, good_folder_loads) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(dir, &s, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(tmpl_set_count(s), 1);
    tmpl_set_free(s);
}

Test(broken, undeclared_variable) {
    put("alpha.fr.txt", "{{public_url}}/x?t={{link_token}} {{citty}}\n");
    expect_refused("alpha.fr.txt: variable 'citty' is not declared");
}

Test(broken, declared_but_unused_in_a_language) {
    put("alpha.fr.txt", "{{public_url}}/x\n");
    put("alpha.fr.html", "<p>{{recipient_name}}</p>\n");
    expect_refused("variable 'link_token' is declared but not used in language 'fr'");
}

Test(broken, missing_part) {
    char path[256];
    snprintf(path, sizeof path, "%s/alpha.fr.html", dir);
    cr_assert_eq(unlink(path), 0);
    expect_refused("alpha.fr.html: missing");
}

Test(broken, malformed_placeholder) {
    put("alpha.en.txt", "{{public_url}}/x?t={{link_token}} {{ Bad-Name }}\n");
    expect_refused("alpha.en.txt:1: malformed placeholder");
}

Test(broken, unclosed_placeholder) {
    put("alpha.en.html", "<p>\n{{link_token\n}}</p>\n");
    expect_refused("alpha.en.html:2: '{{' without '}}'");
}

Test(broken, secret_in_subject) {
    put("alpha.en.subject", "Your token {{link_token}} for {{city}}\n");
    expect_refused("secret variable 'link_token' in a subject");
}

Test(broken, multi_line_subject) {
    put("alpha.en.subject", "Hi {{city}}\nsecond line\n");
    expect_refused("alpha.en.subject: must be exactly one non-empty line");
}

Test(broken, orphan_part) {
    put("beta.en.txt", "hello\n");
    expect_refused("beta.en.txt: no manifest beta.vars");
}

Test(broken, unsupported_language) {
    put("alpha.de.txt", "hallo\n");
    expect_refused("alpha.de.txt: unsupported language");
}

Test(broken, manifest_unknown_flag) {
    put("alpha.vars", "link_token secrett\ncity\n");
    expect_refused("only the flag 'secret' is known");
}

Test(broken, manifest_duplicate) {
    put("alpha.vars", "link_token secret\ncity\ncity\n");
    expect_refused("variable 'city' declared twice");
}

Test(broken, manifest_builtin) {
    put("alpha.vars", "link_token secret\ncity\nplatform\n");
    expect_refused("'platform' is a built-in variable");
}

Test(broken, empty_folder) {
    char path[256];
    snprintf(path, sizeof path, "%s/alpha.vars", dir);
    cr_assert_eq(unlink(path), 0);
    put("README", "nothing\n");
    /* the parts are now orphans, but "no manifest" is reported first */
    expect_refused("no <name>.vars manifest");
}

/* ---- layouts ---- */

static void good_layout(void) {
    put("_layout.html",
        "<html lang=\"{{lang}}\"><title>{{ subject }}</title>\n{{content}}\n<i>{{footer}}</i></html>\n");
    put("_layout.txt", "{{content}}\n-- \n{{footer}}\n");
    put("_layout.en.footer", "Sent by {{platform}}\n");
    put("_layout.fr.footer", "Envoyé par {{platform}}\n");
}

Test(broken, layout_wraps_each_language) {
    good_layout();
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_assert_eq(tmpl_set_new(dir, &s, &e), ERR_OK, "%s", e.msg);
    cr_expect_eq(tmpl_set_count(s), 1, "layout files are not templates");
    const struct tmpl_binding b[] = {{"platform", "P&Q"}, {"public_url", "https://m"}, {"recipient_name", "R"},
                                     {"recipient_address", "r@x"}, {"link_token", "T"}, {"city", "<Nice>\nsur mer"}};
    struct tmpl_output o;
    cr_assert_eq(tmpl_render(tmpl_find(s, "alpha"), "fr", b, 6, &o, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(o.subject, "Hi from <Nice> sur mer");
    cr_expect_str_eq(o.html, "<html lang=\"fr\"><title>Hi from &lt;Nice&gt; sur mer</title>\n"
                             "<a href=\"https://m/x?t=T\">R</a>\n<i>Envoyé par P&amp;Q</i></html>\n");
    cr_expect_str_eq(o.text, "https://m/x?t=T\n-- \nEnvoyé par P&Q\n");
    tmpl_output_cleanup(&o);
    cr_assert_eq(tmpl_render(tmpl_find(s, "alpha"), "en", b, 6, &o, &e), ERR_OK, "%s", e.msg);
    cr_expect_str_eq(o.text, "https://m/x?t=T\n-- \nSent by P&Q\n");
    tmpl_output_cleanup(&o);
    cr_expect_eq(tmpl_render(tmpl_find(s, "alpha"), "en", b + 1, 5, &o, &e), ERR_INVALID, "platform missing");
    cr_expect(strstr(e.msg, "platform") != NULL, "%s", e.msg);
    tmpl_set_free(s);
}

Test(broken, layout_unknown_variable) {
    good_layout();
    put("_layout.html", "<html>\n{{content}} {{city}}</html>\n");
    expect_refused("_layout.html:2: 'city' is not available here");
}

Test(broken, layout_without_content) {
    good_layout();
    put("_layout.txt", "-- \n{{footer}}\n");
    expect_refused("_layout.txt: must use {{content}} exactly once");
}

Test(broken, layout_footer_missing_in_a_language) {
    good_layout();
    char path[256];
    snprintf(path, sizeof path, "%s/_layout.fr.footer", dir);
    cr_assert_eq(unlink(path), 0);
    expect_refused("_layout.fr.footer: missing");
}

Test(broken, layout_footer_uses_a_slot) {
    good_layout();
    put("_layout.en.footer", "About {{subject}}\n");
    expect_refused("_layout.en.footer:1: 'subject' is not available here");
}

Test(broken, layout_stray_file) {
    good_layout();
    put("_layout.en.html", "{{content}}\n");
    expect_refused("_layout.en.html: not a layout file");
}

Test(broken, layout_unused_footer) {
    put("_layout.en.footer", "Sent by {{platform}}\n");
    expect_refused("_layout.en.footer: not a layout file");
}

Test(broken, missing_folder) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_expect_eq(tmpl_set_new("/nonexistent/templates", &s, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "/nonexistent/templates") != NULL, "%s", e.msg);
}
