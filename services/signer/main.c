/*
 * main.c - txlane-signer: consumes txlane.allocated, signs each transaction
 * with its lane key, produces txlane.signed (signer.c). Holds the seed; no
 * database and no node access.
 *
 * Start-up: the lane keys are derived once from the mnemonic file (refused
 * if group or others may read it) into locked memory, and the seed is wiped;
 * then the service (HTTP, signals), the producer, the consumer and the loop. SIGTERM
 * finishes the batch in hand, flushes, commits and exits 0. Every exit path
 * after start-up wipes the keys (keyring_free).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "signer.h"
#include "txlane/config.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/stream.h"

typedef struct {
    cfg_common_t common;
    char *group;
    char *mnemonic_file;
    char *passphrase_file;
    long long lanes;
    long long chain_id;
    char *tx_type;
    long long batch_max;
    long long linger_ms;
} signer_config_t;

static const cfg_option_t signer_options[] = {
    CFG_COMMON_OPTIONS(signer_config_t, "9102"),
    {"group", "TXLANE_GROUP", CFG_STR, "txlane-signer", 0, 0, offsetof(signer_config_t, group), 0,
     "Kafka consumer group"},
    {"mnemonic_file", "TXLANE_MNEMONIC_FILE", CFG_STR, NULL, 0, 0,
     offsetof(signer_config_t, mnemonic_file), CFG_REQUIRED,
     "file holding the wallet's BIP-39 mnemonic; must not be group/world readable"},
    {"passphrase_file", "TXLANE_PASSPHRASE_FILE", CFG_STR, "", 0, 0,
     offsetof(signer_config_t, passphrase_file), 0,
     "file holding the BIP-39 passphrase (empty: none)"},
    {"lanes", "TXLANE_LANES", CFG_INT, "64", 1, KEYRING_LANES_MAX,
     offsetof(signer_config_t, lanes), 0, "lanes 0..N-1 whose keys are derived"},
    {"chain_id", "TXLANE_CHAIN_ID", CFG_INT, "0", 0, 9223372036854775807LL,
     offsetof(signer_config_t, chain_id), 0,
     "sign only for this chain id; messages for another go to the DLQ (0: any)"},
    {"tx_type", "TXLANE_TX_TYPE", CFG_STR, "eip1559", 0, 0, offsetof(signer_config_t, tx_type), 0,
     "eip1559, or legacy (EIP-155; gas price = max_fee_per_gas)"},
    {"batch_max", "TXLANE_BATCH_MAX", CFG_INT, "500", 1, 100000,
     offsetof(signer_config_t, batch_max), 0, "messages per batch at most"},
    {"linger_ms", "TXLANE_LINGER_MS", CFG_INT, "0", 0, 10000, offsetof(signer_config_t, linger_ms),
     0, "wait this long after a batch's first message for more (0: take what has arrived)"},
    CFG_END,
};

/*
 * Runs before service_start: reads the configuration on its own to check the
 * transaction type and derive the lane keys, so that a refused mnemonic file
 * is one line on stderr (exit 2) and the program never listens or says
 * "starting" without its keys. Returns -1 to go on (with *kr set, or NULL
 * when service_start is to report the arguments or configuration), or 2.
 */
static int signer_prepare(int argc, char **argv, keyring_t **kr, tx_type_t *tx_type,
                          long long *derive_ms) {
    signer_config_t cfg;
    char errstr[512];
    *kr = NULL;
    if (argc > 1)
        return -1; /* --help, --version or an error: service_start answers */
    memset(&cfg, 0, sizeof(cfg));
    int rc = cfg_load(signer_options, &cfg, "txlane-signer", argc, argv, errstr, sizeof(errstr));
    if (rc != 0) {
        cfg_free(signer_options, &cfg);
        return -1;
    }
    int status = -1;
    if (strcmp(cfg.tx_type, "eip1559") == 0) {
        *tx_type = TX_TYPE_EIP1559;
    } else if (strcmp(cfg.tx_type, "legacy") == 0) {
        *tx_type = TX_TYPE_LEGACY;
    } else {
        fprintf(stderr,
                "txlane-signer: invalid configuration: TXLANE_TX_TYPE: must be eip1559 or legacy, "
                "got '%s'\n",
                cfg.tx_type);
        status = 2;
        goto done;
    }
    long long t0 = service_now_ms();
    rc = keyring_load(cfg.mnemonic_file, cfg.passphrase_file[0] ? cfg.passphrase_file : NULL,
                      (uint32_t)cfg.lanes, kr, errstr, sizeof(errstr));
    if (rc != 0) {
        fprintf(stderr, "txlane-signer: invalid configuration: TXLANE_MNEMONIC_FILE: %s\n",
                errstr);
        status = 2;
        goto done;
    }
    *derive_ms = service_now_ms() - t0;
done:
    cfg_free(signer_options, &cfg);
    return status;
}

int main(int argc, char **argv) {
    signer_config_t cfg;
    service_t svc;
    worker_t w;
    signer_t sg;
    keyring_t *kr = NULL;
    producer_t *producer = NULL;
    stream_t *stream = NULL;
    tx_type_t tx_type = TX_TYPE_EIP1559;
    long long derive_ms = 0;
    char errstr[512];
    memset(&cfg, 0, sizeof(cfg));
    memset(&w, 0, sizeof(w));
    memset(&sg, 0, sizeof(sg));
    int rc = signer_prepare(argc, argv, &kr, &tx_type, &derive_ms);
    if (rc >= 0)
        return rc;
    rc = service_start(&svc, "signer", "txlane-signer: signs allocated transactions",
                       signer_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0 || kr == NULL) {
        keyring_free(kr);
        return rc >= 0 ? rc : service_finish(&svc, signer_options, &cfg, 2);
    }
    char lane0[ADDRESS_STR_LEN + 1];
    address_format(keyring_address(kr, 0), lane0);
    log_info("lane keys ready", LF_U("lanes", keyring_lanes(kr)), LF_S("lane0", lane0),
             LF_I("locked", keyring_locked(kr)), LF_I("ms", derive_ms),
             LF_S("tx_type", cfg.tx_type), LF_I("chain_id", cfg.chain_id));
    if (!keyring_locked(kr))
        log_warn("could not lock the lane keys in memory: they may be swapped out",
                 LF_S("hint", "raise the memlock limit (ulimit -l, LimitMEMLOCK)"));
    metric_set(metric_gauge("txlane_signer_lanes", NULL, "lanes whose keys this signer holds"),
               (double)keyring_lanes(kr));

    int exit_code = 0;
    producer = producer_new("txlane-signer", errstr, sizeof(errstr));
    if (producer == NULL) {
        fprintf(stderr, "txlane-signer: invalid configuration: %s\n", errstr);
        exit_code = 2;
        goto cleanup;
    }
    signer_init(&sg, producer);
    sg.kr = kr;
    sg.worker = &w;
    sg.tx_type = tx_type;
    sg.chain_id = (uint64_t)cfg.chain_id;
    sg.topic_signed = cfg.common.topic_signed;
    sg.topic_status = cfg.common.topic_status;
    sg.topic_dlq = cfg.common.topic_dlq;
    stream_handlers_t handlers = {.on_batch = signer_on_batch,
                                  .on_idle = signer_on_idle,
                                  .ctx = &sg,
                                  .batch_max = (size_t)cfg.batch_max,
                                  .linger_ms = (int)cfg.linger_ms,
                                  .producer = producer};
    stream = stream_new(&handlers);
    worker_spec_t spec = {.client_id = "txlane-signer",
                          .group = cfg.group,
                          .pg_dsn = NULL,
                          .rpc_url = NULL,
                          .rebalance_cb = stream_rebalance_cb,
                          .opaque = stream,
                          .ping_client = producer_handle(producer)};
    rc = worker_open(&w, &spec, errstr, sizeof(errstr));
    if (rc == TXL_ECONFIG) {
        fprintf(stderr, "txlane-signer: invalid configuration: %s\n", errstr);
        exit_code = 2;
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup; /* stopped while starting */
    rc = stream_subscribe(stream, w.consumer, cfg.common.topic_allocated, errstr, sizeof(errstr));
    if (rc != 0) {
        log_error("could not subscribe", LF_S("error", errstr));
        exit_code = 1;
        goto cleanup;
    }
    log_info("signing", LF_S("topic", cfg.common.topic_allocated), LF_S("group", cfg.group),
             LF_S("signed_topic", cfg.common.topic_signed));
    while (service_running())
        stream_poll(stream);

cleanup:
    stream_close(stream); /* commits what was processed, leaves the group */
    worker_close(&w);
    producer_free(producer);
    signer_clear(&sg);
    keyring_free(kr);
    return service_finish(&svc, signer_options, &cfg, exit_code);
}
