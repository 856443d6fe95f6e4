/* Configuration as a table: each service declares its settings (environment variable, type,
 * default, bounds, secret flag, destination field) and loads them in one call that reports every
 * problem at once. Only main.c calls this (only main reads the environment). String values point
 * into the environment or the table's defaults and live as long as the process. */
#ifndef MKT_CONFIG_H
#define MKT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum config_type {
    CONFIG_STRING, /* const char *; min/max bound the length */
    CONFIG_INT,    /* long long; min/max bound the value */
    CONFIG_BOOL,   /* bool; accepts 1/0, true/false, yes/no, on/off */
    CONFIG_LOG_LEVEL, /* enum log_level (lib/log.h); accepts debug, info, warn, error */
};

struct config_field {
    const char *env;   /* e.g. "MKT_NATS_URL" */
    enum config_type type;
    const char *def;   /* default as text; NULL makes the setting required */
    long long min, max;
    bool secret;       /* masked in config_log */
    size_t offset;     /* offsetof(struct my_config, field) */
    const char *help;
};

#define CONFIG_COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* Fills `out` from the environment; on failure e->msg lists every bad setting ("; " separated). */
err_code config_load(const struct config_field *fields, size_t n, void *out, struct err *e) MKT_MUST_USE;
/* Logs the effective configuration on one line, secrets masked. */
void config_log(const struct config_field *fields, size_t n, const void *cfg);

#endif
