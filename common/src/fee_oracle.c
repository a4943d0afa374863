/*
 * fee_oracle.c - cached EIP-1559 fee estimates (see fee_oracle.h).
 */
#include "txlane/fee_oracle.h"

#include <stdlib.h>
#include <string.h>

#include "txlane/log.h"
#include "txlane/metrics.h"
#include "txlane/service.h"
#include "txlane/xmalloc.h"

struct fee_oracle {
    rpc_client_t *rpc;
    uint256_t cap, min_tip;
    long long refresh_ms;
    int valid;
    long long fetched_ms;
    uint256_t base_fee, tip;
    rpc_batch_t batch;
    metric_t *m_base, *m_max_fee, *m_tip, *m_errors;
};

fee_oracle_t *fee_oracle_new(rpc_client_t *rpc, const uint256_t *max_fee_cap,
                             const uint256_t *min_tip, long long refresh_ms) {
    fee_oracle_t *o = xcalloc(1, sizeof(*o));
    o->rpc = rpc;
    o->cap = *max_fee_cap;
    o->min_tip = *min_tip;
    o->refresh_ms = refresh_ms;
    rpc_batch_init(&o->batch);
    o->m_base = metric_gauge("txlane_fee_base_fee_wei", NULL, "next block's base fee estimate");
    o->m_max_fee = metric_gauge("txlane_fee_max_fee_wei", NULL, "max fee per gas given to new txs");
    o->m_tip = metric_gauge("txlane_fee_priority_fee_wei", NULL,
                            "max priority fee per gas given to new txs");
    o->m_errors = metric_counter("txlane_fee_oracle_errors_total", NULL,
                                 "fee refreshes the node did not answer");
    return o;
}

void fee_oracle_free(fee_oracle_t *o) {
    if (o == NULL)
        return;
    rpc_batch_free(&o->batch);
    free(o);
}

static int fee_hex_result(yajl_val v, uint256_t *out) {
    const char *s = rpc_result_str(v);
    return s != NULL && uint256_parse_hex(s, out) == 0 ? 0 : TXL_EINVAL;
}

static double fee_as_double(const uint256_t *v) {
    char dec[UINT256_DEC_BUF];
    uint256_format_dec(v, dec);
    return strtod(dec, NULL);
}

/* Asks the node; keeps the previous estimate when it cannot answer. */
static int fee_oracle_refresh(fee_oracle_t *o) {
    rpc_batch_reset(&o->batch);
    size_t i_hist = rpc_batch_add(&o->batch, "eth_feeHistory", "[\"0x1\",\"latest\",[]]");
    size_t i_tip = rpc_batch_add(&o->batch, "eth_maxPriorityFeePerGas", "[]");
    size_t i_price = rpc_batch_add(&o->batch, "eth_gasPrice", "[]");
    if (rpc_batch_send(o->rpc, &o->batch) != 0) {
        metric_inc(o->m_errors);
        log_warn("fee oracle: node did not answer", LF_S("error", o->batch.errstr));
        return TXL_EIO;
    }
    uint256_t base, tip, price;
    int have_tip = fee_hex_result(o->batch.calls[i_tip].result, &tip) == 0;
    int have_price = fee_hex_result(o->batch.calls[i_price].result, &price) == 0;
    int have_base = 0;
    yajl_val hist = o->batch.calls[i_hist].result;
    const char *path[] = {"baseFeePerGas", NULL};
    yajl_val fees = hist != NULL ? yajl_tree_get(hist, path, yajl_t_array) : NULL;
    if (fees != NULL && YAJL_GET_ARRAY(fees)->len > 0) {
        /* The last entry is the base fee of the block after "latest". */
        yajl_val last = YAJL_GET_ARRAY(fees)->values[YAJL_GET_ARRAY(fees)->len - 1];
        have_base = fee_hex_result(last, &base) == 0;
    }
    if (!have_tip)
        uint256_from_u64(0, &tip);
    if (!have_base && have_price) {
        /* Legacy node: gas price already includes the tip. */
        if (uint256_sub(&price, &tip, &base) != 0)
            base = price;
        have_base = 1;
    }
    if (!have_base) {
        metric_inc(o->m_errors);
        log_warn("fee oracle: no base fee in the node's answer");
        return TXL_ERPC;
    }
    o->base_fee = base;
    o->tip = tip;
    o->valid = 1;
    o->fetched_ms = service_now_ms();
    metric_set(o->m_base, fee_as_double(&base));
    return 0;
}

int fee_oracle_fees(fee_oracle_t *o, msg_fees_t *out) {
    if (!o->valid || service_now_ms() - o->fetched_ms >= o->refresh_ms) {
        if (fee_oracle_refresh(o) != 0 && o->valid)
            o->fetched_ms = service_now_ms() - o->refresh_ms / 2; /* retry soon, not per call */
    }
    if (!o->valid)
        return TXL_EIO;
    uint256_t tip, max_fee;
    uint256_max(&o->tip, &o->min_tip, &tip);
    if (uint256_mul_u64(&o->base_fee, 2, &max_fee) != 0 || uint256_add(&max_fee, &tip, &max_fee) != 0)
        max_fee = o->cap;
    uint256_min(&max_fee, &o->cap, &out->max_fee_per_gas);
    uint256_min(&tip, &out->max_fee_per_gas, &out->max_priority_fee_per_gas);
    metric_set(o->m_max_fee, fee_as_double(&out->max_fee_per_gas));
    metric_set(o->m_tip, fee_as_double(&out->max_priority_fee_per_gas));
    return 0;
}

void fee_oracle_base_fee(const fee_oracle_t *o, uint256_t *out) {
    if (o->valid)
        *out = o->base_fee;
    else
        uint256_from_u64(0, out);
}

void fee_oracle_invalidate(fee_oracle_t *o) {
    o->fetched_ms = service_now_ms() - o->refresh_ms - 1;
}
