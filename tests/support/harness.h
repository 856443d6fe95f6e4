/* Support for integration tests. tests/harness/run.sh starts the real infrastructure once per
 * run (PostgreSQL, nats-server with JetStream, an aiosmtpd SMTP sink, the cloud emulator) on free
 * ports in a temporary folder, and exports where they are:
 *
 *   MKT_TEST_PG_DSN        superuser DSN of the test PostgreSQL ("host=... port=... user=postgres dbname=mkt")
 *   MKT_TEST_NATS_URL      "nats://127.0.0.1:PORT"
 *   MKT_TEST_SMTP_URL      "smtp://127.0.0.1:PORT"      MKT_TEST_MAILDIR  the sink's Maildir
 *   MKT_TEST_CLOUD_URL     "http://127.0.0.1:PORT"      (the emulator, when built)
 *   MKT_TEST_CLOUD_SEED    the seed file the emulator was started with
 *   MKT_TEST_BIN           folder of the binaries under test (build/bin or build/asan/bin)
 *   MKT_TEST_TMP           a scratch folder for this run (removed afterwards)
 *
 * Tests start the programs they need (services, test programs) with th_spawn and stop them with
 * th_stop, which also reports the exit status (a service must exit 0 after SIGTERM). Each test
 * uses its own data (fresh schema, organization, subjects) so tests never collide. Processes'
 * stderr goes to MKT_TEST_TMP/<name>-<pid>.log, printed by th_stop on unexpected exits. */
#ifndef MKT_TEST_HARNESS_H
#define MKT_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The variable's value; aborts the test (cr_assert) when unset. */
const char *th_env(const char *name);
/* A free TCP port on 127.0.0.1. */
int th_free_port(void);
/* A unique lower-case identifier with the given prefix ("t_3f9a..."), usable as a schema name. */
void th_unique(const char *prefix, char *out, size_t n);

struct th_proc {
    pid_t pid;
    char name[64];
    char log_path[512];
};
/* Starts MKT_TEST_BIN/<program> with argv (NULL-terminated, may be NULL) and the current
 * environment plus `env` ("KEY=VALUE" strings, NULL-terminated, may be NULL). */
struct th_proc th_spawn(const char *program, const char *const *argv, const char *const *env);
/* Sends sig (SIGTERM normally) and waits up to timeout_ms; returns the exit code, 128+signal when
 * killed by a signal, or -1 on timeout (then SIGKILLs it). Prints the log when the result is not 0. */
int th_stop(struct th_proc *p, int sig, int timeout_ms);
/* Starts the notifier (schema and role "notifier", the run's SMTP sink, the repository's
 * templates, 5 s drain): for tests that read the mails other services ask it to send. */
struct th_proc th_spawn_notifier(void);
/* kill -9 and reap. */
void th_kill9(struct th_proc *p);
bool th_alive(struct th_proc *p);
/* Prints the process's log to stderr (on failure paths). */
void th_dump_log(const struct th_proc *p);

/* Runs SQL as the superuser on MKT_TEST_PG_DSN; returns the first column of the first row
 * (malloc'd, caller frees) or NULL; aborts the test on SQL errors. */
char *th_sql(const char *sql);
/* Same, but an SQL error (such as a table not created yet) returns NULL instead of failing. */
char *th_sql_try(const char *sql);
/* Creates a schema and a login role of the same name owning it; returns a DSN for that role
 * (malloc'd) whose search_path is the schema, like a service's own. */
char *th_service_dsn(const char *schema);

/* A libcurl write (or header) callback collecting what it gets into a NUL-terminated malloc'd
 * buffer, for tests that drive their own CURL handle (signing options, kept-alive handles). */
struct th_body {
    char *data; /* owned: free() it; NULL until something arrived */
    size_t len;
};
size_t th_body_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* A small HTTP client (libcurl). Returns the status (0 on transport error); *body (may be NULL)
 * receives the malloc'd response body. `headers` is NULL-terminated "Name: value" or NULL; a body
 * is sent as application/json unless `headers` name another Content-Type. */
int th_http(const char *method, const char *url, const char *body, const char *const *headers, char **resp_body);
/* Same, and *resp_headers (may be NULL) receives the malloc'd header block of the response. */
int th_http_full(const char *method, const char *url, const char *body, const char *const *headers,
                 char **resp_body, char **resp_headers);
/* The value of the first "Name: value" line of `text` (an HTTP header block or a whole mail), name
 * compared without case, leading spaces skipped; "" when there is none. */
void th_header(const char *text, const char *name, char *out, size_t n);

/* The whole file, NUL-terminated (malloc'd, caller frees), or NULL when it cannot be read. */
char *th_read_file(const char *path);

/* Polls `check(arg)` every 20 ms until it returns true or timeout_ms passes. */
bool th_eventually(bool (*check)(void *arg), void *arg, int timeout_ms);
/* Milliseconds sleep. */
void th_sleep_ms(int ms);

#endif
