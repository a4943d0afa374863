/*
 * fuzz_uint256.c - libFuzzer target for the uint256 parsers. Accepted input
 * must format back to the same number (decimal: the digits without leading
 * zeros; hex: re-parse equal), and the checked arithmetic must agree with
 * itself (a + b - b == a, ceil percent bounds).
 */
#include <stdlib.h>
#include <string.h>

#include "txlane/uint256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    uint256_t v, back, sum, diff;
    if (uint256_parse_n(s, size, &v) != 0)
        return 0;
    char dec[UINT256_DEC_BUF], hex[UINT256_HEX_BUF];
    uint256_format_dec(&v, dec);
    uint256_format_hex(&v, hex);
    if (uint256_parse(dec, &back) != 0 || uint256_cmp(&v, &back) != 0)
        abort();
    if (uint256_parse(hex, &back) != 0 || uint256_cmp(&v, &back) != 0)
        abort();
    if (!(size >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
        size_t z = 0;
        while (z + 1 < size && s[z] == '0')
            z++;
        if (strlen(dec) != size - z || memcmp(dec, s + z, size - z) != 0)
            abort();
    }
    /* v + v - v == v when it does not overflow */
    if (uint256_add(&v, &v, &sum) == 0 &&
        (uint256_sub(&sum, &v, &diff) != 0 || uint256_cmp(&diff, &v) != 0))
        abort();
    /* ceil(v * 120 / 100) >= v, and ceil(v * 100 / 100) == v */
    if (uint256_mul_percent_ceil(&v, 120, &sum) == 0 && uint256_cmp(&sum, &v) < 0)
        abort();
    if (uint256_mul_percent_ceil(&v, 100, &sum) != 0 || uint256_cmp(&sum, &v) != 0)
        abort();
    return 0;
}
