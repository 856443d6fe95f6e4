/* Unit tests for the cloud client's transport against a scripted loopback server (a thread that
 * answers each connection with the next canned reply and records what it received): signing as
 * the emulator will verify it, retries and their limits, no retry on 4xx, timeouts, paging
 * (NextPageToken and FirstItem/HasMoreItems), result structs and configuration checks. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloud.h"
#include "oscsig.h"

#define AK "AKAKAKAKAKAKAKAKAKAK"
#define SK "SKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSKSK"
#define MAX_REPLIES 8

struct reply {
    int status;
    const char *body;
    int delay_ms;
};

struct fake {
    int fd, port;
    pthread_t th;
    const struct reply *replies;
    size_t n_replies;
    size_t served;
    char raw[MAX_REPLIES][8192];
    size_t raw_len[MAX_REPLIES];
};

static size_t read_request(int fd, char *buf, size_t cap) {
    size_t len = 0, want = 0;
    while (len < cap - 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *eoh = strstr(buf, "\r\n\r\n");
        if (eoh) {
            if (!want) {
                char *cl = strcasestr(buf, "\r\nContent-Length:");
                want = (size_t)(eoh + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
            }
            if (len >= want)
                break;
        }
    }
    return len;
}

static void *serve(void *arg) {
    struct fake *f = arg;
    for (size_t i = 0; i < f->n_replies; i++) {
        int fd = accept(f->fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        f->raw_len[i] = read_request(fd, f->raw[i], sizeof f->raw[i]);
        f->served = i + 1;
        const struct reply *r = &f->replies[i];
        if (r->delay_ms)
            usleep((useconds_t)r->delay_ms * 1000);
        char head[256];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n",
                          r->status, strlen(r->body));
        send(fd, head, (size_t)hn, MSG_NOSIGNAL);
        send(fd, r->body, strlen(r->body), MSG_NOSIGNAL);
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f, const struct reply *replies, size_t n) {
    cr_assert(n <= MAX_REPLIES);
    memset(f, 0, sizeof *f);
    f->replies = replies;
    f->n_replies = n;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(f->fd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(listen(f->fd, 8) == 0);
    socklen_t len = sizeof a;
    cr_assert(getsockname(f->fd, (struct sockaddr *)&a, &len) == 0);
    f->port = ntohs(a.sin_port);
    cr_assert(pthread_create(&f->th, NULL, serve, f) == 0);
}

/* Stops the server (unblocking accept when fewer requests came than scripted). */
static void fake_stop(struct fake *f) {
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
}

static struct cloud *client_for(const struct fake *f, int max_tries, int timeout_ms) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f ? f->port : 1);
    struct cloud_config cfg = {
        .endpoint = url, .region = "eu-west-2", .access_key = AK, .secret_key = SK,
        .timeout_ms = timeout_ms, .max_tries = max_tries, .backoff_base_ms = 5, .backoff_max_ms = 20,
    };
    struct cloud *c = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_new(&cfg, &c, &e), ERR_OK, "%s", e.msg);
    return c;
}

/* The body of the i-th request the fake received. */
static const char *req_body(struct fake *f, size_t i) {
    char *eoh = strstr(f->raw[i], "\r\n\r\n");
    return eoh ? eoh + 4 : "";
}

#define OK_VMS                                                                                              \
    "{\"Vms\":[{\"VmId\":\"i-00000001\",\"ImageId\":\"ami-00000001\",\"State\":\"running\","               \
    "\"VmType\":\"tinav5.c1r1p2\",\"ProductCodes\":[\"0001\",\"pty-12345678\"],"                           \
    "\"CreationDate\":\"2026-11-21T22:20:57.000+0000\"}],\"ResponseContext\":{\"RequestId\":\"r-ok\"}}"
#define ERR_503                                                                                             \
    "{\"Errors\":[{\"Code\":\"2001\",\"Type\":\"ServiceUnavailable\",\"Details\":\"injected\"}],"          \
    "\"ResponseContext\":{\"RequestId\":\"r-503\"}}"
#define ERR_429 "{\"Errors\":[{\"Code\":\"24\",\"Type\":\"AccessDenied\",\"Details\":\"\"}],\"ResponseContext\":{\"RequestId\":\"r-429\"}}"
#define ERR_5023                                                                                            \
    "{\"Errors\":[{\"Code\":\"5023\",\"Type\":\"InvalidResource\",\"Details\":\"image ami-00000009\"}],"    \
    "\"ResponseContext\":{\"RequestId\":\"r-5023\"}}"

/* ---- headers of the captured request for oscsig_verify ------------------------------------ */

struct hdrs {
    char names[32][64];
    char values[32][512];
    size_t n;
};
static const char *hget(void *ctx, const char *name) {
    struct hdrs *h = ctx;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}
static void split_headers(const char *raw, struct hdrs *h, char *path, size_t path_cap) {
    const char *line_end = strstr(raw, "\r\n");
    cr_assert(line_end);
    char method[16];
    char fmt[32];
    snprintf(fmt, sizeof fmt, "%%15s %%%zus", path_cap - 1);
    cr_assert(sscanf(raw, fmt, method, path) == 2);
    h->n = 0;
    const char *p = line_end + 2;
    while (strncmp(p, "\r\n", 2) != 0 && h->n < 32) {
        const char *colon = strchr(p, ':'), *end = strstr(p, "\r\n");
        cr_assert(colon && end && colon < end);
        snprintf(h->names[h->n], sizeof h->names[h->n], "%.*s", (int)(colon - p), p);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        snprintf(h->values[h->n], sizeof h->values[h->n], "%.*s", (int)(end - v), v);
        h->n++;
        p = end + 2;
    }
}

Test(cloud_transport, signed_request_verifies_and_vms_parse) {
    static const struct reply script[] = {{200, OK_VMS, 0}};
    struct fake f;
    fake_start(&f, script, 1);
    struct cloud *c = client_for(&f, 3, 2000);
    struct cloud_vms *vms = NULL;
    struct err e = {0};
    const char *ids[] = {"i-00000001", NULL};
    struct cloud_vm_filters flt = {.vm_ids = ids};
    cr_assert_eq(cloud_read_vms(c, &flt, &vms, &e), ERR_OK, "%s", e.msg);
    fake_stop(&f);

    cr_assert_eq(vms->n, 1);
    cr_assert_str_eq(vms->items[0].vm_id, "i-00000001");
    cr_assert_str_eq(vms->items[0].image_id, "ami-00000001");
    cr_assert_str_eq(vms->items[0].state, "running");
    cr_assert_str_eq(vms->items[0].vm_type, "tinav5.c1r1p2");
    cr_assert_eq(vms->items[0].product_codes.n, 2);
    cr_assert(cloud_strv_has(&vms->items[0].product_codes, "pty-12345678"));
    mkt_time want;
    cr_assert_eq(clock_parse("2026-11-21T22:20:57Z", &want), 0);
    cr_assert_eq(vms->items[0].creation_date, want, "+0000 dates parse");
    cloud_vms_free(vms);

    /* What the emulator will check: path, JSON body, and a signature valid for SK. */
    struct hdrs h;
    char path[256];
    split_headers(f.raw[0], &h, path, sizeof path);
    cr_assert_str_eq(path, "/api/v1/ReadVms");
    cr_assert_str_eq(hget(&h, "content-type"), "application/json");
    const char *body = req_body(&f, 0);
    cr_assert_str_eq(body, "{\"Filters\":{\"VmIds\":[\"i-00000001\"]}}");
    struct oscsig_auth a;
    cr_assert_eq(oscsig_parse_authorization(hget(&h, "authorization"), &a, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(a.scheme, OSCSIG_OSC4);
    cr_assert_str_eq(a.access_key, AK);
    cr_assert_str_eq(a.region, "eu-west-2");
    cr_assert_str_eq(a.service, "api");
    cr_assert_eq(oscsig_verify(&a, "POST", path, NULL, hget, &h, body, strlen(body), "api", SK, &e), ERR_OK,
                 "%s", e.msg);
    cr_assert(strstr(f.raw[0], SK) == NULL, "the secret never travels");
    cloud_free(c);
}

Test(cloud_transport, retries_5xx_then_succeeds) {
    static const struct reply script[] = {{503, ERR_503, 0}, {500, ERR_503, 0}, {200, OK_VMS, 0}};
    struct fake f;
    fake_start(&f, script, 3);
    struct cloud *c = client_for(&f, 3, 2000);
    struct cloud_vms *vms = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_vms(c, NULL, &vms, &e), ERR_OK, "%s", e.msg);
    fake_stop(&f);
    cr_assert_eq(f.served, 3);
    cr_assert_eq(vms->n, 1);
    cr_assert_str_eq(req_body(&f, 0), "{}");
    cloud_vms_free(vms);
    cloud_free(c);
}

Test(cloud_transport, gives_up_after_max_tries_with_a_clear_error) {
    static const struct reply script[] = {{503, ERR_503, 0}, {503, ERR_503, 0}, {503, ERR_503, 0}, {200, OK_VMS, 0}};
    struct fake f;
    fake_start(&f, script, 4);
    struct cloud *c = client_for(&f, 3, 2000);
    json_t *resp = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, &resp, &e), ERR_UNAVAILABLE);
    fake_stop(&f);
    cr_assert_eq(f.served, 3, "exactly max_tries attempts");
    cr_assert_null(resp);
    cr_assert_str_eq(e.msg, "ReadVms: ServiceUnavailable 2001 (injected) request r-503 (after 3 tries)");
    cloud_free(c);
}

Test(cloud_transport, throttled_after_max_tries) {
    static const struct reply script[] = {{429, ERR_429, 0}, {429, ERR_429, 0}, {200, OK_VMS, 0}};
    struct fake f;
    fake_start(&f, script, 3);
    struct cloud *c = client_for(&f, 2, 2000);
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadVms", json_object(), NULL, &e), ERR_THROTTLED);
    fake_stop(&f);
    cr_assert_eq(f.served, 2);
    cr_assert(strstr(e.msg, "AccessDenied 24") && strstr(e.msg, "after 2 tries"), "%s", e.msg);
    cloud_free(c);
}

Test(cloud_transport, no_retry_on_4xx) {
    static const struct {
        int status;
        const char *body;
        err_code want;
    } rows[] = {
        {400, ERR_5023, ERR_NOT_FOUND},
        {400, "{\"Errors\":[{\"Code\":\"3001\",\"Type\":\"InvalidParameter\",\"Details\":\"Foo\"}]}", ERR_INVALID},
        {401, "{\"Errors\":[{\"Code\":\"1\",\"Type\":\"AccessDenied\",\"Details\":\"\"}]}", ERR_UNAUTHENTICATED},
        {401, "{\"Errors\":[{\"Code\":\"5\",\"Type\":\"AccessDenied\",\"Details\":\"\"}]}", ERR_FORBIDDEN},
        {404, "{\"Errors\":[{\"Code\":\"4118\",\"Type\":\"InvalidAction\",\"Details\":\"\"}]}", ERR_UNSUPPORTED},
        {409, "{\"Errors\":[{\"Code\":\"9011\",\"Type\":\"ResourceConflict\",\"Details\":\"\"}]}", ERR_CONFLICT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct reply script[2] = {{rows[i].status, rows[i].body, 0}, {200, OK_VMS, 0}};
        struct fake f;
        fake_start(&f, script, 2);
        struct cloud *c = client_for(&f, 3, 2000);
        struct err e = {0};
        cr_expect_eq(cloud_call(c, "ReadImages", NULL, NULL, &e), rows[i].want, "row %zu: %s", i, e.msg);
        fake_stop(&f);
        cr_expect_eq(f.served, 1, "row %zu retried", i);
        cloud_free(c);
    }
}

Test(cloud_transport, not_found_message_names_op_code_and_request) {
    static const struct reply script[] = {{400, ERR_5023, 0}};
    struct fake f;
    fake_start(&f, script, 1);
    struct cloud *c = client_for(&f, 3, 2000);
    struct err e = {0};
    cr_assert_eq(cloud_delete_image(c, "ami-00000009", &e), ERR_NOT_FOUND);
    fake_stop(&f);
    cr_assert_str_eq(e.msg, "DeleteImage: InvalidResource 5023 (image ami-00000009) request r-5023");
    cr_assert(strstr(e.msg, SK) == NULL);
    cr_assert_str_eq(req_body(&f, 0), "{\"ImageId\":\"ami-00000009\"}");
    cloud_free(c);
}

Test(cloud_transport, timeout_is_retried_then_reported) {
    static const struct reply script[] = {{200, OK_VMS, 600}, {200, OK_VMS, 600}};
    struct fake f;
    fake_start(&f, script, 2);
    struct cloud *c = client_for(&f, 2, 150);
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_TIMEOUT, "%s", e.msg);
    cr_assert(strstr(e.msg, "after 2 tries"), "%s", e.msg);
    usleep(600 * 1000); /* the server accepts the second connection once its first sleep ends */
    fake_stop(&f);
    cr_assert_eq(f.served, 2);
    cloud_free(c);
}

Test(cloud_transport, connection_refused_is_unavailable) {
    /* Port 1 on loopback: nothing listens there. */
    struct cloud *c = client_for(NULL, 2, 1000);
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_UNAVAILABLE);
    cr_assert(strstr(e.msg, "ReadVms: transport:") == e.msg, "%s", e.msg);
    cr_assert(strstr(e.msg, "after 2 tries"), "%s", e.msg);
    cloud_free(c);
}

Test(cloud_transport, unreadable_success_body_is_internal_and_not_retried) {
    static const struct reply script[] = {{200, "<html>", 0}, {200, OK_VMS, 0}};
    struct fake f;
    fake_start(&f, script, 2);
    struct cloud *c = client_for(&f, 3, 2000);
    struct err e = {0};
    cr_assert_eq(cloud_call(c, "ReadVms", NULL, NULL, &e), ERR_INTERNAL);
    fake_stop(&f);
    cr_assert_eq(f.served, 1);
    cloud_free(c);
}

Test(cloud_transport, follows_next_page_tokens) {
    static const struct reply script[] = {
        {200, "{\"Images\":[{\"ImageId\":\"ami-00000001\",\"State\":\"available\"}],\"NextPageToken\":\"p2\"}", 0},
        {200, "{\"Images\":[{\"ImageId\":\"ami-00000002\",\"State\":\"pending\"}],\"NextPageToken\":\"p3\"}", 0},
        {200,
         "{\"Images\":[{\"ImageId\":\"ami-00000003\",\"AccountId\":\"123456789012\",\"ImageName\":\"n\","
         "\"State\":\"available\",\"PermissionsToLaunch\":{\"GlobalPermission\":true,\"AccountIds\":[\"111111111111\"]},"
         "\"ProductCodes\":[\"pty-0000000a\"],\"CreationDate\":\"2026-01-02T03:04:05.678Z\"}]}",
         0},
    };
    struct fake f;
    fake_start(&f, script, 3);
    struct cloud *c = client_for(&f, 3, 2000);
    struct cloud_images *l = NULL;
    struct err e = {0};
    const char *names[] = {"mkt-*", NULL};
    struct cloud_image_filters flt = {.image_names = names, .results_per_page = 1,
                                      .permissions_to_launch_global_permission = CLOUD_YES};
    cr_assert_eq(cloud_read_images(c, &flt, &l, &e), ERR_OK, "%s", e.msg);
    fake_stop(&f);
    cr_assert_eq(l->n, 3);
    cr_assert_str_eq(l->items[0].image_id, "ami-00000001");
    cr_assert_str_eq(l->items[1].state, "pending");
    const struct cloud_image *im = &l->items[2];
    cr_assert_str_eq(im->account_id, "123456789012");
    cr_assert(im->global_permission);
    cr_assert(cloud_strv_has(&im->permission_account_ids, "111111111111"));
    cr_assert(cloud_strv_has(&im->product_codes, "pty-0000000a"));
    cr_assert_str_eq(im->description, "");
    cr_assert_neq(im->creation_date, 0);
    cr_assert_str_eq(req_body(&f, 0), "{\"Filters\":{\"ImageNames\":[\"mkt-*\"],"
                                      "\"PermissionsToLaunchGlobalPermission\":true},\"ResultsPerPage\":1}");
    cr_assert(strstr(req_body(&f, 1), "\"NextPageToken\":\"p2\""), "%s", req_body(&f, 1));
    cr_assert(strstr(req_body(&f, 2), "\"NextPageToken\":\"p3\""), "%s", req_body(&f, 2));
    cloud_images_free(l);
    cloud_free(c);
}

Test(cloud_transport, follows_eim_first_item_paging) {
    static const struct reply script[] = {
        {200, "{\"Users\":[{\"UserName\":\"a\",\"UserId\":\"U1\"},{\"UserName\":\"b\"}],\"HasMoreItems\":true}", 0},
        {200, "{\"Users\":[{\"UserName\":\"c\",\"Path\":\"/mkt/\",\"UserEmail\":\"c@example.com\"}],\"HasMoreItems\":false}", 0},
    };
    struct fake f;
    fake_start(&f, script, 2);
    struct cloud *c = client_for(&f, 3, 2000);
    struct cloud_users *l = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_read_users(c, NULL, &l, &e), ERR_OK, "%s", e.msg);
    fake_stop(&f);
    cr_assert_eq(l->n, 3);
    cr_assert_str_eq(l->items[0].user_id, "U1");
    cr_assert_str_eq(l->items[2].path, "/mkt/");
    cr_assert_str_eq(l->items[2].user_email, "c@example.com");
    cr_assert_str_eq(req_body(&f, 0), "{}");
    cr_assert_str_eq(req_body(&f, 1), "{\"FirstItem\":2}");
    cloud_users_free(l);
    cloud_free(c);
}

Test(cloud_transport, create_access_key_returns_the_secret_once) {
    static const struct reply script[] = {
        {200, "{\"AccessKey\":{\"AccessKeyId\":\"ABCDEFGHIJKLMNOPQRST\",\"SecretKey\":\"0123456789012345678901234567890123456789\","
              "\"State\":\"ACTIVE\",\"CreationDate\":\"2026-11-21T22:20:57.000Z\"},\"ResponseContext\":{\"RequestId\":\"r\"}}", 0},
        {200, "{\"AccessKeys\":[{\"AccessKeyId\":\"ABCDEFGHIJKLMNOPQRST\",\"State\":\"ACTIVE\"}]}", 0},
    };
    struct fake f;
    fake_start(&f, script, 2);
    struct cloud *c = client_for(&f, 3, 2000);
    struct cloud_access_keys *k = NULL;
    struct err e = {0};
    cr_assert_eq(cloud_create_access_key(c, "marketplace_x", &k, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(k->n, 1);
    cr_assert_str_eq(k->items[0].access_key_id, "ABCDEFGHIJKLMNOPQRST");
    cr_assert_str_eq(k->items[0].secret_key, "0123456789012345678901234567890123456789");
    cr_assert_str_eq(k->items[0].state, "ACTIVE");
    cloud_access_keys_free(k);
    cr_assert_eq(cloud_read_access_keys(c, "marketplace_x", &k, &e), ERR_OK, "%s", e.msg);
    fake_stop(&f);
    cr_assert_null(k->items[0].secret_key);
    cr_assert_str_eq(req_body(&f, 0), "{\"UserName\":\"marketplace_x\"}");
    cloud_access_keys_free(k);
    cloud_free(c);
}

Test(cloud_transport, request_shapes) {
    /* One scripted "{}" per call; the bodies are what the OpenAPI description asks for. */
    static const struct reply ok = {200, "{\"ResponseContext\":{\"RequestId\":\"r\"}}", 0};
    struct reply script[MAX_REPLIES];
    for (int i = 0; i < MAX_REPLIES; i++)
        script[i] = ok;
    struct fake f;
    fake_start(&f, script, 7);
    struct cloud *c = client_for(&f, 1, 2000);
    struct err e = {0};
    const char *acc[] = {"111111111111", NULL};
    const char *codes[] = {"pty-0000000a", NULL};
    struct cloud_image_update share = {.image_id = "ami-00000001", .add_account_ids = acc};
    cr_assert_eq(cloud_update_image(c, &share, &e), ERR_OK, "%s", e.msg);
    struct cloud_image_update unpublic = {.image_id = "ami-00000001", .remove_global = true,
                                          .set_product_codes = true, .product_codes = codes,
                                          .description = "d"};
    cr_assert_eq(cloud_update_image(c, &unpublic, &e), ERR_OK, "%s", e.msg);
    const char *vms[] = {"i-00000001", "i-00000002", NULL};
    cr_assert_eq(cloud_stop_vms(c, vms, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_product_type(c, "pty-0000000a", true, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_add_user_to_user_group(c, "g", NULL, "u", NULL, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_update_access_key(c, "u", "ABCDEFGHIJKLMNOPQRST", false, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_link_managed_policy_to_user_group(c, "orn:ows:idauth::1:policy/p", "g", &e), ERR_OK);
    fake_stop(&f);
    cr_assert_str_eq(req_body(&f, 0), "{\"ImageId\":\"ami-00000001\",\"PermissionsToLaunch\":{\"Additions\":"
                                      "{\"AccountIds\":[\"111111111111\"]}}}");
    cr_assert_str_eq(req_body(&f, 1), "{\"ImageId\":\"ami-00000001\",\"PermissionsToLaunch\":{\"Removals\":"
                                      "{\"GlobalPermission\":true}},\"ProductCodes\":[\"pty-0000000a\"],"
                                      "\"Description\":\"d\"}");
    cr_assert_str_eq(req_body(&f, 2), "{\"VmIds\":[\"i-00000001\",\"i-00000002\"]}");
    cr_assert_str_eq(req_body(&f, 3), "{\"ProductTypeId\":\"pty-0000000a\",\"Force\":true}");
    cr_assert_str_eq(req_body(&f, 4), "{\"UserGroupName\":\"g\",\"UserGroupPath\":\"/\",\"UserName\":\"u\","
                                      "\"UserPath\":\"/\"}");
    cr_assert_str_eq(req_body(&f, 5), "{\"AccessKeyId\":\"ABCDEFGHIJKLMNOPQRST\",\"State\":\"INACTIVE\","
                                      "\"UserName\":\"u\"}");
    cr_assert_str_eq(req_body(&f, 6), "{\"PolicyOrn\":\"orn:ows:idauth::1:policy/p\",\"UserGroupName\":\"g\"}");
    cloud_free(c);
}

Test(cloud_transport, config_is_checked) {
    struct cloud *c = NULL;
    struct err e = {0};
    struct cloud_config good = {.region = "eu-west-2", .access_key = AK, .secret_key = SK};
    cr_assert_eq(cloud_new(&good, &c, &e), ERR_OK, "%s", e.msg);
    cr_assert_str_eq(cloud_endpoint(c), "https://api.eu-west-2.outscale.com");
    cr_assert_str_eq(cloud_region(c), "eu-west-2");
    cloud_free(c);
    cloud_free(NULL);

    struct cloud_config bad[] = {
        {.access_key = AK, .secret_key = SK},
        {.region = "eu-west-2", .secret_key = SK},
        {.region = "eu-west-2", .access_key = AK},
        {.region = "eu-west-2", .access_key = AK, .secret_key = SK, .endpoint = "ftp://x"},
        {.region = "eu west", .access_key = AK, .secret_key = SK},
        {.region = "eu-west-2", .access_key = AK, .secret_key = SK, .max_tries = -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = NULL;
        cr_expect_eq(cloud_new(&bad[i], &c, &e), ERR_INVALID, "row %zu", i);
        cr_expect_null(c);
        cr_expect(strstr(e.msg, SK) == NULL);
    }
    cr_expect_eq(cloud_new(NULL, &c, &e), ERR_INVALID);
}

Test(cloud_transport, bad_operation_names_are_refused_locally) {
    struct cloud *c = client_for(NULL, 1, 1000);
    struct err e = {0};
    cr_expect_eq(cloud_call(c, "Read/../Vms", json_object(), NULL, &e), ERR_INVALID);
    cr_expect_eq(cloud_call(c, "", NULL, NULL, &e), ERR_INVALID);
    cr_expect_eq(cloud_call(c, NULL, NULL, NULL, &e), ERR_INVALID);
    cloud_free(c);
}
