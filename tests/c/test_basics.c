/*
 * The ABI's ground rules: version, result codes and their text, the
 * thread-local last-error detail, `_free(NULL)`, NULL accessors, and a NULL
 * in every required pointer argument of every function answered by
 * SEALBOX_RESULT_NULL_PARAMETER with the outputs left untouched.
 *
 *   test_basics SCRATCH_DIR
 */
#include <pthread.h>
#include <stdbool.h>

#include "check.h"

/* The numbers are ABI: pinned here as in ffi/src/error.rs. */
_Static_assert(SEALBOX_RESULT_OK == 0, "pinned");
_Static_assert(SEALBOX_RESULT_PANIC == 1, "pinned");
_Static_assert(SEALBOX_RESULT_NULL_PARAMETER == 2, "pinned");
_Static_assert(SEALBOX_RESULT_INVALID_ARGUMENT == 3, "pinned");
_Static_assert(SEALBOX_RESULT_INVALID_STATE == 4, "pinned");
_Static_assert(SEALBOX_RESULT_DECRYPTION_FAILED == 5, "pinned");
_Static_assert(SEALBOX_RESULT_INVALID_KEY == 6, "pinned");
_Static_assert(SEALBOX_RESULT_COMMITMENT_POLICY_VIOLATION == 7, "pinned");
_Static_assert(SEALBOX_RESULT_TOO_MANY_ENCRYPTED_DATA_KEYS == 8, "pinned");
_Static_assert(SEALBOX_RESULT_MESSAGE_TOO_LARGE == 9, "pinned");
_Static_assert(SEALBOX_RESULT_ENCRYPT_FAILED == 10, "pinned");
_Static_assert(SEALBOX_RESULT_RNG_FAILURE == 11, "pinned");
_Static_assert(SEALBOX_RESULT_IO_ERROR == 12, "pinned");
_Static_assert(SEALBOX_RESULT_KEY_NOT_FOUND == 13, "pinned");
_Static_assert(SEALBOX_RESULT_KEY_DISABLED == 14, "pinned");
_Static_assert(SEALBOX_RESULT_INVALID_KEY_STATE == 15, "pinned");
_Static_assert(SEALBOX_RESULT_INVALID_KEY_USAGE == 16, "pinned");
_Static_assert(SEALBOX_RESULT_ALREADY_EXISTS == 17, "pinned");
_Static_assert(SEALBOX_RESULT_WRONG_ROOT_KEY == 18, "pinned");
_Static_assert(SEALBOX_RESULT_STORAGE_ERROR == 19, "pinned");
_Static_assert(SEALBOX_RESULT_AUDIT_ERROR == 20, "pinned");
_Static_assert(SEALBOX_RESULT_UNSUPPORTED == 21, "pinned");
_Static_assert(SEALBOX_RESULT_UNSUPPORTED_BY_HSM == 22, "pinned");
_Static_assert(SEALBOX_RESULT_PKCS11_ERROR == 23, "pinned");
/* 24 is retired (it was "unknown error"); never reused. */
_Static_assert(SEALBOX_RESULT_AUDIT_LOG_TAMPERED == 25, "pinned");
_Static_assert(SEALBOX_RESULT_STORE_UNAVAILABLE == 26, "pinned");
_Static_assert(SEALBOX_RESULT_ACCESS_DENIED == 27, "pinned");
_Static_assert(SEALBOX_RESULT_STORE_TAMPERED == 28, "pinned");
_Static_assert(sizeof(sealbox_result) == 4, "sealbox_result is 32 bits");

#define NULL_ARG(call) EXPECT(SEALBOX_RESULT_NULL_PARAMETER, call)
/* The NULL checks of a stream's steps (`kind` encryptor or decryptor; `h` a
 * live stream of that kind; `cmm`, `key32` and `buf` in scope). */
#define STREAM_NULL_ARGS(kind, h)                                          \
    do {                                                                   \
        NULL_ARG(sealbox_##kind##_new(NULL, NO_CTX, NULL, &h));            \
        NULL_ARG(sealbox_##kind##_new(cmm, NO_CTX, NULL, NULL));           \
        NULL_ARG(sealbox_##kind##_update(NULL, key32, 1, &buf));           \
        NULL_ARG(sealbox_##kind##_update(h, NULL, 1, &buf));               \
        NULL_ARG(sealbox_##kind##_update(h, key32, 1, NULL));              \
        NULL_ARG(sealbox_##kind##_finish(NULL, &buf));                     \
        NULL_ARG(sealbox_##kind##_finish(h, NULL));                        \
    } while (0)

static void test_version(void) {
    char built[64];
    snprintf(built, sizeof built, "%d.%d.%d", SEALBOX_VERSION_MAJOR, SEALBOX_VERSION_MINOR,
             SEALBOX_VERSION_PATCH);
    CHECK_STR(sealbox_version(), built);
    /* The provider the library was built with (the default build: aws-lc,
       not in FIPS mode); SEALBOX_EXPECT_PROVIDER names another. */
    {
        const char *want = getenv("SEALBOX_EXPECT_PROVIDER");
        CHECK_STR(sealbox_crypto_provider(), want ? want : "aws-lc");
        CHECK(sealbox_fips_mode() == (strstr(sealbox_crypto_provider(), "FIPS") != NULL));
    }
}

static void test_error_messages(void) {
    char buf[256];
    size_t n = 0;
    unsigned code;
    for (code = SEALBOX_RESULT_OK; code <= SEALBOX_RESULT_STORE_TAMPERED; code++) {
        OK(sealbox_error_message(code, buf, sizeof buf, &n));
        CHECK(n > 0 && n == strlen(buf));
        /* Every number but the retired 24 has its own text. */
        CHECK((code == 24) == (strstr(buf, "unknown sealbox_result code") != NULL));
    }
    OK(sealbox_error_message(SEALBOX_RESULT_DECRYPTION_FAILED, buf, sizeof buf, &n));
    CHECK_STR(buf, "decryption failed");
    /* snprintf semantics: cut to len - 1 bytes, full length reported. */
    OK(sealbox_error_message(SEALBOX_RESULT_DECRYPTION_FAILED, buf, 5, &n));
    CHECK_STR(buf, "decr");
    CHECK(n == strlen("decryption failed"));
    /* Length query. */
    n = 0;
    OK(sealbox_error_message(SEALBOX_RESULT_OK, NULL, 0, &n));
    CHECK(n == strlen("success"));
    /* A code that does not exist still gets text. */
    OK(sealbox_error_message(9999, buf, sizeof buf, &n));
    CHECK(strstr(buf, "unknown") != NULL);
    NULL_ARG(sealbox_error_message(SEALBOX_RESULT_OK, buf, sizeof buf, NULL));
    NULL_ARG(sealbox_error_message(SEALBOX_RESULT_OK, NULL, 10, &n));
}

static void *other_thread_detail(void *arg) {
    char buf[256] = "x";
    size_t n = 99;
    (void)arg;
    /* A fresh thread has no failure yet: empty detail. */
    if (sealbox_last_error_detail(buf, sizeof buf, &n) != SEALBOX_RESULT_OK || n != 0 || buf[0] != 0)
        return (void *)1;
    /* Its own failure does not touch the main thread's detail. */
    if (sealbox_keystore_enable_key(NULL, "k") != SEALBOX_RESULT_NULL_PARAMETER) return (void *)1;
    return NULL;
}

static void test_last_error_detail(void) {
    const sealbox_keyring *kr = SENTINEL;
    pthread_t t;
    void *res = SENTINEL;
    char buf[256];
    size_t n = 0;
    NULL_ARG(sealbox_raw_aes_keyring_new(NULL, "name", (const uint8_t *)"k", 1, &kr));
    CHECK_DETAIL("key_namespace");
    CHECK(pthread_create(&t, NULL, other_thread_detail, NULL) == 0);
    CHECK(pthread_join(t, &res) == 0);
    CHECK(res == NULL);
    CHECK_DETAIL("key_namespace");
    /* A successful call leaves it alone; a new failure replaces it. */
    OK(sealbox_error_message(0, buf, sizeof buf, &n));
    CHECK_DETAIL("key_namespace");
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_raw_aes_keyring_new("ns", "name", (const uint8_t *)"short", 5, &kr));
    CHECK(kr == SENTINEL);
    CHECK_DETAIL("key");
    /* Cut like snprintf. */
    OK(sealbox_last_error_detail(buf, 4, &n));
    CHECK(strlen(buf) == 3 && n > 3);
    NULL_ARG(sealbox_last_error_detail(buf, sizeof buf, NULL));
    NULL_ARG(sealbox_last_error_detail(NULL, 1, &n));
}

static void test_free_null(void) {
    sealbox_buffer_free(NULL);
    sealbox_string_map_free(NULL);
    sealbox_root_key_free(NULL);
    sealbox_pkcs11_config_free(NULL);
    sealbox_keystore_options_free(NULL);
    sealbox_keystore_free(NULL);
    sealbox_create_key_request_free(NULL);
    sealbox_key_metadata_free(NULL);
    sealbox_key_list_free(NULL);
    sealbox_keyring_free(NULL);
    sealbox_cmm_free(NULL);
    sealbox_encrypt_options_free(NULL);
    sealbox_decrypt_options_free(NULL);
    sealbox_encryptor_free(NULL);
    sealbox_decryptor_free(NULL);
    CHECK(1);
}

static void test_null_accessors(void) {
    CHECK(sealbox_string_map_len(NULL) == 0);
    CHECK(sealbox_keystore_backend_kind(NULL) == NULL);
    CHECK(sealbox_keystore_operation_count(NULL, "Encrypt") == 0);
    CHECK(sealbox_key_metadata_key_id(NULL) == NULL);
    CHECK(sealbox_key_metadata_description(NULL) == NULL);
    CHECK(sealbox_key_metadata_key_spec(NULL) == NULL);
    CHECK(sealbox_key_metadata_key_usage(NULL) == NULL);
    CHECK(sealbox_key_metadata_origin(NULL) == NULL);
    CHECK(sealbox_key_metadata_key_state(NULL) == NULL);
    CHECK(sealbox_key_metadata_backend(NULL) == NULL);
    CHECK(sealbox_key_metadata_deletion_date(NULL) == 0);
    CHECK(sealbox_key_metadata_created_at(NULL) == 0);
    CHECK(sealbox_key_metadata_primary_version(NULL) == 0);
    CHECK(sealbox_key_metadata_version_count(NULL) == 0);
    CHECK(sealbox_key_metadata_rotation_period_days(NULL) == 0);
    CHECK(sealbox_key_metadata_next_rotation_at(NULL) == 0);
    CHECK(sealbox_key_metadata_alias_count(NULL) == 0);
    CHECK(sealbox_key_metadata_alias(NULL, 0) == NULL);
    CHECK(sealbox_key_metadata_tags(NULL) == NULL);
    CHECK(sealbox_key_list_len(NULL) == 0);
    CHECK(sealbox_key_list_get(NULL, 0) == NULL);
    CHECK(sealbox_key_list_next_marker(NULL) == NULL);
}

/* Every fallible function, with each required pointer NULL in turn. */
static void test_null_parameters(void) {
    static const uint8_t key32[32] = {1};
    sealbox_root_key *rk = NULL;
    sealbox_keystore_options *ko = NULL;
    sealbox_pkcs11_config *pc = NULL;
    sealbox_create_key_request *req = NULL;
    sealbox_encrypt_options *eo = NULL;
    sealbox_decrypt_options *dopt = NULL;
    const sealbox_keystore *ks = NULL;
    const sealbox_keyring *kr = NULL;
    const sealbox_cmm *cmm = NULL;
    sealbox_key_metadata *md = NULL;
    sealbox_encryptor *enc = NULL;
    sealbox_decryptor *dec = NULL;
    sealbox_buffer *buf = SENTINEL, *buf2 = SENTINEL;
    sealbox_string_map *map = SENTINEL, *ec = NULL;
    sealbox_key_list *list = SENTINEL;
    const char *kid;
    const char *names[1] = {NULL};
    const uint8_t *kp = SENTINEL, *vp = SENTINEL;
    size_t kl = 7, vl = 7, count = 7;
    uint64_t u64 = 7, u64b = 7;
    int64_t i64 = 7;
    uint32_t u32 = 7;
    bool valid = true;

    /* Handles to aim at, so that the output argument is the only NULL. */
    OK(sealbox_root_key_from_bytes(key32, sizeof key32, &rk));
    OK(sealbox_keystore_options_new(&ko));
    OK(sealbox_keystore_options_set_audit_log(ko, scratch("nulls.audit.jsonl")));
    OK(sealbox_keystore_open(scratch("nulls.db"), rk, ko, &ks));
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    kid = sealbox_key_metadata_key_id(md);
    OK(sealbox_raw_aes_keyring_new("ns", "name", key32, sizeof key32, &kr));
    OK(sealbox_default_cmm_new(kr, &cmm));
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_encrypt_options_new(&eo));
    OK(sealbox_decrypt_options_new(&dopt));
    OK(sealbox_pkcs11_config_new("/nonexistent/module.so", (const uint8_t *)"1234", 4, &pc));
    OK(sealbox_encryptor_new(cmm, NO_CTX, NULL, &enc));
    OK(sealbox_decryptor_new(cmm, NO_CTX, NULL, &dec));

    /* string map */
    NULL_ARG(sealbox_string_map_new(NULL));
    OK(sealbox_string_map_new(&ec));
    NULL_ARG(sealbox_string_map_insert(NULL, key32, 1, key32, 1));
    NULL_ARG(sealbox_string_map_insert(ec, NULL, 1, key32, 1));
    NULL_ARG(sealbox_string_map_insert(ec, key32, 1, NULL, 1));
    CHECK(sealbox_string_map_len(ec) == 0);
    NULL_ARG(sealbox_string_map_get(NULL, 0, &kp, &kl, &vp, &vl));
    OK(sealbox_keystore_list_aliases(ks, &map));
    NULL_ARG(sealbox_string_map_get(map, 0, NULL, &kl, &vp, &vl));
    NULL_ARG(sealbox_string_map_get(map, 0, &kp, NULL, &vp, &vl));
    NULL_ARG(sealbox_string_map_get(map, 0, &kp, &kl, NULL, &vl));
    NULL_ARG(sealbox_string_map_get(map, 0, &kp, &kl, &vp, NULL));
    CHECK(kp == SENTINEL && vp == SENTINEL && kl == 7 && vl == 7);
    sealbox_string_map_free(map);
    map = SENTINEL;

    /* root key */
    NULL_ARG(sealbox_root_key_from_bytes(NULL, 32, &rk));
    NULL_ARG(sealbox_root_key_from_bytes(key32, 32, NULL));
    NULL_ARG(sealbox_root_key_from_file(NULL, &rk));
    NULL_ARG(sealbox_root_key_from_file("x", NULL));
    NULL_ARG(sealbox_root_key_from_env(NULL, &rk));
    NULL_ARG(sealbox_root_key_from_env("X", NULL));
    NULL_ARG(sealbox_root_key_generate(NULL));
    NULL_ARG(sealbox_root_key_write_new_file(NULL, "x"));
    NULL_ARG(sealbox_root_key_write_new_file(rk, NULL));

    /* PKCS#11 configuration */
    NULL_ARG(sealbox_pkcs11_config_new(NULL, (const uint8_t *)"1", 1, &pc));
    NULL_ARG(sealbox_pkcs11_config_new("m", NULL, 1, &pc));
    NULL_ARG(sealbox_pkcs11_config_new("m", (const uint8_t *)"1", 1, NULL));
    NULL_ARG(sealbox_pkcs11_config_set_token_label(NULL, "l"));
    NULL_ARG(sealbox_pkcs11_config_set_token_label(pc, NULL));
    NULL_ARG(sealbox_pkcs11_config_set_token_serial(NULL, "s"));
    NULL_ARG(sealbox_pkcs11_config_set_token_serial(pc, NULL));
    NULL_ARG(sealbox_pkcs11_config_set_max_sessions(NULL, 1));

    /* key store options */
    NULL_ARG(sealbox_keystore_options_new(NULL));
    NULL_ARG(sealbox_keystore_options_set_audit_log(NULL, "x"));
    NULL_ARG(sealbox_keystore_options_set_audit_log(ko, NULL));
    NULL_ARG(sealbox_keystore_options_set_audit_sync(NULL, true));
    NULL_ARG(sealbox_keystore_options_set_principal(NULL, "p"));
    NULL_ARG(sealbox_keystore_options_set_principal(ko, NULL));

    /* open */
    NULL_ARG(sealbox_keystore_open(NULL, rk, NULL, &ks));
    NULL_ARG(sealbox_keystore_open("x", NULL, NULL, &ks));
    NULL_ARG(sealbox_keystore_open("x", rk, NULL, NULL));
    NULL_ARG(sealbox_keystore_open_pkcs11(NULL, pc, NULL, &ks));
    NULL_ARG(sealbox_keystore_open_pkcs11("x", NULL, NULL, &ks));
    NULL_ARG(sealbox_keystore_open_pkcs11("x", pc, NULL, NULL));
    NULL_ARG(sealbox_keystore_add_audit_callback(NULL, NULL, NULL));
    NULL_ARG(sealbox_keystore_add_audit_callback(ks, NULL, NULL));

    /* create-key request */
    NULL_ARG(sealbox_create_key_request_new(NULL));
    NULL_ARG(sealbox_create_key_request_set_key_spec(NULL, "AES_256"));
    NULL_ARG(sealbox_create_key_request_set_key_spec(req, NULL));
    NULL_ARG(sealbox_create_key_request_set_key_usage(NULL, "ENCRYPT_DECRYPT"));
    NULL_ARG(sealbox_create_key_request_set_key_usage(req, NULL));
    NULL_ARG(sealbox_create_key_request_set_alias(NULL, "alias/a"));
    NULL_ARG(sealbox_create_key_request_set_alias(req, NULL));
    NULL_ARG(sealbox_create_key_request_set_description(NULL, "d"));
    NULL_ARG(sealbox_create_key_request_set_description(req, NULL));
    NULL_ARG(sealbox_create_key_request_set_tag(NULL, "k", "v"));
    NULL_ARG(sealbox_create_key_request_set_tag(req, NULL, "v"));
    NULL_ARG(sealbox_create_key_request_set_tag(req, "k", NULL));
    NULL_ARG(sealbox_create_key_request_set_rotation_period_days(NULL, 30));

    /* lifecycle */
    NULL_ARG(sealbox_keystore_create_key(NULL, NULL, &md));
    NULL_ARG(sealbox_keystore_create_key(ks, NULL, NULL));
    NULL_ARG(sealbox_keystore_import_key(NULL, NULL, key32, 32, &md));
    NULL_ARG(sealbox_keystore_import_key(ks, NULL, NULL, 32, &md));
    NULL_ARG(sealbox_keystore_import_key(ks, NULL, key32, 32, NULL));
    NULL_ARG(sealbox_keystore_describe_key(NULL, kid, &md));
    NULL_ARG(sealbox_keystore_describe_key(ks, NULL, &md));
    NULL_ARG(sealbox_keystore_describe_key(ks, kid, NULL));
    NULL_ARG(sealbox_keystore_list_keys(NULL, 10, NULL, &list));
    NULL_ARG(sealbox_keystore_list_keys(ks, 10, NULL, NULL));
    CHECK(list == SENTINEL);
    NULL_ARG(sealbox_keystore_enable_key(NULL, kid));
    NULL_ARG(sealbox_keystore_enable_key(ks, NULL));
    NULL_ARG(sealbox_keystore_disable_key(NULL, kid));
    NULL_ARG(sealbox_keystore_disable_key(ks, NULL));
    NULL_ARG(sealbox_keystore_schedule_key_deletion(NULL, kid, 7, &i64));
    NULL_ARG(sealbox_keystore_schedule_key_deletion(ks, NULL, 7, &i64));
    CHECK(i64 == 7);
    NULL_ARG(sealbox_keystore_cancel_key_deletion(NULL, kid));
    NULL_ARG(sealbox_keystore_cancel_key_deletion(ks, NULL));
    NULL_ARG(sealbox_keystore_rotate_key(NULL, kid, &u32));
    NULL_ARG(sealbox_keystore_rotate_key(ks, NULL, &u32));
    CHECK(u32 == 7);
    NULL_ARG(sealbox_keystore_enable_key_rotation(NULL, kid, 30));
    NULL_ARG(sealbox_keystore_enable_key_rotation(ks, NULL, 30));
    NULL_ARG(sealbox_keystore_disable_key_rotation(NULL, kid));
    NULL_ARG(sealbox_keystore_disable_key_rotation(ks, NULL));
    NULL_ARG(sealbox_keystore_apply_due_rotations(NULL, &count));
    NULL_ARG(sealbox_keystore_purge_expired_keys(NULL, &count));
    CHECK(count == 7);
    NULL_ARG(sealbox_keystore_update_key_description(NULL, kid, "d"));
    NULL_ARG(sealbox_keystore_update_key_description(ks, NULL, "d"));
    NULL_ARG(sealbox_keystore_update_key_description(ks, kid, NULL));

    /* aliases and tags */
    NULL_ARG(sealbox_keystore_create_alias(NULL, "alias/a", kid));
    NULL_ARG(sealbox_keystore_create_alias(ks, NULL, kid));
    NULL_ARG(sealbox_keystore_create_alias(ks, "alias/a", NULL));
    NULL_ARG(sealbox_keystore_update_alias(NULL, "alias/a", kid));
    NULL_ARG(sealbox_keystore_update_alias(ks, NULL, kid));
    NULL_ARG(sealbox_keystore_update_alias(ks, "alias/a", NULL));
    NULL_ARG(sealbox_keystore_delete_alias(NULL, "alias/a"));
    NULL_ARG(sealbox_keystore_delete_alias(ks, NULL));
    NULL_ARG(sealbox_keystore_list_aliases(NULL, &map));
    NULL_ARG(sealbox_keystore_list_aliases(ks, NULL));
    CHECK(map == SENTINEL);
    NULL_ARG(sealbox_keystore_tag_key(NULL, kid, names, names, 0));
    NULL_ARG(sealbox_keystore_tag_key(ks, NULL, names, names, 0));
    NULL_ARG(sealbox_keystore_tag_key(ks, kid, NULL, names, 1));
    NULL_ARG(sealbox_keystore_tag_key(ks, kid, names, names, 1)); /* entry is NULL */
    NULL_ARG(sealbox_keystore_untag_key(NULL, kid, names, 0));
    NULL_ARG(sealbox_keystore_untag_key(ks, NULL, names, 0));
    NULL_ARG(sealbox_keystore_untag_key(ks, kid, NULL, 1));

    /* operations */
    NULL_ARG(sealbox_keystore_encrypt(NULL, kid, key32, 1, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_encrypt(ks, NULL, key32, 1, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_encrypt(ks, kid, NULL, 1, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_encrypt(ks, kid, key32, 1, NO_CTX, NULL));
    NULL_ARG(sealbox_keystore_decrypt(NULL, key32, 1, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_decrypt(ks, NULL, 1, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_decrypt(ks, key32, 1, NO_CTX, NULL));
    NULL_ARG(sealbox_keystore_re_encrypt(NULL, key32, 1, NO_CTX, kid, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_re_encrypt(ks, NULL, 1, NO_CTX, kid, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_re_encrypt(ks, key32, 1, NO_CTX, NULL, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_re_encrypt(ks, key32, 1, NO_CTX, kid, NO_CTX, NULL));
    NULL_ARG(sealbox_keystore_generate_data_key(NULL, kid, 32, NO_CTX, &buf, &buf2));
    NULL_ARG(sealbox_keystore_generate_data_key(ks, NULL, 32, NO_CTX, &buf, &buf2));
    NULL_ARG(sealbox_keystore_generate_data_key(ks, kid, 32, NO_CTX, NULL, &buf2));
    NULL_ARG(sealbox_keystore_generate_data_key(ks, kid, 32, NO_CTX, &buf, NULL));
    NULL_ARG(sealbox_keystore_generate_data_key_without_plaintext(NULL, kid, 32, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_generate_data_key_without_plaintext(ks, NULL, 32, NO_CTX, &buf));
    NULL_ARG(sealbox_keystore_generate_data_key_without_plaintext(ks, kid, 32, NO_CTX, NULL));
    NULL_ARG(sealbox_keystore_sign(NULL, kid, key32, 1, "ECDSA_SHA_256", NULL, &buf));
    NULL_ARG(sealbox_keystore_sign(ks, NULL, key32, 1, "ECDSA_SHA_256", NULL, &buf));
    NULL_ARG(sealbox_keystore_sign(ks, kid, NULL, 1, "ECDSA_SHA_256", NULL, &buf));
    NULL_ARG(sealbox_keystore_sign(ks, kid, key32, 1, NULL, NULL, &buf));
    NULL_ARG(sealbox_keystore_sign(ks, kid, key32, 1, "ECDSA_SHA_256", NULL, NULL));
    NULL_ARG(sealbox_keystore_verify(NULL, kid, key32, 1, key32, 1, "ECDSA_SHA_256", NULL, &valid));
    NULL_ARG(sealbox_keystore_verify(ks, NULL, key32, 1, key32, 1, "ECDSA_SHA_256", NULL, &valid));
    NULL_ARG(sealbox_keystore_verify(ks, kid, NULL, 1, key32, 1, "ECDSA_SHA_256", NULL, &valid));
    NULL_ARG(sealbox_keystore_verify(ks, kid, key32, 1, NULL, 1, "ECDSA_SHA_256", NULL, &valid));
    NULL_ARG(sealbox_keystore_verify(ks, kid, key32, 1, key32, 1, NULL, NULL, &valid));
    NULL_ARG(sealbox_keystore_verify(ks, kid, key32, 1, key32, 1, "ECDSA_SHA_256", NULL, NULL));
    CHECK(valid == true);
    NULL_ARG(sealbox_keystore_get_public_key(NULL, kid, &buf));
    NULL_ARG(sealbox_keystore_get_public_key(ks, NULL, &buf));
    NULL_ARG(sealbox_keystore_get_public_key(ks, kid, NULL));
    NULL_ARG(sealbox_keystore_get_public_key_pem(NULL, kid, &buf));
    NULL_ARG(sealbox_keystore_get_public_key_pem(ks, NULL, &buf));
    NULL_ARG(sealbox_keystore_get_public_key_pem(ks, kid, NULL));
    NULL_ARG(sealbox_keystore_encrypt_rsa(NULL, kid, key32, 1, "RSAES_OAEP_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_encrypt_rsa(ks, NULL, key32, 1, "RSAES_OAEP_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_encrypt_rsa(ks, kid, NULL, 1, "RSAES_OAEP_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_encrypt_rsa(ks, kid, key32, 1, NULL, &buf));
    NULL_ARG(sealbox_keystore_encrypt_rsa(ks, kid, key32, 1, "RSAES_OAEP_SHA_256", NULL));
    NULL_ARG(sealbox_keystore_decrypt_rsa(NULL, kid, key32, 1, "RSAES_OAEP_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_decrypt_rsa(ks, NULL, key32, 1, "RSAES_OAEP_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_decrypt_rsa(ks, kid, NULL, 1, "RSAES_OAEP_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_decrypt_rsa(ks, kid, key32, 1, NULL, &buf));
    NULL_ARG(sealbox_keystore_decrypt_rsa(ks, kid, key32, 1, "RSAES_OAEP_SHA_256", NULL));
    NULL_ARG(sealbox_keystore_generate_mac(NULL, kid, key32, 1, "HMAC_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_generate_mac(ks, NULL, key32, 1, "HMAC_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_generate_mac(ks, kid, NULL, 1, "HMAC_SHA_256", &buf));
    NULL_ARG(sealbox_keystore_generate_mac(ks, kid, key32, 1, NULL, &buf));
    NULL_ARG(sealbox_keystore_generate_mac(ks, kid, key32, 1, "HMAC_SHA_256", NULL));
    NULL_ARG(sealbox_keystore_verify_mac(NULL, kid, key32, 1, key32, 1, "HMAC_SHA_256", &valid));
    NULL_ARG(sealbox_keystore_verify_mac(ks, NULL, key32, 1, key32, 1, "HMAC_SHA_256", &valid));
    NULL_ARG(sealbox_keystore_verify_mac(ks, kid, NULL, 1, key32, 1, "HMAC_SHA_256", &valid));
    NULL_ARG(sealbox_keystore_verify_mac(ks, kid, key32, 1, NULL, 1, "HMAC_SHA_256", &valid));
    NULL_ARG(sealbox_keystore_verify_mac(ks, kid, key32, 1, key32, 1, NULL, &valid));
    NULL_ARG(sealbox_keystore_verify_mac(ks, kid, key32, 1, key32, 1, "HMAC_SHA_256", NULL));
    NULL_ARG(sealbox_keystore_generate_random(NULL, 16, &buf));
    NULL_ARG(sealbox_keystore_generate_random(ks, 16, NULL));
    NULL_ARG(sealbox_keystore_verify_audit_log(NULL, &u64, &u64b, NULL));
    NULL_ARG(sealbox_keystore_verify_audit_log(ks, NULL, &u64b, NULL));
    NULL_ARG(sealbox_keystore_verify_audit_log(ks, &u64, NULL, NULL));
    CHECK(buf == SENTINEL && buf2 == SENTINEL && u64 == 7 && u64b == 7);

    /* metadata */
    NULL_ARG(sealbox_key_metadata_version(NULL, 0, &u32, &i64));
    NULL_ARG(sealbox_key_metadata_version(md, 0, NULL, &i64));
    NULL_ARG(sealbox_key_metadata_version(md, 0, &u32, NULL));
    NULL_ARG(sealbox_key_metadata_to_json(NULL, &buf));
    NULL_ARG(sealbox_key_metadata_to_json(md, NULL));

    /* keyrings and CMMs */
    NULL_ARG(sealbox_raw_aes_keyring_new(NULL, "n", key32, 32, &kr));
    NULL_ARG(sealbox_raw_aes_keyring_new("ns", NULL, key32, 32, &kr));
    NULL_ARG(sealbox_raw_aes_keyring_new("ns", "n", NULL, 32, &kr));
    NULL_ARG(sealbox_raw_aes_keyring_new("ns", "n", key32, 32, NULL));
    NULL_ARG(sealbox_raw_rsa_keyring_new(NULL, "n", "PKCS1", key32, 1, NULL, 0, &kr));
    NULL_ARG(sealbox_raw_rsa_keyring_new("ns", NULL, "PKCS1", key32, 1, NULL, 0, &kr));
    NULL_ARG(sealbox_raw_rsa_keyring_new("ns", "n", NULL, key32, 1, NULL, 0, &kr));
    NULL_ARG(sealbox_raw_rsa_keyring_new("ns", "n", "PKCS1", NULL, 1, NULL, 0, &kr));
    NULL_ARG(sealbox_raw_rsa_keyring_new("ns", "n", "PKCS1", NULL, 0, NULL, 1, &kr));
    NULL_ARG(sealbox_keystore_keyring_new(NULL, kid, &kr));
    NULL_ARG(sealbox_keystore_keyring_new(ks, NULL, &kr));
    NULL_ARG(sealbox_keystore_keyring_new(ks, kid, NULL));
    NULL_ARG(sealbox_multi_keyring_new(kr, NULL, 1, &kr));
    NULL_ARG(sealbox_multi_keyring_new(kr, NULL, 0, NULL));
    NULL_ARG(sealbox_default_cmm_new(NULL, &cmm));
    NULL_ARG(sealbox_default_cmm_new(kr, NULL));
    NULL_ARG(sealbox_caching_cmm_new(NULL, 60.0, 0, 0, 0, NULL, &cmm));
    NULL_ARG(sealbox_caching_cmm_new(cmm, 60.0, 0, 0, 0, NULL, NULL));
    NULL_ARG(sealbox_cmm_cache_stats(NULL, &u64, &u64b));
    NULL_ARG(sealbox_cmm_cache_stats(cmm, NULL, &u64b));
    NULL_ARG(sealbox_cmm_cache_stats(cmm, &u64, NULL));
    NULL_ARG(sealbox_cmm_cache_clear(NULL));

    /* options */
    NULL_ARG(sealbox_encrypt_options_new(NULL));
    NULL_ARG(sealbox_encrypt_options_set_algorithm_suite(NULL, 0x0478));
    NULL_ARG(sealbox_encrypt_options_set_frame_length(NULL, 4096));
    NULL_ARG(sealbox_encrypt_options_set_commitment_policy(NULL, "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"));
    NULL_ARG(sealbox_encrypt_options_set_commitment_policy(eo, NULL));
    NULL_ARG(sealbox_encrypt_options_set_max_encrypted_data_keys(NULL, 3));
    NULL_ARG(sealbox_encrypt_options_add_required_encryption_context_key(NULL, key32, 1));
    NULL_ARG(sealbox_encrypt_options_add_required_encryption_context_key(eo, NULL, 1));
    NULL_ARG(sealbox_encrypt_options_set_plaintext_length(NULL, 1));
    NULL_ARG(sealbox_decrypt_options_new(NULL));
    NULL_ARG(sealbox_decrypt_options_set_commitment_policy(NULL, "REQUIRE_ENCRYPT_ALLOW_DECRYPT"));
    NULL_ARG(sealbox_decrypt_options_set_commitment_policy(dopt, NULL));
    NULL_ARG(sealbox_decrypt_options_set_max_encrypted_data_keys(NULL, 3));
    NULL_ARG(sealbox_decrypt_options_set_max_body_size(NULL, 3));

    /* messages */
    NULL_ARG(sealbox_encrypt(NULL, key32, 1, NO_CTX, NULL, &buf));
    NULL_ARG(sealbox_encrypt(cmm, NULL, 1, NO_CTX, NULL, &buf));
    NULL_ARG(sealbox_encrypt(cmm, key32, 1, NO_CTX, NULL, NULL));
    NULL_ARG(sealbox_decrypt(NULL, key32, 1, NO_CTX, NULL, &buf, NULL));
    NULL_ARG(sealbox_decrypt(cmm, NULL, 1, NO_CTX, NULL, &buf, NULL));
    NULL_ARG(sealbox_decrypt(cmm, key32, 1, NO_CTX, NULL, NULL, NULL));
    STREAM_NULL_ARGS(encryptor, enc);
    STREAM_NULL_ARGS(decryptor, dec);
    NULL_ARG(sealbox_decryptor_encryption_context(NULL, &map));
    NULL_ARG(sealbox_decryptor_encryption_context(dec, NULL));
    CHECK(buf == SENTINEL && map == SENTINEL);

    /* The NULL checks changed nothing: the handles still work. */
    OK(sealbox_encryptor_update(enc, key32, sizeof key32, &buf));
    sealbox_buffer_free(buf);
    OK(sealbox_encryptor_finish(enc, &buf));
    sealbox_buffer_free(buf);

    sealbox_decryptor_free(dec);
    sealbox_encryptor_free(enc);
    sealbox_pkcs11_config_free(pc);
    sealbox_decrypt_options_free(dopt);
    sealbox_encrypt_options_free(eo);
    sealbox_create_key_request_free(req);
    sealbox_cmm_free(cmm);
    sealbox_keyring_free(kr);
    sealbox_key_metadata_free(md);
    sealbox_keystore_free(ks);
    sealbox_keystore_options_free(ko);
    sealbox_root_key_free(rk);
    sealbox_string_map_free(ec);
}

int main(int argc, char **argv) {
    static const test_fn tests[] = {test_version,   test_error_messages, test_last_error_detail,
                                    test_free_null, test_null_accessors, test_null_parameters,
                                    NULL};
    return run_tests("test_basics", argc, argv, tests);
}
