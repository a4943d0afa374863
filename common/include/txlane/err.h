/*
 * err.h - the project's error codes.
 *
 * Functions return int: 0 on success, a negative TXL_E* code on failure.
 * Predicates return 1/0. txl_strerror() names a code for messages.
 * Caller bugs (NULL where forbidden, broken invariants) assert instead.
 */
#ifndef TXLANE_ERR_H
#define TXLANE_ERR_H

#define TXL_WUR __attribute__((warn_unused_result))

enum txl_err {
    TXL_OK = 0,
    TXL_EINVAL = -1,    /* malformed input: bad syntax, junk, wrong length */
    TXL_ERANGE = -2,    /* value out of range (overflow, >= 2^256, index too large) */
    TXL_ECHECKSUM = -3, /* checksum mismatch (EIP-55, base58check, BIP-39) */
    TXL_ENOSPACE = -4,  /* output buffer too small */
    TXL_ECRYPTO = -5,   /* cryptographic failure (invalid key, signing failed) */
    TXL_EIO = -6,       /* I/O or transport failure (files, sockets, HTTP) */
    TXL_EDB = -7,       /* PostgreSQL error */
    TXL_EKAFKA = -8,    /* Kafka error */
    TXL_ERPC = -9,      /* JSON-RPC error answer from the node */
    TXL_ENOTFOUND = -10,
    TXL_EFENCED = -11,  /* another instance owns the resource now */
    TXL_ECONFIG = -12,  /* invalid configuration */
    TXL_ETIMEOUT = -13,
};

/* Returns a static, lower-case description of code. Never NULL. */
const char *txl_strerror(int code);

#endif
