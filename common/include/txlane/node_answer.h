/*
 * node_answer.h - what a node's answer to eth_sendRawTransaction means, and
 * what txlane does about it (DESIGN section 7).
 *
 * Nodes answer with a JSON-RPC error whose code is of little use (geth says
 * -32000 for nearly everything, anvil -32003/-32000/-32602) and whose message
 * differs between implementations and versions ("already known" in geth,
 * "transaction already imported" in anvil; "Insufficient funds ..." with a
 * capital in anvil). One table in node_answer.c maps case-insensitive
 * substrings of the message to an outcome and a short reason code; the
 * outcome decides the action. A failure to get any answer (connection
 * refused, timeout, HTTP 5xx, unparseable body) is NODE_ANSWER_TRANSPORT.
 * Unknown messages are NODE_ANSWER_UNKNOWN: retried, never taken as final.
 *
 * Pure functions over static data; thread-safe.
 */
#ifndef TXLANE_NODE_ANSWER_H
#define TXLANE_NODE_ANSWER_H

#include <stddef.h>

#include "txlane/rpc.h"

typedef enum {
    NODE_ANSWER_ACCEPTED = 0,  /* result: the tx hash */
    NODE_ANSWER_KNOWN,         /* already known / already imported: the node has it */
    NODE_ANSWER_NONCE_TOO_LOW, /* the nonce is used on chain */
    NODE_ANSWER_UNDERPRICED,   /* replacement/tx underpriced, fee cap below base fee */
    NODE_ANSWER_LOW_FUNDS,     /* balance below gas * fee cap + value */
    NODE_ANSWER_LATER,         /* txpool full, account limit, nonce too high: try again */
    NODE_ANSWER_INVALID,       /* rejected for good (gas, sender, chain id, size...) */
    NODE_ANSWER_TRANSPORT,     /* no answer: unreachable, timeout, HTTP error */
    NODE_ANSWER_UNKNOWN,       /* an error this table does not know */
    NODE_ANSWER_COUNT
} node_outcome_t;

typedef enum {
    NODE_ACTION_SUBMITTED = 0, /* mark the tx submitted */
    NODE_ACTION_CHECK_MINED,   /* is one of our attempts of that nonce mined? else alert */
    NODE_ACTION_BUMP,          /* keep it pending/submitted, report: needs higher fees */
    NODE_ACTION_HOLD_LANE,     /* lane low_funds: hold its sending until funded */
    NODE_ACTION_RETRY,         /* send again after a capped backoff, forever */
    NODE_ACTION_CANCEL,        /* report; the watcher fills the nonce with a cancel */
} node_action_t;

typedef struct {
    node_outcome_t outcome;
    const char *reason; /* static snake_case code, e.g. "replacement_underpriced" */
} node_answer_t;

/* Classifies a JSON-RPC error object of eth_sendRawTransaction: message
 * (NULL counts as empty) first, then the code for messages the table does not
 * know (-32602 invalid params: invalid; -32005 limit exceeded: later). */
node_answer_t node_answer_of_error(long long code, const char *message);

/* Classifies call i of a batch sent with rpc_batches_send: a call without
 * any answer is NODE_ANSWER_TRANSPORT (reason from the batch's failure:
 * "timeout", "http_5xx", "http_error", "unreachable", "bad_answer"); an error
 * is classified by node_answer_of_error; a result must be a "0x" + 64 hex
 * string (else NODE_ANSWER_UNKNOWN, "malformed_result"). */
node_answer_t node_answer_of_call(const rpc_batch_t *b, size_t i);

/* The action of an outcome, and names for logs, metrics and the database:
 * "accepted", "known", "nonce_too_low", "underpriced", "low_funds", "later",
 * "invalid", "transport", "unknown"; "submitted", "check_mined", "bump",
 * "hold_lane", "retry", "cancel". */
node_action_t node_outcome_action(node_outcome_t outcome);
const char *node_outcome_name(node_outcome_t outcome);
const char *node_action_name(node_action_t action);

#endif
