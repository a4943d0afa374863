/*
 * test_secp.c - unit tests of secp.h and secure.h: one shared context,
 * created once even under concurrent first use, and buffer wiping.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "txlane/secp.h"
#include "txlane/secure.h"
#include "unit_test.h"

static void *secp_thread(void *arg) {
    *(const secp256k1_context **)arg = secp_context();
    return NULL;
}

START_TEST(test_context_once) {
    pthread_t th[8];
    const secp256k1_context *got[8];
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, secp_thread, &got[i]), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_ptr_eq(got[i], secp_context());
    ck_assert_ptr_nonnull(secp_context());
}
END_TEST

START_TEST(test_context_signs) {
    uint8_t key[32], msg[32];
    memset(key, 0x11, sizeof(key));
    memset(msg, 0x22, sizeof(msg));
    secp256k1_ecdsa_signature sig;
    secp256k1_pubkey pk;
    ck_assert(secp256k1_ecdsa_sign(secp_context(), &sig, msg, key, NULL, NULL));
    ck_assert(secp256k1_ec_pubkey_create(secp_context(), &pk, key));
    ck_assert(secp256k1_ecdsa_verify(secp_context(), &sig, msg, &pk));
    secure_wipe(key, sizeof(key));
}
END_TEST

START_TEST(test_wipe) {
    uint8_t buf[40];
    memset(buf, 0xff, sizeof(buf));
    secure_wipe(buf + 4, 32);
    for (int i = 0; i < 40; i++)
        ck_assert_uint_eq(buf[i], (i >= 4 && i < 36) ? 0 : 0xff);
    secure_wipe(NULL, 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("secp");
    TCase *tc = tcase_create("secp");
    tcase_add_test(tc, test_context_once);
    tcase_add_test(tc, test_context_signs);
    tcase_add_test(tc, test_wipe);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
