/* Template loading, checking and rendering. Each part is parsed once into literal and placeholder
 * segments; loading checks every placeholder against the manifest (and every declared variable
 * against its use in each language), and every layout placeholder against the built-ins and the
 * slots, so that rendering a checked command cannot fail on a variable. Rendering escapes values
 * for HTML and flattens them for the subject line; a wrapped part is rendered as its layout, with
 * the slots filled in place. */
#include "templates.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

const char *const tmpl_languages[TMPL_LANG_COUNT] = {"en", "fr"};
const char *const tmpl_builtins[TMPL_BUILTIN_COUNT] = {"platform", "public_url", "recipient_name",
                                                       "recipient_address"};

enum part_kind { PART_SUBJECT, PART_TEXT, PART_HTML, PART_COUNT };
static const char *const part_ext[PART_COUNT] = {"subject", "txt", "html"};

struct segment {
    const char *text; /* points into the part's source: the literal, or where the placeholder starts */
    size_t len;       /* literal's length; 0 for a placeholder */
    char *var;        /* placeholder name (owned), or NULL for a literal */
};

struct part {
    char *src;
    struct segment *segs;
    size_t n;
};

/* The folder's layout: _layout.txt and _layout.html (each optional) wrap that part of every
 * template, in every language; _layout.<lang>.footer is the language's footer line, present
 * exactly when a layout uses {{footer}}. */
enum slot { SLOT_CONTENT, SLOT_SUBJECT, SLOT_FOOTER, SLOT_LANG, SLOT_COUNT };
static const char *const slot_names[SLOT_COUNT] = {"content", "subject", "footer", "lang"};
#define LAYOUT "_layout"

struct layout {
    struct part wrap[PART_COUNT]; /* [PART_TEXT], [PART_HTML]; src NULL when absent */
    struct part footer[TMPL_LANG_COUNT];
    bool uses_footer;
};

struct tmpl {
    char *name;
    struct tmpl_var *vars;
    size_t n_vars;
    struct part parts[TMPL_LANG_COUNT][PART_COUNT]; /* the template's own files */
    const struct layout *layout;                    /* the set's */
};

struct tmpl_set {
    struct tmpl **items;
    size_t n;
    struct layout layout;
};

/* ---- small helpers ------------------------------------------------------------------------------ */

static bool valid_name(const char *s, size_t len) {
    if (len == 0 || len > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool is_builtin(const char *name) {
    for (int i = 0; i < TMPL_BUILTIN_COUNT; i++)
        if (strcmp(tmpl_builtins[i], name) == 0)
            return true;
    return false;
}

static int slot_index(const char *name) {
    for (int i = 0; i < SLOT_COUNT; i++)
        if (strcmp(slot_names[i], name) == 0)
            return i;
    return -1;
}

static int lang_index(const char *lang) {
    for (int i = 0; i < TMPL_LANG_COUNT; i++)
        if (strcmp(tmpl_languages[i], lang) == 0)
            return i;
    return -1;
}

/* Reads a whole file (at most TMPL_FILE_MAX bytes) into *out (owned). ERR_NOT_FOUND when absent. */
static err_code read_file(const char *path, const char *shown, char **out, struct err *e) {
    char *buf = NULL;
    err_code code = ERR_OK;
    FILE *f = fopen(path, "rb");
    if (!f) {
        code = err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_INVALID, "templates: %s: %s", shown, strerror(errno));
        goto done;
    }
    buf = malloc(TMPL_FILE_MAX + 2);
    if (!buf) {
        code = err_set(e, ERR_INTERNAL, "templates: out of memory");
        goto done;
    }
    size_t n = fread(buf, 1, TMPL_FILE_MAX + 1, f);
    if (ferror(f)) {
        code = err_set(e, ERR_INVALID, "templates: %s: read error", shown);
        goto done;
    }
    if (n > TMPL_FILE_MAX) {
        code = err_set(e, ERR_INVALID, "templates: %s: larger than %d bytes", shown, TMPL_FILE_MAX);
        goto done;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        code = err_set(e, ERR_INVALID, "templates: %s: contains a NUL byte", shown);
        goto done;
    }
    *out = buf;
    buf = NULL;
done:
    free(buf);
    if (f)
        fclose(f);
    return code;
}

static int line_of(const char *src, const char *at) {
    int line = 1;
    for (const char *p = src; p < at; p++)
        line += *p == '\n';
    return line;
}

/* A subject or footer: one non-empty line; the final line end is dropped. */
static err_code one_line(char *src, const char *shown, struct err *e) {
    size_t len = strlen(src);
    while (len && (src[len - 1] == '\n' || src[len - 1] == '\r'))
        src[--len] = '\0';
    if (strchr(src, '\n') || len == 0)
        return err_set(e, ERR_INVALID, "templates: %s: must be exactly one non-empty line", shown);
    return ERR_OK;
}

/* ---- parsing ------------------------------------------------------------------------------------ */

static void part_cleanup(struct part *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->segs[i].var);
    free(p->segs);
    free(p->src);
    memset(p, 0, sizeof *p);
}

static err_code add_segment(struct part *p, size_t *cap, const char *text, size_t len, char *var, struct err *e) {
    if (p->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct segment *s = realloc(p->segs, ncap * sizeof *s);
        if (!s) {
            free(var);
            return err_set(e, ERR_INTERNAL, "templates: out of memory");
        }
        p->segs = s;
        *cap = ncap;
    }
    p->segs[p->n++] = (struct segment){.text = text, .len = len, .var = var};
    return ERR_OK;
}

/* Splits src (taken) into segments. Placeholders are "{{ name }}" (spaces optional). */
static err_code parse_part(char *src, const char *shown, struct part *out, struct err *e) {
    struct part p = {.src = src};
    size_t cap = 0;
    err_code code = ERR_OK;
    const char *s = src;
    for (;;) {
        const char *open = strstr(s, "{{");
        if (!open) {
            if (*s)
                code = add_segment(&p, &cap, s, strlen(s), NULL, e);
            break;
        }
        if (open > s && (code = add_segment(&p, &cap, s, (size_t)(open - s), NULL, e)) != ERR_OK)
            break;
        const char *close = strstr(open + 2, "}}");
        const char *nl = strchr(open + 2, '\n');
        if (!close || (nl && nl < close)) {
            code = err_set(e, ERR_INVALID, "templates: %s:%d: '{{' without '}}' on the same line", shown,
                           line_of(src, open));
            break;
        }
        const char *a = open + 2, *b = close;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        if (!valid_name(a, (size_t)(b - a))) {
            code = err_set(e, ERR_INVALID, "templates: %s:%d: malformed placeholder '%.*s'", shown, line_of(src, open),
                           (int)(close + 2 - open) < 80 ? (int)(close + 2 - open) : 80, open);
            break;
        }
        char *name = strndup(a, (size_t)(b - a));
        if (!name) {
            code = err_set(e, ERR_INTERNAL, "templates: out of memory");
            break;
        }
        if ((code = add_segment(&p, &cap, open, 0, name, e)) != ERR_OK)
            break;
        s = close + 2;
    }
    if (code != ERR_OK) {
        part_cleanup(&p);
        return code;
    }
    *out = p;
    return ERR_OK;
}

static void tmpl_free(struct tmpl *t) {
    if (!t)
        return;
    for (int l = 0; l < TMPL_LANG_COUNT; l++)
        for (int k = 0; k < PART_COUNT; k++)
            part_cleanup(&t->parts[l][k]);
    for (size_t i = 0; i < t->n_vars; i++)
        free((char *)t->vars[i].name);
    free(t->vars);
    free(t->name);
    free(t);
}

/* Parses "<name>.vars": one "name [secret]" per line, '#' comments. */
static err_code parse_manifest(struct tmpl *t, char *text, const char *shown, struct err *e) {
    size_t cap = 0;
    for (char *save = NULL, *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(ln, '#');
        if (hash)
            *hash = '\0';
        char *tok_save = NULL;
        char *name = strtok_r(ln, " \t\r", &tok_save);
        if (!name)
            continue;
        char *flag = strtok_r(NULL, " \t\r", &tok_save);
        char *extra = flag ? strtok_r(NULL, " \t\r", &tok_save) : NULL;
        if (!valid_name(name, strlen(name)))
            return err_set(e, ERR_INVALID, "templates: %s: bad variable name '%.64s'", shown, name);
        if (is_builtin(name))
            return err_set(e, ERR_INVALID, "templates: %s: '%s' is a built-in variable", shown, name);
        if ((flag && strcmp(flag, "secret") != 0) || extra)
            return err_set(e, ERR_INVALID, "templates: %s: variable '%s': only the flag 'secret' is known", shown,
                           name);
        for (size_t i = 0; i < t->n_vars; i++)
            if (strcmp(t->vars[i].name, name) == 0)
                return err_set(e, ERR_INVALID, "templates: %s: variable '%s' declared twice", shown, name);
        if (t->n_vars == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct tmpl_var *v = realloc(t->vars, ncap * sizeof *v);
            if (!v)
                return err_set(e, ERR_INTERNAL, "templates: out of memory");
            t->vars = v;
            cap = ncap;
        }
        char *copy = strdup(name);
        if (!copy)
            return err_set(e, ERR_INTERNAL, "templates: out of memory");
        t->vars[t->n_vars++] = (struct tmpl_var){.name = copy, .secret = flag != NULL};
    }
    return ERR_OK;
}

/* Every placeholder is declared or built in; every declared variable is used in each language;
 * no secret in a subject (subjects end up in mail clients' lists and notifications). */
static err_code check_template(const struct tmpl *t, struct err *e) {
    for (int l = 0; l < TMPL_LANG_COUNT; l++) {
        for (int k = 0; k < PART_COUNT; k++) {
            const struct part *p = &t->parts[l][k];
            for (size_t i = 0; i < p->n; i++) {
                const char *v = p->segs[i].var;
                if (!v || is_builtin(v))
                    continue;
                const struct tmpl_var *d = tmpl_var_find(t, v);
                if (!d)
                    return err_set(e, ERR_INVALID,
                                   "templates: %s.%s.%s: variable '%s' is not declared in %s.vars (built-ins: "
                                   "platform, public_url, recipient_name, recipient_address)",
                                   t->name, tmpl_languages[l], part_ext[k], v, t->name);
                if (d->secret && k == PART_SUBJECT)
                    return err_set(e, ERR_INVALID, "templates: %s.%s.subject: secret variable '%s' in a subject",
                                   t->name, tmpl_languages[l], v);
            }
        }
        for (size_t j = 0; j < t->n_vars; j++) {
            bool used = false;
            for (int k = 0; k < PART_COUNT && !used; k++)
                for (size_t i = 0; i < t->parts[l][k].n && !used; i++)
                    used = t->parts[l][k].segs[i].var && strcmp(t->parts[l][k].segs[i].var, t->vars[j].name) == 0;
            if (!used)
                return err_set(e, ERR_INVALID, "templates: %s: variable '%s' is declared but not used in language '%s'",
                               t->name, t->vars[j].name, tmpl_languages[l]);
        }
    }
    return ERR_OK;
}

static err_code load_template(const char *dir, const char *name, const struct layout *lay, struct tmpl **out,
                              struct err *e) {
    char path[4096], shown[256];
    char *text = NULL;
    err_code code = ERR_OK;
    struct tmpl *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name))) {
        code = err_set(e, ERR_INTERNAL, "templates: out of memory");
        goto done;
    }
    t->layout = lay;
    snprintf(path, sizeof path, "%s/%s.vars", dir, name);
    snprintf(shown, sizeof shown, "%s.vars", name);
    if ((code = read_file(path, shown, &text, e)) != ERR_OK || (code = parse_manifest(t, text, shown, e)) != ERR_OK)
        goto done;
    for (int l = 0; l < TMPL_LANG_COUNT; l++) {
        for (int k = 0; k < PART_COUNT; k++) {
            char *src = NULL;
            snprintf(path, sizeof path, "%s/%s.%s.%s", dir, name, tmpl_languages[l], part_ext[k]);
            snprintf(shown, sizeof shown, "%s.%s.%s", name, tmpl_languages[l], part_ext[k]);
            if ((code = read_file(path, shown, &src, e)) != ERR_OK) {
                if (code == ERR_NOT_FOUND)
                    code = err_set(e, ERR_INVALID, "templates: %s: missing (every template needs a subject, txt and "
                                                   "html part in every language)", shown);
                goto done;
            }
            if (k == PART_SUBJECT && (code = one_line(src, shown, e)) != ERR_OK) {
                free(src);
                goto done;
            }
            size_t len = strlen(src);
            if (lay->wrap[k].src && len && src[len - 1] == '\n') /* {{content}} stands on its own line */
                src[len - 1] = '\0';
            if ((code = parse_part(src, shown, &t->parts[l][k], e)) != ERR_OK)
                goto done;
        }
    }
    if ((code = check_template(t, e)) != ERR_OK)
        goto done;
    *out = t;
    t = NULL;
done:
    free(text);
    tmpl_free(t);
    return code;
}

/* Reads and parses dir/<shown>; *found false (and ERR_OK) when the file is absent. */
static err_code load_optional(const char *dir, const char *shown, bool line, struct part *out, bool *found,
                              struct err *e) {
    char path[4096];
    char *src = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, shown);
    err_code code = read_file(path, shown, &src, e);
    *found = code == ERR_OK;
    if (code == ERR_NOT_FOUND) {
        err_clear(e);
        return ERR_OK;
    }
    if (code == ERR_OK && line)
        code = one_line(src, shown, e);
    if (code != ERR_OK) {
        free(src);
        return code;
    }
    return parse_part(src, shown, out, e);
}

/* Layout placeholders are built-ins or slots (a footer's, built-ins only), {{content}} once. */
static err_code check_layout_part(const struct part *p, const char *shown, bool footer, bool *uses_footer,
                                  struct err *e) {
    int contents = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *v = p->segs[i].var;
        if (!v || is_builtin(v))
            continue;
        int slot = footer ? -1 : slot_index(v);
        if (slot < 0)
            return err_set(e, ERR_INVALID, "templates: %s:%d: '%s' is not available here (built-ins: platform, "
                           "public_url, recipient_name, recipient_address%s)", shown, line_of(p->src, p->segs[i].text),
                           v, footer ? "" : "; slots: content, subject, footer, lang");
        contents += slot == SLOT_CONTENT;
        if (slot == SLOT_FOOTER)
            *uses_footer = true;
    }
    if (!footer && contents != 1)
        return err_set(e, ERR_INVALID, "templates: %s: must use {{content}} exactly once", shown);
    return ERR_OK;
}

static err_code load_layout(const char *dir, struct layout *lay, struct err *e) {
    char shown[64];
    bool found;
    err_code code;
    for (int k = PART_TEXT; k < PART_COUNT; k++) {
        snprintf(shown, sizeof shown, LAYOUT ".%s", part_ext[k]);
        if ((code = load_optional(dir, shown, false, &lay->wrap[k], &found, e)) != ERR_OK ||
            (found && (code = check_layout_part(&lay->wrap[k], shown, false, &lay->uses_footer, e)) != ERR_OK))
            return code;
    }
    for (int l = 0; lay->uses_footer && l < TMPL_LANG_COUNT; l++) {
        snprintf(shown, sizeof shown, LAYOUT ".%s.footer", tmpl_languages[l]);
        if ((code = load_optional(dir, shown, true, &lay->footer[l], &found, e)) != ERR_OK)
            return code;
        if (!found)
            return err_set(e, ERR_INVALID, "templates: %s: missing (a layout uses {{footer}})", shown);
        if ((code = check_layout_part(&lay->footer[l], shown, true, NULL, e)) != ERR_OK)
            return code;
    }
    return ERR_OK;
}

static void layout_cleanup(struct layout *lay) {
    for (int k = 0; k < PART_COUNT; k++)
        part_cleanup(&lay->wrap[k]);
    for (int l = 0; l < TMPL_LANG_COUNT; l++)
        part_cleanup(&lay->footer[l]);
}

/* A "_layout." file that load_layout read: a typo or a stray file is refused. */
static bool is_layout_file(const struct layout *lay, const char *file) {
    char want[64];
    for (int k = PART_TEXT; k < PART_COUNT; k++) {
        snprintf(want, sizeof want, LAYOUT ".%s", part_ext[k]);
        if (strcmp(file, want) == 0)
            return true;
    }
    for (int l = 0; lay->uses_footer && l < TMPL_LANG_COUNT; l++) {
        snprintf(want, sizeof want, LAYOUT ".%s.footer", tmpl_languages[l]);
        if (strcmp(file, want) == 0)
            return true;
    }
    return false;
}

/* Names a folder entry belongs to: "<name>.vars" gives (name, NULL), "<name>.<lang>.<ext>" gives
 * (name, lang); anything else is not ours. Returns false for files to ignore (dot files, docs). */
static bool split_entry(const char *file, char *name, size_t n, char *lang, size_t nl, const char **ext) {
    if (file[0] == '.')
        return false;
    const char *dot = strrchr(file, '.');
    if (!dot)
        return false;
    *ext = dot + 1;
    if (strcmp(*ext, "vars") == 0) {
        snprintf(name, n, "%.*s", (int)(dot - file), file);
        lang[0] = '\0';
        return true;
    }
    bool ours = false;
    for (int k = 0; k < PART_COUNT; k++)
        ours |= strcmp(*ext, part_ext[k]) == 0;
    if (!ours)
        return false;
    const char *ldot = dot - 1;
    while (ldot > file && *ldot != '.')
        ldot--;
    if (ldot == file) {
        snprintf(name, n, "%.*s", (int)(dot - file), file);
        lang[0] = '?';
        lang[1] = '\0';
        return true;
    }
    snprintf(name, n, "%.*s", (int)(ldot - file), file);
    snprintf(lang, nl, "%.*s", (int)(dot - ldot - 1), ldot + 1);
    return true;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(struct tmpl *const *)a)->name, (*(struct tmpl *const *)b)->name);
}

err_code tmpl_set_new(const char *dir, struct tmpl_set **out, struct err *e) {
    err_code code = ERR_OK;
    struct tmpl_set *s = calloc(1, sizeof *s);
    char **files = NULL;
    size_t n_files = 0, cap_files = 0;
    DIR *d = opendir(dir);
    if (!s) {
        code = err_set(e, ERR_INTERNAL, "templates: out of memory");
        goto done;
    }
    if (!d) {
        code = err_set(e, ERR_INVALID, "templates: folder %s: %s", dir, strerror(errno));
        goto done;
    }
    if ((code = load_layout(dir, &s->layout, e)) != ERR_OK)
        goto done;
    for (struct dirent *de; (de = readdir(d));) {
        if (n_files == cap_files) {
            size_t ncap = cap_files ? cap_files * 2 : 64;
            char **f = realloc(files, ncap * sizeof *f);
            if (!f) {
                code = err_set(e, ERR_INTERNAL, "templates: out of memory");
                goto done;
            }
            files = f;
            cap_files = ncap;
        }
        if (!(files[n_files] = strdup(de->d_name))) {
            code = err_set(e, ERR_INTERNAL, "templates: out of memory");
            goto done;
        }
        n_files++;
    }
    /* Manifests first: they define the templates. */
    for (size_t i = 0; i < n_files; i++) {
        char name[256], lang[64];
        const char *ext;
        if (!split_entry(files[i], name, sizeof name, lang, sizeof lang, &ext) || lang[0])
            continue;
        if (!valid_name(name, strlen(name))) {
            code = err_set(e, ERR_INVALID, "templates: %s: template names are [a-z][a-z0-9_]*", files[i]);
            goto done;
        }
        struct tmpl **items = realloc(s->items, (s->n + 1) * sizeof *items);
        if (!items) {
            code = err_set(e, ERR_INTERNAL, "templates: out of memory");
            goto done;
        }
        s->items = items;
        if ((code = load_template(dir, name, &s->layout, &s->items[s->n], e)) != ERR_OK)
            goto done;
        s->n++;
    }
    if (s->n == 0) {
        code = err_set(e, ERR_INVALID, "templates: no <name>.vars manifest in %s", dir);
        goto done;
    }
    qsort(s->items, s->n, sizeof *s->items, by_name);
    /* Then every part file must belong to a manifest, in a supported language: a typo in a file
     * name would otherwise leave a template silently unused. */
    for (size_t i = 0; i < n_files; i++) {
        char name[256], lang[64];
        const char *ext;
        if (strncmp(files[i], LAYOUT ".", strlen(LAYOUT ".")) == 0) {
            if (!is_layout_file(&s->layout, files[i])) {
                code = err_set(e, ERR_INVALID, "templates: %s: not a layout file (expected " LAYOUT ".txt, " LAYOUT
                               ".html, and " LAYOUT ".<lang>.footer when a layout uses {{footer}})", files[i]);
                goto done;
            }
            continue;
        }
        if (!split_entry(files[i], name, sizeof name, lang, sizeof lang, &ext) || !lang[0])
            continue;
        if (lang_index(lang) < 0) {
            code = err_set(e, ERR_INVALID,
                           "templates: %s: unsupported language (expected <name>.en.%s or <name>.fr.%s)", files[i],
                           ext, ext);
            goto done;
        }
        if (!tmpl_find(s, name)) {
            code = err_set(e, ERR_INVALID, "templates: %s: no manifest %s.vars", files[i], name);
            goto done;
        }
    }
    *out = s;
    s = NULL;
done:
    if (d)
        closedir(d);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    tmpl_set_free(s);
    return code;
}

void tmpl_set_free(struct tmpl_set *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        tmpl_free(s->items[i]);
    free(s->items);
    layout_cleanup(&s->layout);
    free(s);
}

size_t tmpl_set_count(const struct tmpl_set *s) { return s->n; }
const struct tmpl *tmpl_set_at(const struct tmpl_set *s, size_t i) { return i < s->n ? s->items[i] : NULL; }

const struct tmpl *tmpl_find(const struct tmpl_set *s, const char *name) {
    for (size_t i = 0; name && i < s->n; i++)
        if (strcmp(s->items[i]->name, name) == 0)
            return s->items[i];
    return NULL;
}

const char *tmpl_name(const struct tmpl *t) { return t->name; }
size_t tmpl_var_count(const struct tmpl *t) { return t->n_vars; }
const struct tmpl_var *tmpl_var_at(const struct tmpl *t, size_t i) { return i < t->n_vars ? &t->vars[i] : NULL; }

const struct tmpl_var *tmpl_var_find(const struct tmpl *t, const char *name) {
    for (size_t i = 0; i < t->n_vars; i++)
        if (strcmp(t->vars[i].name, name) == 0)
            return &t->vars[i];
    return NULL;
}

/* ---- rendering ---------------------------------------------------------------------------------- */

static void add_html_escaped(struct sbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sbuf_adds(b, "&amp;");
            break;
        case '<':
            sbuf_adds(b, "&lt;");
            break;
        case '>':
            sbuf_adds(b, "&gt;");
            break;
        case '"':
            sbuf_adds(b, "&quot;");
            break;
        case '\'':
            sbuf_adds(b, "&#39;");
            break;
        default:
            sbuf_addc(b, *s);
        }
    }
}

static void add_one_line(struct sbuf *b, const char *s) {
    for (; *s; s++)
        sbuf_addc(b, (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s);
}

/* A value in a part of `kind`: escaped for HTML, flattened for the subject, as given in text. */
static void add_value(struct sbuf *b, enum part_kind kind, const char *value) {
    if (kind == PART_HTML)
        add_html_escaped(b, value);
    else if (kind == PART_SUBJECT)
        add_one_line(b, value);
    else
        sbuf_adds(b, value);
}

/* What a layout's slots stand for while it wraps one template part. */
struct slots {
    const struct part *content, *subject, *footer;
    const char *lang;
};

static err_code render_part(const struct part *p, enum part_kind kind, const struct slots *slots,
                            const struct tmpl_binding *bind, size_t n, char **out, struct err *e);

/* Appends `p` rendered as `kind`; `slots` is set when p is a layout. */
static err_code render_into(struct sbuf *b, const struct part *p, enum part_kind kind, const struct slots *slots,
                            const struct tmpl_binding *bind, size_t n, struct err *e) {
    for (size_t i = 0; i < p->n; i++) {
        const struct segment *s = &p->segs[i];
        if (!s->var) {
            sbuf_add(b, s->text, s->len);
            continue;
        }
        int slot = slots ? slot_index(s->var) : -1;
        err_code code = ERR_OK;
        char *line = NULL;
        switch (slot) {
        case SLOT_CONTENT: /* the template's own part, in the same kind */
            code = render_into(b, slots->content, kind, NULL, bind, n, e);
            break;
        case SLOT_SUBJECT: /* plain one-line texts: inserted like a value */
        case SLOT_FOOTER:
            code = render_part(slot == SLOT_SUBJECT ? slots->subject : slots->footer, PART_SUBJECT, NULL, bind, n,
                               &line, e);
            if (code == ERR_OK)
                add_value(b, kind, line);
            free(line);
            break;
        case SLOT_LANG:
            add_value(b, kind, slots->lang);
            break;
        default: {
            const char *value = NULL;
            for (size_t j = 0; j < n && !value; j++)
                if (strcmp(bind[j].name, s->var) == 0)
                    value = bind[j].value;
            if (!value)
                return err_set(e, ERR_INVALID, "missing variable '%s'", s->var);
            add_value(b, kind, value);
        }
        }
        if (code != ERR_OK)
            return code;
    }
    return ERR_OK;
}

static err_code render_part(const struct part *p, enum part_kind kind, const struct slots *slots,
                            const struct tmpl_binding *bind, size_t n, char **out, struct err *e) {
    struct sbuf b;
    sbuf_init(&b);
    err_code code = render_into(&b, p, kind, slots, bind, n, e);
    if (code != ERR_OK) {
        sbuf_cleanup(&b);
        return code;
    }
    char *r = sbuf_take(&b);
    if (!r)
        return err_set(e, ERR_INTERNAL, "render: out of memory");
    *out = r;
    return ERR_OK;
}

err_code tmpl_render(const struct tmpl *t, const char *lang, const struct tmpl_binding *b, size_t n,
                     struct tmpl_output *out, struct err *e) {
    int l = lang ? lang_index(lang) : -1;
    if (l < 0)
        return err_set(e, ERR_INVALID, "template %s: unsupported language '%s'", t->name, lang ? lang : "");
    struct tmpl_output o = {0};
    char **dst[PART_COUNT] = {[PART_SUBJECT] = &o.subject, [PART_TEXT] = &o.text, [PART_HTML] = &o.html};
    struct slots slots = {.subject = &t->parts[l][PART_SUBJECT], .footer = &t->layout->footer[l],
                          .lang = tmpl_languages[l]};
    for (int k = 0; k < PART_COUNT; k++) {
        const struct part *wrap = t->layout->wrap[k].src ? &t->layout->wrap[k] : NULL;
        slots.content = &t->parts[l][k];
        if (render_part(wrap ? wrap : &t->parts[l][k], (enum part_kind)k, wrap ? &slots : NULL, b, n, dst[k], e) !=
            ERR_OK) {
            tmpl_output_cleanup(&o);
            return err_wrap(e, "template %s.%s", t->name, lang);
        }
    }
    *out = o;
    return ERR_OK;
}

void tmpl_output_cleanup(struct tmpl_output *o) {
    free(o->subject);
    free(o->text);
    free(o->html);
    memset(o, 0, sizeof *o);
}
