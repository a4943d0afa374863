/*
 * payout.c - payout request validation (see payout.h).
 *
 * The message is parsed with yajl's tree API (which checks UTF-8) after the
 * byte-level checks (size, BOM, embedded NUL). Field checks run in a fixed
 * order so one request always gets the same reason.
 */
#include "txlane/payout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "txlane/hex.h"
#include "txlane/xmalloc.h"

#define PAYOUT_METADATA_DEPTH_MAX 16

static const char *const payout_codes[PAYOUT_REJECT_COUNT_] = {
    [PAYOUT_OK] = "ok",
    [PAYOUT_REJECT_OVERSIZED] = "oversized",
    [PAYOUT_REJECT_BOM] = "utf8_bom",
    [PAYOUT_REJECT_NOT_JSON] = "not_json",
    [PAYOUT_REJECT_NOT_OBJECT] = "not_object",
    [PAYOUT_REJECT_DUPLICATE_KEY] = "duplicate_key",
    [PAYOUT_REJECT_UNKNOWN_FIELD] = "unknown_field",
    [PAYOUT_REJECT_REQUEST_ID] = "bad_request_id",
    [PAYOUT_REJECT_TO] = "bad_to",
    [PAYOUT_REJECT_CHECKSUM] = "bad_checksum",
    [PAYOUT_REJECT_VALUE] = "bad_value",
    [PAYOUT_REJECT_TOKEN] = "bad_token",
    [PAYOUT_REJECT_DATA] = "bad_data",
    [PAYOUT_REJECT_TOKEN_AND_DATA] = "token_and_data",
    [PAYOUT_REJECT_GAS_LIMIT] = "bad_gas_limit",
    [PAYOUT_REJECT_LANE] = "bad_lane",
    [PAYOUT_REJECT_METADATA] = "bad_metadata",
};

const char *payout_reject_code(payout_reject_t reason) {
    if ((int)reason < 0 || reason >= PAYOUT_REJECT_COUNT_)
        return "unknown";
    return payout_codes[reason];
}

enum {
    F_REQUEST_ID,
    F_TO,
    F_VALUE,
    F_TOKEN,
    F_DATA,
    F_GAS_LIMIT,
    F_LANE,
    F_METADATA,
    F_COUNT
};
static const char *const payout_fields[F_COUNT] = {
    "request_id", "to", "value_wei", "token", "data", "gas_limit", "lane", "metadata",
};

void payout_request_free(payout_request_t *req) {
    if (req == NULL)
        return;
    free(req->data);
    free(req->metadata);
    req->data = NULL;
    req->metadata = NULL;
}

static payout_reject_t payout_reject(payout_reject_t r, char *detail, size_t size,
                                     const char *fmt, const char *arg) {
    snprintf(detail, size, fmt, arg);
    return r;
}

/* Serialises v into g; 0 on success, -1 when nested deeper than allowed. */
static int payout_gen_tree(yajl_gen g, yajl_val v, int depth) {
    if (depth > PAYOUT_METADATA_DEPTH_MAX)
        return -1;
    switch (v->type) {
    case yajl_t_string:
        yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
        return 0;
    case yajl_t_number:
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        return 0;
    case yajl_t_true:
    case yajl_t_false:
        yajl_gen_bool(g, v->type == yajl_t_true);
        return 0;
    case yajl_t_null:
        yajl_gen_null(g);
        return 0;
    case yajl_t_object:
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            yajl_gen_string(g, (const unsigned char *)k, strlen(k));
            if (payout_gen_tree(g, v->u.object.values[i], depth + 1) != 0)
                return -1;
        }
        yajl_gen_map_close(g);
        return 0;
    case yajl_t_array:
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (payout_gen_tree(g, v->u.array.values[i], depth + 1) != 0)
                return -1;
        }
        yajl_gen_array_close(g);
        return 0;
    case yajl_t_any:
        break;
    }
    return -1;
}

static char *payout_metadata_text(yajl_val v) {
    yajl_gen g = yajl_gen_alloc(NULL);
    char *out = NULL;
    if (payout_gen_tree(g, v, 0) == 0) {
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        out = xstrndup((const char *)buf, len);
    }
    yajl_gen_free(g);
    return out;
}

static int payout_is_decimal(const char *s) {
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
    }
    return 1;
}

static payout_reject_t payout_check_address(yajl_val v, const char *field, payout_reject_t bad,
                                            eth_address_t *out, char *detail, size_t size) {
    if (!YAJL_IS_STRING(v))
        return payout_reject(bad, detail, size, "%s must be a string", field);
    int rc = address_parse(YAJL_GET_STRING(v), out);
    if (rc == TXL_ECHECKSUM)
        return payout_reject(PAYOUT_REJECT_CHECKSUM, detail, size,
                             "%s fails its EIP-55 checksum", field);
    if (rc != 0)
        return payout_reject(bad, detail, size, "%s must be 0x followed by 40 hex digits", field);
    return PAYOUT_OK;
}

static payout_reject_t payout_check_fields(yajl_val *f, const payout_limits_t *limits,
                                           payout_request_t *req, char *detail, size_t size) {
    /* request_id */
    if (f[F_REQUEST_ID] == NULL)
        return payout_reject(PAYOUT_REJECT_REQUEST_ID, detail, size, "request_id is missing%s", "");
    if (!YAJL_IS_STRING(f[F_REQUEST_ID]))
        return payout_reject(PAYOUT_REJECT_REQUEST_ID, detail, size, "request_id must be a string%s",
                             "");
    const char *id = YAJL_GET_STRING(f[F_REQUEST_ID]);
    size_t id_len = strlen(id);
    if (id_len == 0 || id_len > PAYOUT_REQUEST_ID_MAX)
        return payout_reject(PAYOUT_REJECT_REQUEST_ID, detail, size,
                             "request_id must have 1 to 128 characters%s", "");
    for (size_t i = 0; i < id_len; i++) {
        if ((unsigned char)id[i] < 0x20 || (unsigned char)id[i] > 0x7e)
            return payout_reject(PAYOUT_REJECT_REQUEST_ID, detail, size,
                                 "request_id must be printable ASCII%s", "");
    }
    memcpy(req->request_id, id, id_len + 1);

    /* to */
    if (f[F_TO] == NULL)
        return payout_reject(PAYOUT_REJECT_TO, detail, size, "to is missing%s", "");
    payout_reject_t r = payout_check_address(f[F_TO], "to", PAYOUT_REJECT_TO, &req->to, detail, size);
    if (r != PAYOUT_OK)
        return r;

    /* value_wei */
    if (f[F_VALUE] == NULL)
        return payout_reject(PAYOUT_REJECT_VALUE, detail, size, "value_wei is missing%s", "");
    if (!YAJL_IS_STRING(f[F_VALUE]))
        return payout_reject(PAYOUT_REJECT_VALUE, detail, size,
                             "value_wei must be a decimal string, not a JSON %s",
                             YAJL_IS_NUMBER(f[F_VALUE]) ? "number" : "value of another type");
    const char *value = YAJL_GET_STRING(f[F_VALUE]);
    if (!payout_is_decimal(value))
        return payout_reject(PAYOUT_REJECT_VALUE, detail, size,
                             "value_wei must be decimal digits only%s", "");
    if (uint256_parse_dec(value, &req->value) != 0)
        return payout_reject(PAYOUT_REJECT_VALUE, detail, size, "value_wei must be below 2^256%s",
                             "");

    /* token | data */
    if (f[F_TOKEN] != NULL && f[F_DATA] != NULL)
        return payout_reject(PAYOUT_REJECT_TOKEN_AND_DATA, detail, size,
                             "token and data are exclusive%s", "");
    if (f[F_TOKEN] != NULL) {
        r = payout_check_address(f[F_TOKEN], "token", PAYOUT_REJECT_TOKEN, &req->token, detail,
                                 size);
        if (r != PAYOUT_OK)
            return r;
        req->has_token = 1;
    }
    if (f[F_DATA] != NULL) {
        if (!YAJL_IS_STRING(f[F_DATA]))
            return payout_reject(PAYOUT_REJECT_DATA, detail, size, "data must be a string%s", "");
        const char *d = YAJL_GET_STRING(f[F_DATA]);
        size_t dlen = strlen(d);
        if (dlen < 2 || d[0] != '0' || (d[1] != 'x' && d[1] != 'X'))
            return payout_reject(PAYOUT_REJECT_DATA, detail, size, "data must start with 0x%s", "");
        req->data = xmalloc(dlen / 2 + 1);
        if (dlen / 2 > PAYOUT_DATA_MAX ||
            hex_decode(d, dlen, req->data, dlen / 2 + 1, &req->data_len) != 0)
            return payout_reject(PAYOUT_REJECT_DATA, detail, size,
                                 "data must be 0x and an even number of hex digits (at most "
                                 "24 KiB)%s",
                                 "");
    }

    /* gas_limit */
    if (f[F_GAS_LIMIT] != NULL) {
        if (!YAJL_IS_STRING(f[F_GAS_LIMIT]) || !payout_is_decimal(YAJL_GET_STRING(f[F_GAS_LIMIT])))
            return payout_reject(PAYOUT_REJECT_GAS_LIMIT, detail, size,
                                 "gas_limit must be a decimal string%s", "");
        uint256_t g;
        uint64_t gl = 0;
        if (uint256_parse_dec(YAJL_GET_STRING(f[F_GAS_LIMIT]), &g) != 0 ||
            uint256_to_u64(&g, &gl) != 0 || gl == 0 || gl > limits->gas_limit_max) {
            char bound[32];
            snprintf(bound, sizeof(bound), "%llu", (unsigned long long)limits->gas_limit_max);
            return payout_reject(PAYOUT_REJECT_GAS_LIMIT, detail, size,
                                 "gas_limit must be between 1 and the block gas limit %s", bound);
        }
        req->gas_limit = gl;
    }

    /* lane */
    req->lane = -1;
    if (f[F_LANE] != NULL) {
        if (!YAJL_IS_INTEGER(f[F_LANE]) || YAJL_GET_INTEGER(f[F_LANE]) < 0 ||
            YAJL_GET_INTEGER(f[F_LANE]) >= limits->lanes) {
            char bound[32];
            snprintf(bound, sizeof(bound), "%d", limits->lanes - 1);
            return payout_reject(PAYOUT_REJECT_LANE, detail, size,
                                 "lane must be an integer from 0 to %s", bound);
        }
        req->lane = (int)YAJL_GET_INTEGER(f[F_LANE]);
    }

    /* metadata */
    if (f[F_METADATA] != NULL) {
        if (!YAJL_IS_OBJECT(f[F_METADATA]))
            return payout_reject(PAYOUT_REJECT_METADATA, detail, size,
                                 "metadata must be an object%s", "");
        req->metadata = payout_metadata_text(f[F_METADATA]);
        if (req->metadata == NULL)
            return payout_reject(PAYOUT_REJECT_METADATA, detail, size,
                                 "metadata is nested too deeply%s", "");
    }
    return PAYOUT_OK;
}

payout_reject_t payout_request_parse(const char *buf, size_t len, const payout_limits_t *limits,
                                     payout_request_t *req, char *detail, size_t detail_size) {
    char perr[256];
    memset(req, 0, sizeof(*req));
    req->lane = -1;
    detail[0] = '\0';
    if (len > PAYOUT_MESSAGE_MAX)
        return payout_reject(PAYOUT_REJECT_OVERSIZED, detail, detail_size,
                             "message larger than %s bytes", "65536");
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        return payout_reject(PAYOUT_REJECT_BOM, detail, detail_size,
                             "message starts with a UTF-8 byte order mark%s", "");
    if (memchr(buf, '\0', len) != NULL)
        return payout_reject(PAYOUT_REJECT_NOT_JSON, detail, detail_size,
                             "message contains a NUL byte%s", "");
    char *text = xstrndup(buf, len);
    yajl_val tree = yajl_tree_parse(text, perr, sizeof(perr));
    free(text);
    if (tree == NULL) {
        /* yajl's messages span lines; keep the first */
        perr[strcspn(perr, "\n")] = '\0';
        return payout_reject(PAYOUT_REJECT_NOT_JSON, detail, detail_size, "invalid JSON: %s",
                             perr);
    }
    payout_reject_t r = PAYOUT_OK;
    if (!YAJL_IS_OBJECT(tree)) {
        r = payout_reject(PAYOUT_REJECT_NOT_OBJECT, detail, detail_size,
                          "message must be a JSON object%s", "");
        goto done;
    }
    yajl_val fields[F_COUNT] = {0};
    for (size_t i = 0; i < tree->u.object.len; i++) {
        const char *key = tree->u.object.keys[i];
        int which = -1;
        for (int k = 0; k < F_COUNT; k++) {
            if (strcmp(key, payout_fields[k]) == 0) {
                which = k;
                break;
            }
        }
        if (which < 0) {
            r = payout_reject(PAYOUT_REJECT_UNKNOWN_FIELD, detail, detail_size,
                              "unknown field '%.64s'", key);
            goto done;
        }
        if (fields[which] != NULL) {
            r = payout_reject(PAYOUT_REJECT_DUPLICATE_KEY, detail, detail_size,
                              "field '%s' appears twice", key);
            goto done;
        }
        fields[which] = tree->u.object.values[i];
    }
    r = payout_check_fields(fields, limits, req, detail, detail_size);

done:
    yajl_tree_free(tree);
    if (r != PAYOUT_OK)
        payout_request_free(req);
    return r;
}
