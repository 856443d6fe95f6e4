/* The notifier's start-up logic and svc hooks, out of main.c so that main stays a boot script:
 * cross-checks of the settings (sender address, URLs, lease vs SMTP time limit), where the
 * templates are when MKT_TEMPLATES_DIR is not set, and the delivery module's place in the
 * maintenance timer and the drain. */
#include "notifier.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumers.h"
#include "delivery.h"
#include "log.h"
#include "mail.h"

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The templates folder when MKT_TEMPLATES_DIR is not set: next to this source file, relative to
 * the working directory (make and the platform scripts run from the repository root), else
 * found by walking up from the executable (build/bin/notifier, build/asan/bin/notifier). */
static const char *default_templates_dir(char *buf, size_t n) {
    const char *slash = strrchr(__FILE__, '/');
    if (slash)
        snprintf(buf, n, "%.*s/templates", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(buf, n, "templates");
    if (is_dir(buf))
        return buf;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return buf;
    exe[len] = '\0';
    for (char *cut = strrchr(exe, '/'); cut; cut = strrchr(exe, '/')) {
        *cut = '\0';
        snprintf(buf, n, "%s/services/notifier/templates", exe);
        if (is_dir(buf))
            return buf;
    }
    return "services/notifier/templates";
}

err_code notifier_check_config(struct notifier *n, struct err *e) {
    struct notifier_config *cfg = &n->cfg;
    char from[MAIL_ADDRESS_MAX + 1];
    struct err bad = {0};
    if (mail_normalize_address(cfg->mail_from, from, &bad) != ERR_OK)
        return err_set(e, ERR_INVALID, "configuration: MKT_MAIL_FROM: %s", bad.msg);
    if (strncmp(cfg->public_url, "http://", 7) != 0 && strncmp(cfg->public_url, "https://", 8) != 0)
        return err_set(e, ERR_INVALID, "configuration: MKT_PUBLIC_URL: must start with http:// or https://");
    snprintf(n->public_url_buf, sizeof n->public_url_buf, "%s", cfg->public_url);
    for (size_t len = strlen(n->public_url_buf); len > 0 && n->public_url_buf[len - 1] == '/'; len--)
        n->public_url_buf[len - 1] = '\0';
    cfg->public_url = n->public_url_buf;
    if (!*cfg->templates_dir)
        cfg->templates_dir = default_templates_dir(n->templates_dir_buf, sizeof n->templates_dir_buf);
    if (strncmp(cfg->smtp_url, "smtp://", 7) != 0 && strncmp(cfg->smtp_url, "smtps://", 8) != 0)
        return err_set(e, ERR_INVALID, "configuration: MKT_SMTP_URL: must start with smtp:// or smtps://");
    /* A delivery starts a mail only while its lease outlasts the SMTP time limit, so that no
     * other replica can claim the mail while it is being sent. */
    if (cfg->lease_s * 1000 < cfg->smtp_timeout_ms + 3000)
        return err_set(e, ERR_INVALID, "configuration: MKT_MAIL_LEASE_S (%lld s) must exceed MKT_SMTP_TIMEOUT_MS "
                                       "(%lld ms) by at least 3 s", cfg->lease_s, cfg->smtp_timeout_ms);
    return ERR_OK;
}

err_code notifier_prepare(struct notifier *n, struct err *e) {
    err_code code = tmpl_set_new(n->cfg.templates_dir, &n->templates, e);
    if (code != ERR_OK)
        return code;
    log_info("templates: %zu loaded from %s", tmpl_set_count(n->templates), n->cfg.templates_dir);
    return delivery_new(n, &n->delivery, e);
}

err_code notifier_start(struct notifier *n, struct err *e) {
    err_code code = consumers_start(n, e);
    if (code == ERR_OK)
        code = delivery_start(n->delivery, n->svc->cfg.pg_dsn, e);
    return code;
}

void notifier_maintenance(struct svc *s, struct pool_worker *w) {
    (void)w;
    struct notifier *n = s->app;
    delivery_maintenance(n->delivery);
}

void notifier_on_drain(struct svc *s) {
    struct notifier *n = s->app;
    delivery_drain(n->delivery);
}

bool notifier_drain_wait(struct svc *s, int64_t until_mono_us) {
    struct notifier *n = s->app;
    int64_t left_ms = (until_mono_us - clock_mono_us()) / 1000;
    /* delivery_stop waits for its jobs up to the deadline, then for the mail in hand (bounded by
     * MKT_SMTP_TIMEOUT_MS): a mail being sent is finished and recorded, never abandoned. */
    delivery_stop(n->delivery, left_ms > 0 ? (int)left_ms : 0);
    return true;
}

void notifier_cleanup(struct notifier *n) {
    delivery_stop(n->delivery, 0);
    delivery_free(n->delivery);
    n->delivery = NULL;
    tmpl_set_free(n->templates);
    n->templates = NULL;
}
