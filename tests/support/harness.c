/* Integration-test support: the environment exported by tests/harness/run.sh, spawning and
 * stopping the programs under test with their logs, superuser SQL, per-test schemas with their
 * own login role, a small HTTP client, header lines and whole files. */
#include "harness.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"

extern char **environ;

const char *th_env(const char *name) {
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set: run integration tests through tests/harness/run.sh (make test)", name);
    return v;
}

int th_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    cr_assert(port > 0, "no free port");
    return port;
}

void th_unique(const char *prefix, char *out, size_t n) {
    uint8_t b[6];
    char hex[13];
    crypto_random(b, sizeof b);
    crypto_hex(b, sizeof b, hex);
    snprintf(out, n, "%s%s", prefix, hex);
}

void th_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool th_eventually(bool (*check)(void *arg), void *arg, int timeout_ms) {
    for (int waited = 0;; waited += 20) {
        if (check(arg))
            return true;
        if (waited >= timeout_ms)
            return false;
        th_sleep_ms(20);
    }
}

struct th_proc th_spawn(const char *program, const char *const *argv, const char *const *env) {
    struct th_proc p = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/%s", th_env("MKT_TEST_BIN"), program);
    snprintf(p.name, sizeof p.name, "%s", program);
    static int counter;
    snprintf(p.log_path, sizeof p.log_path, "%s/%s-%d-%d.log", th_env("MKT_TEST_TMP"), program, (int)getpid(), ++counter);
    int n_env = 0, n_extra = 0, n_args = 0;
    while (environ[n_env])
        n_env++;
    while (env && env[n_extra])
        n_extra++;
    while (argv && argv[n_args])
        n_args++;
    char **envp = calloc((size_t)(n_env + n_extra + 1), sizeof *envp);
    char **args = calloc((size_t)(n_args + 2), sizeof *args);
    cr_assert(envp && args);
    int k = 0;
    for (int i = 0; i < n_extra; i++)
        envp[k++] = (char *)env[i];
    for (int i = 0; i < n_env; i++) { /* extra settings win over inherited ones */
        size_t klen = strcspn(environ[i], "=");
        bool overridden = false;
        for (int j = 0; j < n_extra; j++)
            if (strncmp(env[j], environ[i], klen) == 0 && env[j][klen] == '=')
                overridden = true;
        if (!overridden)
            envp[k++] = environ[i];
    }
    args[0] = path;
    for (int i = 0; i < n_args; i++)
        args[i + 1] = (char *)argv[i];
    /* posix_spawn, not fork: Criterion's fork handlers must not run in the child. */
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, p.log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, path, &fa, &attr, args, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    cr_assert(rc == 0, "spawn %s: %s", path, strerror(rc));
    free(envp);
    free(args);
    p.pid = pid;
    return p;
}

struct th_proc th_spawn_notifier(void) {
    char env[5][400];
    char *dsn = th_service_dsn("notifier");
    snprintf(env[0], sizeof env[0], "MKT_NATS_URL=%s", th_env("MKT_TEST_NATS_URL"));
    snprintf(env[1], sizeof env[1], "MKT_PG_DSN=%s", dsn);
    snprintf(env[2], sizeof env[2], "MKT_SMTP_URL=%s", th_env("MKT_TEST_SMTP_URL"));
    snprintf(env[3], sizeof env[3], "MKT_TEMPLATES_DIR=%s/services/notifier/templates", th_env("MKT_TEST_ROOT"));
    snprintf(env[4], sizeof env[4], "MKT_DRAIN_MS=5000");
    const char *e[] = {env[0], env[1], env[2], env[3], env[4], NULL};
    struct th_proc p = th_spawn("notifier", NULL, e); /* posix_spawn has copied env */
    free(dsn);
    return p;
}

void th_dump_log(const struct th_proc *p) {
    FILE *f = fopen(p->log_path, "r");
    if (!f)
        return;
    fprintf(stderr, "----- log of %s (pid %d): %s\n", p->name, (int)p->pid, p->log_path);
    char line[2048];
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fprintf(stderr, "----- end of %s\n", p->name);
    fclose(f);
}

bool th_alive(struct th_proc *p) {
    if (p->pid <= 0)
        return false;
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        p->pid = 0;
        return false;
    }
    return r == 0;
}

int th_stop(struct th_proc *p, int sig, int timeout_ms) {
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid)
            break;
        if (waited >= timeout_ms) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            fprintf(stderr, "%s did not stop within %d ms\n", p->name, timeout_ms);
            th_dump_log(p);
            p->pid = 0;
            return -1;
        }
        th_sleep_ms(10);
    }
    p->pid = 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0)
        th_dump_log(p);
    return code;
}

void th_kill9(struct th_proc *p) {
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

static void quiet_notices(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

static char *run_sql(const char *sql, bool must) {
    PGconn *c = PQconnectdb(th_env("MKT_TEST_PG_DSN"));
    cr_assert(PQstatus(c) == CONNECTION_OK, "test database: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (!must && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    cr_assert(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "SQL failed: %s\n%s", PQerrorMessage(c), sql);
    char *out = NULL;
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
        out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return out;
}

char *th_sql(const char *sql) { return run_sql(sql, true); }
char *th_sql_try(const char *sql) { return run_sql(sql, false); }

char *th_service_dsn(const char *schema) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%1$s') THEN CREATE ROLE %1$s LOGIN; END IF; END $$;"
             "CREATE SCHEMA IF NOT EXISTS %1$s AUTHORIZATION %1$s; ALTER ROLE %1$s SET search_path = %1$s;",
             schema);
    free(th_sql(sql));
    const char *admin = th_env("MKT_TEST_PG_DSN");
    char *dsn = malloc(strlen(admin) + 64 + strlen(schema));
    cr_assert(dsn);
    /* The admin DSN ends with "user=postgres dbname=mkt": a later user= wins in libpq. */
    sprintf(dsn, "%s user=%s", admin, schema);
    return dsn;
}

size_t th_body_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    struct th_body *b = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(b->data, b->len + n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Whether the NULL-terminated "Name: value" list has a `name` header. */
static bool has_header(const char *const *headers, const char *name) {
    size_t k = strlen(name);
    for (int i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, k) == 0 && headers[i][k] == ':')
            return true;
    return false;
}

int th_http_full(const char *method, const char *url, const char *body, const char *const *headers,
                 char **resp_body, char **resp_headers) {
    CURL *h = curl_easy_init();
    cr_assert(h);
    struct th_body b = {0}, head = {0};
    struct curl_slist *hl = NULL;
    for (int i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    if (body && !has_header(headers, "Content-Type"))
        hl = curl_slist_append(hl, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) /* no body follows the headers */
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, th_body_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (resp_headers) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, th_body_write);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &head);
    }
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    if (resp_body)
        *resp_body = b.data ? b.data : strdup("");
    else
        free(b.data);
    if (resp_headers)
        *resp_headers = head.data ? head.data : strdup("");
    return (int)status;
}

int th_http(const char *method, const char *url, const char *body, const char *const *headers, char **resp_body) {
    return th_http_full(method, url, body, headers, resp_body, NULL);
}

void th_header(const char *text, const char *name, char *out, size_t n) {
    out[0] = '\0';
    size_t k = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncasecmp(l, name, k) == 0 && l[k] == ':') {
            const char *v = l + k + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)strcspn(v, "\r\n"), v);
            return;
        }
}

char *th_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    size_t got = s ? fread(s, 1, (size_t)len, f) : 0;
    fclose(f);
    if (s)
        s[got] = '\0';
    return s;
}
