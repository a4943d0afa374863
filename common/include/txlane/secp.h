/*
 * secp.h - the process-wide libsecp256k1 context.
 *
 * One context is created on first use (pthread_once), randomized with 32
 * bytes from getrandom() against side channels, and kept for the life of the
 * process. It is safe to use from any number of threads at once because
 * txlane never mutates it after creation. Never destroyed; never NULL.
 */
#ifndef TXLANE_SECP_H
#define TXLANE_SECP_H

#include <secp256k1.h>

/* Returns the shared context, creating it on the first call; aborts if the
 * context cannot be created or randomized (no entropy is not recoverable). */
const secp256k1_context *secp_context(void);

#endif
