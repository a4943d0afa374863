/*
 * fuzz_address.c - libFuzzer target for the address parser. An accepted
 * address formats to its EIP-55 form, which parses back to the same bytes;
 * an accepted mixed-case input must be exactly that EIP-55 form.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64)
        return 0;
    char s[65];
    memcpy(s, data, size);
    s[size] = '\0';
    eth_address_t a, b;
    if (address_parse(s, &a) != 0)
        return 0;
    char out[43];
    address_format(&a, out);
    if (address_parse(out, &b) != 0 || !address_equal(&a, &b))
        abort();
    int lower = 0, upper = 0;
    for (size_t i = 2; s[i] != '\0'; i++) {
        lower |= islower((unsigned char)s[i]) != 0;
        upper |= isupper((unsigned char)s[i]) != 0;
    }
    if (lower && upper && strcmp(out, s) != 0)
        abort();
    return 0;
}
