/*
 * hd.h - BIP-32 hierarchical deterministic keys on secp256k1, and the BIP-44
 * lanes of txlane (lane i = m/44'/60'/0'/0/i).
 *
 * An hd_node_t is an extended key: a private node holds the private key and
 * its public key, a public node (xpub side) only the public key. Private child
 * derivation handles hardened and normal indices; public derivation only normal
 * ones. An invalid child (IL >= n or a zero key, probability < 2^-127) is
 * TXL_ECRYPTO so that callers can skip that index as BIP-32 prescribes.
 *
 * Secrets: a private node holds key material; release it with hd_node_wipe().
 * xprv strings and lane private keys written by these functions are the
 * caller's to wipe. Nothing here logs. Functions are thread-safe (they use the
 * shared secp_context()); one hd_node_t belongs to one thread while written.
 */
#ifndef TXLANE_HD_H
#define TXLANE_HD_H

#include <secp256k1.h>
#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/err.h"

#define HD_HARDENED 0x80000000u /* index bit of hardened children */
#define HD_DEPTH_MAX 255        /* depth is one byte in the serialization */
#define HD_SEED_MIN 16          /* BIP-32 seed length bounds, in bytes */
#define HD_SEED_MAX 64
#define HD_XKEY_BUF 112 /* an xprv/xpub string (111 chars) and its NUL */

/* BIP-44 account of the lanes, and the chain whose children are the lanes. */
#define HD_LANE_ACCOUNT_PATH "m/44'/60'/0'"
#define HD_LANE_CHAIN_PATH "m/44'/60'/0'/0"

typedef struct {
    uint8_t depth;
    uint8_t parent_fingerprint[4];
    uint32_t child_number;
    uint8_t chain_code[32];
    uint8_t priv[32];        /* private key; meaningful iff has_private */
    uint8_t pub[33];         /* compressed public key (always set) */
    secp256k1_pubkey pubkey; /* pub, parsed */
    int has_private;
} hd_node_t;

/* Master node of a seed of HD_SEED_MIN..HD_SEED_MAX bytes (else TXL_EINVAL):
 * HMAC-SHA512("Bitcoin seed", seed). TXL_ECRYPTO if the master key is invalid. */
TXL_WUR int hd_node_from_seed(const uint8_t *seed, size_t seed_len, hd_node_t *out);

/* Child index of parent into *child (child may be parent). Private parents
 * derive private children (CKDpriv); public parents derive public children
 * (CKDpub) and a hardened index is TXL_EINVAL. TXL_ERANGE beyond HD_DEPTH_MAX,
 * TXL_ECRYPTO for an invalid child. *child is untouched on error. */
TXL_WUR int hd_node_derive_child(const hd_node_t *parent, uint32_t index, hd_node_t *child);

/* Derives along a path such as "m/44'/60'/0'/0/7" (see hd_path_parse) where "m"
 * stands for node. out may be node. Errors of hd_path_parse and
 * hd_node_derive_child; *out is untouched on error. */
TXL_WUR int hd_node_derive_path(const hd_node_t *node, const char *path, hd_node_t *out);

/* The public node of node (drops and wipes the private key). out may be node. */
void hd_node_neuter(const hd_node_t *node, hd_node_t *out);

/* First 4 bytes of HASH160 of the node's public key. */
TXL_WUR int hd_node_fingerprint(const hd_node_t *node, uint8_t out[4]);

/* Ethereum address of the node's public key. */
TXL_WUR int hd_node_address(const hd_node_t *node, eth_address_t *out);

/* Writes the base58check xpub of node (mainnet version 0x0488B21E). */
TXL_WUR int hd_node_xpub_format(const hd_node_t *node, char out[HD_XKEY_BUF]);

/* Writes the base58check xprv of a private node (version 0x0488ADE4). The
 * caller wipes out (secure_wipe(out, HD_XKEY_BUF)). */
TXL_WUR int hd_node_xprv_format(const hd_node_t *node, char out[HD_XKEY_BUF]);

/* Parses an xprv or xpub (mainnet versions only). TXL_ECHECKSUM on a bad
 * base58check checksum; TXL_EINVAL on bad characters, wrong length, unknown
 * version, a bad key prefix, or depth 0 with a parent fingerprint or child
 * number; TXL_ECRYPTO for a private key of 0 or >= n or a public key not on
 * the curve. *out is untouched on error. */
TXL_WUR int hd_node_parse(const char *xkey, hd_node_t *out);

/* Zeroes the whole node. NULL is a no-op. */
void hd_node_wipe(hd_node_t *node);

/* Parses "m" followed by "/<index>" steps, each a decimal < 2^31 without
 * leading zeros and optionally a hardened mark (', h or H). Writes up to cap
 * indices (HD_HARDENED set for hardened steps) and *n. TXL_EINVAL on junk or
 * an empty step, TXL_ERANGE on an index >= 2^31 or more than cap steps. */
TXL_WUR int hd_path_parse(const char *path, uint32_t *indices, size_t cap, size_t *n);

/* The lanes' account node m/44'/60'/0' (private) of a seed. */
TXL_WUR int hd_lane_account_from_seed(const uint8_t *seed, size_t seed_len, hd_node_t *account);

/* The lanes' chain node m/44'/60'/0'/0 (private) of a seed: derive it once, then
 * each lane with hd_lane_key(). */
TXL_WUR int hd_lane_chain_from_seed(const uint8_t *seed, size_t seed_len, hd_node_t *chain);

/* Parses the account xpub of m/44'/60'/0': TXL_EINVAL unless it is an xpub (not
 * an xprv) at depth 3 with child number 0'; else the errors of hd_node_parse. */
TXL_WUR int hd_lane_account_parse(const char *xpub, hd_node_t *account);

/* The chain node .../0 of an account node (public account: public chain). */
TXL_WUR int hd_lane_chain_from_account(const hd_node_t *account, hd_node_t *chain);

/* Address of lane index (< 2^31, else TXL_ERANGE) of a chain node. */
TXL_WUR int hd_lane_address(const hd_node_t *chain, uint32_t index, eth_address_t *out);

/* Private key and address of lane index of a private chain node. The caller
 * wipes priv. */
TXL_WUR int hd_lane_key(const hd_node_t *chain, uint32_t index, uint8_t priv[32],
                        eth_address_t *out);

/* Address of lane index from the account node (public) m/44'/60'/0': derives
 * /0/index. For many lanes derive the chain once (hd_lane_chain_from_account)
 * and call hd_lane_address. */
TXL_WUR int hd_lane_address_from_xpub(const hd_node_t *account_pub, uint32_t index,
                                      eth_address_t *out);

#endif
