/*
 * test_erc20.c - unit tests of erc20.h: transfer call data against
 * tests/vectors/erc20.txt (cross-checked ABI encodings) and strict decoding.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/erc20.h"
#include "unit_test.h"

START_TEST(test_vectors) {
    FILE *f = vec_open("erc20.txt");
    char line[512], to_s[64], amount_s[96], data_hex[160];
    int count = 0;
    while (vec_line(f, line, sizeof(line))) {
        if (line[0] == '\0')
            continue;
        ck_assert_int_eq(sscanf(line, "%63s %95s %159s", to_s, amount_s, data_hex), 3);
        eth_address_t to, to2;
        uint256_t amount, amount2;
        uint8_t want[ERC20_TRANSFER_LEN], got[ERC20_TRANSFER_LEN];
        ck_assert_int_eq(address_parse(to_s, &to), 0);
        ck_assert_int_eq(uint256_parse(amount_s, &amount), 0);
        ck_assert_uint_eq(vec_hex(data_hex, want, sizeof(want)), ERC20_TRANSFER_LEN);
        erc20_transfer_encode(&to, &amount, got);
        ck_assert_mem_eq(got, want, ERC20_TRANSFER_LEN);
        ck_assert_int_eq(erc20_transfer_decode(got, sizeof(got), &to2, &amount2), 0);
        ck_assert(address_equal(&to, &to2));
        ck_assert_int_eq(uint256_cmp(&amount, &amount2), 0);
        count++;
    }
    fclose(f);
    ck_assert_int_ge(count, 3);
}
END_TEST

START_TEST(test_decode_invalid) {
    eth_address_t to;
    uint256_t amount;
    uint8_t data[ERC20_TRANSFER_LEN + 1];
    memset(&to, 0, sizeof(to));
    uint256_from_u64(5, &amount);
    erc20_transfer_encode(&to, &amount, data);
    ck_assert_int_eq(erc20_transfer_decode(data, ERC20_TRANSFER_LEN - 1, &to, &amount),
                     TXL_EINVAL);
    ck_assert_int_eq(erc20_transfer_decode(data, ERC20_TRANSFER_LEN + 1, &to, &amount),
                     TXL_EINVAL);
    data[4 + 11] = 1; /* dirty high bytes of the address word */
    ck_assert_int_eq(erc20_transfer_decode(data, ERC20_TRANSFER_LEN, &to, &amount), TXL_EINVAL);
    data[4 + 11] = 0;
    data[0] = 0x23; /* approve's selector is 095ea7b3; any other is rejected */
    ck_assert_int_eq(erc20_transfer_decode(data, ERC20_TRANSFER_LEN, &to, &amount), TXL_EINVAL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("erc20");
    TCase *tc = tcase_create("erc20");
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_decode_invalid);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
