/*
 * secp.c - the one libsecp256k1 context of the process (see secp.h).
 *
 * Created under pthread_once on first use and randomized (blinding of the
 * signing and key-generation multiplications) with fresh getrandom() bytes.
 * After creation the context is only read, which libsecp256k1 allows from
 * many threads concurrently.
 */
#include "txlane/secp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "txlane/secure.h"

static pthread_once_t secp_once = PTHREAD_ONCE_INIT;
static secp256k1_context *secp_ctx;

static void secp_die(const char *msg) {
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"%s\"}\n", msg);
    abort();
}

static void secp_context_create(void) {
    unsigned char seed[32];
    size_t got = 0;
    while (got < sizeof(seed)) {
        ssize_t n = getrandom(seed + got, sizeof(seed) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            secp_die("could not read random bytes for the secp256k1 context");
        }
        got += (size_t)n;
    }
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == NULL)
        secp_die("could not create the secp256k1 context");
    if (!secp256k1_context_randomize(ctx, seed))
        secp_die("could not randomize the secp256k1 context");
    secure_wipe(seed, sizeof(seed));
    secp_ctx = ctx;
}

const secp256k1_context *secp_context(void) {
    pthread_once(&secp_once, secp_context_create);
    return secp_ctx;
}
