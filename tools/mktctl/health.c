/* `mktctl health`: asks the gateway's readiness probe and shows its answer, so an operator sees
 * at a glance which service is down and why; the exit status makes it usable in scripts. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mktctl.h"

struct body {
    char *p;
    size_t n;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud) {
    struct body *b = ud;
    size_t n = size * nmemb;
    char *p = realloc(b->p, b->n + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, data, n);
    b->p = p;
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

int mktctl_health(const char *base_url) {
    CURL *c = NULL;
    struct body b = {0};
    json_t *j = NULL;
    char *pretty = NULL;
    char url[1024];
    int rc = 1;
    size_t len = strlen(base_url);
    while (len && base_url[len - 1] == '/')
        len--;
    snprintf(url, sizeof url, "%.*s/readyz", (int)len, base_url);

    c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "mktctl: libcurl init failed\n");
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        fprintf(stderr, "mktctl: %s: %s\n", url, curl_easy_strerror(cc));
        goto done;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    j = json_loadb(b.p ? b.p : "", b.n, 0, NULL);
    if (!j) {
        fprintf(stderr, "mktctl: %s answered %ld with a body that is not JSON:\n%s\n", url, status, b.p ? b.p : "");
        goto done;
    }
    pretty = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", pretty ? pretty : "");
    const char *state = json_string_value(json_object_get(j, "status"));
    rc = status == 200 && state && strcmp(state, "ready") == 0 ? 0 : 1;
done:
    free(pretty);
    json_decref(j);
    free(b.p);
    if (c)
        curl_easy_cleanup(c);
    return rc;
}
