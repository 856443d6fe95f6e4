/* Templates: the shipped set loads and renders in both languages; each kind of broken template
 * folder is refused at load time with a reason naming the file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "../../../services/notifier/templates.h"

static const char *const shipped[] = {"org_validated",     "product_unpublished", "reset_password",
                                      "set_password",      "version_published",   "version_unpublished"};

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

Test(broken, missing_folder) {
    struct tmpl_set *s = NULL;
    struct err e = {0};
    cr_expect_eq(tmpl_set_new("/nonexistent/templates", &s, &e), ERR_INVALID);
    cr_expect(strstr(e.msg, "/nonexistent/templates") != NULL, "%s", e.msg);
}
