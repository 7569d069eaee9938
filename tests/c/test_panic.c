/*
 * A panic inside the library becomes SEALBOX_RESULT_PANIC, with the panic
 * message as the last error detail, instead of unwinding into C (undefined
 * behaviour) or aborting the process; the library keeps working after it,
 * on this thread and on others.
 *
 *   test_panic
 */
#include <pthread.h>

#include "check.h"

static void *panic_on_a_thread(void *arg) {
    (void)arg;
    return sealbox_test_panic() == SEALBOX_RESULT_PANIC ? NULL : (void *)1;
}

static void still_works(void) {
    static const uint8_t key[32] = {3};
    const sealbox_keyring *kr = NULL;
    const sealbox_cmm *cmm = NULL;
    sealbox_buffer *msg = NULL, *pt = NULL;
    OK(sealbox_raw_aes_keyring_new("ns", "k", key, sizeof key, &kr));
    OK(sealbox_default_cmm_new(kr, &cmm));
    OK(sealbox_encrypt(cmm, (const uint8_t *)"after the panic", 15, NO_CTX, NULL, &msg));
    OK(sealbox_decrypt(cmm, msg->data, msg->len, NO_CTX, NULL, &pt, NULL));
    CHECK_BYTES(pt->data, pt->len, "after the panic", (size_t)15);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(msg);
    sealbox_cmm_free(cmm);
    sealbox_keyring_free(kr);
}

int main(void) {
    char text[128];
    size_t n = 0;
    pthread_t t;
    void *res = SENTINEL;
    int i;

    EXPECT(SEALBOX_RESULT_PANIC, sealbox_test_panic());
    CHECK_DETAIL("panic inside sealbox: sealbox_test_panic was called");
    OK(sealbox_error_message(SEALBOX_RESULT_PANIC, text, sizeof text, &n));
    CHECK(strstr(text, "panicked") != NULL);
    still_works();
    /* Again, and from another thread. */
    for (i = 0; i < 3; i++) EXPECT(SEALBOX_RESULT_PANIC, sealbox_test_panic());
    CHECK(pthread_create(&t, NULL, panic_on_a_thread, NULL) == 0);
    CHECK(pthread_join(t, &res) == 0);
    CHECK(res == NULL);
    still_works();
    return finish("test_panic");
}
