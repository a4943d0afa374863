/*
 * address.c - Ethereum addresses (see address.h).
 *
 * An address is the last 20 bytes of keccak256 over the 64-byte public key
 * X||Y. EIP-55 writes hex digit i in upper case when nibble i of
 * keccak256(lower-case hex without "0x") is >= 8; parsing accepts the
 * unchecked all-lower / all-upper forms and otherwise demands that exact case.
 */
#include "txlane/address.h"

#include <string.h>

#include "txlane/hex.h"
#include "txlane/keccak.h"
#include "txlane/secp.h"

void address_from_pubkey64(const uint8_t pub[64], eth_address_t *out) {
    uint8_t h[32];
    keccak256(pub, 64, h);
    memcpy(out->b, h + 12, 20);
}

int address_from_pubkey(const secp256k1_pubkey *pk, eth_address_t *out) {
    uint8_t ser[65];
    size_t len = sizeof(ser);
    if (!secp256k1_ec_pubkey_serialize(secp_context(), ser, &len, pk, SECP256K1_EC_UNCOMPRESSED) ||
        len != 65)
        return TXL_ECRYPTO;
    address_from_pubkey64(ser + 1, out);
    return 0;
}

/* Writes the EIP-55 form of the 40 lower-case hex digits in hex40 into out40. */
static void address_checksum_apply(const char hex40[40], char out40[40]) {
    uint8_t h[32];
    keccak256((const uint8_t *)hex40, 40, h);
    for (int i = 0; i < 40; i++) {
        int nibble = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 0x0f;
        char c = hex40[i];
        out40[i] = (c >= 'a' && nibble >= 8) ? (char)(c - 'a' + 'A') : c;
    }
}

void address_format(const eth_address_t *a, char out[43]) {
    char lower[41];
    hex_encode(a->b, 20, lower);
    out[0] = '0';
    out[1] = 'x';
    address_checksum_apply(lower, out + 2);
    out[42] = '\0';
}

int address_parse(const char *s, eth_address_t *out) {
    if (s[0] != '0' || s[1] != 'x')
        return TXL_EINVAL;
    const char *digits = s + 2;
    if (strnlen(digits, 41) != 40)
        return TXL_EINVAL;
    int has_lower = 0, has_upper = 0;
    char lower[41];
    for (int i = 0; i < 40; i++) {
        char c = digits[i];
        if (hex_digit_value(c) < 0)
            return TXL_EINVAL;
        if (c >= 'a' && c <= 'f')
            has_lower = 1;
        else if (c >= 'A' && c <= 'F') {
            has_upper = 1;
            c = (char)(c - 'A' + 'a');
        }
        lower[i] = c;
    }
    lower[40] = '\0';
    if (has_lower && has_upper) {
        char expect[40];
        address_checksum_apply(lower, expect);
        if (memcmp(expect, digits, 40) != 0)
            return TXL_ECHECKSUM;
    }
    eth_address_t a;
    size_t n;
    if (hex_decode(lower, 40, a.b, sizeof(a.b), &n) != 0 || n != 20)
        return TXL_EINVAL;
    *out = a;
    return 0;
}

int address_equal(const eth_address_t *a, const eth_address_t *b) {
    return memcmp(a->b, b->b, 20) == 0;
}
