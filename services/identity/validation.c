/* Field validation for identity's requests (see validation.h): names, e-mail addresses, roles
 * and types, Regions, OUTSCALE keys, the password policy (AUTH-1), codes, ids and tokens. Pure:
 * no database, no clock; every refusal names the field and the rule. */
#include "validation.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "id.h"

static const char *const regions[] = {"cloudgouv-eu-west-1", "eu-west-2", "us-east-2", "us-west-1",
                                      "ap-northeast-1", NULL};

/* Length in code points of valid UTF-8, or -1 when invalid or holding control characters. */
static long utf8_chars(const char *s, size_t len) {
    long chars = 0;
    for (size_t i = 0; i < len; chars++) {
        unsigned char c = (unsigned char)s[i];
        size_t extra;
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (c < 0x80)
            extra = 0;
        else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
            extra = 1;
        else if ((c & 0xf0) == 0xe0)
            extra = 2;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
            extra = 3;
        else
            return -1;
        if (i + extra >= len)
            return -1;
        for (size_t k = 1; k <= extra; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return -1;
        if (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
            return -1; /* C1 control characters */
        i += extra + 1;
    }
    return chars;
}

/* The text of a required field: `in` (NULL is "") without its leading and trailing spaces, as
 * *start and *len; "required" when nothing is left. */
static err_code required_text(const char *field, const char *in, const char **start, size_t *len, struct err *e) {
    if (!in)
        in = "";
    while (*in == ' ')
        in++;
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == ' ')
        n--;
    if (n == 0)
        return err_set(e, ERR_INVALID, "field '%s': required", field);
    *start = in;
    *len = n;
    return ERR_OK;
}

err_code validation_name(const char *field, const char *in, char *out, size_t out_size, struct err *e) {
    size_t len = 0;
    if (required_text(field, in, &in, &len, e) != ERR_OK)
        return ERR_INVALID;
    long chars = utf8_chars(in, len);
    if (chars < 0)
        return err_set(e, ERR_INVALID, "field '%s': must be UTF-8 text without control characters", field);
    if (chars > VALIDATION_NAME_MAX || len >= out_size)
        return err_set(e, ERR_INVALID, "field '%s': at most %d characters", field, VALIDATION_NAME_MAX);
    memcpy(out, in, len);
    out[len] = '\0';
    return ERR_OK;
}

err_code validation_partner_number(const char *field, const char *in, char *out, size_t out_size, struct err *e) {
    const char *s;
    size_t n;
    err_code code = required_text(field, in, &s, &n, e);
    if (code != ERR_OK)
        return code;
    if (n > 32 || n + 1 > out_size)
        return err_set(e, ERR_INVALID, "field '%s': at most 32 characters", field);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return err_set(e, ERR_INVALID, "field '%s': letters, digits and dashes only", field);
    memcpy(out, s, n);
    out[n] = '\0';
    return ERR_OK;
}

err_code validation_partner_decision(const char *decision, const char *reason, char *reason_out, size_t out_size,
                                     struct err *e) {
    reason_out[0] = '\0';
    if (decision && strcmp(decision, "validated") == 0)
        return ERR_OK;
    if (!decision || strcmp(decision, "refused") != 0)
        return err_set(e, ERR_INVALID, "field 'partner_decision': must be one of validated, refused");
    const char *s;
    size_t n;
    if (required_text("partner_reason", reason, &s, &n, e) != ERR_OK)
        return err_set(e, ERR_INVALID, "field 'partner_reason': required to refuse (the seller is told why)");
    long chars = utf8_chars(s, n);
    if (chars < 0 || chars > 400 || n + 1 > out_size)
        return err_set(e, ERR_INVALID, "field 'partner_reason': at most 400 characters of text");
    memcpy(reason_out, s, n);
    reason_out[n] = '\0';
    return ERR_OK;
}

err_code validation_email(const char *field, const char *in, char *out, size_t out_size, struct err *e) {
    size_t len = 0;
    if (required_text(field, in, &in, &len, e) != ERR_OK)
        return ERR_INVALID;
    if (len > VALIDATION_EMAIL_MAX || len >= out_size)
        return err_set(e, ERR_INVALID, "field '%s': at most %d characters", field, VALIDATION_EMAIL_MAX);
    size_t at = len, ats = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '\\')
            return err_set(e, ERR_INVALID, "field '%s': not an e-mail address (unexpected character)", field);
        if (c == '@')
            at = i, ats++;
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    if (ats != 1 || at == 0 || at == len - 1)
        return err_set(e, ERR_INVALID, "field '%s': not an e-mail address (expected name@domain)", field);
    const char *domain = out + at + 1;
    const char *dot = strrchr(domain, '.');
    if (!dot || dot == domain || dot[1] == '\0' || strstr(domain, "..") || domain[0] == '.')
        return err_set(e, ERR_INVALID, "field '%s': not an e-mail address (the domain needs a dot)", field);
    return ERR_OK;
}

err_code validation_language(const char *field, const char *in, char out[3], struct err *e) {
    if (!in || !*in) {
        memcpy(out, "en", 3);
        return ERR_OK;
    }
    size_t len = strlen(in);
    bool suffix_ok = len == 2 || (len == 5 && (in[2] == '-' || in[2] == '_'));
    if (suffix_ok && (strncmp(in, "en", 2) == 0 || strncmp(in, "fr", 2) == 0)) {
        memcpy(out, in, 2);
        out[2] = '\0';
        return ERR_OK;
    }
    return err_set(e, ERR_INVALID, "field '%s': must be \"en\" or \"fr\"", field);
}

static err_code one_of(const char *field, char *const *v, size_t n, const char *a, const char *b, unsigned *mask,
                       struct err *e) {
    unsigned m = 0;
    if (n == 0)
        return err_set(e, ERR_INVALID, "field '%s': at least one of \"%s\", \"%s\"", field, a, b);
    for (size_t i = 0; i < n; i++) {
        unsigned bit = v[i] && strcmp(v[i], a) == 0 ? 1u : v[i] && strcmp(v[i], b) == 0 ? 2u : 0u;
        if (!bit)
            return err_set(e, ERR_INVALID, "field '%s': unknown value \"%.40s\" (expected \"%s\" or \"%s\")", field,
                           v[i] ? v[i] : "", a, b);
        if (m & bit)
            return err_set(e, ERR_INVALID, "field '%s': \"%s\" listed twice", field, v[i]);
        m |= bit;
    }
    *mask = m;
    return ERR_OK;
}

err_code validation_roles(const char *field, char *const *roles, size_t n, unsigned *mask, struct err *e) {
    return one_of(field, roles, n, "admin", "user", mask, e);
}

err_code validation_types(const char *field, char *const *types, size_t n, unsigned *mask, struct err *e) {
    return one_of(field, types, n, "buyer", "seller", mask, e);
}

bool validation_region_known(const char *region) {
    for (const char *const *r = regions; region && *r; r++)
        if (strcmp(*r, region) == 0)
            return true;
    return false;
}

err_code validation_region(const char *field, const char *in, const char *fallback, const char **out,
                           struct err *e) {
    const char *r = in && *in ? in : fallback;
    for (const char *const *k = regions; r && *k; k++)
        if (strcmp(*k, r) == 0) {
            *out = *k;
            return ERR_OK;
        }
    return err_set(e, ERR_INVALID, "field '%s': unknown Region \"%.40s\" (expected cloudgouv-eu-west-1, eu-west-2, ...)",
                   field, r ? r : "");
}

static bool all_in(const char *s, const char *extra) {
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              (extra && strchr(extra, *s))))
            return false;
    return true;
}

err_code validation_access_key(const char *field, const char *in, struct err *e) {
    if (!in || !*in)
        return err_set(e, ERR_INVALID, "field '%s': required", field);
    if (strlen(in) != 20 || !all_in(in, NULL))
        return err_set(e, ERR_INVALID, "field '%s': an OUTSCALE access key is 20 letters or digits", field);
    return ERR_OK;
}

err_code validation_secret_key(const char *field, const char *in, struct err *e) {
    if (!in || !*in)
        return err_set(e, ERR_INVALID, "field '%s': required", field);
    if (strlen(in) != 40 || !all_in(in, "+/="))
        return err_set(e, ERR_INVALID, "field '%s': an OUTSCALE secret key is 40 letters or digits", field);
    return ERR_OK;
}

err_code validation_password(const char *field, const char *in, struct err *e) {
    if (!in)
        in = "";
    long chars = utf8_chars(in, strlen(in));
    if (chars < 0)
        return err_set(e, ERR_INVALID, "field '%s': must be UTF-8 text without control characters", field);
    if (chars > VALIDATION_PASSWORD_MAX)
        return err_set(e, ERR_INVALID, "field '%s': at most %d characters", field, VALIDATION_PASSWORD_MAX);
    bool lower = false, upper = false, digit = false, special = false;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            lower = true;
        else if (*p >= 'A' && *p <= 'Z')
            upper = true;
        else if (*p >= '0' && *p <= '9')
            digit = true;
        else if (*p < 0x80 || (*p & 0xc0) == 0xc0) /* ASCII symbol or space, or the start of a non-ASCII character */
            special = true;
    }
    const char *unmet[5];
    size_t n = 0;
    char len_rule[48];
    snprintf(len_rule, sizeof len_rule, "at least %d characters", VALIDATION_PASSWORD_MIN);
    if (chars < VALIDATION_PASSWORD_MIN)
        unmet[n++] = len_rule;
    if (!lower)
        unmet[n++] = "one lower-case letter";
    if (!upper)
        unmet[n++] = "one upper-case letter";
    if (!digit)
        unmet[n++] = "one digit";
    if (!special)
        unmet[n++] = "one special character";
    if (n == 0)
        return ERR_OK;
    char list[256];
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", unmet[i]);
    return err_set(e, ERR_INVALID, "field '%s': needs %s", field, list);
}

err_code validation_otp_code(const char *field, const char *in, struct err *e) {
    if (!in || !*in)
        return err_set(e, ERR_INVALID, "field '%s': required", field);
    if (strlen(in) != 6 || strspn(in, "0123456789") != 6)
        return err_set(e, ERR_INVALID, "field '%s': a code is 6 digits", field);
    return ERR_OK;
}

err_code validation_uuid(const char *field, const char *in, struct err *e) {
    if (!in || !*in)
        return err_set(e, ERR_INVALID, "field '%s': required", field);
    if (!id_is_uuid(in))
        return err_set(e, ERR_INVALID, "field '%s': not an id", field);
    return ERR_OK;
}

err_code validation_token(const char *field, const char *in, struct err *e) {
    if (!in || !*in)
        return err_set(e, ERR_INVALID, "field '%s': required", field);
    size_t len = strlen(in);
    if (len < 16 || len > 128 || !all_in(in, "-_"))
        return err_set(e, ERR_INVALID, "field '%s': malformed token", field);
    return ERR_OK;
}

static size_t names_of(unsigned mask, const char *a, const char *b, const char *names[2]) {
    size_t n = 0;
    if (mask & 1u)
        names[n++] = a;
    if (mask & 2u)
        names[n++] = b;
    return n;
}

size_t validation_role_names(unsigned mask, const char *names[2]) { return names_of(mask, "admin", "user", names); }
size_t validation_type_names(unsigned mask, const char *names[2]) { return names_of(mask, "buyer", "seller", names); }
