/*
 * The key store on the PKCS#11 backend from C, against a SoftHSM2 token
 * that run.sh creates in a private directory (SOFTHSM2_CONF) and that is
 * found by its label. Pins what this HSM cannot do (RSA-OAEP with SHA-256)
 * as SEALBOX_RESULT_UNSUPPORTED_BY_HSM, a wrong PIN as
 * SEALBOX_RESULT_PKCS11_ERROR, an unknown module as an invalid argument.
 *
 *   test_pkcs11 SCRATCH_DIR MODULE TOKEN_LABEL USER_PIN
 */
#include <stdbool.h>

#include "check.h"

int main(int argc, char **argv) {
    const char *module, *label, *pin;
    sealbox_pkcs11_config *cfg = NULL, *bad = NULL;
    const sealbox_keystore *ks = SENTINEL;
    sealbox_keystore_options *o = NULL;
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *aes = NULL, *ec = NULL, *rsa = NULL;
    sealbox_buffer *ct = NULL, *pt = NULL, *sig = NULL, *msg = NULL;
    const sealbox_keyring *kr = NULL;
    const sealbox_cmm *cmm = NULL;
    context_t ctx = {0};
    bool valid = false;

    if (argc != 5) {
        fprintf(stderr, "usage: test_pkcs11 SCRATCH_DIR MODULE TOKEN_LABEL USER_PIN\n");
        return 2;
    }
    scratch_dir = argv[1];
    module = argv[2];
    label = argv[3];
    pin = argv[4];
    context_add(&ctx, "app", "hsm-test");

    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_audit_log(o, scratch("hsm.audit.jsonl")));

    /* What cannot open. */
    OK(sealbox_pkcs11_config_new("/nonexistent/libpkcs11.so", (const uint8_t *)pin, strlen(pin), &bad));
    OK(sealbox_pkcs11_config_set_token_label(bad, label));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_open_pkcs11(scratch("hsm-bad.db"), bad, o, &ks));
    sealbox_pkcs11_config_free(bad);
    OK(sealbox_pkcs11_config_new(module, (const uint8_t *)"0000", 4, &bad));
    OK(sealbox_pkcs11_config_set_token_label(bad, label));
    EXPECT(SEALBOX_RESULT_PKCS11_ERROR, sealbox_keystore_open_pkcs11(scratch("hsm-bad.db"), bad, o, &ks));
    CHECK_DETAIL("PIN");
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_pkcs11_config_set_max_sessions(bad, 0));
    sealbox_pkcs11_config_free(bad);
    OK(sealbox_pkcs11_config_new(module, (const uint8_t *)pin, strlen(pin), &bad));
    OK(sealbox_pkcs11_config_set_token_serial(bad, "no-such-serial"));
    CHECK(sealbox_keystore_open_pkcs11(scratch("hsm-bad.db"), bad, o, &ks) != SEALBOX_RESULT_OK);
    sealbox_pkcs11_config_free(bad);
    CHECK(ks == SENTINEL);

    OK(sealbox_pkcs11_config_new(module, (const uint8_t *)pin, strlen(pin), &cfg));
    OK(sealbox_pkcs11_config_set_token_label(cfg, label));
    OK(sealbox_pkcs11_config_set_max_sessions(cfg, 2));
    OK(sealbox_keystore_open_pkcs11(scratch("hsm.db"), cfg, o, &ks));
    sealbox_pkcs11_config_free(cfg); /* opening copied it */
    CHECK_STR(sealbox_keystore_backend_kind(ks), "pkcs11");

    /* AES in the token. */
    OK(sealbox_keystore_create_key(ks, NULL, &aes));
    CHECK_STR(sealbox_key_metadata_backend(aes), "pkcs11");
    OK(sealbox_keystore_encrypt(ks, sealbox_key_metadata_key_id(aes), (const uint8_t *)"in the HSM", 10, CTX(&ctx), &ct));
    OK(sealbox_keystore_decrypt(ks, ct->data, ct->len, CTX(&ctx), &pt));
    CHECK_BYTES(pt->data, pt->len, "in the HSM", (size_t)10);
    sealbox_buffer_free(pt);
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    CHECK(pt == SENTINEL);
    sealbox_buffer_free(ct);

    /* Envelope encryption with the HSM key. */
    OK(sealbox_keystore_keyring_new(ks, sealbox_key_metadata_key_id(aes), &kr));
    OK(sealbox_default_cmm_new(kr, &cmm));
    OK(sealbox_encrypt(cmm, (const uint8_t *)"file body", 9, CTX(&ctx), NULL, &msg));
    OK(sealbox_decrypt(cmm, msg->data, msg->len, CTX(&ctx), NULL, &pt, NULL));
    CHECK_BYTES(pt->data, pt->len, "file body", (size_t)9);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(msg);

    /* ECDSA P-256 in the token (CKM_ECDSA over a digest made in process). */
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_key_spec(req, "ECC_NIST_P256"));
    OK(sealbox_keystore_create_key(ks, req, &ec));
    OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec), (const uint8_t *)"m", 1, "ECDSA_SHA_256", NULL, &sig));
    OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(ec), (const uint8_t *)"m", 1, sig->data, sig->len,
                               "ECDSA_SHA_256", NULL, &valid));
    CHECK(valid);
    sealbox_buffer_free(sig);

    /* RSA in the token: OAEP with SHA-1 works, SHA-256 is not supported by
     * SoftHSM2 and says so. */
    OK(sealbox_create_key_request_set_key_spec(req, "RSA_2048"));
    OK(sealbox_create_key_request_set_key_usage(req, "ENCRYPT_DECRYPT"));
    OK(sealbox_keystore_create_key(ks, req, &rsa));
    OK(sealbox_keystore_encrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), (const uint8_t *)"k", 1, "RSAES_OAEP_SHA_1", &ct));
    OK(sealbox_keystore_decrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), ct->data, ct->len, "RSAES_OAEP_SHA_1", &pt));
    CHECK_BYTES(pt->data, pt->len, "k", (size_t)1);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(ct);
    OK(sealbox_keystore_encrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), (const uint8_t *)"k", 1, "RSAES_OAEP_SHA_256", &ct));
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_UNSUPPORTED_BY_HSM, sealbox_keystore_decrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), ct->data,
                                                                           ct->len, "RSAES_OAEP_SHA_256", &pt));
    CHECK(pt == SENTINEL);
    CHECK_DETAIL("not supported by this HSM");
    sealbox_buffer_free(ct);

    sealbox_create_key_request_free(req);
    sealbox_key_metadata_free(rsa);
    sealbox_key_metadata_free(ec);
    sealbox_cmm_free(cmm);
    sealbox_keyring_free(kr);
    sealbox_key_metadata_free(aes);
    sealbox_keystore_free(ks);
    sealbox_keystore_options_free(o);
    context_free(&ctx);
    return finish("test_pkcs11");
}
