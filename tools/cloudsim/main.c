/* cloudsim: the OUTSCALE API emulator used by tests and the local run. main reads the command
 * line, builds the server (state file, seed), listens, and waits for SIGTERM or SIGINT; the
 * state file is already up to date after every mutating call, so the first signal only drains
 * the HTTP server (in-flight calls finish) and frees everything (exit 0); a second one during
 * the drain ends the process at once.
 *
 *   cloudsim --listen 127.0.0.1:PORT [--seed FILE] [--state FILE] [--copy-delay-ms N]
 *            [--vm-delay-ms N] [--threads N] [--sig-clock sim|real|either] [--conflict-status 409|400]
 *            [--log-level LEVEL] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "server.h"

static void usage(void) {
    fprintf(stderr, "usage: cloudsim --listen ADDR:PORT [--seed FILE] [--state FILE] [--copy-delay-ms N (2000)]\n"
                    "                [--vm-delay-ms N (0)] [--threads N (4)] [--sig-clock sim|real|either (sim)]\n"
                    "                [--conflict-status 400|409 (400, as the cloud)] [--log-level debug|info|warn|error]\n");
}

static bool parse_int(const char *s, int min, int max, int *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !*s || *end || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_window(const char *s, enum auth_window *out) {
    static const char *const names[] = {"sim", "real", "either"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum auth_window)i;
            return true;
        }
    return false;
}

/* "127.0.0.1:8080" into addr (owned by the caller's buffer) and port. */
static bool parse_listen(const char *s, char *addr, size_t n, int *port) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= n)
        return false;
    memcpy(addr, s, (size_t)(colon - s));
    addr[colon - s] = '\0';
    return parse_int(colon + 1, 0, 65535, port);
}

int main(int argc, char **argv) {
    struct server_config cfg = {.addr = "127.0.0.1", .copy_delay_ms = 2000, .vm_delay_ms = 0, .threads = 4};
    char addr[256] = "127.0.0.1";
    const char *level = NULL;
    bool have_listen = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;
        if (strcmp(a, "--listen") == 0)
            ok = ok && (have_listen = parse_listen(v, addr, sizeof addr, &cfg.port));
        else if (strcmp(a, "--seed") == 0)
            cfg.seed_path = v;
        else if (strcmp(a, "--state") == 0)
            cfg.state_path = v;
        else if (strcmp(a, "--copy-delay-ms") == 0)
            ok = ok && parse_int(v, 0, 24 * 3600 * 1000, &cfg.copy_delay_ms);
        else if (strcmp(a, "--vm-delay-ms") == 0)
            ok = ok && parse_int(v, 0, 24 * 3600 * 1000, &cfg.vm_delay_ms);
        else if (strcmp(a, "--threads") == 0)
            ok = ok && parse_int(v, 1, 64, &cfg.threads);
        else if (strcmp(a, "--sig-clock") == 0)
            ok = ok && parse_window(v, &cfg.sig_window);
        else if (strcmp(a, "--conflict-status") == 0)
            ok = ok && parse_int(v, 400, 409, &cfg.conflict_status) &&
                 (cfg.conflict_status == 400 || cfg.conflict_status == 409);
        else if (strcmp(a, "--log-level") == 0)
            level = v;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "cloudsim: bad or incomplete option '%s'\n", a);
            usage();
            return 2;
        }
        i++;
    }
    if (!have_listen) {
        usage();
        return 2;
    }
    cfg.addr = addr;
    log_init("cloudsim", level);
    clock_init_from_env();
    crypto_init();

    /* block the stop signals before any thread starts, then wait for them here */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct err e;
    struct server *s = NULL;
    if (server_new(&cfg, &s, &e) != ERR_OK || server_start(s, &cfg, &e) != ERR_OK) {
        log_error("cannot start: %s", e.msg);
        server_free(s);
        return 1;
    }
    log_info("listening on http://%s:%d (seed %s, state %s, copy delay %d ms, vm delay %d ms)", addr,
             server_port(s), cfg.seed_path ? cfg.seed_path : "-", cfg.state_path ? cfg.state_path : "-",
             cfg.copy_delay_ms, cfg.vm_delay_ms);
    int sig = 0;
    sigwait(&stop, &sig);
    log_info("signal %d: stopping", sig);
    /* a second signal during the drain ends the process at once (default action) */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    server_free(s);
    log_info("stopped");
    return 0;
}
