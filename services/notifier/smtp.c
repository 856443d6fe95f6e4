/* One libcurl easy handle per sender, configured once and reused for every mail so that its
 * connection cache keeps the SMTP session open between mails. libcurl closes a session whose
 * transaction failed, so a rejected recipient never leaves the next mail inside a half-done
 * transaction. Classification of the outcome is mail_classify's (mail.c). */
#include "smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct smtp_sender {
    CURL *h;
    char *url, *user, *password, *from_arg;
    char errbuf[CURL_ERROR_SIZE];
    /* the message being read by libcurl */
    const char *data;
    size_t len, pos;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud) {
    struct smtp_sender *s = ud;
    size_t room = size * nitems, left = s->len - s->pos;
    size_t n = left < room ? left : room;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return n;
}

void smtp_sender_free(struct smtp_sender *s) {
    if (!s)
        return;
    if (s->h)
        curl_easy_cleanup(s->h);
    free(s->url);
    free(s->user);
    if (s->password) {
        memset(s->password, 0, strlen(s->password));
        free(s->password);
    }
    free(s->from_arg);
    free(s);
}

err_code smtp_sender_new(const struct smtp_config *cfg, struct smtp_sender **out, struct err *e) {
    err_code code = ERR_OK;
    struct smtp_sender *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_INTERNAL, "smtp: out of memory");
    size_t from_len = strlen(cfg->from) + 3;
    s->url = strdup(cfg->url);
    s->user = strdup(cfg->user ? cfg->user : "");
    s->password = strdup(cfg->password ? cfg->password : "");
    s->from_arg = malloc(from_len);
    s->h = curl_easy_init();
    if (!s->url || !s->user || !s->password || !s->from_arg || !s->h) {
        code = err_set(e, ERR_INTERNAL, "smtp: out of memory");
        goto done;
    }
    snprintf(s->from_arg, from_len, "<%s>", cfg->from);
    bool implicit_tls = strncmp(cfg->url, "smtps://", 8) == 0;
    if (!implicit_tls && strncmp(cfg->url, "smtp://", 7) != 0) {
        code = err_set(e, ERR_INVALID, "smtp: URL must start with smtp:// or smtps://");
        goto done;
    }
    CURL *h = s->h;
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, s->from_arg);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!implicit_tls)
        curl_easy_setopt(h, CURLOPT_USE_SSL, cfg->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (*s->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, s->password);
    }
    *out = s;
    s = NULL;
done:
    smtp_sender_free(s);
    return code;
}

void smtp_send(struct smtp_sender *s, const char *rcpt, const char *data, size_t len, struct smtp_result *out) {
    char arg[MAIL_ADDRESS_MAX + 3];
    snprintf(arg, sizeof arg, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, arg);
    memset(out, 0, sizeof *out);
    if (!rcpts) {
        out->outcome = MAIL_RETRY;
        snprintf(out->reason, sizeof out->reason, "out of memory");
        return;
    }
    s->data = data;
    s->len = len;
    s->pos = 0;
    s->errbuf[0] = '\0';
    curl_easy_setopt(s->h, CURLOPT_MAIL_RCPT, rcpts);
    CURLcode rc = curl_easy_perform(s->h);
    long code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_setopt(s->h, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(rcpts);
    s->data = NULL;
    out->code = code;
    out->outcome = mail_classify((int)rc, code, s->errbuf);
    if (rc != CURLE_OK) {
        const char *what = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
        if (code)
            snprintf(out->reason, sizeof out->reason, "%s (last reply %ld)", what, code);
        else
            snprintf(out->reason, sizeof out->reason, "%s", what);
    }
}
