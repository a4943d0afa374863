/*
 * config.c - table-driven configuration from the environment (see config.h).
 *
 * Values are read from the environment only; the table is the single source
 * for --help, defaults, bounds and validation. Errors name the variable.
 */
#include "txlane/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "txlane/uint256.h"
#include "txlane/xmalloc.h"

static const char *const cfg_type_names[] = {"string", "integer", "bool", "wei"};

static int cfg_fail(char *errstr, size_t errstr_size, const cfg_option_t *opt, const char *fmt,
                    const char *value) {
    char reason[256];
    snprintf(reason, sizeof(reason), fmt, opt->min, opt->max);
    if (value != NULL && !(opt->flags & CFG_SECRET))
        snprintf(errstr, errstr_size, "%s: %s, got '%.64s'", opt->env, reason, value);
    else
        snprintf(errstr, errstr_size, "%s: %s", opt->env, reason);
    return TXL_ECONFIG;
}

static int cfg_parse_bool(const char *s, int *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return TXL_EINVAL;
}

static int cfg_set_one(const cfg_option_t *opt, void *cfg, const char *value, char *errstr,
                       size_t errstr_size) {
    char *slot = (char *)cfg + opt->offset;
    switch (opt->type) {
    case CFG_STR: {
        char **dst = (char **)(void *)slot;
        free(*dst);
        *dst = xstrdup(value);
        return 0;
    }
    case CFG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (value[0] == '\0' || isspace((unsigned char)value[0]) || *end != '\0' || errno != 0)
            return cfg_fail(errstr, errstr_size, opt, "must be an integer", value);
        if (v < opt->min || v > opt->max)
            return cfg_fail(errstr, errstr_size, opt, "must be between %lld and %lld", value);
        *(long long *)(void *)slot = v;
        return 0;
    }
    case CFG_BOOL: {
        int b;
        if (cfg_parse_bool(value, &b) != 0)
            return cfg_fail(errstr, errstr_size, opt, "must be true or false", value);
        *(int *)(void *)slot = b;
        return 0;
    }
    case CFG_WEI: {
        uint256_t v;
        char dec[UINT256_DEC_BUF];
        if (uint256_parse_dec(value, &v) != 0)
            return cfg_fail(errstr, errstr_size, opt,
                            "must be a decimal amount of wei below 2^256", value);
        uint256_format_dec(&v, dec);
        char **dst = (char **)(void *)slot;
        free(*dst);
        *dst = xstrdup(dec);
        return 0;
    }
    }
    return TXL_EINVAL;
}

int cfg_load(const cfg_option_t *table, void *cfg, const char *program, int argc, char **argv,
             char *errstr, size_t errstr_size) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cfg_print_help(stdout, table, program, NULL);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", program, TXLANE_VERSION);
            return 1;
        }
        snprintf(errstr, errstr_size,
                 "unknown argument '%.64s': configuration comes from the environment (see --help)",
                 argv[i]);
        return TXL_ECONFIG;
    }
    for (const cfg_option_t *opt = table; opt->name != NULL; opt++) {
        const char *value = getenv(opt->env);
        if (value == NULL) {
            if (opt->flags & CFG_REQUIRED) {
                snprintf(errstr, errstr_size, "%s: required but not set (%s)", opt->env,
                         opt->help);
                return TXL_ECONFIG;
            }
            value = opt->def != NULL ? opt->def : "";
        } else if (value[0] == '\0' && (opt->flags & CFG_REQUIRED)) {
            snprintf(errstr, errstr_size, "%s: required but empty (%s)", opt->env, opt->help);
            return TXL_ECONFIG;
        }
        int rc = cfg_set_one(opt, cfg, value, errstr, errstr_size);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void cfg_print_help(FILE *out, const cfg_option_t *table, const char *program,
                    const char *summary) {
    fprintf(out, "usage: %s [--help] [--version]\n", program);
    if (summary != NULL)
        fprintf(out, "%s\n", summary);
    fputc('\n', out);
    cfg_print_env(out, table);
}

void cfg_print_env(FILE *out, const cfg_option_t *table) {
    fprintf(out, "configuration (environment):\n");
    fprintf(out, "  %-32s %-8s %-20s %s\n", "VARIABLE", "TYPE", "DEFAULT", "DESCRIPTION");
    for (const cfg_option_t *opt = table; opt->name != NULL; opt++) {
        char def[64];
        if (opt->flags & CFG_REQUIRED)
            snprintf(def, sizeof(def), "(required)");
        else if (opt->flags & CFG_SECRET)
            snprintf(def, sizeof(def), "(secret)");
        else
            snprintf(def, sizeof(def), "%s", opt->def != NULL && opt->def[0] ? opt->def : "\"\"");
        fprintf(out, "  %-32s %-8s %-20s %s", opt->env, cfg_type_names[opt->type], def, opt->help);
        if (opt->type == CFG_INT)
            fprintf(out, " [%lld..%lld]", opt->min, opt->max);
        fputc('\n', out);
    }
    fprintf(out, "\n  KAFKA_<PROPERTY>                 passed to librdkafka, e.g. "
                 "KAFKA_BOOTSTRAP_SERVERS -> bootstrap.servers\n");
}

void cfg_free(const cfg_option_t *table, void *cfg) {
    for (const cfg_option_t *opt = table; opt->name != NULL; opt++) {
        if (opt->type == CFG_STR || opt->type == CFG_WEI) {
            char **slot = (char **)(void *)((char *)cfg + opt->offset);
            free(*slot);
            *slot = NULL;
        }
    }
}
