/*
 * keyring.h - the private keys of lanes 0..n-1 of one HD wallet, held in
 * memory the signer can sign with but never hands out.
 *
 *   keyring_t *kr;
 *   if (keyring_load(mnemonic_path, passphrase_path, 64, &kr, errstr, sizeof errstr) != 0) ...
 *   uint32_t lane;
 *   if (keyring_lane_of(kr, &from, &lane) == 0) keyring_sign(kr, lane, &tx, raw, cap, ...);
 *   keyring_free(kr);                              // wipes every key
 *
 * Every lane key is derived once (m/44'/60'/0'/0/i, hd.h); the seed and the
 * intermediate nodes are wiped as soon as the keys exist. The keys live in
 * one page-aligned buffer that is locked in RAM when the system allows it
 * (mlock: never swapped) and left out of core dumps (MADV_DONTDUMP); it is
 * wiped and unlocked by keyring_free. Addresses are indexed by a hash table
 * for keyring_lane_of. Nothing here logs.
 *
 * A keyring is read-only after loading: any number of threads may sign with
 * it at once.
 */
#ifndef TXLANE_KEYRING_H
#define TXLANE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/err.h"
#include "txlane/tx.h"

#define KEYRING_LANES_MAX 100000u

typedef struct keyring keyring_t;

/*
 * Derives lanes 0..lanes-1 (1..KEYRING_LANES_MAX, else TXL_ERANGE) from a
 * BIP-32 seed of HD_SEED_MIN..HD_SEED_MAX bytes. The caller still wipes its
 * seed. Returns 0 and *out (free with keyring_free), or an error with a
 * one-line reason in errstr (TXL_ECRYPTO if a lane index is an invalid
 * BIP-32 child, which has probability below 2^-127).
 */
TXL_WUR int keyring_from_seed(const uint8_t *seed, size_t seed_len, uint32_t lanes,
                              keyring_t **out, char *errstr, size_t errstr_size);

/*
 * Reads the BIP-39 mnemonic at mnemonic_path and the optional passphrase
 * file (NULL for none) with bip39_seed_from_files(require_private): a
 * mnemonic file that group or others may access is refused (TXL_ECONFIG)
 * before it is parsed. Then keyring_from_seed. The seed is wiped here.
 */
TXL_WUR int keyring_load(const char *mnemonic_path, const char *passphrase_path, uint32_t lanes,
                         keyring_t **out, char *errstr, size_t errstr_size);

uint32_t keyring_lanes(const keyring_t *kr);

/* 1 if the key buffer is locked in RAM (mlock succeeded), else 0. */
int keyring_locked(const keyring_t *kr);

/* Address of lane (< keyring_lanes, asserted). */
const eth_address_t *keyring_address(const keyring_t *kr, uint32_t lane);

/* The lane whose address is addr: 0 and *lane, or TXL_ENOTFOUND. */
TXL_WUR int keyring_lane_of(const keyring_t *kr, const eth_address_t *addr, uint32_t *lane);

/* Signs tx with lane's key (tx_sign: raw capacity tx_raw_cap(tx) suffices).
 * TXL_ERANGE if lane is not in the keyring; else the errors of tx_sign. */
TXL_WUR int keyring_sign(const keyring_t *kr, uint32_t lane, const tx_t *tx, uint8_t *raw,
                         size_t cap, size_t *raw_len, uint8_t tx_hash[32]);

/* Wipes every key, unlocks and frees. Accepts NULL. */
void keyring_free(keyring_t *kr);

#endif
