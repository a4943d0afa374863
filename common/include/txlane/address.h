/*
 * address.h - Ethereum addresses: derivation from public keys, EIP-55
 * checksummed formatting and strict parsing. No allocation; thread-safe.
 */
#ifndef TXLANE_ADDRESS_H
#define TXLANE_ADDRESS_H

#include <secp256k1.h>
#include <stdint.h>

#include "txlane/err.h"

#define ADDRESS_STR_LEN 42 /* "0x" + 40 hex, without the NUL */

typedef struct {
    uint8_t b[20];
} eth_address_t;

/* Address of the uncompressed public key X||Y (64 bytes, no 0x04 prefix):
 * the last 20 bytes of keccak256(X||Y). */
void address_from_pubkey64(const uint8_t pub[64], eth_address_t *out);

/* Address of a parsed secp256k1 public key. Returns 0 or TXL_ECRYPTO. */
TXL_WUR int address_from_pubkey(const secp256k1_pubkey *pk, eth_address_t *out);

/* Writes "0x" + 40 hex digits in EIP-55 mixed case, NUL-terminated. */
void address_format(const eth_address_t *a, char out[43]);

/* Parses "0x" + 40 hex digits. All-lower and all-upper digits are accepted
 * unchecked; mixed case must match EIP-55 (else TXL_ECHECKSUM). Wrong length,
 * missing prefix or a non-hex digit: TXL_EINVAL. out is untouched on error. */
TXL_WUR int address_parse(const char *s, eth_address_t *out);

/* 1 if both addresses are equal, else 0. */
int address_equal(const eth_address_t *a, const eth_address_t *b);

#endif
