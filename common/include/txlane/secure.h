/*
 * secure.h - wiping secrets from memory.
 *
 * secure_wipe() zeroes a buffer in a way the compiler may not elide (it uses
 * explicit_bzero), for private keys, seeds and their intermediate copies.
 * Thread-safe; no allocation.
 */
#ifndef TXLANE_SECURE_H
#define TXLANE_SECURE_H

#include <stddef.h>

/* Zeroes n bytes at p; p may be NULL when n is 0. */
void secure_wipe(void *p, size_t n);

#endif
