/*
 * secure.c - wiping secrets from memory (see secure.h).
 */
#include "txlane/secure.h"

#include <string.h>

void secure_wipe(void *p, size_t n) {
    if (n > 0)
        explicit_bzero(p, n);
}
