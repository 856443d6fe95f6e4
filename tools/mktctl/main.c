/* mktctl's entry point: parses the command line (and reads the environment defaults) and runs
 * one command. Usage is printed on any mistake; see usage() for the commands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mktctl.h"

static int usage(FILE *f) {
    fprintf(f,
            "usage: mktctl health [--url URL]\n"
            "         GET URL/readyz (default %s), print it; exit 0 when ready, 1 otherwise\n"
            "       mktctl events tail [--nats URL] [--subject PATTERN] [--since TIME] [--count N]\n"
            "         print events of the EVENTS stream as JSON lines; --nats defaults to $MKT_NATS_URL\n"
            "         or %s, --subject to %s; --since is ISO 8601 (2026-11-21T10:00:00Z) or a\n"
            "         duration back from now (90s, 10m, 2h, 1d), else from the first event; without\n"
            "         --count it follows until interrupted\n",
            MKTCTL_DEFAULT_URL, MKTCTL_DEFAULT_NATS, MKTCTL_DEFAULT_SUBJECT);
    return f == stdout ? 0 : 2;
}

static int cmd_health(int argc, char **argv) {
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'}, {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *url = MKTCTL_DEFAULT_URL;
    int c;
    while ((c = getopt_long(argc, argv, "u:h", opts, NULL)) != -1) {
        if (c == 'u')
            url = optarg;
        else
            return usage(c == 'h' ? stdout : stderr);
    }
    if (optind != argc)
        return usage(stderr);
    return mktctl_health(url);
}

static int cmd_events_tail(int argc, char **argv) {
    static const struct option opts[] = {{"nats", required_argument, NULL, 'n'},
                                         {"subject", required_argument, NULL, 's'},
                                         {"since", required_argument, NULL, 't'},
                                         {"count", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *env = getenv("MKT_NATS_URL");
    struct mktctl_tail_opts o = {.nats_url = env && *env ? env : MKTCTL_DEFAULT_NATS,
                                 .subject = MKTCTL_DEFAULT_SUBJECT};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "n:s:t:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o.nats_url = optarg; break;
        case 's': o.subject = optarg; break;
        case 't': o.since = optarg; break;
        case 'c':
            o.count = strtoll(optarg, &end, 10);
            if (*end || o.count <= 0) {
                fprintf(stderr, "mktctl: --count must be a positive integer\n");
                return 2;
            }
            break;
        default: return usage(c == 'h' ? stdout : stderr);
        }
    }
    if (optind != argc)
        return usage(stderr);
    return mktctl_events_tail(&o);
}

int main(int argc, char **argv) {
    log_init("mktctl", "warn");
    if (argc >= 2 && strcmp(argv[1], "health") == 0)
        return cmd_health(argc - 1, argv + 1);
    if (argc >= 3 && strcmp(argv[1], "events") == 0 && strcmp(argv[2], "tail") == 0)
        return cmd_events_tail(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage(stdout);
    return usage(stderr);
}
