/*
 * main.c - txlane-allocator: consumes txlane.requests, validates each payout
 * request, reserves a (lane, nonce) durably in PostgreSQL and produces
 * txlane.allocated (DESIGN sections 1, 3, 6). Knows lanes by address only
 * (TXLANE_XPUB); never a key. Lane i belongs to partition i mod P of the
 * requests topic: the instance holding a partition allocates its lanes'
 * nonces from an in-memory counter, fenced by owner_epoch.
 *
 * Files: lanes.c (registry, ownership, chain check, routing), batch.c (one
 * batch = one transaction), this file (configuration, start-up, loop).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "txlane/db.h"
#include "txlane/hd.h"
#include "txlane/kafka.h"
#include "txlane/log.h"
#include "txlane/service.h"
#include "txlane/stream.h"
#include "txlane/worker.h"
#include "txlane/xmalloc.h"

#define ALLOC_RETRY_MS 1000

static const cfg_option_t allocator_options[] = {
    CFG_COMMON_OPTIONS(allocator_config_t, "9101"),
    {"group", "TXLANE_GROUP", CFG_STR, "txlane-allocator", 0, 0,
     offsetof(allocator_config_t, group), 0, "Kafka consumer group"},
    {"pg_dsn", "TXLANE_PG_DSN", CFG_STR, NULL, 0, 0, offsetof(allocator_config_t, pg_dsn),
     CFG_REQUIRED | CFG_SECRET, "PostgreSQL connection string"},
    {"rpc_url", "TXLANE_RPC_URL", CFG_STR, "http://127.0.0.1:8545", 0, 0,
     offsetof(allocator_config_t, rpc_url), 0, "JSON-RPC URL of the EVM node (fees, nonces)"},
    {"xpub", "TXLANE_XPUB", CFG_STR, NULL, 0, 0, offsetof(allocator_config_t, xpub),
     CFG_REQUIRED, "account xpub m/44'/60'/0' the lanes derive from (txlane xpub)"},
    {"lanes", "TXLANE_LANES", CFG_INT, "64", 1, 100000, offsetof(allocator_config_t, lanes), 0,
     "number of lanes m/44'/60'/0'/0/0..N-1 (at least the requests topic's partitions)"},
    {"treasury_lane", "TXLANE_TREASURY_LANE", CFG_INT, "-1", -1, 99999,
     offsetof(allocator_config_t, treasury_lane), 0,
     "lane index of the treasury (funds the others, never routed to); -1: none"},
    {"chain_id", "TXLANE_CHAIN_ID", CFG_INT, "0", 0, 0x7fffffffffffffffLL,
     offsetof(allocator_config_t, chain_id), 0, "chain id; 0: ask the node (checked when set)"},
    {"batch_max", "TXLANE_BATCH_MAX", CFG_INT, "2000", 1, 100000,
     offsetof(allocator_config_t, batch_max), 0, "most requests in one batch (one transaction)"},
    {"linger_ms", "TXLANE_LINGER_MS", CFG_INT, "0", 0, 10000,
     offsetof(allocator_config_t, linger_ms), 0,
     "wait this long for a batch to fill (0: take what has arrived; batches grow with the load)"},
    {"max_fee_wei", "TXLANE_MAX_FEE_WEI", CFG_WEI, "500000000000", 0, 0,
     offsetof(allocator_config_t, max_fee_wei), 0, "cap on max_fee_per_gas of every tx"},
    {"min_priority_fee_wei", "TXLANE_MIN_PRIORITY_FEE_WEI", CFG_WEI, "1000000", 0, 0,
     offsetof(allocator_config_t, min_priority_fee_wei), 0, "floor of max_priority_fee_per_gas"},
    {"fee_refresh_ms", "TXLANE_FEE_REFRESH_MS", CFG_INT, "2000", 100, 600000,
     offsetof(allocator_config_t, fee_refresh_ms), 0, "age at which the fee estimate is renewed"},
    {"gas_limit_erc20", "TXLANE_GAS_LIMIT_ERC20", CFG_INT, "100000", 21000, 30000000,
     offsetof(allocator_config_t, gas_limit_erc20), 0, "gas limit of ERC-20 transfers (token)"},
    {"gas_limit_call", "TXLANE_GAS_LIMIT_CALL", CFG_INT, "200000", 21000, 30000000,
     offsetof(allocator_config_t, gas_limit_call), 0,
     "gas limit of payouts with data and no gas_limit of their own"},
    {"gas_limit_max", "TXLANE_GAS_LIMIT_MAX", CFG_INT, "30000000", 21000, 1000000000,
     offsetof(allocator_config_t, gas_limit_max), 0, "highest gas_limit a request may ask for"},
    {"lane_refresh_ms", "TXLANE_LANE_REFRESH_MS", CFG_INT, "2000", 100, 600000,
     offsetof(allocator_config_t, lane_refresh_ms), 0,
     "how often lane status and in-flight counts are re-read"},
    CFG_END,
};

static void alloc_on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    allocator_t *a = ctx;
    for (int i = 0; i < parts->cnt; i++)
        if (lanes_take(a, parts->elems[i].partition) != 0)
            continue; /* retried by lanes_take_pending */
    lanes_check_chain(a);
    lanes_refresh(a, 1);
}

static void alloc_on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts) {
    allocator_t *a = ctx;
    for (int i = 0; i < parts->cnt; i++)
        lanes_drop(a, parts->elems[i].partition);
    lanes_refresh(a, 1);
}

static int alloc_on_idle(void *ctx) {
    allocator_t *a = ctx;
    static long long next_check_ms;
    long long now = service_now_ms();
    if (now < next_check_ms)
        return STREAM_WAIT_MAX_MS;
    next_check_ms = now + ALLOC_RETRY_MS;
    lanes_take_pending(a);
    lanes_check_chain(a);
    lanes_refresh(a, 0);
    return STREAM_WAIT_MAX_MS;
}

static void alloc_sleep(void) {
    for (int i = 0; i < ALLOC_RETRY_MS / 100 && service_running(); i++)
        usleep(100 * 1000);
}

/* Waits for the requests topic and returns its partition count (0 when stopped). */
static int alloc_partitions(worker_t *w, const char *topic) {
    while (service_running()) {
        int p = kafka_topic_partitions(w->consumer, topic, 5000);
        if (p > 0)
            return p;
        log_warn("waiting for the requests topic (txlane topics creates it)", LF_S("topic", topic),
                 LF_S("error", p < 0 ? txl_strerror(p) : "no partitions"));
        worker_tick(w, 0);
        alloc_sleep();
    }
    return 0;
}

/* Waits for the node's chain id; 0 when stopped, -1 on a mismatch. */
static long long alloc_chain_id(worker_t *w, long long configured) {
    while (service_running()) {
        unsigned long long id;
        char err[256];
        if (rpc_chain_id(w->rpc, &id, err, sizeof err) == 0) {
            if (configured != 0 && (unsigned long long)configured != id) {
                log_fatal("the node is on another chain", LF_I("configured", configured),
                          LF_U("node", id));
                return -1;
            }
            return (long long)id;
        }
        if (configured != 0) {
            log_warn("node not reachable; using the configured chain id", LF_S("error", err));
            return configured;
        }
        log_warn("waiting for the node's chain id", LF_S("error", err));
        worker_tick(w, 0);
        alloc_sleep();
    }
    return 0;
}

static void alloc_metrics(allocator_t *a) {
    a->m_allocated = metric_counter("txlane_allocator_requests_total", "result=\"allocated\"",
                                    "payout requests by outcome");
    a->m_duplicates = metric_counter("txlane_allocator_requests_total", "result=\"duplicate\"",
                                     "payout requests by outcome");
    a->m_rejected_total = metric_counter("txlane_allocator_requests_total", "result=\"rejected\"",
                                         "payout requests by outcome");
    a->m_republished = metric_counter("txlane_allocator_republished_total", NULL,
                                      "allocations published again for duplicates");
    a->m_fenced = metric_counter("txlane_allocator_fenced_total", NULL,
                                 "lanes lost to another allocator instance (owner_epoch)");
    a->m_external_use = metric_counter("txlane_allocator_lane_external_use_total", NULL,
                                       "lanes whose chain nonce was ahead at takeover (alert)");
    a->m_reallocated = metric_counter(
        "txlane_allocator_reallocated_total", NULL,
        "payouts moved to a fresh nonce because theirs was used outside txlane (alert)");
    a->m_funds_requests = metric_counter("txlane_allocator_funds_requests_total", NULL,
                                         "top-ups and sweeps allocated (requests of the watcher)");
    a->m_owned = metric_gauge("txlane_allocator_lanes_owned", NULL, "lanes this instance owns");
    a->m_lanes_unavailable = metric_counter(
        "txlane_allocator_no_lane_total", NULL,
        "batches handed back because no owned active lane could take them");
    a->m_batch_seconds = metric_histogram("txlane_allocator_batch_seconds", NULL,
                                          "time from batch start to allocations committed in PostgreSQL and queued",
                                          metrics_latency_bounds, metrics_latency_nbounds);
    for (long long i = 0; i < a->cfg->lanes && i < 4096; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "lane=\"%lld\"", i);
        a->lanes[i].m_next_nonce = metric_gauge("txlane_allocator_lane_next_nonce", labels,
                                                "next nonce the allocator will give a lane");
    }
}

int main(int argc, char **argv) {
    allocator_config_t cfg;
    service_t svc;
    worker_t w;
    allocator_t a;
    stream_t *s = NULL;
    char errstr[512], host[64];
    int exit_code = 0;
    memset(&cfg, 0, sizeof(cfg));
    memset(&a, 0, sizeof(a));
    memset(&w, 0, sizeof(w));
    int rc = service_start(&svc, "allocator",
                           "txlane-allocator: allocates lanes and nonces to payout requests",
                           allocator_options, &cfg, &cfg.common, argc, argv);
    if (rc >= 0)
        return rc;
    hd_node_t account;
    if (hd_lane_account_parse(cfg.xpub, &account) != 0) {
        fprintf(stderr, "txlane-allocator: TXLANE_XPUB: not an account xpub m/44'/60'/0'\n");
        return service_finish(&svc, allocator_options, &cfg, 2);
    }
    hd_node_wipe(&account);
    if (cfg.treasury_lane >= cfg.lanes) {
        fprintf(stderr, "txlane-allocator: TXLANE_TREASURY_LANE: must be below TXLANE_LANES\n");
        return service_finish(&svc, allocator_options, &cfg, 2);
    }

    a.cfg = &cfg;
    a.lanes = xcalloc((size_t)cfg.lanes, sizeof(*a.lanes));
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(a.owner, sizeof a.owner, "%s:%ld", host, (long)getpid());
    jbuf_init(&a.json);
    alloc_metrics(&a);

    a.producer = producer_new("txlane-allocator", errstr, sizeof errstr);
    if (a.producer == NULL) {
        fprintf(stderr, "txlane-allocator: invalid configuration: %s\n", errstr);
        exit_code = 2;
        goto done;
    }
    /* Pipelined: a batch's offsets are committed once its allocations and
     * status events are delivered, while the next batches are allocated. */
    stream_handlers_t h = {.on_batch = alloc_batch, .on_assign = alloc_on_assign,
                           .on_revoke = alloc_on_revoke, .on_idle = alloc_on_idle, .ctx = &a,
                           .batch_max = (size_t)cfg.batch_max, .linger_ms = (int)cfg.linger_ms,
                           .producer = a.producer};
    s = stream_new(&h);
    worker_spec_t spec = {.client_id = "txlane-allocator", .group = cfg.group,
                          .pg_dsn = cfg.pg_dsn, .rpc_url = cfg.rpc_url,
                          .rebalance_cb = stream_rebalance_cb, .opaque = s};
    rc = worker_open(&w, &spec, errstr, sizeof(errstr));
    if (rc == TXL_ECONFIG) {
        fprintf(stderr, "txlane-allocator: invalid configuration: %s\n", errstr);
        exit_code = 2;
        goto done;
    }
    if (rc != 0)
        goto done;
    a.db = w.db;
    a.rpc = w.rpc;
    /* The Kafka check goes through the producer (worker_spec_t.ping_client). */
    w.deps.rk = producer_handle(a.producer);

    a.partitions = alloc_partitions(&w, cfg.common.topic_requests);
    if (a.partitions == 0)
        goto done;
    if (cfg.lanes < a.partitions) {
        fprintf(stderr,
                "txlane-allocator: TXLANE_LANES: %lld lanes for %d partitions of %s; lane i is "
                "owned by partition i mod P, so every partition needs a lane (lanes >= P)\n",
                cfg.lanes, a.partitions, cfg.common.topic_requests);
        exit_code = 2;
        goto done;
    }
    a.part_state = xcalloc((size_t)a.partitions, sizeof(*a.part_state));
    a.rr = xcalloc((size_t)a.partitions, sizeof(*a.rr));
    long long chain_id = alloc_chain_id(&w, cfg.chain_id);
    if (chain_id < 0) {
        exit_code = 2;
        goto done;
    }
    if (chain_id == 0)
        goto done;
    a.chain_id = (uint64_t)chain_id;

    while (service_running()) {
        rc = lanes_register(&a, errstr, sizeof errstr);
        if (rc == 0)
            break;
        if (rc == TXL_ECONFIG) {
            fprintf(stderr, "txlane-allocator: %s\n", errstr);
            exit_code = 2;
            goto done;
        }
        log_warn("could not register lanes (has txlane migrate run?), will retry",
                 LF_S("error", errstr));
        db_recover(a.db);
        alloc_sleep();
    }
    if (!service_running())
        goto done;

    uint256_t cap, min_tip;
    if (uint256_parse_dec(cfg.max_fee_wei, &cap) != 0 ||
        uint256_parse_dec(cfg.min_priority_fee_wei, &min_tip) != 0) {
        exit_code = 2;
        goto done;
    }
    a.fees = fee_oracle_new(a.rpc, &cap, &min_tip, cfg.fee_refresh_ms);

    if (stream_subscribe(s, w.consumer, cfg.common.topic_requests, errstr, sizeof errstr) != 0) {
        fprintf(stderr, "txlane-allocator: %s\n", errstr);
        exit_code = 1;
        goto done;
    }
    log_info("allocator started", LF_I("lanes", cfg.lanes), LF_I("partitions", a.partitions),
             LF_U("chain_id", a.chain_id), LF_S("owner", a.owner),
             LF_I("treasury_lane", cfg.treasury_lane));
    while (service_running()) {
        stream_poll(s);
        worker_tick(&w, 0);
    }

done:
    stream_close(s); /* leaves the group when subscribed: on_revoke runs */
    producer_free(a.producer);
    fee_oracle_free(a.fees);
    worker_close(&w);
    jbuf_free(&a.json);
    free(a.lanes);
    free(a.part_state);
    free(a.rr);
    if (kafka_fatal && exit_code == 0)
        exit_code = 1;
    return service_finish(&svc, allocator_options, &cfg, exit_code);
}
