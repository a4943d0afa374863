/*
 * node_answer.c - the one table of node answers to eth_sendRawTransaction
 * (see node_answer.h).
 *
 * The message is lower-cased (its first NODE_ANSWER_MSG_MAX bytes) and the
 * patterns are searched in table order, so a specific pattern goes before a
 * general one it contains ("replacement transaction underpriced" before
 * "transaction underpriced", "authority nonce too low" before "nonce too
 * low"). Patterns are lower case. Sources: go-ethereum core/error.go,
 * core/txpool/errors.go, legacypool and internal/ethapi; anvil (foundry)
 * eth/error.rs, and answers recorded from anvil 1.7.1 (tests/vectors/
 * node_answers.txt).
 */
#include "txlane/node_answer.h"

#include <assert.h>
#include <ctype.h>
#include <string.h>

#include "txlane/err.h"

#define NODE_ANSWER_MSG_MAX 512

typedef struct {
    const char *pattern;
    node_outcome_t outcome;
    const char *reason;
} node_answer_rule_t;

static const node_answer_rule_t node_answer_rules[] = {
    /* The node has this very transaction. */
    {"already known", NODE_ANSWER_KNOWN, "already_known"},       /* geth, erigon */
    {"already imported", NODE_ANSWER_KNOWN, "already_imported"}, /* anvil, openethereum */
    {"known transaction", NODE_ANSWER_KNOWN, "already_known"},   /* geth < 1.9.11 */

    /* EIP-7702 authorisations (txlane sends none): never "our nonce is used". */
    {"authority nonce too low", NODE_ANSWER_INVALID, "authority_nonce"},
    {"authority already reserved", NODE_ANSWER_LATER, "authority_reserved"},

    /* The nonce is used on chain. */
    {"nonce too low", NODE_ANSWER_NONCE_TOO_LOW, "nonce_too_low"},      /* geth, anvil */
    {"nonce is too low", NODE_ANSWER_NONCE_TOO_LOW, "nonce_too_low"},   /* openethereum */

    /* Fees too low for the pool or the block: a replacement with higher fees. */
    {"replacement transaction underpriced", NODE_ANSWER_UNDERPRICED, "replacement_underpriced"},
    {"insufficient gas price to replace", NODE_ANSWER_UNDERPRICED, "replacement_underpriced"},
    {"max fee per gas less than block base fee", NODE_ANSWER_UNDERPRICED, "fee_below_base_fee"},
    {"fee cap less than block base fee", NODE_ANSWER_UNDERPRICED, "fee_below_base_fee"},
    {"transaction underpriced", NODE_ANSWER_UNDERPRICED, "underpriced"},
    {"gas price below minimum", NODE_ANSWER_UNDERPRICED, "tip_below_minimum"},

    /* The lane cannot pay: geth "insufficient funds for gas * price + value:
     * ...", "insufficient funds for transfer", anvil "Insufficient funds for
     * gas * price + value", geth's pool "transaction would cause overdraft". */
    {"insufficient funds", NODE_ANSWER_LOW_FUNDS, "insufficient_funds"},
    {"would cause overdraft", NODE_ANSWER_LOW_FUNDS, "overdraft"},

    /* The pool cannot take it now. */
    {"txpool is full", NODE_ANSWER_LATER, "txpool_full"},
    {"transaction pool is full", NODE_ANSWER_LATER, "txpool_full"},
    {"account limit exceeded", NODE_ANSWER_LATER, "account_limit"},
    {"future transaction tries to replace pending", NODE_ANSWER_LATER, "future_replaces_pending"},
    {"address already reserved", NODE_ANSWER_LATER, "address_reserved"},
    {"in-flight transaction limit reached", NODE_ANSWER_LATER, "inflight_limit"},
    {"gapped-nonce tx", NODE_ANSWER_LATER, "nonce_gap"},
    {"nonce too high", NODE_ANSWER_LATER, "nonce_too_high"},
    {"rate limit", NODE_ANSWER_LATER, "rate_limited"},
    {"too many requests", NODE_ANSWER_LATER, "rate_limited"},

    /* Rejected for good: the nonce must be filled by a cancel. */
    {"intrinsic gas too low", NODE_ANSWER_INVALID, "intrinsic_gas_too_low"},
    {"floor data gas", NODE_ANSWER_INVALID, "intrinsic_gas_too_low"}, /* EIP-7623 */
    {"intrinsic gas too high", NODE_ANSWER_INVALID, "exceeds_block_gas_limit"}, /* anvil */
    {"exceeds block gas limit", NODE_ANSWER_INVALID, "exceeds_block_gas_limit"},
    {"greater than the block gas limit", NODE_ANSWER_INVALID, "exceeds_block_gas_limit"},
    {"gas limit too high", NODE_ANSWER_INVALID, "gas_limit_too_high"}, /* EIP-7825 cap */
    {"gas uint64 overflow", NODE_ANSWER_INVALID, "gas_overflow"},
    {"invalid chain id", NODE_ANSWER_INVALID, "invalid_chain_id"}, /* geth: "invalid sender: ..." */
    {"signed for another chain", NODE_ANSWER_INVALID, "invalid_chain_id"},
    {"invalid sender", NODE_ANSWER_INVALID, "invalid_sender"},
    {"invalid signature", NODE_ANSWER_INVALID, "invalid_sender"},
    {"only replay-protected", NODE_ANSWER_INVALID, "not_replay_protected"},
    {"oversized data", NODE_ANSWER_INVALID, "oversized_data"},
    {"max initcode size exceeded", NODE_ANSWER_INVALID, "oversized_data"},
    {"negative value", NODE_ANSWER_INVALID, "negative_value"},
    {"max priority fee per gas higher than max fee per gas", NODE_ANSWER_INVALID,
     "tip_above_fee_cap"},
    {"higher than 2^256-1", NODE_ANSWER_INVALID, "fee_out_of_range"},
    {"nonce has max value", NODE_ANSWER_INVALID, "nonce_max"},
    {"sender not an eoa", NODE_ANSWER_INVALID, "sender_not_eoa"},
    {"type not supported", NODE_ANSWER_INVALID, "tx_type_not_supported"},
    {"exceeds the configured cap", NODE_ANSWER_INVALID, "fee_above_node_cap"}, /* --rpc.txfeecap */
    {"failed to decode", NODE_ANSWER_INVALID, "undecodable"},                  /* anvil */
    {"rlp:", NODE_ANSWER_INVALID, "undecodable"},                              /* geth */
    {"typed transaction too short", NODE_ANSWER_INVALID, "undecodable"},
    {"transaction data is empty", NODE_ANSWER_INVALID, "undecodable"},
    {"empty transaction data", NODE_ANSWER_INVALID, "undecodable"},
};

static const char *const node_outcome_names[NODE_ANSWER_COUNT] = {
    [NODE_ANSWER_ACCEPTED] = "accepted",   [NODE_ANSWER_KNOWN] = "known",
    [NODE_ANSWER_NONCE_TOO_LOW] = "nonce_too_low", [NODE_ANSWER_UNDERPRICED] = "underpriced",
    [NODE_ANSWER_LOW_FUNDS] = "low_funds", [NODE_ANSWER_LATER] = "later",
    [NODE_ANSWER_INVALID] = "invalid",     [NODE_ANSWER_TRANSPORT] = "transport",
    [NODE_ANSWER_UNKNOWN] = "unknown",
};

static const node_action_t node_outcome_actions[NODE_ANSWER_COUNT] = {
    [NODE_ANSWER_ACCEPTED] = NODE_ACTION_SUBMITTED,
    [NODE_ANSWER_KNOWN] = NODE_ACTION_SUBMITTED,
    [NODE_ANSWER_NONCE_TOO_LOW] = NODE_ACTION_CHECK_MINED,
    [NODE_ANSWER_UNDERPRICED] = NODE_ACTION_BUMP,
    [NODE_ANSWER_LOW_FUNDS] = NODE_ACTION_HOLD_LANE,
    [NODE_ANSWER_LATER] = NODE_ACTION_RETRY,
    [NODE_ANSWER_INVALID] = NODE_ACTION_CANCEL,
    [NODE_ANSWER_TRANSPORT] = NODE_ACTION_RETRY,
    [NODE_ANSWER_UNKNOWN] = NODE_ACTION_RETRY,
};

static const char *const node_action_names[] = {
    [NODE_ACTION_SUBMITTED] = "submitted", [NODE_ACTION_CHECK_MINED] = "check_mined",
    [NODE_ACTION_BUMP] = "bump",           [NODE_ACTION_HOLD_LANE] = "hold_lane",
    [NODE_ACTION_RETRY] = "retry",         [NODE_ACTION_CANCEL] = "cancel",
};

/* JSON-RPC codes with a meaning of their own (EIP-1474). */
#define NODE_CODE_INVALID_PARAMS (-32602LL)
#define NODE_CODE_LIMIT_EXCEEDED (-32005LL)

node_answer_t node_answer_of_error(long long code, const char *message) {
    char lower[NODE_ANSWER_MSG_MAX + 1];
    size_t n = 0;
    if (message != NULL) {
        for (; message[n] != '\0' && n < NODE_ANSWER_MSG_MAX; n++)
            lower[n] = (char)tolower((unsigned char)message[n]);
    }
    lower[n] = '\0';
    for (size_t i = 0; i < sizeof(node_answer_rules) / sizeof(node_answer_rules[0]); i++) {
        if (strstr(lower, node_answer_rules[i].pattern) != NULL)
            return (node_answer_t){node_answer_rules[i].outcome, node_answer_rules[i].reason};
    }
    if (code == NODE_CODE_INVALID_PARAMS)
        return (node_answer_t){NODE_ANSWER_INVALID, "invalid_params"};
    if (code == NODE_CODE_LIMIT_EXCEEDED)
        return (node_answer_t){NODE_ANSWER_LATER, "rate_limited"};
    return (node_answer_t){NODE_ANSWER_UNKNOWN, "unknown_error"};
}

/* 1 if s is "0x" followed by exactly 64 hex digits. */
static int node_answer_is_hash(const char *s) {
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return 0;
    for (size_t i = 2; i < 66; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    }
    return s[66] == '\0';
}

static node_answer_t node_answer_transport(const rpc_batch_t *b) {
    const char *reason = "unreachable";
    if (b->rc == TXL_ETIMEOUT)
        reason = "timeout";
    else if (b->http_status >= 500)
        reason = "http_5xx";
    else if (b->http_status >= 300)
        reason = "http_error";
    else if (b->rc == TXL_ERPC)
        reason = "bad_answer";
    return (node_answer_t){NODE_ANSWER_TRANSPORT, reason};
}

node_answer_t node_answer_of_call(const rpc_batch_t *b, size_t i) {
    assert(b != NULL && i < b->n);
    const rpc_call_t *call = &b->calls[i];
    if (call->error_message != NULL)
        return node_answer_of_error(call->error_code, call->error_message);
    if (call->result == NULL)
        return node_answer_transport(b);
    if (!node_answer_is_hash(rpc_result_str(call->result)))
        return (node_answer_t){NODE_ANSWER_UNKNOWN, "malformed_result"};
    return (node_answer_t){NODE_ANSWER_ACCEPTED, "accepted"};
}

node_action_t node_outcome_action(node_outcome_t outcome) {
    assert(outcome < NODE_ANSWER_COUNT);
    return node_outcome_actions[outcome];
}

const char *node_outcome_name(node_outcome_t outcome) {
    assert(outcome < NODE_ANSWER_COUNT);
    return node_outcome_names[outcome];
}

const char *node_action_name(node_action_t action) {
    assert((size_t)action < sizeof(node_action_names) / sizeof(node_action_names[0]));
    return node_action_names[action];
}
