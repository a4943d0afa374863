/*
 * err.c - names for the project's error codes (see err.h).
 */
#include "txlane/err.h"

const char *txl_strerror(int code) {
    switch (code) {
    case TXL_OK: return "success";
    case TXL_EINVAL: return "invalid input";
    case TXL_ERANGE: return "value out of range";
    case TXL_ECHECKSUM: return "checksum mismatch";
    case TXL_ENOSPACE: return "buffer too small";
    case TXL_ECRYPTO: return "cryptographic failure";
    case TXL_EIO: return "i/o failure";
    case TXL_EDB: return "database error";
    case TXL_EKAFKA: return "kafka error";
    case TXL_ERPC: return "node rpc error";
    case TXL_ENOTFOUND: return "not found";
    case TXL_EFENCED: return "fenced by another owner";
    case TXL_ECONFIG: return "invalid configuration";
    case TXL_ETIMEOUT: return "timed out";
    default: return "unknown error";
    }
}
