/*
 * erc20.h - ERC-20 call data.
 *
 * transfer(address,uint256): selector a9059cbb followed by the address and
 * the amount as two 32-byte ABI words (68 bytes). No allocation; thread-safe.
 */
#ifndef TXLANE_ERC20_H
#define TXLANE_ERC20_H

#include <stddef.h>
#include <stdint.h>

#include "txlane/address.h"
#include "txlane/err.h"
#include "txlane/uint256.h"

#define ERC20_TRANSFER_LEN 68

extern const uint8_t erc20_transfer_selector[4];

/* Writes the call data of transfer(to, amount) to out. */
void erc20_transfer_encode(const eth_address_t *to, const uint256_t *amount,
                           uint8_t out[ERC20_TRANSFER_LEN]);

/* Parses transfer(to, amount) call data: exactly 68 bytes, the selector and
 * an address word whose 12 high bytes are zero. TXL_EINVAL otherwise. */
TXL_WUR int erc20_transfer_decode(const uint8_t *data, size_t len, eth_address_t *to,
                                  uint256_t *amount);

#endif
