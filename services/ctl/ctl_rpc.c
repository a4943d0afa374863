/*
 * ctl_rpc.c - many JSON-RPC calls of one method for the CLI's chain reads
 * (lane nonces, balances, receipts): batches of CTL_RPC_BATCH calls, up to
 * CTL_RPC_PARALLEL of them in flight over kept-alive connections. See ctl.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "txlane/xmalloc.h"

int ctl_rpc_each(rpc_client_t *rpc, const char *method, char *const *params, size_t n,
                 ctl_rpc_answer_fn on_answer, void *ctx, char *errstr, size_t errstr_size) {
    rpc_batch_t batches[CTL_RPC_PARALLEL];
    rpc_batch_t *ptrs[CTL_RPC_PARALLEL];
    int rc = 0;
    for (size_t k = 0; k < CTL_RPC_PARALLEL; k++) {
        rpc_batch_init(&batches[k]);
        ptrs[k] = &batches[k];
    }
    for (size_t done = 0; done < n && rc == 0;) {
        size_t used = 0;
        for (size_t next = done; used < CTL_RPC_PARALLEL && next < n; used++) {
            rpc_batch_reset(&batches[used]);
            for (size_t j = 0; j < CTL_RPC_BATCH && next < n; j++, next++)
                rpc_batch_add(&batches[used], method, params[next]);
        }
        rc = rpc_batches_send(rpc, ptrs, used);
        if (rc != 0) {
            for (size_t k = 0; k < used; k++) {
                if (batches[k].rc != 0) {
                    snprintf(errstr, errstr_size, "%s: %s", method, batches[k].errstr);
                    break;
                }
            }
            break;
        }
        for (size_t k = 0; k < used && rc == 0; k++) {
            for (size_t j = 0; j < batches[k].n && rc == 0; j++, done++)
                rc = on_answer(ctx, done, &batches[k].calls[j]);
        }
    }
    for (size_t k = 0; k < CTL_RPC_PARALLEL; k++)
        rpc_batch_free(&batches[k]);
    return rc;
}

typedef struct {
    const char *method;
    char *const *addrs;
    uint256_t *out;
    char *errstr;
    size_t errstr_size;
} ctl_quantity_ctx_t;

static int ctl_on_quantity(void *ctx, size_t i, const rpc_call_t *call) {
    ctl_quantity_ctx_t *q = ctx;
    const char *s = call->error_message == NULL ? rpc_result_str(call->result) : NULL;
    if (s == NULL || uint256_parse_hex(s, &q->out[i]) != 0) {
        snprintf(q->errstr, q->errstr_size, "%s(%s): %s", q->method, q->addrs[i],
                 call->error_message != NULL ? call->error_message : "malformed answer");
        return TXL_ERPC;
    }
    return 0;
}

int ctl_rpc_address_quantities(rpc_client_t *rpc, const char *method, char *const *addrs,
                               size_t n, const char *block_tag, uint256_t *out, char *errstr,
                               size_t errstr_size) {
    char **params = xcalloc(n > 0 ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        params[i] = xasprintf("[\"%s\",\"%s\"]", addrs[i], block_tag);
    ctl_quantity_ctx_t q = {method, addrs, out, errstr, errstr_size};
    int rc = ctl_rpc_each(rpc, method, params, n, ctl_on_quantity, &q, errstr, errstr_size);
    for (size_t i = 0; i < n; i++)
        free(params[i]);
    free(params);
    return rc;
}
