/*
 * fee_oracle.h - EIP-1559 fees from the node, cached, for the allocator
 * (new transactions) and the watcher (replacements).
 *
 * One JSON-RPC batch per refresh: eth_feeHistory(1, "latest", []) for the
 * next block's base fee, eth_maxPriorityFeePerGas for the tip, and
 * eth_gasPrice as the fallback when the node has no fee history. The
 * estimate is reused until it is refresh_ms old (about one block), so the
 * hot path never waits on the node; when the node cannot be reached the
 * last estimate stays in use.
 *
 *   max_priority_fee = max(tip, min_tip)
 *   max_fee          = min(2 * base fee + max_priority_fee, max_fee_cap)
 *   max_priority_fee = min(max_priority_fee, max_fee)
 *
 * Owned by one thread.
 */
#ifndef TXLANE_FEE_ORACLE_H
#define TXLANE_FEE_ORACLE_H

#include "txlane/err.h"
#include "txlane/msg.h"
#include "txlane/rpc.h"
#include "txlane/uint256.h"

typedef struct fee_oracle fee_oracle_t;

/* The oracle uses rpc (not owned). Free
 * with fee_oracle_free. */
fee_oracle_t *fee_oracle_new(rpc_client_t *rpc, const uint256_t *max_fee_cap,
                             const uint256_t *min_tip, long long refresh_ms);
void fee_oracle_free(fee_oracle_t *o);

/*
 * Writes the fees for a new transaction. Refreshes first when the estimate
 * is stale. Returns 0 (possibly with a stale estimate when the node did not
 * answer), or TXL_EIO when no estimate was ever obtained.
 */
int fee_oracle_fees(fee_oracle_t *o, msg_fees_t *out) TXL_WUR;

/* The latest base fee estimate (0 before the first answer). */
void fee_oracle_base_fee(const fee_oracle_t *o, uint256_t *out);

/* Forces the next fee_oracle_fees to ask the node. */
void fee_oracle_invalidate(fee_oracle_t *o);

#endif
