/*
 * config.h - table-driven configuration from the environment.
 *
 * Each program declares one table of cfg_option_t (name, env var, type,
 * default, bounds, help, where the value lives in its config struct); --help
 * and validation both come from that table. Every value is checked at
 * start-up; a bad one yields one line naming the variable and what is wrong.
 * Strings are copied into the config struct and freed by cfg_free().
 */
#ifndef TXLANE_CONFIG_H
#define TXLANE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "txlane/err.h"

typedef enum {
    CFG_STR,  /* char *, owned by the struct, freed by cfg_free */
    CFG_INT,  /* long long within [min, max] */
    CFG_BOOL, /* int: true/false/1/0/yes/no/on/off */
    CFG_WEI,  /* char *: decimal wei below 2^256, normalised (no leading zeros) */
} cfg_type_t;

enum {
    CFG_REQUIRED = 1 << 0, /* no default: must be set */
    CFG_SECRET = 1 << 1,   /* never printed (e.g. a DSN with a password) */
};

typedef struct {
    const char *name; /* short name, e.g. "lanes" */
    const char *env;  /* environment variable, e.g. "TXLANE_LANES" */
    cfg_type_t type;
    const char *def; /* default as text; NULL with CFG_REQUIRED, or "" for empty */
    long long min, max;
    size_t offset; /* offsetof() the value in the program's config struct */
    unsigned flags;
    const char *help;
} cfg_option_t;

#define CFG_END {NULL, NULL, CFG_STR, NULL, 0, 0, 0, 0, NULL}

/* Settings every program has; embed as a member named "common". */
typedef struct {
    char *log_level;
    long long http_port;
    char *http_bind;
    char *topic_requests;
    char *topic_allocated;
    char *topic_signed;
    char *topic_status;
    char *topic_dlq;
} cfg_common_t;

#define CFG_COMMON_OPTIONS(type, port)                                                             \
    {"log_level", "TXLANE_LOG_LEVEL", CFG_STR, "info", 0, 0, offsetof(type, common.log_level), 0,   \
     "log level: debug, info, warn, error"},                                                       \
    {"http_port", "TXLANE_HTTP_PORT", CFG_INT, port, 0, 65535, offsetof(type, common.http_port),   \
     0, "port of /metrics, /healthz, /readyz (0 disables)"},                                       \
    {"http_bind", "TXLANE_HTTP_BIND", CFG_STR, "0.0.0.0", 0, 0, offsetof(type, common.http_bind),  \
     0, "address the HTTP endpoint listens on"},                                                   \
    {"topic_requests", "TXLANE_TOPIC_REQUESTS", CFG_STR, "txlane.requests", 0, 0,                  \
     offsetof(type, common.topic_requests), 0, "payout requests topic"},                           \
    {"topic_allocated", "TXLANE_TOPIC_ALLOCATED", CFG_STR, "txlane.allocated", 0, 0,               \
     offsetof(type, common.topic_allocated), 0, "allocated transactions topic"},                   \
    {"topic_signed", "TXLANE_TOPIC_SIGNED", CFG_STR, "txlane.signed", 0, 0,                        \
     offsetof(type, common.topic_signed), 0, "signed transactions topic"},                         \
    {"topic_status", "TXLANE_TOPIC_STATUS", CFG_STR, "txlane.status", 0, 0,                        \
     offsetof(type, common.topic_status), 0, "status events topic"},                               \
    {"topic_dlq", "TXLANE_TOPIC_DLQ", CFG_STR, "txlane.dlq", 0, 0,                                 \
     offsetof(type, common.topic_dlq), 0, "dead-letter topic"}

/*
 * Loads every option of table into cfg (a zeroed struct) from the environment.
 * Handles argv: --help prints the table and returns 1, --version prints the
 * version and returns 1 (the caller exits 0); an unknown argument is an error.
 * Returns 0 on success, TXL_ECONFIG with errstr set ("TXLANE_X: reason") on
 * any invalid or missing value. Call cfg_free() in every case.
 */
int cfg_load(const cfg_option_t *table, void *cfg, const char *program, int argc, char **argv,
             char *errstr, size_t errstr_size) TXL_WUR;

/* Prints the option table (for --help). */
void cfg_print_help(FILE *out, const cfg_option_t *table, const char *program,
                    const char *summary);

/* Prints only the "configuration (environment):" section of the help, for
 * commands that have their own usage text. */
void cfg_print_env(FILE *out, const cfg_option_t *table);

/* Frees the strings cfg_load stored in cfg. Accepts a partially loaded struct. */
void cfg_free(const cfg_option_t *table, void *cfg);

#endif
