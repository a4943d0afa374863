/*
 * ctl.h - the txlane operator CLI: one cmd_<name>() per subcommand, each in
 * services/ctl/cmd_<name>.c. A command receives argv with argv[0] being the
 * subcommand name and returns the process exit status: 0 success, 1 failure
 * of the operation, 2 bad arguments or configuration (one-line reason on stderr).
 */
#ifndef TXLANE_CTL_H
#define TXLANE_CTL_H

#include <stddef.h>

#include "txlane/config.h"
#include "txlane/rpc.h"
#include "txlane/uint256.h"

typedef int (*ctl_cmd_fn)(int argc, char **argv);

int cmd_keccak(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_derive(int argc, char **argv);
int cmd_xpub(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_topics(int argc, char **argv);
int cmd_lanes(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* Prints "txlane <cmd>: <reason>" to stderr and returns 2. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * ctl_env.c - the environment settings of the commands that talk to
 * PostgreSQL, Kafka or the node, read like the workers' (config.h). A command
 * declares a table of the CTL_OPT_* rows it needs, ended by CFG_END.
 */
typedef struct {
    char *log_level;
    char *pg_dsn;
    char *rpc_url;
    long long rpc_timeout_ms;
    char *topic_requests;
    long long lanes;
    long long gas_limit_max;
    long long kafka_timeout_ms;
} ctl_env_t;

#define CTL_OPT_LOG_LEVEL                                                                          \
    {"log_level", "TXLANE_LOG_LEVEL", CFG_STR, "info", 0, 0, offsetof(ctl_env_t, log_level), 0,   \
     "log level of the diagnostics on stderr: debug, info, warn, error"}
#define CTL_OPT_PG_DSN                                                                             \
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(ctl_env_t, pg_dsn),                  \
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"}
#define CTL_OPT_RPC_URL                                                                            \
    {"rpc_url", "TXLANE_RPC_URL", CFG_STR, "http://127.0.0.1:8545", 0, 0,                         \
     offsetof(ctl_env_t, rpc_url), 0, "JSON-RPC URL of the EVM node"},                             \
    {"rpc_timeout_ms", "TXLANE_RPC_TIMEOUT_MS", CFG_INT, "30000", 100, 600000,                     \
     offsetof(ctl_env_t, rpc_timeout_ms), 0, "timeout of one JSON-RPC batch"}
#define CTL_OPT_TOPIC_REQUESTS                                                                     \
    {"topic_requests", "TXLANE_TOPIC_REQUESTS", CFG_STR, "txlane.requests", 0, 0,                 \
     offsetof(ctl_env_t, topic_requests), 0, "payout requests topic"},                             \
    {"kafka_timeout_ms", "TXLANE_ADMIN_TIMEOUT_MS", CFG_INT, "30000", 1000, 600000,                \
     offsetof(ctl_env_t, kafka_timeout_ms), 0, "how long to wait for the cluster's metadata"}
#define CTL_OPT_REQUEST_LIMITS                                                                     \
    {"lanes", "TXLANE_LANES", CFG_INT, "64", 1, 100000, offsetof(ctl_env_t, lanes), 0,            \
     "number of lanes (a pinned lane must be below it)"},                                          \
    {"gas_limit_max", "TXLANE_GAS_LIMIT_MAX", CFG_INT, "30000000", 21000, 1000000000,             \
     offsetof(ctl_env_t, gas_limit_max), 0, "largest gas_limit a request may ask for"}

/*
 * Loads env from the environment with table (argv is not consulted: the
 * command parsed it already); with_kafka also checks every KAFKA_* variable.
 * Returns -1 to go on, else 2 after printing the reason. Call
 * ctl_env_free(table, env) in every case.
 */
int ctl_env_load(const char *cmd, const cfg_option_t *table, ctl_env_t *env, int with_kafka);
void ctl_env_free(const cfg_option_t *table, ctl_env_t *env);

/* Prints usage, then the table's environment section, to stdout; returns 0. */
int ctl_help(const char *usage, const cfg_option_t *table);

/* Opens a PostgreSQL connection for cmd; prints the reason and returns NULL
 * on failure. Close with PQfinish. */
struct pg_conn *ctl_db_connect(const char *cmd, const ctl_env_t *env);

/* Parses a decimal integer in [min, max] (digits only, no sign unless min <
 * 0); 0 or -1. */
int ctl_parse_ll(const char *s, long long min, long long max, long long *out);

/*
 * ctl_rpc.c - many JSON-RPC calls of one method, sent as batches of
 * CTL_RPC_BATCH calls, CTL_RPC_PARALLEL batches at a time (rpc.h).
 */
#define CTL_RPC_BATCH 500
#define CTL_RPC_PARALLEL 4

/* Called once per answered call, in index order; the call may carry a node
 * error. Return 0 to go on, non-zero to stop (ctl_rpc_each returns it). */
typedef int (*ctl_rpc_answer_fn)(void *ctx, size_t i, const rpc_call_t *call);

/* Calls method with params[i] (JSON array texts) for i in [0, n). Returns 0,
 * the callback's non-zero value, or a transport error with errstr set. */
int ctl_rpc_each(rpc_client_t *rpc, const char *method, char *const *params, size_t n,
                 ctl_rpc_answer_fn on_answer, void *ctx, char *errstr, size_t errstr_size);

/* method(address[i], block_tag) for a quantity-valued method (eth_getBalance,
 * eth_getTransactionCount) into out[i]. A node error or malformed answer is
 * TXL_ERPC with errstr naming the address. */
int ctl_rpc_address_quantities(rpc_client_t *rpc, const char *method, char *const *addrs,
                               size_t n, const char *block_tag, uint256_t *out,
                               char *errstr, size_t errstr_size);

/* SQL text of a timestamptz column c as ISO-8601 UTC with milliseconds. */
#define CTL_SQL_TS(c) "to_char((" c ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#endif
