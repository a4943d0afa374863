/*
 * hd.c - BIP-32 extended keys and txlane's BIP-44 lanes (see hd.h).
 *
 * Child derivation computes I = HMAC-SHA512(c_par, data || ser32(i)) with
 * data = 0x00 || k_par for hardened and serP(K_par) for normal children, then
 * k_i = IL + k_par (mod n) or K_i = IL*G + K_par with libsecp256k1's tweak
 * functions, which also reject IL >= n and a zero result. Results are built in
 * a local node and copied out only on success, so outputs may alias inputs.
 * Every temporary holding key material (HMAC input and output, nodes, the
 * 78-byte serialization) is wiped before return.
 */
#include "txlane/hd.h"

#include <assert.h>
#include <string.h>

#include "txlane/base58.h"
#include "txlane/digest.h"
#include "txlane/secp.h"
#include "txlane/secure.h"

#define HD_VERSION_XPRV 0x0488ADE4u
#define HD_VERSION_XPUB 0x0488B21Eu
#define HD_XKEY_BYTES 78 /* version 4, depth 1, fingerprint 4, child 4, chain 32, key 33 */
#define HD_LANE_ACCOUNT_DEPTH 3

static const uint8_t hd_master_key[] = "Bitcoin seed";

static void hd_be32_put(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t hd_be32_get(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Serializes node->pubkey into node->pub. */
static void hd_node_pub_serialize(hd_node_t *node) {
    size_t len = sizeof node->pub;
    int ok = secp256k1_ec_pubkey_serialize(secp_context(), node->pub, &len, &node->pubkey,
                                           SECP256K1_EC_COMPRESSED);
    assert(ok && len == sizeof node->pub);
    (void)ok;
}

/* Sets the public key of a node whose private key is set and valid. */
static int hd_node_pub_from_priv(hd_node_t *node) {
    if (!secp256k1_ec_pubkey_create(secp_context(), &node->pubkey, node->priv))
        return TXL_ECRYPTO;
    hd_node_pub_serialize(node);
    return 0;
}

void hd_node_wipe(hd_node_t *node) {
    if (node != NULL)
        secure_wipe(node, sizeof *node);
}

int hd_node_from_seed(const uint8_t *seed, size_t seed_len, hd_node_t *out) {
    uint8_t i[64];
    hd_node_t node;
    int rc;

    assert(seed != NULL && out != NULL);
    if (seed_len < HD_SEED_MIN || seed_len > HD_SEED_MAX)
        return TXL_EINVAL;
    memset(&node, 0, sizeof node);
    rc = digest_hmac_sha512(hd_master_key, sizeof hd_master_key - 1, seed, seed_len, i);
    if (rc != 0)
        goto cleanup;
    memcpy(node.priv, i, 32);
    memcpy(node.chain_code, i + 32, 32);
    node.has_private = 1;
    if (!secp256k1_ec_seckey_verify(secp_context(), node.priv)) {
        rc = TXL_ECRYPTO;
        goto cleanup;
    }
    rc = hd_node_pub_from_priv(&node);
    if (rc == 0)
        *out = node;
cleanup:
    secure_wipe(i, sizeof i);
    hd_node_wipe(&node);
    return rc;
}

int hd_node_fingerprint(const hd_node_t *node, uint8_t out[4]) {
    uint8_t id[DIGEST_HASH160_LEN];
    int rc;

    assert(node != NULL && out != NULL);
    rc = digest_hash160(node->pub, sizeof node->pub, id);
    if (rc == 0)
        memcpy(out, id, 4);
    return rc;
}

int hd_node_derive_child(const hd_node_t *parent, uint32_t index, hd_node_t *child) {
    uint8_t data[37], i[64];
    hd_node_t node;
    int rc;

    assert(parent != NULL && child != NULL);
    if (parent->depth == HD_DEPTH_MAX)
        return TXL_ERANGE;
    if ((index & HD_HARDENED) && !parent->has_private)
        return TXL_EINVAL;
    memset(&node, 0, sizeof node);
    if (index & HD_HARDENED) {
        data[0] = 0;
        memcpy(data + 1, parent->priv, 32);
    } else {
        memcpy(data, parent->pub, 33);
    }
    hd_be32_put(data + 33, index);
    rc = digest_hmac_sha512(parent->chain_code, sizeof parent->chain_code, data, sizeof data, i);
    if (rc != 0)
        goto cleanup;
    if (parent->has_private) {
        memcpy(node.priv, parent->priv, 32);
        node.has_private = 1;
        if (!secp256k1_ec_seckey_tweak_add(secp_context(), node.priv, i)) {
            rc = TXL_ECRYPTO;
            goto cleanup;
        }
        rc = hd_node_pub_from_priv(&node);
    } else {
        node.pubkey = parent->pubkey;
        if (!secp256k1_ec_pubkey_tweak_add(secp_context(), &node.pubkey, i))
            rc = TXL_ECRYPTO;
        else
            hd_node_pub_serialize(&node);
    }
    if (rc == 0)
        rc = hd_node_fingerprint(parent, node.parent_fingerprint);
    if (rc != 0)
        goto cleanup;
    memcpy(node.chain_code, i + 32, 32);
    node.depth = (uint8_t)(parent->depth + 1);
    node.child_number = index;
    *child = node;
cleanup:
    secure_wipe(data, sizeof data);
    secure_wipe(i, sizeof i);
    hd_node_wipe(&node);
    return rc;
}

int hd_path_parse(const char *path, uint32_t *indices, size_t cap, size_t *n) {
    const char *p = path;
    size_t count = 0;

    assert(path != NULL && (indices != NULL || cap == 0) && n != NULL);
    if (*p++ != 'm')
        return TXL_EINVAL;
    while (*p != '\0') {
        uint64_t value = 0; /* < 2^31 before each digit, so never overflows */
        size_t digits = 0;
        if (*p++ != '/')
            return TXL_EINVAL;
        if (*p == '0' && p[1] >= '0' && p[1] <= '9')
            return TXL_EINVAL; /* leading zero */
        for (; *p >= '0' && *p <= '9'; p++, digits++) {
            value = value * 10 + (uint64_t)(*p - '0');
            if (value >= HD_HARDENED)
                return TXL_ERANGE;
        }
        if (digits == 0)
            return TXL_EINVAL;
        if (*p == '\'' || *p == 'h' || *p == 'H') {
            value |= HD_HARDENED;
            p++;
        }
        if (*p != '\0' && *p != '/')
            return TXL_EINVAL;
        if (count == cap)
            return TXL_ERANGE;
        indices[count++] = (uint32_t)value;
    }
    *n = count;
    return 0;
}

int hd_node_derive_path(const hd_node_t *node, const char *path, hd_node_t *out) {
    uint32_t indices[HD_DEPTH_MAX];
    size_t n = 0;
    hd_node_t cur;
    int rc;

    assert(node != NULL && path != NULL && out != NULL);
    rc = hd_path_parse(path, indices, HD_DEPTH_MAX, &n);
    if (rc != 0)
        return rc;
    cur = *node;
    for (size_t k = 0; k < n && rc == 0; k++)
        rc = hd_node_derive_child(&cur, indices[k], &cur);
    if (rc == 0)
        *out = cur;
    hd_node_wipe(&cur);
    return rc;
}

void hd_node_neuter(const hd_node_t *node, hd_node_t *out) {
    assert(node != NULL && out != NULL);
    if (out != node)
        *out = *node;
    secure_wipe(out->priv, sizeof out->priv);
    out->has_private = 0;
}

int hd_node_address(const hd_node_t *node, eth_address_t *out) {
    assert(node != NULL && out != NULL);
    return address_from_pubkey(&node->pubkey, out);
}

/* Writes the 78-byte serialization with the given version and 33-byte key data. */
static int hd_node_format(const hd_node_t *node, uint32_t version, const uint8_t key[33],
                          char out[HD_XKEY_BUF]) {
    uint8_t buf[HD_XKEY_BYTES];
    int rc;

    hd_be32_put(buf, version);
    buf[4] = node->depth;
    memcpy(buf + 5, node->parent_fingerprint, 4);
    hd_be32_put(buf + 9, node->child_number);
    memcpy(buf + 13, node->chain_code, 32);
    memcpy(buf + 45, key, 33);
    rc = base58check_encode(buf, sizeof buf, out, HD_XKEY_BUF);
    secure_wipe(buf, sizeof buf);
    return rc;
}

int hd_node_xpub_format(const hd_node_t *node, char out[HD_XKEY_BUF]) {
    assert(node != NULL && out != NULL);
    return hd_node_format(node, HD_VERSION_XPUB, node->pub, out);
}

int hd_node_xprv_format(const hd_node_t *node, char out[HD_XKEY_BUF]) {
    uint8_t key[33];
    int rc;

    assert(node != NULL && out != NULL && node->has_private);
    key[0] = 0;
    memcpy(key + 1, node->priv, 32);
    rc = hd_node_format(node, HD_VERSION_XPRV, key, out);
    secure_wipe(key, sizeof key);
    return rc;
}

/* Fills node from the 78-byte serialization buf. */
static int hd_node_unpack(const uint8_t *buf, hd_node_t *node) {
    uint32_t version = hd_be32_get(buf);
    const uint8_t *key = buf + 45;

    memset(node, 0, sizeof *node);
    node->depth = buf[4];
    memcpy(node->parent_fingerprint, buf + 5, 4);
    node->child_number = hd_be32_get(buf + 9);
    memcpy(node->chain_code, buf + 13, 32);
    if (node->depth == 0 &&
        (hd_be32_get(node->parent_fingerprint) != 0 || node->child_number != 0))
        return TXL_EINVAL;
    if (version == HD_VERSION_XPRV) {
        if (key[0] != 0)
            return TXL_EINVAL;
        memcpy(node->priv, key + 1, 32);
        node->has_private = 1;
        if (!secp256k1_ec_seckey_verify(secp_context(), node->priv))
            return TXL_ECRYPTO;
        return hd_node_pub_from_priv(node);
    }
    if (version == HD_VERSION_XPUB) {
        if (key[0] != 2 && key[0] != 3)
            return TXL_EINVAL;
        if (!secp256k1_ec_pubkey_parse(secp_context(), &node->pubkey, key, 33))
            return TXL_ECRYPTO;
        memcpy(node->pub, key, 33);
        return 0;
    }
    return TXL_EINVAL;
}

int hd_node_parse(const char *xkey, hd_node_t *out) {
    uint8_t buf[BASE58_MAX_BYTES];
    size_t len = 0;
    hd_node_t node;
    int rc;

    assert(xkey != NULL && out != NULL);
    memset(&node, 0, sizeof node);
    rc = base58check_decode(xkey, buf, sizeof buf, &len);
    if (rc != 0 && rc != TXL_ECHECKSUM)
        rc = TXL_EINVAL;
    if (rc == 0 && len != HD_XKEY_BYTES)
        rc = TXL_EINVAL;
    if (rc == 0)
        rc = hd_node_unpack(buf, &node);
    if (rc == 0)
        *out = node;
    secure_wipe(buf, sizeof buf);
    hd_node_wipe(&node);
    return rc;
}

/* The node at path (from "m") of the master node of seed. */
static int hd_node_from_seed_path(const uint8_t *seed, size_t seed_len, const char *path,
                                  hd_node_t *out) {
    hd_node_t master;
    int rc;

    assert(seed != NULL && out != NULL);
    rc = hd_node_from_seed(seed, seed_len, &master);
    if (rc == 0)
        rc = hd_node_derive_path(&master, path, out);
    hd_node_wipe(&master);
    return rc;
}

int hd_lane_account_from_seed(const uint8_t *seed, size_t seed_len, hd_node_t *account) {
    return hd_node_from_seed_path(seed, seed_len, HD_LANE_ACCOUNT_PATH, account);
}

int hd_lane_chain_from_seed(const uint8_t *seed, size_t seed_len, hd_node_t *chain) {
    return hd_node_from_seed_path(seed, seed_len, HD_LANE_CHAIN_PATH, chain);
}

int hd_lane_account_parse(const char *xpub, hd_node_t *account) {
    hd_node_t node;
    int rc;

    assert(xpub != NULL && account != NULL);
    rc = hd_node_parse(xpub, &node);
    if (rc == 0 && (node.has_private || node.depth != HD_LANE_ACCOUNT_DEPTH ||
                    node.child_number != (HD_HARDENED | 0)))
        rc = TXL_EINVAL;
    if (rc == 0)
        *account = node;
    hd_node_wipe(&node);
    return rc;
}

int hd_lane_chain_from_account(const hd_node_t *account, hd_node_t *chain) {
    assert(account != NULL && chain != NULL);
    return hd_node_derive_child(account, 0, chain);
}

/* Derives lane index of chain into *lane and its address into *out. */
static int hd_lane_node(const hd_node_t *chain, uint32_t index, hd_node_t *lane,
                        eth_address_t *out) {
    int rc;

    assert(chain != NULL && out != NULL);
    if (index >= HD_HARDENED)
        return TXL_ERANGE;
    rc = hd_node_derive_child(chain, index, lane);
    if (rc == 0)
        rc = hd_node_address(lane, out);
    return rc;
}

int hd_lane_key(const hd_node_t *chain, uint32_t index, uint8_t priv[32], eth_address_t *out) {
    hd_node_t lane;
    int rc;

    assert(chain != NULL && chain->has_private && priv != NULL);
    memset(&lane, 0, sizeof lane);
    rc = hd_lane_node(chain, index, &lane, out);
    if (rc == 0)
        memcpy(priv, lane.priv, 32);
    hd_node_wipe(&lane);
    return rc;
}

int hd_lane_address(const hd_node_t *chain, uint32_t index, eth_address_t *out) {
    hd_node_t lane;
    int rc;

    memset(&lane, 0, sizeof lane);
    rc = hd_lane_node(chain, index, &lane, out);
    hd_node_wipe(&lane);
    return rc;
}

int hd_lane_address_from_xpub(const hd_node_t *account_pub, uint32_t index,
                              eth_address_t *out) {
    hd_node_t chain;
    int rc;

    assert(account_pub != NULL && out != NULL);
    rc = hd_lane_chain_from_account(account_pub, &chain);
    if (rc == 0)
        rc = hd_lane_address(&chain, index, out);
    hd_node_wipe(&chain);
    return rc;
}
