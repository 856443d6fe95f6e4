/* mail_curl_baseline: the benchmark's yardstick. A bare libcurl loop (one easy handle per thread,
 * so the SMTP connection is reused, as the notifier does) sending COUNT copies of one message
 * file to distinct recipients; prints the rate. No database, no NATS, no rendering: what the
 * SMTP sink and libcurl alone allow.
 *
 *   mail_curl_baseline SMTP_URL COUNT MESSAGE_FILE [THREADS]
 * prints "baseline: N mails in S s = R mails/s (T threads)". Exits 1 if any mail was refused. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct shared {
    const char *url;
    const char *msg;
    size_t len;
    long count;
    atomic_long next;
    atomic_long failed;
};

struct reader {
    const char *data;
    size_t len, pos;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud) {
    struct reader *r = ud;
    size_t room = size * n, left = r->len - r->pos, k = left < room ? left : room;
    memcpy(buf, r->data + r->pos, k);
    r->pos += k;
    return k;
}

static void *run(void *arg) {
    struct shared *s = arg;
    CURL *h = curl_easy_init();
    struct reader rd = {s->msg, s->len, 0};
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, "<noreply@marketplace.local>");
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &rd);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    for (long i; (i = atomic_fetch_add(&s->next, 1)) < s->count;) {
        char rcpt[96];
        snprintf(rcpt, sizeof rcpt, "<baseline%ld@example.com>", i);
        struct curl_slist *l = curl_slist_append(NULL, rcpt);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, l);
        rd.pos = 0;
        CURLcode rc = curl_easy_perform(h);
        if (rc != CURLE_OK) {
            atomic_fetch_add(&s->failed, 1);
            fprintf(stderr, "mail %ld: %s\n", i, curl_easy_strerror(rc));
        }
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
        curl_slist_free_all(l);
    }
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: mail_curl_baseline SMTP_URL COUNT MESSAGE_FILE [THREADS]\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
        perror(argv[3]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long flen = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *raw = malloc((size_t)flen + 1);
    size_t got = fread(raw, 1, (size_t)flen, f);
    fclose(f);
    /* A Maildir stores LF line ends and the sink's own headers: restore CRLF, drop X-Peer etc. */
    char *msg = malloc(2 * got + 1);
    size_t len = 0;
    for (size_t i = 0; i < got;) {
        const char *line = raw + i;
        const char *nl = memchr(line, '\n', got - i);
        size_t n = nl ? (size_t)(nl - line) : got - i;
        i += n + (nl ? 1 : 0);
        if (n && line[n - 1] == '\r')
            n--;
        if (!strncmp(line, "X-Peer:", 7) || !strncmp(line, "X-MailFrom:", 11) || !strncmp(line, "X-RcptTo:", 9))
            continue;
        memcpy(msg + len, line, n);
        len += n;
        msg[len++] = '\r';
        msg[len++] = '\n';
    }
    free(raw);
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (threads < 1 || threads > 64)
        threads = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct shared s = {.url = argv[1], .msg = msg, .len = len, .count = atol(argv[2])};
    pthread_t t[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, &s);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("baseline: %ld mails in %.3f s = %.0f mails/s (%d thread%s)\n", s.count, secs, (double)s.count / secs,
           threads,
           threads > 1 ? "s" : "");
    free(msg);
    curl_global_cleanup();
    return atomic_load(&s.failed) ? 1 : 0;
}
