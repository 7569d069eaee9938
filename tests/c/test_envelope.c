/*
 * The envelope layer from C: keyrings (raw AES, raw RSA with OpenSSL-made
 * keys, multi), the default and caching CMMs, one-shot and streaming
 * encrypt/decrypt, options; tampered and truncated messages, wrong and
 * missing encryption-context pairs, bad text, zero lengths and contexts
 * used in the wrong state, each answered by its code.
 *
 *   test_envelope SCRATCH_DIR   (SCRATCH_DIR holds rsa_private.pem and
 *                                rsa_public.pem, made by openssl)
 */
#include <math.h>
#include <stdbool.h>

#include "check.h"

static const uint8_t aes_key[32] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const char plaintext[] = "4111 1111 1111 1111, exp 12/29";
#define PT ((const uint8_t *)plaintext)
#define PT_LEN (sizeof plaintext - 1)

static const sealbox_cmm *aes_cmm(void) {
    const sealbox_keyring *kr = NULL;
    const sealbox_cmm *cmm = NULL;
    OK(sealbox_raw_aes_keyring_new("payments", "2026-key", aes_key, sizeof aes_key, &kr));
    OK(sealbox_default_cmm_new(kr, &cmm));
    sealbox_keyring_free(kr); /* the CMM keeps it alive */
    return cmm;
}

/* Decrypts `msg` and checks the plaintext; returns the result code. */
static sealbox_result decrypt_is(const sealbox_cmm *cmm, const sealbox_buffer *msg, const context_t *expect,
                                 const uint8_t *want, size_t want_len) {
    sealbox_buffer *pt = SENTINEL;
    sealbox_result rc = sealbox_decrypt(cmm, msg->data, msg->len, CTX(expect), NULL, &pt, NULL);
    if (rc == SEALBOX_RESULT_OK) {
        CHECK_BYTES(pt->data, pt->len, want, want_len);
        sealbox_buffer_free(pt);
    } else {
        CHECK(pt == SENTINEL); /* outputs are written only on success */
    }
    return rc;
}

static void test_one_shot(void) {
    const sealbox_cmm *cmm = aes_cmm();
    context_t ec = {0}, wrong = {0}, partial = {0}, extra = {0}, none = {0};
    sealbox_buffer *msg = NULL, *empty = NULL, *pt = NULL;
    sealbox_string_map *out_ec = NULL;
    uint8_t *copy;
    size_t i;

    context_add(&ec, "purpose", "test");
    context_add(&ec, "order", "1234");
    context_add(&wrong, "purpose", "test");
    context_add(&wrong, "order", "1235");
    context_add(&partial, "order", "1234");
    context_add(&extra, "purpose", "test");
    context_add(&extra, "order", "1234");
    context_add(&extra, "tenant", "acme");

    OK(sealbox_encrypt(cmm, PT, PT_LEN, CTX(&ec), NULL, &msg));
    CHECK(msg->len > PT_LEN && msg->data[msg->len] == 0);
    /* Version 2 message, suite 0x0478. */
    CHECK(msg->data[0] == 0x02 && msg->data[1] == 0x04 && msg->data[2] == 0x78);

    /* The message's context comes back, sorted by key. */
    OK(sealbox_decrypt(cmm, msg->data, msg->len, NO_CTX, NULL, &pt, &out_ec));
    CHECK_BYTES(pt->data, pt->len, PT, PT_LEN);
    CHECK(sealbox_string_map_len(out_ec) == 2);
    CHECK_MAP_ENTRY(out_ec, 0, "order", "1234");
    CHECK_MAP_ENTRY(out_ec, 1, "purpose", "test");
    {
        const uint8_t *k = SENTINEL, *v = SENTINEL;
        size_t kl = 0, vl = 0;
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_string_map_get(out_ec, 2, &k, &kl, &v, &vl));
        CHECK(k == SENTINEL && v == SENTINEL);
    }
    sealbox_string_map_free(out_ec);
    sealbox_buffer_free(pt);

    /* Expected context: exact, a subset, wrong value, an extra pair. */
    OK(decrypt_is(cmm, msg, &ec, PT, PT_LEN));
    OK(decrypt_is(cmm, msg, &partial, PT, PT_LEN));
    OK(decrypt_is(cmm, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(cmm, msg, &wrong, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(cmm, msg, &extra, PT, PT_LEN));
    CHECK_DETAIL("decryption failed");

    /* Any flipped byte (header, body, tag) and any truncation fail alike. */
    copy = malloc(msg->len);
    CHECK(copy != NULL);
    for (i = 0; i < msg->len; i += 7) {
        sealbox_buffer view;
        memcpy(copy, msg->data, msg->len);
        copy[i] ^= 0x01;
        view.data = copy;
        view.len = msg->len;
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(cmm, &view, &none, PT, PT_LEN));
    }
    for (i = 0; i < msg->len; i += 13) {
        sealbox_buffer view;
        view.data = msg->data;
        view.len = i;
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(cmm, &view, &none, PT, PT_LEN));
    }
    {
        /* Trailing bytes after the message. */
        uint8_t *longer = malloc(msg->len + 1);
        sealbox_buffer view;
        CHECK(longer != NULL);
        memcpy(longer, msg->data, msg->len);
        longer[msg->len] = 0;
        view.data = longer;
        view.len = msg->len + 1;
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(cmm, &view, &none, PT, PT_LEN));
        free(longer);
    }
    free(copy);

    /* Another wrapping key: the same opaque failure. */
    {
        const sealbox_keyring *other = NULL;
        const sealbox_cmm *other_cmm = NULL;
        uint8_t k2[32];
        memcpy(k2, aes_key, sizeof k2);
        k2[31] ^= 1;
        OK(sealbox_raw_aes_keyring_new("payments", "2026-key", k2, sizeof k2, &other));
        OK(sealbox_default_cmm_new(other, &other_cmm));
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(other_cmm, msg, &none, PT, PT_LEN));
        sealbox_cmm_free(other_cmm);
        sealbox_keyring_free(other);
        /* Same key, other name: not this keyring's data key. */
        OK(sealbox_raw_aes_keyring_new("payments", "other-name", aes_key, sizeof aes_key, &other));
        OK(sealbox_default_cmm_new(other, &other_cmm));
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(other_cmm, msg, &none, PT, PT_LEN));
        sealbox_cmm_free(other_cmm);
        sealbox_keyring_free(other);
    }

    /* Zero lengths: an empty plaintext is a valid message; an empty
     * message is not; NULL is fine with length 0. */
    OK(sealbox_encrypt(cmm, NULL, 0, NO_CTX, NULL, &empty));
    OK(decrypt_is(cmm, empty, &none, NULL, 0));
    {
        sealbox_buffer *p = SENTINEL;
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_decrypt(cmm, NULL, 0, NO_CTX, NULL, &p, NULL));
        CHECK(p == SENTINEL);
    }
    sealbox_buffer_free(empty);

    /* Lengths that cannot be real are refused before anything is read. */
    {
        sealbox_buffer *m = SENTINEL;
        context_t one = {0};
        context_add(&one, "k", "v");
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encrypt(cmm, PT, SIZE_MAX, NO_CTX, NULL, &m));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_string_map_insert(one.map, (const uint8_t *)"x", SIZE_MAX, (const uint8_t *)"v", 1));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_string_map_insert(one.map, (const uint8_t *)"x", 1, (const uint8_t *)"v", SIZE_MAX));
        CHECK(sealbox_string_map_len(one.map) == 1);
        CHECK(m == SENTINEL);
        context_free(&one);
    }

    /* Bad encryption contexts. */
    {
        context_t bad = {0}, dup = {0}, reserved = {0}, empty_key = {0};
        sealbox_buffer *m = SENTINEL;
        static const uint8_t not_utf8[] = {0xff, 0xfe};
        OK(sealbox_string_map_new(&bad.map));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_string_map_insert(bad.map, not_utf8, sizeof not_utf8, (const uint8_t *)"v", 1));
        CHECK_DETAIL("UTF-8");
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_string_map_insert(bad.map, (const uint8_t *)"k", 1, not_utf8, sizeof not_utf8));
        CHECK_DETAIL("UTF-8");
        CHECK(sealbox_string_map_len(bad.map) == 0);
        /* A key given twice is refused, and the first pair stays. */
        context_add(&dup, "a", "1");
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_string_map_insert(dup.map, (const uint8_t *)"a", 1, (const uint8_t *)"2", 1));
        CHECK_DETAIL("more than once");
        CHECK(sealbox_string_map_len(dup.map) == 1);
        CHECK_MAP_ENTRY(dup.map, 0, "a", "1");
        context_add(&reserved, "aws-crypto-public-key", "x");
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encrypt(cmm, PT, PT_LEN, CTX(&reserved), NULL, &m));
        /* A zero-length key with a NULL pointer is an empty string. */
        OK(sealbox_string_map_new(&empty_key.map));
        OK(sealbox_string_map_insert(empty_key.map, NULL, 0, (const uint8_t *)"v", 1));
        OK(sealbox_encrypt(cmm, PT, PT_LEN, CTX(&empty_key), NULL, &m));
        OK(decrypt_is(cmm, m, &empty_key, PT, PT_LEN));
        sealbox_buffer_free(m);
        context_free(&bad);
        context_free(&dup);
        context_free(&reserved);
        context_free(&empty_key);
    }

    sealbox_buffer_free(msg);
    sealbox_cmm_free(cmm);
    context_free(&ec);
    context_free(&wrong);
    context_free(&partial);
    context_free(&extra);
}

static void test_options(void) {
    const sealbox_cmm *cmm = aes_cmm();
    sealbox_encrypt_options *eo = NULL;
    sealbox_decrypt_options *dopt = NULL;
    sealbox_buffer *msg = NULL, *pt = SENTINEL;
    context_t ec = {0}, stored_only = {0};
    static uint8_t big[10000];

    OK(sealbox_encrypt_options_new(&eo));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encrypt_options_set_algorithm_suite(eo, 0x1234));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encrypt_options_set_frame_length(eo, 0));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encrypt_options_set_commitment_policy(eo, "LOOSE"));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encrypt_options_set_max_encrypted_data_keys(eo, 0));
    OK(sealbox_encrypt_options_set_algorithm_suite(eo, 0x0578));
    OK(sealbox_encrypt_options_set_frame_length(eo, 100));
    OK(sealbox_encrypt_options_set_max_encrypted_data_keys(eo, (size_t)-1));
    OK(sealbox_encrypt_options_set_commitment_policy(eo, "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"));

    /* Signed suite, 100-byte frames, a required (unstored) context key. */
    context_add(&ec, "tenant", "acme");
    context_add(&ec, "secret-scope", "payroll");
    context_add(&stored_only, "tenant", "acme");
    OK(sealbox_encrypt_options_add_required_encryption_context_key(eo, (const uint8_t *)"secret-scope", 12));
    OK(sealbox_encrypt(cmm, big, sizeof big, CTX(&ec), eo, &msg));
    CHECK(msg->data[1] == 0x05 && msg->data[2] == 0x78);
    OK(decrypt_is(cmm, msg, &ec, big, sizeof big));
    /* Without the required pair the message does not decrypt. */
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(cmm, msg, &stored_only, big, sizeof big));

    /* Decrypt limits. */
    OK(sealbox_decrypt_options_new(&dopt));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_decrypt_options_set_commitment_policy(dopt, "x"));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_decrypt_options_set_max_encrypted_data_keys(dopt, 0));
    OK(sealbox_decrypt_options_set_max_body_size(dopt, 1000));
    EXPECT(SEALBOX_RESULT_MESSAGE_TOO_LARGE,
           sealbox_decrypt(cmm, msg->data, msg->len, CTX(&ec), dopt, &pt, NULL));
    CHECK(pt == SENTINEL);
    OK(sealbox_decrypt_options_set_max_body_size(dopt, (uint64_t)-1));
    OK(sealbox_decrypt_options_set_max_encrypted_data_keys(dopt, (size_t)-1));
    OK(sealbox_decrypt_options_set_commitment_policy(dopt, "REQUIRE_ENCRYPT_ALLOW_DECRYPT"));
    OK(sealbox_decrypt(cmm, msg->data, msg->len, CTX(&ec), dopt, &pt, NULL));
    CHECK_BYTES(pt->data, pt->len, big, sizeof big);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(msg);
    sealbox_encrypt_options_free(eo);

    /* Version 1 suites: only under FORBID_ENCRYPT_ALLOW_DECRYPT, and only
     * readable when the decrypt policy allows them. */
    OK(sealbox_encrypt_options_new(&eo));
    OK(sealbox_encrypt_options_set_algorithm_suite(eo, 0x0178));
    EXPECT(SEALBOX_RESULT_COMMITMENT_POLICY_VIOLATION, sealbox_encrypt(cmm, PT, PT_LEN, NO_CTX, eo, &msg));
    OK(sealbox_encrypt_options_set_commitment_policy(eo, "FORBID_ENCRYPT_ALLOW_DECRYPT"));
    OK(sealbox_encrypt(cmm, PT, PT_LEN, NO_CTX, eo, &msg));
    CHECK(msg->data[0] == 0x01);
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_COMMITMENT_POLICY_VIOLATION,
           sealbox_decrypt(cmm, msg->data, msg->len, NO_CTX, NULL, &pt, NULL));
    CHECK(pt == SENTINEL);
    OK(sealbox_decrypt(cmm, msg->data, msg->len, NO_CTX, dopt, &pt, NULL));
    CHECK_BYTES(pt->data, pt->len, PT, PT_LEN);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(msg);
    sealbox_encrypt_options_free(eo);
    sealbox_decrypt_options_free(dopt);
    sealbox_cmm_free(cmm);
    context_free(&ec);
    context_free(&stored_only);
}

static void test_rsa_and_multi(void) {
    size_t priv_len = 0, pub_len = 0;
    uint8_t *priv = read_file(scratch("rsa_private.pem"), &priv_len);
    uint8_t *pub = read_file(scratch("rsa_public.pem"), &pub_len);
    const sealbox_keyring *rsa_pub = NULL, *rsa_priv = NULL, *rsa_pair = NULL, *aes = NULL, *multi = NULL,
                          *decrypt_only = NULL, *bad = SENTINEL;
    const sealbox_cmm *enc_cmm = NULL, *dec_cmm = NULL, *multi_cmm = NULL, *aes_only = NULL, *d_cmm = NULL;
    sealbox_buffer *msg = NULL, *msg2 = SENTINEL;
    sealbox_encrypt_options *eo = NULL;
    sealbox_decrypt_options *dopt = NULL;
    const sealbox_keyring *children[2];
    context_t none = {0};

    CHECK(priv != NULL && pub != NULL);
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_raw_rsa_keyring_new("ns", "rsa", "OAEP_MD5", pub, pub_len, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_raw_rsa_keyring_new("ns", "rsa", "PKCS1", NULL, 0, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY,
           sealbox_raw_rsa_keyring_new("ns", "rsa", "PKCS1", (const uint8_t *)"-----BEGIN nonsense", 19, NULL, 0, &bad));
    CHECK(bad == SENTINEL);

    /* Encrypt with the public key alone, decrypt with the private alone. */
    OK(sealbox_raw_rsa_keyring_new("ns", "rsa", "OAEP_SHA256_MGF1", pub, pub_len, NULL, 0, &rsa_pub));
    OK(sealbox_raw_rsa_keyring_new("ns", "rsa", "OAEP_SHA256_MGF1", NULL, 0, priv, priv_len, &rsa_priv));
    OK(sealbox_raw_rsa_keyring_new("ns", "rsa", "OAEP_SHA256_MGF1", pub, pub_len, priv, priv_len, &rsa_pair));
    OK(sealbox_default_cmm_new(rsa_pub, &enc_cmm));
    OK(sealbox_default_cmm_new(rsa_priv, &dec_cmm));
    OK(sealbox_encrypt(enc_cmm, PT, PT_LEN, NO_CTX, NULL, &msg));
    OK(decrypt_is(dec_cmm, msg, &none, PT, PT_LEN));
    /* A public key cannot decrypt. */
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(enc_cmm, msg, &none, PT, PT_LEN));
    sealbox_buffer_free(msg);

    /* Multi-keyring: AES generator + RSA child; either one decrypts. */
    OK(sealbox_raw_aes_keyring_new("payments", "2026-key", aes_key, sizeof aes_key, &aes));
    children[0] = rsa_pair;
    OK(sealbox_multi_keyring_new(aes, children, 1, &multi));
    OK(sealbox_default_cmm_new(multi, &multi_cmm));
    OK(sealbox_default_cmm_new(aes, &aes_only));
    OK(sealbox_encrypt(multi_cmm, PT, PT_LEN, NO_CTX, NULL, &msg));
    OK(decrypt_is(aes_only, msg, &none, PT, PT_LEN));
    OK(decrypt_is(dec_cmm, msg, &none, PT, PT_LEN));
    OK(decrypt_is(multi_cmm, msg, &none, PT, PT_LEN));

    /* Limits on encrypted data keys: 2 here. */
    OK(sealbox_encrypt_options_new(&eo));
    OK(sealbox_encrypt_options_set_max_encrypted_data_keys(eo, 1));
    EXPECT(SEALBOX_RESULT_TOO_MANY_ENCRYPTED_DATA_KEYS, sealbox_encrypt(multi_cmm, PT, PT_LEN, NO_CTX, eo, &msg2));
    CHECK(msg2 == SENTINEL);
    OK(sealbox_decrypt_options_new(&dopt));
    OK(sealbox_decrypt_options_set_max_encrypted_data_keys(dopt, 1));
    {
        sealbox_buffer *p = SENTINEL;
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED,
               sealbox_decrypt(aes_only, msg->data, msg->len, NO_CTX, dopt, &p, NULL));
        CHECK(p == SENTINEL);
    }

    /* Decrypt-only multi-keyring: no generator. */
    children[0] = rsa_priv;
    children[1] = aes;
    OK(sealbox_multi_keyring_new(NULL, children, 2, &decrypt_only));
    OK(sealbox_default_cmm_new(decrypt_only, &d_cmm));
    OK(decrypt_is(d_cmm, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_ENCRYPT_FAILED, sealbox_encrypt(d_cmm, PT, PT_LEN, NO_CTX, NULL, &msg2));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_multi_keyring_new(NULL, NULL, 0, &bad));
    children[1] = NULL;
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_multi_keyring_new(aes, children, 2, &bad));
    CHECK(bad == SENTINEL && msg2 == SENTINEL);

    sealbox_buffer_free(msg);
    sealbox_decrypt_options_free(dopt);
    sealbox_encrypt_options_free(eo);
    sealbox_cmm_free(d_cmm);
    sealbox_cmm_free(aes_only);
    sealbox_cmm_free(multi_cmm);
    sealbox_cmm_free(dec_cmm);
    sealbox_cmm_free(enc_cmm);
    sealbox_keyring_free(decrypt_only);
    sealbox_keyring_free(multi);
    sealbox_keyring_free(aes);
    sealbox_keyring_free(rsa_pair);
    sealbox_keyring_free(rsa_priv);
    sealbox_keyring_free(rsa_pub);
    free(priv);
    free(pub);
}

static void test_caching(void) {
    const sealbox_cmm *base = aes_cmm(), *cache = SENTINEL, *other = NULL;
    uint64_t hits = 7, misses = 7;
    int i;
    context_t none = {0};

    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_caching_cmm_new(base, 0.0, 0, 0, 0, NULL, &cache));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_caching_cmm_new(base, -1.0, 0, 0, 0, NULL, &cache));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_caching_cmm_new(base, NAN, 0, 0, 0, NULL, &cache));
    CHECK(cache == SENTINEL);
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_cmm_cache_stats(base, &hits, &misses));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_cmm_cache_clear(base));
    CHECK(hits == 7 && misses == 7);

    OK(sealbox_caching_cmm_new(base, 300.0, 100, 1 << 20, 10, "c-tests", &cache));
    sealbox_cmm_free(base); /* the cache keeps it alive */
    for (i = 0; i < 10; i++) {
        sealbox_buffer *msg = NULL;
        OK(sealbox_encrypt(cache, PT, PT_LEN, NO_CTX, NULL, &msg));
        OK(decrypt_is(cache, msg, &none, PT, PT_LEN));
        sealbox_buffer_free(msg);
    }
    OK(sealbox_cmm_cache_stats(cache, &hits, &misses));
    /* One data key for all ten messages, one unwrap for all ten reads. */
    CHECK(misses == 2 && hits == 18);
    OK(sealbox_cmm_cache_clear(cache));
    {
        sealbox_buffer *msg = NULL;
        OK(sealbox_encrypt(cache, PT, PT_LEN, NO_CTX, NULL, &msg));
        sealbox_buffer_free(msg);
    }
    OK(sealbox_cmm_cache_stats(cache, &hits, &misses));
    CHECK(misses == 3);
    /* A cache can sit on a cache. */
    OK(sealbox_caching_cmm_new(cache, 1.5, 0, 0, 0, NULL, &other));
    sealbox_cmm_free(other);
    sealbox_cmm_free(cache);
}

/* Feeds `len` bytes to an encryptor in chunks of `chunk`; appends the
 * ciphertext to `*out` (realloc'd). */
static void stream_encrypt(sealbox_encryptor *enc, const uint8_t *in, size_t len, size_t chunk, uint8_t **out,
                           size_t *out_len) {
    size_t off = 0;
    sealbox_buffer *b = NULL;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        OK(sealbox_encryptor_update(enc, in + off, n, &b));
        *out = realloc(*out, *out_len + b->len + 1);
        CHECK(*out != NULL);
        memcpy(*out + *out_len, b->data, b->len);
        *out_len += b->len;
        sealbox_buffer_free(b);
        off += n;
    }
    OK(sealbox_encryptor_finish(enc, &b));
    *out = realloc(*out, *out_len + b->len + 1);
    CHECK(*out != NULL);
    memcpy(*out + *out_len, b->data, b->len);
    *out_len += b->len;
    sealbox_buffer_free(b);
}

/* Decrypts in chunks; returns the first failing code (or OK) and the
 * plaintext released so far. */
static sealbox_result stream_decrypt(sealbox_decryptor *dec, const uint8_t *in, size_t len, size_t chunk,
                                     uint8_t *pt, size_t *pt_len) {
    size_t off = 0;
    sealbox_buffer *b = NULL;
    sealbox_result rc;
    *pt_len = 0;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        b = SENTINEL;
        rc = sealbox_decryptor_update(dec, in + off, n, &b);
        if (rc != SEALBOX_RESULT_OK) {
            CHECK(b == SENTINEL);
            return rc;
        }
        memcpy(pt + *pt_len, b->data, b->len);
        *pt_len += b->len;
        sealbox_buffer_free(b);
        off += n;
    }
    b = SENTINEL;
    rc = sealbox_decryptor_finish(dec, &b);
    if (rc != SEALBOX_RESULT_OK) {
        CHECK(b == SENTINEL);
        return rc;
    }
    memcpy(pt + *pt_len, b->data, b->len);
    *pt_len += b->len;
    sealbox_buffer_free(b);
    return SEALBOX_RESULT_OK;
}

static void test_streaming(void) {
    const sealbox_cmm *cmm = aes_cmm();
    enum { N = 20000 };
    static uint8_t in[N], out[N + 64];
    uint8_t *ct = NULL;
    size_t ct_len = 0, out_len = 0, i;
    sealbox_encryptor *enc = NULL;
    sealbox_decryptor *dec = NULL;
    sealbox_encrypt_options *eo = NULL;
    sealbox_buffer *b = SENTINEL;
    sealbox_string_map *map = SENTINEL;
    context_t ec = {0}, wrong = {0};
    static const size_t chunks[] = {1, 7, 4096, 4097, 65536};
    uint16_t suites[2] = {0x0478, 0x0578};
    size_t s, c;

    for (i = 0; i < N; i++) in[i] = (uint8_t)(i * 31 + 7);
    context_add(&ec, "file", "report.pdf");
    context_add(&wrong, "file", "other.pdf");

    for (s = 0; s < 2; s++) {
        OK(sealbox_encrypt_options_new(&eo));
        OK(sealbox_encrypt_options_set_algorithm_suite(eo, suites[s]));
        OK(sealbox_encrypt_options_set_frame_length(eo, 1000));
        OK(sealbox_encryptor_new(cmm, CTX(&ec), eo, &enc));
        sealbox_encrypt_options_free(eo); /* the encryptor copied it */
        /* A zero-length update is fine (it emits the header). */
        OK(sealbox_encryptor_update(enc, NULL, 0, &b));
        CHECK(b->len > 0);
        ct = malloc(b->len + 1);
        CHECK(ct != NULL);
        memcpy(ct, b->data, b->len);
        ct_len = b->len;
        sealbox_buffer_free(b);
        stream_encrypt(enc, in, N, 3333, &ct, &ct_len);
        /* Wrong state: after finish. */
        b = SENTINEL;
        EXPECT(SEALBOX_RESULT_INVALID_STATE, sealbox_encryptor_update(enc, in, 1, &b));
        EXPECT(SEALBOX_RESULT_INVALID_STATE, sealbox_encryptor_finish(enc, &b));
        CHECK(b == SENTINEL);
        CHECK_DETAIL("finished");
        sealbox_encryptor_free(enc);

        /* Any split decrypts to the same bytes; one-shot agrees. */
        for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            if (chunks[c] == 1 && suites[s] == 0x0578) continue; /* slow under valgrind, same code path */
            OK(sealbox_decryptor_new(cmm, CTX(&ec), NULL, &dec));
            OK(stream_decrypt(dec, ct, ct_len, chunks[c], out, &out_len));
            CHECK_BYTES(out, out_len, in, (size_t)N);
            OK(sealbox_decryptor_encryption_context(dec, &map));
            CHECK(sealbox_string_map_len(map) == (suites[s] == 0x0578 ? 2u : 1u));
            /* 0x0578 adds aws-crypto-public-key, which sorts first. */
            CHECK_MAP_ENTRY(map, suites[s] == 0x0578 ? 1u : 0u, "file", "report.pdf");
            sealbox_string_map_free(map);
            map = SENTINEL;
            sealbox_decryptor_free(dec);
        }
        {
            sealbox_buffer view;
            view.data = ct;
            view.len = ct_len;
            OK(decrypt_is(cmm, &view, &ec, in, N));
        }

        /* Before the header: no context yet (wrong state). */
        OK(sealbox_decryptor_new(cmm, NO_CTX, NULL, &dec));
        EXPECT(SEALBOX_RESULT_INVALID_STATE, sealbox_decryptor_encryption_context(dec, &map));
        CHECK(map == SENTINEL);
        OK(sealbox_decryptor_update(dec, ct, 10, &b));
        CHECK(b->len == 0);
        sealbox_buffer_free(b);
        EXPECT(SEALBOX_RESULT_INVALID_STATE, sealbox_decryptor_encryption_context(dec, &map));
        /* Truncated: finish fails, and the decryptor is spent. */
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_decryptor_finish(dec, &b));
        EXPECT(SEALBOX_RESULT_INVALID_STATE, sealbox_decryptor_update(dec, ct, 1, &b));
        sealbox_decryptor_free(dec);

        /* Wrong expected context. */
        OK(sealbox_decryptor_new(cmm, CTX(&wrong), NULL, &dec));
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, stream_decrypt(dec, ct, ct_len, 4096, out, &out_len));
        sealbox_decryptor_free(dec);

        /* A flipped byte in the last frame: what came before is released,
         * the bad frame is not, and the stream fails. */
        ct[ct_len - 40] ^= 0x80;
        OK(sealbox_decryptor_new(cmm, NO_CTX, NULL, &dec));
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, stream_decrypt(dec, ct, ct_len, 4096, out, &out_len));
        CHECK(out_len < (size_t)N);
        sealbox_decryptor_free(dec);

        /* Abandoned midway: freeing is enough. */
        OK(sealbox_decryptor_new(cmm, NO_CTX, NULL, &dec));
        OK(sealbox_decryptor_update(dec, ct, ct_len / 2, &b));
        sealbox_buffer_free(b);
        sealbox_decryptor_free(dec);
        free(ct);
    }

    /* Abandoned encryptor. */
    OK(sealbox_encryptor_new(cmm, NO_CTX, NULL, &enc));
    OK(sealbox_encryptor_update(enc, in, 5000, &b));
    sealbox_buffer_free(b);
    sealbox_encryptor_free(enc);

    /* A bad option fails at new, and writes nothing. */
    {
        sealbox_encryptor *e = SENTINEL;
        context_t reserved = {0};
        context_add(&reserved, "aws-crypto-x", "1");
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_encryptor_new(cmm, CTX(&reserved), NULL, &e));
        CHECK(e == SENTINEL);
        context_free(&reserved);
    }
    sealbox_cmm_free(cmm);
    context_free(&ec);
    context_free(&wrong);
}

/* sealbox_rewrap: the data key wrapped again under another keyring, the
 * body unchanged; refusals write nothing. */
static void test_rewrap(void) {
    static const uint8_t other_key[32] = {7};
    const sealbox_keyring *old_kr = NULL, *new_kr = NULL, *both = NULL;
    const sealbox_cmm *old_cmm = NULL, *new_cmm = NULL;
    sealbox_decrypt_options *one = NULL;
    sealbox_buffer *msg = NULL, *re = SENTINEL, *pt = NULL;
    context_t ec = {0}, wrong = {0};
    uint8_t big[10000];
    size_t i;

    for (i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    context_add(&ec, "purpose", "backup");
    context_add(&wrong, "purpose", "other");
    OK(sealbox_raw_aes_keyring_new("payments", "old", aes_key, sizeof aes_key, &old_kr));
    OK(sealbox_raw_aes_keyring_new("payments", "new", other_key, sizeof other_key, &new_kr));
    OK(sealbox_default_cmm_new(old_kr, &old_cmm));
    OK(sealbox_default_cmm_new(new_kr, &new_cmm));
    OK(sealbox_encrypt(old_cmm, big, sizeof big, CTX(&ec), NULL, &msg));
    /* The same message on several threads and on one (the threads option). */
    {
        sealbox_encrypt_options *eo = NULL;
        sealbox_decrypt_options *d4 = NULL;
        sealbox_buffer *m4 = NULL, *p4 = NULL;
        OK(sealbox_encrypt_options_new(&eo));
        OK(sealbox_encrypt_options_set_frame_length(eo, 100));
        OK(sealbox_encrypt_options_set_threads(eo, 4));
        OK(sealbox_encrypt(old_cmm, big, sizeof big, CTX(&ec), eo, &m4));
        OK(sealbox_decrypt_options_new(&d4));
        OK(sealbox_decrypt_options_set_threads(d4, 3));
        OK(sealbox_decrypt(old_cmm, m4->data, m4->len, CTX(&ec), d4, &p4, NULL));
        CHECK_BYTES(p4->data, p4->len, big, sizeof big);
        OK(sealbox_decrypt_options_set_threads(d4, 0));
        OK(sealbox_encrypt_options_set_threads(eo, 1));
        sealbox_buffer_free(p4);
        sealbox_buffer_free(m4);
        sealbox_decrypt_options_free(d4);
        sealbox_encrypt_options_free(eo);
    }

    OK(sealbox_rewrap(old_cmm, new_kr, msg->data, msg->len, CTX(&ec), NULL, &re));
    CHECK(decrypt_is(new_cmm, re, &ec, big, sizeof big) == SEALBOX_RESULT_OK);
    CHECK(decrypt_is(old_cmm, re, &ec, big, sizeof big) == SEALBOX_RESULT_DECRYPTION_FAILED);
    /* The body: the last bytes are the same (10,000 bytes of frames). */
    CHECK(re->len > 10000 && memcmp(re->data + re->len - 10000, msg->data + msg->len - 10000, 10000) == 0);
    sealbox_buffer_free(re);

    /* Refusals: wrong key, wrong context, truncated; *out untouched. */
    re = SENTINEL;
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_rewrap(new_cmm, new_kr, msg->data, msg->len, NO_CTX, NULL, &re));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED,
           sealbox_rewrap(old_cmm, new_kr, msg->data, msg->len, CTX(&wrong), NULL, &re));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED,
           sealbox_rewrap(old_cmm, new_kr, msg->data, msg->len - 1, NO_CTX, NULL, &re));
    CHECK(re == SENTINEL);
    /* Two wrappings against a limit of one. */
    {
        const sealbox_keyring *children[2] = {old_kr, new_kr};
        OK(sealbox_multi_keyring_new(NULL, children, 2, &both));
    }
    OK(sealbox_decrypt_options_new(&one));
    OK(sealbox_decrypt_options_set_max_encrypted_data_keys(one, 1));
    EXPECT(SEALBOX_RESULT_TOO_MANY_ENCRYPTED_DATA_KEYS,
           sealbox_rewrap(old_cmm, both, msg->data, msg->len, NO_CTX, one, &re));
    OK(sealbox_rewrap(old_cmm, both, msg->data, msg->len, NO_CTX, NULL, &re));
    CHECK(decrypt_is(new_cmm, re, &ec, big, sizeof big) == SEALBOX_RESULT_OK);
    CHECK(decrypt_is(old_cmm, re, &ec, big, sizeof big) == SEALBOX_RESULT_OK);
    sealbox_buffer_free(re);
    /* NULL arguments. */
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_rewrap(NULL, new_kr, msg->data, msg->len, NO_CTX, NULL, &pt));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_rewrap(old_cmm, NULL, msg->data, msg->len, NO_CTX, NULL, &pt));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_rewrap(old_cmm, new_kr, NULL, 1, NO_CTX, NULL, &pt));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_rewrap(old_cmm, new_kr, msg->data, msg->len, NO_CTX, NULL, NULL));

    sealbox_decrypt_options_free(one);
    sealbox_buffer_free(msg);
    sealbox_keyring_free(both);
    sealbox_keyring_free(old_kr);
    sealbox_keyring_free(new_kr);
    sealbox_cmm_free(old_cmm);
    sealbox_cmm_free(new_cmm);
    context_free(&ec);
    context_free(&wrong);
}

static void test_raw_ecdh(void) {
    size_t alice_len = 0, bob_len = 0, alice_pub_len = 0, bob_pub_len = 0;
    uint8_t *alice = read_file(scratch("ec_alice.pem"), &alice_len);
    uint8_t *bob = read_file(scratch("ec_bob.pem"), &bob_len);
    uint8_t *alice_pub = read_file(scratch("ec_alice.pub.der"), &alice_pub_len);
    uint8_t *bob_pub = read_file(scratch("ec_bob.pub.der"), &bob_pub_len);
    const char *P384 = "ECC_NIST_P384";
    const sealbox_keyring *alice_to_bob = NULL, *bob_to_alice = NULL, *ephemeral = NULL, *bob_discovery = NULL,
                          *alice_discovery = NULL, *bad = SENTINEL;
    const sealbox_cmm *a2b = NULL, *b2a = NULL, *eph = NULL, *bob_d = NULL, *alice_d = NULL;
    sealbox_buffer *msg = NULL, *msg2 = SENTINEL;
    context_t none = {0};

    CHECK(alice != NULL && bob != NULL && alice_pub != NULL && bob_pub != NULL);
    OK(sealbox_raw_ecdh_keyring_new("RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY", P384, alice, alice_len, bob_pub,
                                    bob_pub_len, &alice_to_bob));
    OK(sealbox_raw_ecdh_keyring_new("RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY", P384, bob, bob_len, alice_pub,
                                    alice_pub_len, &bob_to_alice));
    OK(sealbox_raw_ecdh_keyring_new("EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY", P384, NULL, 0, bob_pub,
                                    bob_pub_len, &ephemeral));
    OK(sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", P384, bob, bob_len, NULL, 0, &bob_discovery));
    OK(sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", P384, alice, alice_len, NULL, 0, &alice_discovery));
    OK(sealbox_default_cmm_new(alice_to_bob, &a2b));
    OK(sealbox_default_cmm_new(bob_to_alice, &b2a));
    OK(sealbox_default_cmm_new(ephemeral, &eph));
    OK(sealbox_default_cmm_new(bob_discovery, &bob_d));
    OK(sealbox_default_cmm_new(alice_discovery, &alice_d));

    /* Alice's static key to Bob: Bob (either keyring) and Alice read it. */
    OK(sealbox_encrypt(a2b, PT, PT_LEN, NO_CTX, NULL, &msg));
    OK(decrypt_is(bob_d, msg, &none, PT, PT_LEN));
    OK(decrypt_is(b2a, msg, &none, PT, PT_LEN));
    OK(decrypt_is(a2b, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(alice_d, msg, &none, PT, PT_LEN));
    sealbox_buffer_free(msg);
    /* An ephemeral sender: only Bob's private key reads it. */
    OK(sealbox_encrypt(eph, PT, PT_LEN, NO_CTX, NULL, &msg));
    OK(decrypt_is(bob_d, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(eph, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(a2b, msg, &none, PT, PT_LEN));
    /* A discovery keyring cannot encrypt. */
    EXPECT(SEALBOX_RESULT_ENCRYPT_FAILED, sealbox_encrypt(bob_d, PT, PT_LEN, NO_CTX, NULL, &msg2));
    CHECK(msg2 == SENTINEL);

    /* Bad arguments: unknown names, missing or extra keys, another curve, NULL. */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_raw_ecdh_keyring_new("STATIC", P384, alice, alice_len, bob_pub, bob_pub_len, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", "ECC_SECG_P256K1",
                                                                         bob, bob_len, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_raw_ecdh_keyring_new("RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY", P384,
                                                                         alice, alice_len, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", P384, bob, bob_len,
                                                                         bob_pub, bob_pub_len, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", "ECC_NIST_P256", bob,
                                                                    bob_len, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", P384, bob_pub,
                                                                    bob_pub_len, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_raw_ecdh_keyring_new(NULL, P384, bob, bob_len, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_raw_ecdh_keyring_new("PUBLIC_KEY_DISCOVERY", P384, NULL, 5, NULL, 0, &bad));
    CHECK(bad == SENTINEL);

    sealbox_buffer_free(msg);
    sealbox_cmm_free(a2b);
    sealbox_cmm_free(b2a);
    sealbox_cmm_free(eph);
    sealbox_cmm_free(bob_d);
    sealbox_cmm_free(alice_d);
    sealbox_keyring_free(alice_to_bob);
    sealbox_keyring_free(bob_to_alice);
    sealbox_keyring_free(ephemeral);
    sealbox_keyring_free(bob_discovery);
    sealbox_keyring_free(alice_discovery);
    free(alice);
    free(bob);
    free(alice_pub);
    free(bob_pub);
}

static void test_pq(void) {
    sealbox_buffer *priv = NULL, *pub = NULL, *priv2 = NULL, *pub2 = NULL, *msg = NULL, *msg2 = SENTINEL,
                   *unused = SENTINEL;
    const sealbox_keyring *sender = NULL, *reader = NULL, *stranger = NULL, *aes = NULL, *multi = NULL,
                          *bad = SENTINEL;
    const sealbox_cmm *enc = NULL, *dec = NULL, *other = NULL, *multi_cmm = NULL, *aes_only = NULL;
    const sealbox_keyring *children[1];
    context_t none = {0};

    OK(sealbox_pq_generate_key_pair(&priv, &pub));
    OK(sealbox_pq_generate_key_pair(&priv2, &pub2));
    CHECK(priv->len == 32 && pub->len == 1216);
    CHECK(memcmp(pub->data, pub2->data, pub->len) != 0);
    OK(sealbox_pq_keyring_new(pub->data, pub->len, NULL, 0, &sender));
    OK(sealbox_pq_keyring_new(NULL, 0, priv->data, priv->len, &reader));
    OK(sealbox_pq_keyring_new(NULL, 0, priv2->data, priv2->len, &stranger));
    OK(sealbox_default_cmm_new(sender, &enc));
    OK(sealbox_default_cmm_new(reader, &dec));
    OK(sealbox_default_cmm_new(stranger, &other));
    OK(sealbox_encrypt(enc, PT, PT_LEN, NO_CTX, NULL, &msg));
    OK(decrypt_is(dec, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(other, msg, &none, PT, PT_LEN));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, decrypt_is(enc, msg, &none, PT, PT_LEN));
    sealbox_buffer_free(msg);

    /* Beside a raw AES keyring (AWS-compatible), either one opens it. */
    OK(sealbox_raw_aes_keyring_new("payments", "2026-key", aes_key, sizeof aes_key, &aes));
    children[0] = sender;
    OK(sealbox_multi_keyring_new(aes, children, 1, &multi));
    OK(sealbox_default_cmm_new(multi, &multi_cmm));
    OK(sealbox_default_cmm_new(aes, &aes_only));
    OK(sealbox_encrypt(multi_cmm, PT, PT_LEN, NO_CTX, NULL, &msg));
    OK(decrypt_is(aes_only, msg, &none, PT, PT_LEN));
    OK(decrypt_is(dec, msg, &none, PT, PT_LEN));

    /* Bad keys: wrong lengths, a mismatched pair, none, NULL. */
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_pq_keyring_new(pub->data, pub->len - 1, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_pq_keyring_new(NULL, 0, priv->data, 31, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_pq_keyring_new(pub->data, pub->len, priv2->data, 32, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_pq_keyring_new(NULL, 0, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_pq_keyring_new(NULL, 1216, NULL, 0, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_pq_keyring_new(pub->data, pub->len, NULL, 0, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_pq_generate_key_pair(NULL, &unused));
    CHECK(bad == SENTINEL && unused == SENTINEL && msg2 == SENTINEL);

    sealbox_buffer_free(msg);
    sealbox_cmm_free(aes_only);
    sealbox_cmm_free(multi_cmm);
    sealbox_cmm_free(other);
    sealbox_cmm_free(dec);
    sealbox_cmm_free(enc);
    sealbox_keyring_free(multi);
    sealbox_keyring_free(aes);
    sealbox_keyring_free(stranger);
    sealbox_keyring_free(reader);
    sealbox_keyring_free(sender);
    sealbox_buffer_free(priv);
    sealbox_buffer_free(pub);
    sealbox_buffer_free(priv2);
    sealbox_buffer_free(pub2);
}

int main(int argc, char **argv) {
    static const test_fn tests[] = {test_one_shot, test_options, test_rsa_and_multi, test_raw_ecdh, test_pq, test_caching,
                                    test_streaming, test_rewrap, NULL};
    return run_tests("test_envelope", argc, argv, tests);
}
