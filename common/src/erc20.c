/*
 * erc20.c - ERC-20 transfer call data (see erc20.h).
 */
#include "txlane/erc20.h"

#include <string.h>

const uint8_t erc20_transfer_selector[4] = {0xa9, 0x05, 0x9c, 0xbb};

void erc20_transfer_encode(const eth_address_t *to, const uint256_t *amount,
                           uint8_t out[ERC20_TRANSFER_LEN]) {
    memcpy(out, erc20_transfer_selector, 4);
    memset(out + 4, 0, 12);
    memcpy(out + 16, to->b, 20);
    uint256_to_be32(amount, out + 36);
}

int erc20_transfer_decode(const uint8_t *data, size_t len, eth_address_t *to,
                          uint256_t *amount) {
    static const uint8_t zeros[12] = {0};
    if (len != ERC20_TRANSFER_LEN || memcmp(data, erc20_transfer_selector, 4) != 0 ||
        memcmp(data + 4, zeros, 12) != 0)
        return TXL_EINVAL;
    memcpy(to->b, data + 16, 20);
    uint256_from_be32(data + 36, amount);
    return 0;
}
