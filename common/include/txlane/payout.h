/*
 * payout.h - validation of payout requests (DESIGN section 3), the pure part
 * of the allocator's intake: bytes in, a validated request or a rejection
 * reason out. No I/O; schemas/payout_request.schema.json states the same
 * rules and a test checks both agree on one corpus.
 *
 * A request: {"request_id", "to", "value_wei", optional "token" | "data",
 * "gas_limit", "lane", "metadata"}. Amounts are decimal strings (never JSON
 * numbers); addresses "0x"+40 hex, mixed case only with a valid EIP-55
 * checksum; unknown and duplicate keys are rejected.
 */
#ifndef TXLANE_PAYOUT_H
#define TXLANE_PAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/err.h"
#include "txlane/uint256.h"

#define PAYOUT_REQUEST_ID_MAX 128
#define PAYOUT_MESSAGE_MAX (64 * 1024) /* bytes of one request message */
#define PAYOUT_DATA_MAX (24 * 1024)    /* bytes of calldata */

/* Why a request was rejected: the stable codes in DLQ messages. */
typedef enum {
    PAYOUT_OK = 0,
    PAYOUT_REJECT_OVERSIZED,
    PAYOUT_REJECT_BOM,
    PAYOUT_REJECT_NOT_JSON,
    PAYOUT_REJECT_NOT_OBJECT,
    PAYOUT_REJECT_DUPLICATE_KEY,
    PAYOUT_REJECT_UNKNOWN_FIELD,
    PAYOUT_REJECT_REQUEST_ID,
    PAYOUT_REJECT_TO,
    PAYOUT_REJECT_CHECKSUM,
    PAYOUT_REJECT_VALUE,
    PAYOUT_REJECT_TOKEN,
    PAYOUT_REJECT_DATA,
    PAYOUT_REJECT_TOKEN_AND_DATA,
    PAYOUT_REJECT_GAS_LIMIT,
    PAYOUT_REJECT_LANE,
    PAYOUT_REJECT_METADATA,
    PAYOUT_REJECT_COUNT_
} payout_reject_t;

typedef struct {
    char request_id[PAYOUT_REQUEST_ID_MAX + 1];
    eth_address_t to;
    uint256_t value;
    int has_token;
    eth_address_t token;
    uint8_t *data; /* owned; NULL when none */
    size_t data_len;
    uint64_t gas_limit; /* 0 when not given */
    int lane;           /* -1 when not pinned */
    char *metadata;     /* owned JSON text of the metadata object, NULL when none */
} payout_request_t;

typedef struct {
    uint64_t gas_limit_max; /* block gas limit bound */
    int lanes;              /* pinned lane must be in [0, lanes) */
} payout_limits_t;

/*
 * Parses and validates len bytes. On success fills req (free with
 * payout_request_free) and returns PAYOUT_OK; otherwise returns the reason
 * and writes a short explanation into detail.
 */
payout_reject_t payout_request_parse(const char *buf, size_t len, const payout_limits_t *limits,
                                     payout_request_t *req, char *detail, size_t detail_size);

void payout_request_free(payout_request_t *req);

/* Stable lower-case code of a reason, e.g. "bad_checksum". */
const char *payout_reject_code(payout_reject_t reason);

#endif
