/*
 * msg_samples.c - prints messages made by the encoders of msg.h, one per
 * line as "<schema file>\t<json>", for tests/unit/schema_agreement.py to
 * validate against schemas/. Covers each message's optional members present
 * and absent and its fields at their limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/msg.h"

static void emit(const char *schema, jbuf_t *j) {
    printf("%s\t%s\n", schema, j->buf);
    jbuf_reset(j);
}

static void parse_or_die(int rc) {
    if (rc != 0) {
        fprintf(stderr, "msg_samples: bad constant\n");
        exit(1);
    }
}

static void allocated_samples(jbuf_t *j) {
    msg_allocated_t m;
    uint8_t data[68] = {0xa9, 0x05, 0x9c, 0xbb};
    memset(&m, 0, sizeof(m));
    m.tx_id = 1;
    strcpy(m.request_id, "order-8812 with spaces & \"quotes\"");
    m.kind = TX_KIND_PAYOUT;
    m.lane = 7;
    parse_or_die(address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", &m.from));
    m.nonce = 19;
    parse_or_die(address_parse("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", &m.to));
    parse_or_die(uint256_parse_dec("0", &m.value));
    m.data = data;
    m.data_len = sizeof(data);
    m.gas_limit = 65000;
    parse_or_die(uint256_parse_dec("30000000000", &m.fees.max_fee_per_gas));
    parse_or_die(uint256_parse_dec("1500000000", &m.fees.max_priority_fee_per_gas));
    m.chain_id = 31337;
    m.created_ms = msg_now_ms();
    msg_allocated_encode(&m, j);
    emit("allocated.schema.json", j);

    /* a cancel without a request, empty data, counters at their limits */
    m.request_id[0] = '\0';
    m.kind = TX_KIND_CANCEL;
    m.tx_id = INT64_MAX;
    m.lane = 0x7fffffff;
    m.nonce = UINT64_MAX;
    m.data = NULL;
    m.data_len = 0;
    m.gas_limit = UINT64_MAX;
    m.chain_id = UINT64_MAX;
    m.attempt = UINT32_MAX;
    m.created_ms = INT64_MAX;
    memset(m.value.w, 0xff, sizeof(m.value.w));
    m.fees.max_fee_per_gas = m.value;
    m.fees.max_priority_fee_per_gas = m.value;
    msg_allocated_encode(&m, j);
    emit("allocated.schema.json", j);
}

static void signed_samples(jbuf_t *j) {
    msg_signed_t m;
    uint8_t raw[3] = {0x02, 0xf8, 0x6c};
    memset(&m, 0, sizeof(m));
    m.tx_id = 1;
    strcpy(m.request_id, "r");
    m.kind = TX_KIND_SWEEP;
    parse_or_die(address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", &m.from));
    memset(m.hash, 0xab, sizeof(m.hash));
    m.raw = raw;
    m.raw_len = sizeof(raw);
    parse_or_die(uint256_parse_dec("30000000000", &m.fees.max_fee_per_gas));
    msg_signed_encode(&m, j);
    emit("signed.schema.json", j);
    m.request_id[0] = '\0';
    m.nonce = UINT64_MAX;
    m.attempt = UINT32_MAX;
    m.lane = 0x7fffffff;
    msg_signed_encode(&m, j);
    emit("signed.schema.json", j);
}

static void status_samples(jbuf_t *j) {
    msg_status_t full = {.request_id = "order-1",
                         .tx_id = 5,
                         .state = "confirmed",
                         .lane = 3,
                         .nonce = 12,
                         .attempt = 1,
                         .tx_hash = "0x00112233445566778899aabbccddeeff"
                                    "00112233445566778899aabbccddeeff",
                         .block_number = 100,
                         .receipt_status = 0,
                         .reason = "reverted",
                         .metadata = "{\"order\":{\"n\":[1,2]}}",
                         .program = "watcher"};
    msg_status_encode(&full, msg_now_ms(), j);
    emit("status.schema.json", j);
    msg_status_t bare = {.tx_id = -1,
                         .state = "rejected",
                         .lane = -1,
                         .nonce = -1,
                         .attempt = -1,
                         .block_number = -1,
                         .receipt_status = -1};
    msg_status_encode(&bare, 0, j);
    emit("status.schema.json", j);
}

static void dlq_samples(jbuf_t *j) {
    const char *text = "{\"to\":\"0x\u00e9\",\"ctl\":\"\x01\x1f\"}";
    msg_dlq_encode("bad_message", "to must be 0x followed by 40 hex digits", text, strlen(text),
                   "txlane.allocated", 0, 17, "signer", msg_now_ms(), j);
    emit("dlq.schema.json", j);
    msg_dlq_encode("not_json", NULL, "", 0, NULL, -1, -1, NULL, 0, j);
    emit("dlq.schema.json", j);

    size_t n = 3 * MSG_DLQ_RAW_MAX;
    char *big = malloc(n);
    for (size_t i = 0; i + 3 <= n; i += 3)
        memcpy(big + i, "\xe2\x82\xac", 3); /* euro signs: cut on a boundary */
    msg_dlq_encode("oversized", "too large", big, n, "txlane.requests", 2147483647, 0, "allocator",
                   1, j);
    emit("dlq.schema.json", j);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(0x80 | i); /* not UTF-8 */
    msg_dlq_encode("bad_message", "binary", big, n, "txlane.allocated", 1, 2, "signer", 1, j);
    emit("dlq.schema.json", j);
    msg_dlq_encode("bad_message", "binary", big, 3, "txlane.allocated", 1, 2, "signer", 1, j);
    emit("dlq.schema.json", j);
    free(big);
}

int main(void) {
    jbuf_t j;
    jbuf_init(&j);
    allocated_samples(&j);
    signed_samples(&j);
    status_samples(&j);
    dlq_samples(&j);
    jbuf_free(&j);
    return 0;
}
