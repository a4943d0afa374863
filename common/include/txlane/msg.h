/*
 * msg.h - the JSON messages the programs exchange over Kafka (DESIGN
 * section 3; JSON Schemas in schemas/): encoding and strict decoding.
 *
 *   txlane.allocated  (key: lane address)  allocator/watcher -> signer
 *   txlane.signed     (key: lane address)  signer -> broadcaster
 *   txlane.status     (key: request_id)    every program -> consumers
 *   txlane.dlq        (key: none/request)  rejected input with its reason
 *
 * Amounts and fees are decimal strings; addresses EIP-55; hashes, raw
 * transactions and calldata "0x" hex; counters (tx_id, lane, nonce,
 * gas_limit, chain_id, attempt) JSON integers. Decoders reject missing
 * fields, wrong types, and values out of range, with a reason in errstr;
 * unknown fields are ignored (newer producers may add some).
 *
 * An allocated message carries the complete transaction: "to", "value_wei"
 * and "data" are the transaction's own fields (for an ERC-20 payout "to" is
 * the token contract, value 0, data the transfer call), so the signer needs
 * nothing else.
 */
#ifndef TXLANE_MSG_H
#define TXLANE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/err.h"
#include "txlane/jbuf.h"
#include "txlane/payout.h"
#include "txlane/uint256.h"

typedef enum {
    TX_KIND_PAYOUT = 0, /* a producer's request */
    TX_KIND_CANCEL,     /* 0-value self-transfer that takes a nonce */
    TX_KIND_TOPUP,      /* treasury -> lane */
    TX_KIND_SWEEP,      /* lane -> cold address */
} tx_kind_t;

/* "payout" | "cancel" | "topup" | "sweep" (the txs.kind values). */
const char *tx_kind_name(tx_kind_t kind);
int tx_kind_parse(const char *s, tx_kind_t *out) TXL_WUR;

/* Dynamic fee fields of one attempt. With TXLANE_TX_TYPE=legacy the signer
 * uses max_fee_per_gas as the gas price. */
typedef struct {
    uint256_t max_fee_per_gas;
    uint256_t max_priority_fee_per_gas;
} msg_fees_t;

typedef struct {
    int64_t tx_id;
    char request_id[PAYOUT_REQUEST_ID_MAX + 1]; /* "" when the tx has none */
    tx_kind_t kind;
    uint32_t lane;
    eth_address_t from;
    uint64_t nonce;
    eth_address_t to;
    uint256_t value;
    uint8_t *data; /* owned (msg_allocated_clear frees it); NULL when empty */
    size_t data_len;
    uint64_t gas_limit;
    msg_fees_t fees;
    uint64_t chain_id;
    uint32_t attempt;   /* 0 first, +1 per replacement */
    int64_t created_ms; /* wall-clock ms when the request was allocated (latency) */
} msg_allocated_t;

typedef struct {
    int64_t tx_id;
    char request_id[PAYOUT_REQUEST_ID_MAX + 1];
    tx_kind_t kind;
    uint32_t lane;
    eth_address_t from;
    uint64_t nonce;
    uint32_t attempt;
    uint8_t hash[32];
    uint8_t *raw; /* owned (msg_signed_clear frees it) */
    size_t raw_len;
    msg_fees_t fees;
    int64_t created_ms; /* copied from the allocated message */
} msg_signed_t;

/* Encodes m as one JSON object into j (appended; reset j first). */
void msg_allocated_encode(const msg_allocated_t *m, jbuf_t *j);
/* Decodes len bytes into m (zeroed first). 0, or TXL_EINVAL with errstr
 * naming the field. Free with msg_allocated_clear in every case. */
int msg_allocated_decode(const char *buf, size_t len, msg_allocated_t *m, char *errstr,
                         size_t errstr_size) TXL_WUR;
void msg_allocated_clear(msg_allocated_t *m);

void msg_signed_encode(const msg_signed_t *m, jbuf_t *j);
int msg_signed_decode(const char *buf, size_t len, msg_signed_t *m, char *errstr,
                      size_t errstr_size) TXL_WUR;
void msg_signed_clear(msg_signed_t *m);

/*
 * A status event (txlane.status, key request_id): one per state change.
 * state: created, pending, submitted, confirmed, failed, cancelled, rejected,
 * bumped, alert. Optional members are omitted when NULL / negative.
 */
typedef struct {
    const char *request_id; /* may be NULL for txs without one */
    int64_t tx_id;          /* -1: none (e.g. rejected) */
    const char *state;
    int64_t lane;  /* -1: none */
    int64_t nonce; /* -1: none */
    int64_t attempt; /* -1: none */
    const char *tx_hash;      /* "0x..." or NULL */
    int64_t block_number;     /* -1: none */
    int receipt_status;       /* -1: none, else 0/1 */
    const char *reason;       /* NULL or a short code/explanation */
    const char *metadata;     /* NULL or the request's metadata JSON object text */
    const char *program;      /* who emitted it */
} msg_status_t;

/* Encodes {"request_id", "tx_id", "state", ..., "ts_ms"} into j. */
void msg_status_encode(const msg_status_t *m, int64_t ts_ms, jbuf_t *j);

/* Bytes of the original message kept in a DLQ entry. */
#define MSG_DLQ_RAW_MAX 4096

/*
 * Encodes a DLQ entry {"reason", "detail", "raw" (the original, truncated to
 * MSG_DLQ_RAW_MAX bytes on a UTF-8 boundary; "raw_hex" instead when the bytes
 * are not valid UTF-8), "raw_len", "truncated", "topic", "partition",
 * "offset", "program", "ts_ms"} into j.
 */
void msg_dlq_encode(const char *reason, const char *detail, const void *raw, size_t raw_len,
                    const char *topic, int32_t partition, int64_t offset, const char *program,
                    int64_t ts_ms, jbuf_t *j);

/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME). */
int64_t msg_now_ms(void);

#endif
