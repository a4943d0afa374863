/*
 * msg.c - the inter-program messages (see msg.h and schemas/).
 *
 * Encoders write every member in a fixed order with jbuf. Decoders parse
 * with yajl's tree API (which checks UTF-8), pick the known members of the
 * top-level object (a known member given twice is rejected: a signer must
 * not guess which nonce was meant), and check each one in the order of the
 * schema so a message always gets the same reason. Counters are JSON
 * integers read from the number's own text, so the full uint64 range of a
 * nonce survives (yajl's integers are only int64).
 *
 * No global state; thread-safe.
 */
#include "txlane/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "txlane/hex.h"
#include "txlane/tx.h"
#include "txlane/xmalloc.h"

static const char *const tx_kind_names[] = {
    [TX_KIND_PAYOUT] = "payout",
    [TX_KIND_CANCEL] = "cancel",
    [TX_KIND_TOPUP] = "topup",
    [TX_KIND_SWEEP] = "sweep",
};
#define TX_KIND_COUNT (sizeof(tx_kind_names) / sizeof(tx_kind_names[0]))

const char *tx_kind_name(tx_kind_t kind) {
    if ((unsigned)kind >= TX_KIND_COUNT)
        return "unknown";
    return tx_kind_names[kind];
}

int tx_kind_parse(const char *s, tx_kind_t *out) {
    for (size_t i = 0; i < TX_KIND_COUNT; i++) {
        if (strcmp(s, tx_kind_names[i]) == 0) {
            *out = (tx_kind_t)i;
            return 0;
        }
    }
    return TXL_EINVAL;
}

int64_t msg_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- encoding ---------------------------------------------------------- */

static void msg_key_fees(jbuf_t *j, const msg_fees_t *fees) {
    jbuf_key_u256(j, "max_fee_per_gas", &fees->max_fee_per_gas);
    jbuf_key_u256(j, "max_priority_fee_per_gas", &fees->max_priority_fee_per_gas);
}

void msg_allocated_encode(const msg_allocated_t *m, jbuf_t *j) {
    jbuf_obj_begin(j);
    jbuf_key_i64(j, "tx_id", m->tx_id);
    if (m->request_id[0] != '\0')
        jbuf_key_str(j, "request_id", m->request_id);
    jbuf_key_str(j, "kind", tx_kind_name(m->kind));
    jbuf_key_u64(j, "lane", m->lane);
    jbuf_key_addr(j, "from", &m->from);
    jbuf_key_u64(j, "nonce", m->nonce);
    jbuf_key_addr(j, "to", &m->to);
    jbuf_key_u256(j, "value_wei", &m->value);
    jbuf_key_hex(j, "data", m->data, m->data_len);
    jbuf_key_u64(j, "gas_limit", m->gas_limit);
    msg_key_fees(j, &m->fees);
    jbuf_key_u64(j, "chain_id", m->chain_id);
    jbuf_key_u64(j, "attempt", m->attempt);
    jbuf_key_i64(j, "created_ms", m->created_ms);
    jbuf_obj_end(j);
}

void msg_signed_encode(const msg_signed_t *m, jbuf_t *j) {
    jbuf_obj_begin(j);
    jbuf_key_i64(j, "tx_id", m->tx_id);
    if (m->request_id[0] != '\0')
        jbuf_key_str(j, "request_id", m->request_id);
    jbuf_key_str(j, "kind", tx_kind_name(m->kind));
    jbuf_key_u64(j, "lane", m->lane);
    jbuf_key_addr(j, "from", &m->from);
    jbuf_key_u64(j, "nonce", m->nonce);
    jbuf_key_u64(j, "attempt", m->attempt);
    jbuf_key_hex(j, "hash", m->hash, sizeof(m->hash));
    jbuf_key_hex(j, "raw", m->raw, m->raw_len);
    msg_key_fees(j, &m->fees);
    jbuf_key_i64(j, "created_ms", m->created_ms);
    jbuf_obj_end(j);
}

void msg_status_encode(const msg_status_t *m, int64_t ts_ms, jbuf_t *j) {
    jbuf_obj_begin(j);
    if (m->request_id != NULL)
        jbuf_key_str(j, "request_id", m->request_id);
    if (m->tx_id >= 0)
        jbuf_key_i64(j, "tx_id", m->tx_id);
    jbuf_key_str(j, "state", m->state != NULL ? m->state : "unknown");
    if (m->lane >= 0)
        jbuf_key_i64(j, "lane", m->lane);
    if (m->nonce >= 0)
        jbuf_key_i64(j, "nonce", m->nonce);
    if (m->attempt >= 0)
        jbuf_key_i64(j, "attempt", m->attempt);
    if (m->tx_hash != NULL)
        jbuf_key_str(j, "tx_hash", m->tx_hash);
    if (m->block_number >= 0)
        jbuf_key_i64(j, "block_number", m->block_number);
    if (m->receipt_status >= 0)
        jbuf_key_i64(j, "receipt_status", m->receipt_status);
    if (m->reason != NULL)
        jbuf_key_str(j, "reason", m->reason);
    if (m->metadata != NULL) {
        jbuf_key(j, "metadata");
        jbuf_raw(j, m->metadata, strlen(m->metadata));
    }
    if (m->program != NULL)
        jbuf_key_str(j, "program", m->program);
    jbuf_key_i64(j, "ts_ms", ts_ms);
    jbuf_obj_end(j);
}

/*
 * Length of the longest prefix of s[0..n) that is well-formed UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF) and ends on a
 * character boundary. *incomplete is set when the prefix stops at a
 * character whose bytes are well-formed so far but run past n (a cut, not
 * an error).
 */
static size_t msg_utf8_prefix(const uint8_t *s, size_t n, int *incomplete) {
    size_t i = 0;
    *incomplete = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf; /* bounds of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return i;
        }
        size_t k;
        for (k = 1; k <= need && i + k < n; k++) {
            uint8_t b = s[i + k];
            uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
            if (b < l || b > h)
                return i;
        }
        if (k <= need) {
            *incomplete = 1;
            return i;
        }
        i += need + 1;
    }
    return i;
}

void msg_dlq_encode(const char *reason, const char *detail, const void *raw, size_t raw_len,
                    const char *topic, int32_t partition, int64_t offset, const char *program,
                    int64_t ts_ms, jbuf_t *j) {
    const uint8_t *bytes = raw;
    size_t window = raw_len < MSG_DLQ_RAW_MAX ? raw_len : MSG_DLQ_RAW_MAX;
    int incomplete = 0;
    size_t text_len = bytes != NULL ? msg_utf8_prefix(bytes, window, &incomplete) : 0;
    /* Text when the window is UTF-8, or is cut inside a character that the
     * rest of the message continues. */
    int is_text = text_len == window || (incomplete && window < raw_len);

    jbuf_obj_begin(j);
    jbuf_key_str(j, "reason", reason != NULL ? reason : "unknown");
    if (detail != NULL)
        jbuf_key_str(j, "detail", detail);
    if (is_text) {
        jbuf_key(j, "raw");
        jbuf_strn(j, (const char *)bytes, text_len);
    } else {
        text_len = window;
        jbuf_key_hex(j, "raw_hex", bytes, window);
    }
    jbuf_key_u64(j, "raw_len", raw_len);
    jbuf_key(j, "truncated");
    jbuf_bool(j, text_len < raw_len);
    if (topic != NULL)
        jbuf_key_str(j, "topic", topic);
    if (partition >= 0)
        jbuf_key_i64(j, "partition", partition);
    if (offset >= 0)
        jbuf_key_i64(j, "offset", offset);
    if (program != NULL)
        jbuf_key_str(j, "program", program);
    jbuf_key_i64(j, "ts_ms", ts_ms);
    jbuf_obj_end(j);
}

/* ---- decoding ---------------------------------------------------------- */

enum {
    F_TX_ID,
    F_REQUEST_ID,
    F_KIND,
    F_LANE,
    F_FROM,
    F_NONCE,
    F_TO,
    F_VALUE,
    F_DATA,
    F_GAS_LIMIT,
    F_MAX_FEE,
    F_MAX_PRIORITY,
    F_CHAIN_ID,
    F_ATTEMPT,
    F_HASH,
    F_RAW,
    F_CREATED_MS,
    F_COUNT
};

static const char *const msg_fields[F_COUNT] = {
    [F_TX_ID] = "tx_id",
    [F_REQUEST_ID] = "request_id",
    [F_KIND] = "kind",
    [F_LANE] = "lane",
    [F_FROM] = "from",
    [F_NONCE] = "nonce",
    [F_TO] = "to",
    [F_VALUE] = "value_wei",
    [F_DATA] = "data",
    [F_GAS_LIMIT] = "gas_limit",
    [F_MAX_FEE] = "max_fee_per_gas",
    [F_MAX_PRIORITY] = "max_priority_fee_per_gas",
    [F_CHAIN_ID] = "chain_id",
    [F_ATTEMPT] = "attempt",
    [F_HASH] = "hash",
    [F_RAW] = "raw",
    [F_CREATED_MS] = "created_ms",
};

typedef struct {
    yajl_val f[F_COUNT];
    char *err;
    size_t err_size;
} msg_fields_t;

__attribute__((format(printf, 2, 3))) static int msg_fail(msg_fields_t *mf, const char *fmt,
                                                         ...) {
    if (mf->err != NULL && mf->err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(mf->err, mf->err_size, fmt, ap);
        va_end(ap);
    }
    return TXL_EINVAL;
}

/* The member k, or a "missing" failure. */
static int msg_need(msg_fields_t *mf, int k, yajl_val *v) {
    *v = mf->f[k];
    if (*v == NULL)
        return msg_fail(mf, "%s is missing", msg_fields[k]);
    return 0;
}

/* A non-negative JSON integer, at most max (up to UINT64_MAX). */
static int msg_get_uint(msg_fields_t *mf, int k, uint64_t max, uint64_t *out) {
    yajl_val v;
    if (msg_need(mf, k, &v) != 0)
        return TXL_EINVAL;
    if (!YAJL_IS_NUMBER(v))
        return msg_fail(mf, "%s must be a JSON integer", msg_fields[k]);
    const char *r = v->u.number.r;
    if (r[0] == '-' && r[1] != '\0' && strspn(r + 1, "0123456789") == strlen(r + 1))
        return msg_fail(mf, "%s must not be negative", msg_fields[k]);
    if (r[0] == '\0' || strspn(r, "0123456789") != strlen(r))
        return msg_fail(mf, "%s must be a JSON integer", msg_fields[k]);
    errno = 0;
    unsigned long long x = strtoull(r, NULL, 10);
    if (errno == ERANGE || x > max)
        return msg_fail(mf, "%s must be at most %llu", msg_fields[k], (unsigned long long)max);
    *out = x;
    return 0;
}

static int msg_get_u32(msg_fields_t *mf, int k, uint32_t max, uint32_t *out) {
    uint64_t x;
    if (msg_get_uint(mf, k, max, &x) != 0)
        return TXL_EINVAL;
    *out = (uint32_t)x;
    return 0;
}

static int msg_get_i64(msg_fields_t *mf, int k, int64_t *out) {
    uint64_t x;
    if (msg_get_uint(mf, k, INT64_MAX, &x) != 0)
        return TXL_EINVAL;
    *out = (int64_t)x;
    return 0;
}

static int msg_get_string(msg_fields_t *mf, int k, const char **out) {
    yajl_val v;
    if (msg_need(mf, k, &v) != 0)
        return TXL_EINVAL;
    if (!YAJL_IS_STRING(v))
        return msg_fail(mf, "%s must be a string", msg_fields[k]);
    *out = YAJL_GET_STRING(v);
    return 0;
}

static int msg_get_address(msg_fields_t *mf, int k, eth_address_t *out) {
    const char *s;
    if (msg_get_string(mf, k, &s) != 0)
        return TXL_EINVAL;
    int rc = address_parse(s, out);
    if (rc == TXL_ECHECKSUM)
        return msg_fail(mf, "%s fails its EIP-55 checksum", msg_fields[k]);
    if (rc != 0)
        return msg_fail(mf, "%s must be 0x followed by 40 hex digits", msg_fields[k]);
    return 0;
}

static int msg_get_u256(msg_fields_t *mf, int k, uint256_t *out) {
    yajl_val v;
    if (msg_need(mf, k, &v) != 0)
        return TXL_EINVAL;
    if (!YAJL_IS_STRING(v))
        return msg_fail(mf, "%s must be a decimal string", msg_fields[k]);
    const char *s = YAJL_GET_STRING(v);
    if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s))
        return msg_fail(mf, "%s must be a decimal string", msg_fields[k]);
    if (uint256_parse_dec(s, out) != 0)
        return msg_fail(mf, "%s must be below 2^256", msg_fields[k]);
    return 0;
}

/* "0x" + an even number of hex digits, at most max_bytes bytes; *out is a
 * new buffer (NULL when empty) the caller frees. */
static int msg_get_bytes(msg_fields_t *mf, int k, size_t max_bytes, uint8_t **out,
                         size_t *out_len) {
    const char *s;
    *out = NULL;
    *out_len = 0;
    if (msg_get_string(mf, k, &s) != 0)
        return TXL_EINVAL;
    size_t n = strlen(s);
    if (n < 2 || s[0] != '0' || s[1] != 'x')
        return msg_fail(mf, "%s must start with 0x", msg_fields[k]);
    if ((n - 2) % 2 != 0)
        return msg_fail(mf, "%s must have an even number of hex digits", msg_fields[k]);
    if ((n - 2) / 2 > max_bytes)
        return msg_fail(mf, "%s is longer than %zu bytes", msg_fields[k], max_bytes);
    if (n == 2)
        return 0;
    uint8_t *b = xmalloc((n - 2) / 2);
    size_t len = 0;
    if (hex_decode(s, n, b, (n - 2) / 2, &len) != 0) {
        free(b);
        return msg_fail(mf, "%s must be hex digits after 0x", msg_fields[k]);
    }
    *out = b;
    *out_len = len;
    return 0;
}

static int msg_get_request_id(msg_fields_t *mf, char out[PAYOUT_REQUEST_ID_MAX + 1]) {
    out[0] = '\0';
    if (mf->f[F_REQUEST_ID] == NULL || YAJL_IS_NULL(mf->f[F_REQUEST_ID]))
        return 0; /* a tx without a request (e.g. a gap-filling cancel) */
    const char *s;
    if (msg_get_string(mf, F_REQUEST_ID, &s) != 0)
        return TXL_EINVAL;
    size_t n = strlen(s);
    if (n == 0 || n > PAYOUT_REQUEST_ID_MAX)
        return msg_fail(mf, "request_id must have 1 to %d characters", PAYOUT_REQUEST_ID_MAX);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return msg_fail(mf, "request_id must be printable ASCII");
    }
    memcpy(out, s, n + 1);
    return 0;
}

static int msg_get_kind(msg_fields_t *mf, tx_kind_t *out) {
    const char *s;
    if (msg_get_string(mf, F_KIND, &s) != 0)
        return TXL_EINVAL;
    if (tx_kind_parse(s, out) != 0)
        return msg_fail(mf, "kind must be payout, cancel, topup or sweep");
    return 0;
}

/* Lane indices are BIP-32 normal child numbers. */
#define MSG_LANE_MAX 0x7fffffffu

static int msg_get_fees(msg_fields_t *mf, msg_fees_t *fees) {
    if (msg_get_u256(mf, F_MAX_FEE, &fees->max_fee_per_gas) != 0 ||
        msg_get_u256(mf, F_MAX_PRIORITY, &fees->max_priority_fee_per_gas) != 0)
        return TXL_EINVAL;
    return 0;
}

/* The members both messages start with, in their order. */
static int msg_get_head(msg_fields_t *mf, int64_t *tx_id,
                        char request_id[PAYOUT_REQUEST_ID_MAX + 1], tx_kind_t *kind,
                        uint32_t *lane, eth_address_t *from, uint64_t *nonce) {
    if (msg_get_i64(mf, F_TX_ID, tx_id) != 0 || msg_get_request_id(mf, request_id) != 0 ||
        msg_get_kind(mf, kind) != 0 || msg_get_u32(mf, F_LANE, MSG_LANE_MAX, lane) != 0 ||
        msg_get_address(mf, F_FROM, from) != 0 ||
        msg_get_uint(mf, F_NONCE, UINT64_MAX, nonce) != 0)
        return TXL_EINVAL;
    return 0;
}

/* Parses buf into *tree and collects the known members. */
static int msg_parse(const char *buf, size_t len, yajl_val *tree, msg_fields_t *mf) {
    char perr[256];
    *tree = NULL;
    if (mf->err != NULL && mf->err_size > 0)
        mf->err[0] = '\0';
    if (memchr(buf, '\0', len) != NULL)
        return msg_fail(mf, "message contains a NUL byte");
    char *text = xstrndup(buf, len);
    *tree = yajl_tree_parse(text, perr, sizeof(perr));
    free(text);
    if (*tree == NULL) {
        perr[strcspn(perr, "\n")] = '\0';
        return msg_fail(mf, "invalid JSON: %s", perr);
    }
    if (!YAJL_IS_OBJECT(*tree))
        return msg_fail(mf, "message must be a JSON object");
    for (size_t i = 0; i < (*tree)->u.object.len; i++) {
        const char *key = (*tree)->u.object.keys[i];
        for (int k = 0; k < F_COUNT; k++) {
            if (strcmp(key, msg_fields[k]) != 0)
                continue;
            if (mf->f[k] != NULL)
                return msg_fail(mf, "%s appears twice", msg_fields[k]);
            mf->f[k] = (*tree)->u.object.values[i];
            break;
        }
    }
    return 0;
}

int msg_allocated_decode(const char *buf, size_t len, msg_allocated_t *m, char *errstr,
                         size_t errstr_size) {
    msg_fields_t mf = {.err = errstr, .err_size = errstr_size};
    yajl_val tree;
    uint64_t chain_id = 0;
    memset(m, 0, sizeof(*m));
    int rc = msg_parse(buf, len, &tree, &mf);
    if (rc == 0)
        rc = msg_get_head(&mf, &m->tx_id, m->request_id, &m->kind, &m->lane, &m->from, &m->nonce);
    if (rc == 0)
        rc = msg_get_address(&mf, F_TO, &m->to);
    if (rc == 0)
        rc = msg_get_u256(&mf, F_VALUE, &m->value);
    if (rc == 0)
        rc = msg_get_bytes(&mf, F_DATA, TX_DATA_MAX, &m->data, &m->data_len);
    if (rc == 0)
        rc = msg_get_uint(&mf, F_GAS_LIMIT, UINT64_MAX, &m->gas_limit);
    if (rc == 0)
        rc = msg_get_fees(&mf, &m->fees);
    if (rc == 0)
        rc = msg_get_uint(&mf, F_CHAIN_ID, UINT64_MAX, &chain_id);
    if (rc == 0 && chain_id == 0)
        rc = msg_fail(&mf, "chain_id must be at least 1");
    m->chain_id = chain_id;
    if (rc == 0)
        rc = msg_get_u32(&mf, F_ATTEMPT, UINT32_MAX, &m->attempt);
    if (rc == 0)
        rc = msg_get_i64(&mf, F_CREATED_MS, &m->created_ms);
    yajl_tree_free(tree);
    return rc;
}

void msg_allocated_clear(msg_allocated_t *m) {
    if (m == NULL)
        return;
    free(m->data);
    m->data = NULL;
    m->data_len = 0;
}

int msg_signed_decode(const char *buf, size_t len, msg_signed_t *m, char *errstr,
                      size_t errstr_size) {
    msg_fields_t mf = {.err = errstr, .err_size = errstr_size};
    yajl_val tree;
    memset(m, 0, sizeof(*m));
    int rc = msg_parse(buf, len, &tree, &mf);
    if (rc == 0)
        rc = msg_get_head(&mf, &m->tx_id, m->request_id, &m->kind, &m->lane, &m->from, &m->nonce);
    if (rc == 0)
        rc = msg_get_u32(&mf, F_ATTEMPT, UINT32_MAX, &m->attempt);
    if (rc == 0) {
        uint8_t *hash = NULL;
        size_t hash_len = 0;
        rc = msg_get_bytes(&mf, F_HASH, 32, &hash, &hash_len);
        if (rc == 0 && hash_len != 32)
            rc = msg_fail(&mf, "hash must be 0x followed by 64 hex digits");
        if (rc == 0)
            memcpy(m->hash, hash, 32);
        free(hash);
    }
    if (rc == 0)
        rc = msg_get_bytes(&mf, F_RAW, TX_DATA_MAX + TX_RAW_OVERHEAD, &m->raw, &m->raw_len);
    if (rc == 0 && m->raw_len == 0)
        rc = msg_fail(&mf, "raw must not be empty");
    if (rc == 0)
        rc = msg_get_fees(&mf, &m->fees);
    if (rc == 0)
        rc = msg_get_i64(&mf, F_CREATED_MS, &m->created_ms);
    yajl_tree_free(tree);
    return rc;
}

void msg_signed_clear(msg_signed_t *m) {
    if (m == NULL)
        return;
    free(m->raw);
    m->raw = NULL;
    m->raw_len = 0;
}
