/*
 * keyring.c - lane private keys in locked memory (see keyring.h).
 *
 * Layout: one anonymous mapping of lanes * 32 bytes (rounded up to pages)
 * for the keys, mlock'ed and marked MADV_DONTDUMP; addresses in an ordinary
 * array (they are public) with an open-addressing index keyed by the first
 * eight bytes of the address (already uniformly distributed: they come from
 * keccak). Key derivation goes through a chain node m/44'/60'/0'/0 that is
 * wiped right after the last lane, like every per-lane copy.
 */
#include "txlane/keyring.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "txlane/bip39.h"
#include "txlane/hd.h"
#include "txlane/secure.h"
#include "txlane/xmalloc.h"

#define KEYRING_EMPTY UINT32_MAX

struct keyring {
    uint32_t lanes;
    uint8_t *keys; /* lanes * 32 bytes in a private mapping */
    size_t keys_size;
    int locked;
    eth_address_t *addrs;
    uint32_t *index; /* lane numbers, KEYRING_EMPTY for a free slot */
    size_t index_mask;
};

static uint64_t keyring_slot_hash(const eth_address_t *a) {
    uint64_t h;
    memcpy(&h, a->b, sizeof(h));
    return h;
}

static void keyring_index_add(keyring_t *kr, uint32_t lane) {
    size_t i = (size_t)keyring_slot_hash(&kr->addrs[lane]) & kr->index_mask;
    while (kr->index[i] != KEYRING_EMPTY)
        i = (i + 1) & kr->index_mask;
    kr->index[i] = lane;
}

int keyring_lane_of(const keyring_t *kr, const eth_address_t *addr, uint32_t *lane) {
    size_t i = (size_t)keyring_slot_hash(addr) & kr->index_mask;
    while (kr->index[i] != KEYRING_EMPTY) {
        if (address_equal(&kr->addrs[kr->index[i]], addr)) {
            *lane = kr->index[i];
            return 0;
        }
        i = (i + 1) & kr->index_mask;
    }
    return TXL_ENOTFOUND;
}

/* The empty keyring with its buffers for lanes keys; NULL if the mapping
 * fails. */
static keyring_t *keyring_alloc(uint32_t lanes) {
    keyring_t *kr = xcalloc(1, sizeof(*kr));
    long page = sysconf(_SC_PAGESIZE);
    size_t psz = page > 0 ? (size_t)page : 4096;
    kr->keys_size = ((size_t)lanes * 32 + psz - 1) / psz * psz;
    void *p = mmap(NULL, kr->keys_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                   0);
    if (p == MAP_FAILED) {
        free(kr);
        return NULL;
    }
    kr->keys = p;
    kr->locked = mlock(kr->keys, kr->keys_size) == 0;
#ifdef MADV_DONTDUMP
    (void)madvise(kr->keys, kr->keys_size, MADV_DONTDUMP);
#endif
    kr->lanes = lanes;
    kr->addrs = xcalloc(lanes, sizeof(*kr->addrs));
    size_t slots = 16;
    while (slots < (size_t)lanes * 2)
        slots *= 2;
    kr->index = xmalloc(slots * sizeof(*kr->index));
    memset(kr->index, 0xff, slots * sizeof(*kr->index));
    kr->index_mask = slots - 1;
    return kr;
}

void keyring_free(keyring_t *kr) {
    if (kr == NULL)
        return;
    if (kr->keys != NULL) {
        secure_wipe(kr->keys, kr->keys_size);
        if (kr->locked)
            munlock(kr->keys, kr->keys_size);
        munmap(kr->keys, kr->keys_size);
    }
    free(kr->addrs);
    free(kr->index);
    free(kr);
}

int keyring_from_seed(const uint8_t *seed, size_t seed_len, uint32_t lanes, keyring_t **out,
                      char *errstr, size_t errstr_size) {
    hd_node_t chain;
    keyring_t *kr = NULL;
    int rc;
    *out = NULL;
    if (lanes < 1 || lanes > KEYRING_LANES_MAX) {
        snprintf(errstr, errstr_size, "lane count %u is not between 1 and %u", lanes,
                 KEYRING_LANES_MAX);
        return TXL_ERANGE;
    }
    rc = hd_lane_chain_from_seed(seed, seed_len, &chain);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "could not derive the lane chain %s from the seed: %s",
                 HD_LANE_CHAIN_PATH, txl_strerror(rc));
        goto cleanup;
    }
    kr = keyring_alloc(lanes);
    if (kr == NULL) {
        snprintf(errstr, errstr_size, "could not map memory for %u lane keys", lanes);
        rc = TXL_EIO;
        goto cleanup;
    }
    for (uint32_t i = 0; i < lanes; i++) {
        /* written straight into the locked buffer: no copy to wipe */
        rc = hd_lane_key(&chain, i, kr->keys + (size_t)i * 32, &kr->addrs[i]);
        if (rc != 0) {
            snprintf(errstr, errstr_size, "could not derive lane %u: %s", i, txl_strerror(rc));
            goto cleanup;
        }
        keyring_index_add(kr, i);
    }
    *out = kr;
    kr = NULL;
cleanup:
    hd_node_wipe(&chain);
    keyring_free(kr);
    return rc;
}

int keyring_load(const char *mnemonic_path, const char *passphrase_path, uint32_t lanes,
                 keyring_t **out, char *errstr, size_t errstr_size) {
    uint8_t seed[BIP39_SEED_LEN];
    *out = NULL;
    int rc = bip39_seed_from_files(mnemonic_path, passphrase_path, 1, seed, NULL, errstr,
                                   errstr_size);
    if (rc == 0)
        rc = keyring_from_seed(seed, sizeof(seed), lanes, out, errstr, errstr_size);
    secure_wipe(seed, sizeof(seed));
    return rc;
}

uint32_t keyring_lanes(const keyring_t *kr) {
    return kr->lanes;
}

int keyring_locked(const keyring_t *kr) {
    return kr->locked;
}

const eth_address_t *keyring_address(const keyring_t *kr, uint32_t lane) {
    assert(lane < kr->lanes);
    return &kr->addrs[lane];
}

int keyring_sign(const keyring_t *kr, uint32_t lane, const tx_t *tx, uint8_t *raw, size_t cap,
                 size_t *raw_len, uint8_t tx_hash[32]) {
    if (lane >= kr->lanes)
        return TXL_ERANGE;
    return tx_sign(tx, kr->keys + (size_t)lane * 32, raw, cap, raw_len, tx_hash);
}
