/*
 * The key store from C (soft backend): root keys, options, open and reopen,
 * the key lifecycle, aliases, tags, every operation, the key-store keyring,
 * audit callbacks and audit-log verification; with the wrong root key, a
 * disabled key, a key in the wrong state or usage, bad names and lengths,
 * tampered blobs and wrong contexts, each answered by its code.
 *
 *   test_keystore SCRATCH_DIR   (SCRATCH_DIR holds rsa_private.der and
 *                                rsa_public.der, made by openssl)
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"

static const uint8_t root_bytes[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                       7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

/* Audit callback state: shared by whatever thread runs an operation. */
typedef struct {
    pthread_mutex_t lock;
    unsigned long events;
    int fail_next;
    char last[2048];
} audit_sink_t;

static int on_audit(void *userdata, const uint8_t *json, size_t len) {
    audit_sink_t *s = userdata;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    s->events++;
    if (len >= sizeof s->last) len = sizeof s->last - 1;
    memcpy(s->last, json, len);
    s->last[len] = 0;
    if (s->fail_next) {
        s->fail_next = 0;
        rc = 5;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void test_root_keys(void) {
    sealbox_root_key *rk = SENTINEL, *rk2 = NULL;
    const char *path = scratch("root.key");
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_root_key_from_bytes(root_bytes, 31, &rk));
    CHECK(rk == SENTINEL);
    OK(sealbox_root_key_generate(&rk));
    OK(sealbox_root_key_write_new_file(rk, path));
    EXPECT(SEALBOX_RESULT_IO_ERROR, sealbox_root_key_write_new_file(rk, path)); /* never overwrites */
    OK(sealbox_root_key_from_file(path, &rk2));
    sealbox_root_key_free(rk2);
    /* A root key others can read is refused. */
    CHECK(chmod(path, 0644) == 0);
    rk2 = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_root_key_from_file(path, &rk2));
    CHECK_DETAIL("chmod 600");
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_root_key_from_file(scratch("missing.key"), &rk2));
    CHECK(rk2 == SENTINEL);
    /* From the environment: hex. */
    CHECK(setenv("SEALBOX_TEST_ROOT_KEY", "0707070707070707070707070707070707070707070707070707070707070707", 1) == 0);
    OK(sealbox_root_key_from_env("SEALBOX_TEST_ROOT_KEY", &rk2));
    sealbox_root_key_free(rk2);
    rk2 = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_root_key_from_env("SEALBOX_TEST_UNSET_VARIABLE", &rk2));
    CHECK(rk2 == SENTINEL);
    sealbox_root_key_free(rk);
}

static const sealbox_keystore *open_store(const char *db, const char *audit_suffix, const uint8_t *root,
                                          sealbox_result want) {
    sealbox_root_key *rk = NULL;
    sealbox_keystore_options *o = NULL;
    const sealbox_keystore *ks = SENTINEL;
    char audit[1100];
    snprintf(audit, sizeof audit, "%s%s", db, audit_suffix);
    OK(sealbox_root_key_from_bytes(root, 32, &rk));
    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_audit_log(o, audit));
    OK(sealbox_keystore_options_set_audit_sync(o, false));
    OK(sealbox_keystore_options_set_principal(o, "c-tests"));
    EXPECT(want, sealbox_keystore_open(db, rk, o, &ks));
    /* Opening copied what it needed. */
    sealbox_keystore_options_free(o);
    sealbox_root_key_free(rk);
    if (want != SEALBOX_RESULT_OK) {
        CHECK(ks == SENTINEL);
        return NULL;
    }
    return ks;
}

static void test_lifecycle(const sealbox_keystore *ks) {
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *md = NULL, *md2 = SENTINEL;
    const sealbox_string_map *tags;
    sealbox_buffer *json = NULL;
    sealbox_key_list *page = NULL;
    sealbox_string_map *aliases = NULL;
    const char *id;
    char key_id[64];
    uint32_t version = 0;
    int64_t created = 0, deletion = 0;
    size_t n = 0, seen = 0;
    char *marker = NULL;
    const char *tag_keys[2] = {"team", "cost-center"};
    const char *tag_values[2] = {"payments", "42"};
    const char *untag[1] = {"cost-center"};
    const char *bad_tag[1] = {""};
    time_t now = time(NULL);

    CHECK_STR(sealbox_keystore_backend_kind(ks), "soft");

    OK(sealbox_create_key_request_new(&req));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_create_key_request_set_key_spec(req, "AES_128"));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_create_key_request_set_key_usage(req, "EVERYTHING"));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_create_key_request_set_alias(req, "orders"));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_create_key_request_set_alias(req, "alias/aws/x"));
    OK(sealbox_create_key_request_set_key_spec(req, "AES_256"));
    OK(sealbox_create_key_request_set_key_usage(req, "ENCRYPT_DECRYPT"));
    OK(sealbox_create_key_request_set_alias(req, "alias/orders"));
    OK(sealbox_create_key_request_set_description(req, "order records"));
    OK(sealbox_create_key_request_set_tag(req, "team", "payments"));
    OK(sealbox_create_key_request_set_rotation_period_days(req, 90));
    OK(sealbox_keystore_create_key(ks, req, &md));
    /* The same alias twice. */
    EXPECT(SEALBOX_RESULT_ALREADY_EXISTS, sealbox_keystore_create_key(ks, req, &md2));
    CHECK(md2 == SENTINEL);
    /* A spec and usage that do not go together. */
    OK(sealbox_create_key_request_set_alias(req, "alias/other"));
    OK(sealbox_create_key_request_set_key_usage(req, "SIGN_VERIFY"));
    EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE, sealbox_keystore_create_key(ks, req, &md2));
    sealbox_create_key_request_free(req);

    id = sealbox_key_metadata_key_id(md);
    CHECK(id != NULL && strlen(id) == 36);
    snprintf(key_id, sizeof key_id, "%s", id);
    CHECK_STR(sealbox_key_metadata_description(md), "order records");
    CHECK_STR(sealbox_key_metadata_key_spec(md), "AES_256");
    CHECK_STR(sealbox_key_metadata_key_usage(md), "ENCRYPT_DECRYPT");
    CHECK_STR(sealbox_key_metadata_origin(md), "SEALBOX");
    CHECK_STR(sealbox_key_metadata_key_state(md), "Enabled");
    CHECK_STR(sealbox_key_metadata_backend(md), "soft");
    CHECK(sealbox_key_metadata_deletion_date(md) == 0);
    CHECK(sealbox_key_metadata_created_at(md) >= (int64_t)now - 60);
    CHECK(sealbox_key_metadata_primary_version(md) == 1);
    CHECK(sealbox_key_metadata_version_count(md) == 1);
    OK(sealbox_key_metadata_version(md, 0, &version, &created));
    CHECK(version == 1 && created >= (int64_t)now - 60);
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_key_metadata_version(md, 1, &version, &created));
    CHECK(sealbox_key_metadata_rotation_period_days(md) == 90);
    CHECK(sealbox_key_metadata_next_rotation_at(md) > (int64_t)now + 89 * 86400);
    CHECK(sealbox_key_metadata_alias_count(md) == 1);
    CHECK_STR(sealbox_key_metadata_alias(md, 0), "alias/orders");
    CHECK(sealbox_key_metadata_alias(md, 1) == NULL);
    tags = sealbox_key_metadata_tags(md);
    CHECK(sealbox_string_map_len(tags) == 1);
    CHECK_MAP_ENTRY(tags, 0, "team", "payments");
    OK(sealbox_key_metadata_to_json(md, &json));
    CHECK(strstr((const char *)json->data, key_id) != NULL);
    CHECK(strstr((const char *)json->data, "\"AES_256\"") != NULL);
    sealbox_buffer_free(json);
    sealbox_key_metadata_free(md);

    /* Describe by alias; unknown names. */
    OK(sealbox_keystore_describe_key(ks, "alias/orders", &md));
    CHECK_STR(sealbox_key_metadata_key_id(md), key_id);
    sealbox_key_metadata_free(md);
    md = SENTINEL;
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_describe_key(ks, "alias/nope", &md));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND,
           sealbox_keystore_describe_key(ks, "00000000-0000-0000-0000-000000000000", &md));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_describe_key(ks, "", &md));
    CHECK(md == SENTINEL);

    /* More keys, then page through all of them one at a time. */
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    sealbox_key_metadata_free(md);
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_list_keys(ks, 0, NULL, &page));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_list_keys(ks, 1001, NULL, &page));
    do {
        const char *next;
        OK(sealbox_keystore_list_keys(ks, 1, marker, &page));
        CHECK(sealbox_key_list_len(page) == 1);
        CHECK(sealbox_key_metadata_key_id(sealbox_key_list_get(page, 0)) != NULL);
        CHECK(sealbox_key_list_get(page, 1) == NULL);
        seen++;
        free(marker);
        next = sealbox_key_list_next_marker(page);
        marker = next ? strdup(next) : NULL;
        sealbox_key_list_free(page);
    } while (marker != NULL);
    OK(sealbox_keystore_list_keys(ks, 1000, NULL, &page));
    n = sealbox_key_list_len(page);
    CHECK(n == seen && n >= 3);
    CHECK(sealbox_key_list_next_marker(page) == NULL);
    sealbox_key_list_free(page);

    /* Enable, disable. */
    OK(sealbox_keystore_disable_key(ks, "alias/orders"));
    OK(sealbox_keystore_describe_key(ks, key_id, &md));
    CHECK_STR(sealbox_key_metadata_key_state(md), "Disabled");
    sealbox_key_metadata_free(md);
    {
        sealbox_buffer *b = SENTINEL;
        EXPECT(SEALBOX_RESULT_KEY_DISABLED,
               sealbox_keystore_encrypt(ks, key_id, (const uint8_t *)"x", 1, NO_CTX, &b));
        CHECK(b == SENTINEL);
    }
    OK(sealbox_keystore_enable_key(ks, key_id));

    /* Deletion: 7..=30 days, cancel, cancel again (wrong state). */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_schedule_key_deletion(ks, key_id, 3, &deletion));
    CHECK(deletion == 0);
    OK(sealbox_keystore_schedule_key_deletion(ks, key_id, 7, &deletion));
    CHECK(deletion >= (int64_t)now + 7 * 86400 - 60 && deletion <= (int64_t)now + 7 * 86400 + 3600);
    OK(sealbox_keystore_describe_key(ks, key_id, &md));
    CHECK_STR(sealbox_key_metadata_key_state(md), "PendingDeletion");
    CHECK(sealbox_key_metadata_deletion_date(md) == deletion);
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_cancel_key_deletion(ks, key_id));
    EXPECT(SEALBOX_RESULT_INVALID_KEY_STATE, sealbox_keystore_cancel_key_deletion(ks, key_id));
    OK(sealbox_keystore_schedule_key_deletion(ks, key_id, 30, NULL));
    OK(sealbox_keystore_cancel_key_deletion(ks, key_id));
    OK(sealbox_keystore_enable_key(ks, key_id));

    /* Rotation. */
    OK(sealbox_keystore_rotate_key(ks, key_id, &version));
    CHECK(version == 2);
    OK(sealbox_keystore_rotate_key(ks, key_id, NULL));
    OK(sealbox_keystore_describe_key(ks, key_id, &md));
    CHECK(sealbox_key_metadata_primary_version(md) == 3 && sealbox_key_metadata_version_count(md) == 3);
    sealbox_key_metadata_free(md);
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_enable_key_rotation(ks, key_id, 0));
    OK(sealbox_keystore_enable_key_rotation(ks, key_id, 30));
    OK(sealbox_keystore_disable_key_rotation(ks, key_id));
    OK(sealbox_keystore_describe_key(ks, key_id, &md));
    CHECK(sealbox_key_metadata_rotation_period_days(md) == 0);
    CHECK(sealbox_key_metadata_next_rotation_at(md) == 0);
    sealbox_key_metadata_free(md);
    n = 99;
    OK(sealbox_keystore_apply_due_rotations(ks, &n));
    CHECK(n == 0);
    OK(sealbox_keystore_apply_due_rotations(ks, NULL));
    n = 99;
    OK(sealbox_keystore_purge_expired_keys(ks, &n));
    CHECK(n == 0);
    OK(sealbox_keystore_purge_expired_keys(ks, NULL));
    OK(sealbox_keystore_update_key_description(ks, key_id, "orders, since 2026"));
    OK(sealbox_keystore_describe_key(ks, key_id, &md));
    CHECK_STR(sealbox_key_metadata_description(md), "orders, since 2026");
    sealbox_key_metadata_free(md);

    /* Aliases. */
    OK(sealbox_keystore_create_alias(ks, "alias/orders-2", key_id));
    EXPECT(SEALBOX_RESULT_ALREADY_EXISTS, sealbox_keystore_create_alias(ks, "alias/orders-2", key_id));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_alias(ks, "bad alias", key_id));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_create_alias(ks, "alias/x", "alias/none"));
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    OK(sealbox_keystore_update_alias(ks, "alias/orders-2", sealbox_key_metadata_key_id(md)));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_update_alias(ks, "alias/never", key_id));
    OK(sealbox_keystore_list_aliases(ks, &aliases));
    CHECK(sealbox_string_map_len(aliases) == 2);
    CHECK_MAP_ENTRY(aliases, 0, "alias/orders", key_id);
    CHECK_MAP_ENTRY(aliases, 1, "alias/orders-2", sealbox_key_metadata_key_id(md));
    sealbox_string_map_free(aliases);
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_delete_alias(ks, "alias/orders-2"));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_delete_alias(ks, "alias/orders-2"));

    /* Tags. */
    OK(sealbox_keystore_tag_key(ks, key_id, tag_keys, tag_values, 2));
    OK(sealbox_keystore_untag_key(ks, key_id, untag, 1));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_tag_key(ks, key_id, bad_tag, tag_values, 1));
    OK(sealbox_keystore_tag_key(ks, key_id, NULL, NULL, 0));
    OK(sealbox_keystore_describe_key(ks, key_id, &md));
    tags = sealbox_key_metadata_tags(md);
    CHECK(sealbox_string_map_len(tags) == 1);
    CHECK_MAP_ENTRY(tags, 0, "team", "payments");
    sealbox_key_metadata_free(md);
    free(marker);
}

static void test_symmetric(const sealbox_keystore *ks) {
    sealbox_key_metadata *k1 = NULL, *k2 = NULL;
    const char *id1, *id2;
    sealbox_buffer *ct = NULL, *pt = SENTINEL, *ct2 = NULL, *dk_pt = NULL, *dk_ct = NULL, *blob = NULL;
    context_t ec = {0}, wrong = {0}, ec2 = {0};
    static uint8_t big[4097];
    uint8_t *copy;
    uint32_t v = 0;

    context_add(&ec, "table", "orders");
    context_add(&wrong, "table", "invoices");
    context_add(&ec2, "table", "archive");
    OK(sealbox_keystore_create_key(ks, NULL, &k1));
    OK(sealbox_keystore_create_key(ks, NULL, &k2));
    id1 = sealbox_key_metadata_key_id(k1);
    id2 = sealbox_key_metadata_key_id(k2);

    OK(sealbox_keystore_encrypt(ks, id1, (const uint8_t *)"secret", 6, CTX(&ec), &ct));
    OK(sealbox_keystore_decrypt(ks, ct->data, ct->len, CTX(&ec), &pt));
    CHECK_BYTES(pt->data, pt->len, "secret", (size_t)6);
    sealbox_buffer_free(pt);
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt(ks, ct->data, ct->len, CTX(&wrong), &pt));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    copy = malloc(ct->len);
    CHECK(copy != NULL);
    memcpy(copy, ct->data, ct->len);
    copy[ct->len - 1] ^= 1;
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt(ks, copy, ct->len, CTX(&ec), &pt));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt(ks, copy, ct->len / 2, CTX(&ec), &pt));
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt(ks, NULL, 0, CTX(&ec), &pt));
    free(copy);
    CHECK(pt == SENTINEL);

    /* 4096 bytes at most; an empty plaintext is fine. */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_encrypt(ks, id1, big, sizeof big, NO_CTX, &ct2));
    OK(sealbox_keystore_encrypt(ks, id1, big, sizeof big - 1, NO_CTX, &ct2));
    sealbox_buffer_free(ct2);
    OK(sealbox_keystore_encrypt(ks, id1, NULL, 0, NO_CTX, &ct2));
    OK(sealbox_keystore_decrypt(ks, ct2->data, ct2->len, NO_CTX, &pt));
    CHECK(pt->len == 0);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(ct2);

    /* ReEncrypt to another key and context. */
    OK(sealbox_keystore_re_encrypt(ks, ct->data, ct->len, CTX(&ec), id2, CTX(&ec2), &ct2));
    OK(sealbox_keystore_decrypt(ks, ct2->data, ct2->len, CTX(&ec2), &pt));
    CHECK_BYTES(pt->data, pt->len, "secret", (size_t)6);
    sealbox_buffer_free(pt);
    {
        sealbox_buffer *x = SENTINEL;
        EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED,
               sealbox_keystore_re_encrypt(ks, ct->data, ct->len, CTX(&wrong), id2, CTX(&ec2), &x));
        EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND,
               sealbox_keystore_re_encrypt(ks, ct->data, ct->len, CTX(&ec), "alias/none", CTX(&ec2), &x));
        CHECK(x == SENTINEL);
    }

    /* Old versions keep decrypting after rotation. */
    OK(sealbox_keystore_rotate_key(ks, id1, &v));
    CHECK(v == 2);
    OK(sealbox_keystore_decrypt(ks, ct->data, ct->len, CTX(&ec), &pt));
    sealbox_buffer_free(pt);

    /* Data keys. */
    OK(sealbox_keystore_generate_data_key(ks, id1, 32, CTX(&ec), &dk_pt, &dk_ct));
    CHECK(dk_pt->len == 32);
    OK(sealbox_keystore_decrypt(ks, dk_ct->data, dk_ct->len, CTX(&ec), &pt));
    CHECK_BYTES(pt->data, pt->len, dk_pt->data, dk_pt->len);
    sealbox_buffer_free(pt);
    {
        sealbox_buffer *a = SENTINEL, *b = SENTINEL;
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_generate_data_key(ks, id1, 0, NO_CTX, &a, &b));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_generate_data_key(ks, id1, 1025, NO_CTX, &a, &b));
        CHECK(a == SENTINEL && b == SENTINEL);
    }
    OK(sealbox_keystore_generate_data_key_without_plaintext(ks, id1, 64, CTX(&ec), &blob));
    OK(sealbox_keystore_decrypt(ks, blob->data, blob->len, CTX(&ec), &pt));
    CHECK(pt->len == 64);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(blob);

    /* The wrong usage: an AES key has no public key, cannot sign or MAC. */
    {
        sealbox_buffer *x = SENTINEL;
        EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE, sealbox_keystore_get_public_key(ks, id1, &x));
        EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE,
               sealbox_keystore_sign(ks, id1, (const uint8_t *)"m", 1, "ECDSA_SHA_256", NULL, &x));
        EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE,
               sealbox_keystore_generate_mac(ks, id1, (const uint8_t *)"m", 1, "HMAC_SHA_256", &x));
        EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE,
               sealbox_keystore_encrypt_rsa(ks, id1, (const uint8_t *)"m", 1, "RSAES_OAEP_SHA_256", &x));
        CHECK(x == SENTINEL);
    }

    /* Random. */
    OK(sealbox_keystore_generate_random(ks, 32, &blob));
    CHECK(blob->len == 32);
    sealbox_buffer_free(blob);
    blob = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_generate_random(ks, 0, &blob));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_generate_random(ks, 1025, &blob));
    CHECK(blob == SENTINEL);

    sealbox_buffer_free(dk_pt);
    sealbox_buffer_free(dk_ct);
    sealbox_buffer_free(ct2);
    sealbox_buffer_free(ct);
    sealbox_key_metadata_free(k1);
    sealbox_key_metadata_free(k2);
    context_free(&ec);
    context_free(&wrong);
    context_free(&ec2);
}

/* A key of ECC `spec`: created, it signs with `alg` (RAW) and verifies,
 * refuses `other_alg` (InvalidKeyUsage, output untouched), and its public key
 * is a SubjectPublicKeyInfo of `spki_len` bytes. */
static void check_ec_spec(const sealbox_keystore *ks, const char *spec, const char *alg, const char *other_alg,
                          size_t spki_len) {
    static const uint8_t msg[] = "transfer 100 to alice";
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *key = NULL;
    sealbox_buffer *sig = NULL, *der = NULL;
    bool valid = false;
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_key_spec(req, spec));
    OK(sealbox_keystore_create_key(ks, req, &key));
    CHECK_STR(sealbox_key_metadata_key_spec(key), spec);
    CHECK_STR(sealbox_key_metadata_key_usage(key), "SIGN_VERIFY");
    OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(key), msg, sizeof msg, alg, NULL, &sig));
    OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(key), msg, sizeof msg, sig->data, sig->len, alg,
                               "RAW", &valid));
    CHECK(valid);
    OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(key), msg, sizeof msg - 1, sig->data, sig->len, alg,
                               NULL, &valid));
    CHECK(!valid);
    sealbox_buffer_free(sig);
    sig = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE,
           sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(key), msg, sizeof msg, other_alg, NULL, &sig));
    CHECK(sig == SENTINEL);
    OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(key), &der));
    CHECK(der->len == spki_len);
    sealbox_buffer_free(der);
    sealbox_key_metadata_free(key);
    sealbox_create_key_request_free(req);
}

static void test_asymmetric_and_mac(const sealbox_keystore *ks) {
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *ec_key = NULL, *rsa = NULL, *hmac = NULL, *aes = NULL, *bad = SENTINEL;
    sealbox_buffer *sig = NULL, *der = NULL, *pem = NULL, *ct = NULL, *pt = NULL, *mac = NULL;
    size_t der_len = 0, pub_len = 0;
    uint8_t *rsa_der = read_file(scratch("rsa_private.der"), &der_len);
    uint8_t *rsa_pub = read_file(scratch("rsa_public.der"), &pub_len);
    static const uint8_t msg[] = "transfer 100 to alice";
    static const uint8_t digest[32] = {1, 2, 3};
    static const uint8_t material[32] = {9, 9, 9};
    bool valid = false;

    CHECK(rsa_der != NULL && rsa_pub != NULL);
    /* ECDSA P-256, generated. */
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_key_spec(req, "ECC_NIST_P256"));
    OK(sealbox_keystore_create_key(ks, req, &ec_key));
    CHECK_STR(sealbox_key_metadata_key_usage(ec_key), "SIGN_VERIFY");
    OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), msg, sizeof msg, "ECDSA_SHA_256", NULL, &sig));
    OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(ec_key), msg, sizeof msg, sig->data, sig->len,
                               "ECDSA_SHA_256", "RAW", &valid));
    CHECK(valid);
    /* Another message: a clean "no", not an error. */
    OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(ec_key), msg, sizeof msg - 1, sig->data, sig->len,
                               "ECDSA_SHA_256", NULL, &valid));
    CHECK(!valid);
    sealbox_buffer_free(sig);
    OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), digest, sizeof digest, "ECDSA_SHA_256",
                             "DIGEST", &sig));
    valid = false;
    OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(ec_key), digest, sizeof digest, sig->data, sig->len,
                               "ECDSA_SHA_256", "DIGEST", &valid));
    CHECK(valid);
    sealbox_buffer_free(sig);
    sig = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), digest, 31,
                                                                  "ECDSA_SHA_256", "DIGEST", &sig));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), msg,
                                                                  sizeof msg, "ECDSA_SHA_256", "HASHED", &sig));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), msg,
                                                                  sizeof msg, "ECDSA_SHA_999", NULL, &sig));
    EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), msg,
                                                                   sizeof msg, "RSASSA_PSS_SHA_256", NULL, &sig));
    CHECK(sig == SENTINEL);
    OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(ec_key), &der));
    CHECK(der->len == 91); /* P-256 SubjectPublicKeyInfo */
    sealbox_buffer_free(der);
    /* The other curves: each signs with its own algorithm only. */
    check_ec_spec(ks, "ECC_NIST_P384", "ECDSA_SHA_384", "ECDSA_SHA_256", 120);
    check_ec_spec(ks, "ECC_NIST_P521", "ECDSA_SHA_512", "ECDSA_SHA_384", 158);
    check_ec_spec(ks, "ECC_SECG_P256K1", "ECDSA_SHA_256", "ECDSA_SHA_384", 88);
    check_ec_spec(ks, "ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "ECDSA_SHA_256", 44);
    {
        /* DeriveSharedSecret: two KEY_AGREEMENT keys agree on one secret
         * (each with the other's public key); a peer on another curve and a
         * missing algorithm are refused, the output untouched. */
        sealbox_create_key_request *ka_req = NULL;
        sealbox_key_metadata *a = NULL, *b = NULL, *c = NULL;
        sealbox_buffer *pa = NULL, *pb = NULL, *pc = NULL, *sab = NULL, *sba = NULL, *none = SENTINEL;
        OK(sealbox_create_key_request_new(&ka_req));
        OK(sealbox_create_key_request_set_key_spec(ka_req, "ECC_NIST_P521"));
        OK(sealbox_create_key_request_set_key_usage(ka_req, "KEY_AGREEMENT"));
        OK(sealbox_keystore_create_key(ks, ka_req, &a));
        OK(sealbox_keystore_create_key(ks, ka_req, &b));
        CHECK_STR(sealbox_key_metadata_key_usage(a), "KEY_AGREEMENT");
        OK(sealbox_create_key_request_set_key_spec(ka_req, "ECC_NIST_P256"));
        OK(sealbox_keystore_create_key(ks, ka_req, &c));
        OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(a), &pa));
        OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(b), &pb));
        OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(c), &pc));
        OK(sealbox_keystore_derive_shared_secret(ks, sealbox_key_metadata_key_id(a), pb->data, pb->len, "ECDH", &sab));
        OK(sealbox_keystore_derive_shared_secret(ks, sealbox_key_metadata_key_id(b), pa->data, pa->len, "ECDH", &sba));
        CHECK(sab->len == 66 && sba->len == 66 && memcmp(sab->data, sba->data, 66) == 0);
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_keystore_derive_shared_secret(ks, sealbox_key_metadata_key_id(a), pc->data, pc->len, "ECDH",
                                                     &none));
        EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
               sealbox_keystore_derive_shared_secret(ks, sealbox_key_metadata_key_id(a), pb->data, pb->len, NULL,
                                                     &none));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_keystore_derive_shared_secret(ks, sealbox_key_metadata_key_id(a), pb->data, pb->len, "DH",
                                                     &none));
        CHECK(none == SENTINEL);
        sealbox_buffer_free(pa);
        sealbox_buffer_free(pb);
        sealbox_buffer_free(pc);
        sealbox_buffer_free(sab);
        sealbox_buffer_free(sba);
        sealbox_key_metadata_free(a);
        sealbox_key_metadata_free(b);
        sealbox_key_metadata_free(c);
        sealbox_create_key_request_free(ka_req);
    }
    {
        /* Ed25519 signs the message itself: 64 bytes, RAW only. */
        static const uint8_t m[] = "ed25519";
        uint8_t digest[64] = {0};
        sealbox_create_key_request *ed_req = NULL;
        sealbox_key_metadata *ed = NULL;
        sealbox_buffer *ed_sig = NULL;
        OK(sealbox_create_key_request_new(&ed_req));
        OK(sealbox_create_key_request_set_key_spec(ed_req, "ECC_NIST_EDWARDS25519"));
        OK(sealbox_keystore_create_key(ks, ed_req, &ed));
        OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ed), m, sizeof m, "ED25519_SHA_512", "RAW", &ed_sig));
        CHECK(ed_sig->len == 64);
        sealbox_buffer_free(ed_sig);
        ed_sig = SENTINEL;
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ed), digest,
                                                                      sizeof digest, "ED25519_SHA_512", "DIGEST",
                                                                      &ed_sig));
        CHECK(ed_sig == SENTINEL);
        sealbox_key_metadata_free(ed);
        sealbox_create_key_request_free(ed_req);
    }
    {
        /* ML-DSA-65 signs the message (RAW) or its 64-byte mu (EXTERNAL_MU),
         * never a digest; signatures are 3309 bytes. */
        static const uint8_t m[] = "post-quantum";
        uint8_t mu[64] = {7};
        sealbox_create_key_request *pq_req = NULL;
        sealbox_key_metadata *pq = NULL;
        sealbox_buffer *pq_sig = NULL, *pq_pub = NULL;
        OK(sealbox_create_key_request_new(&pq_req));
        OK(sealbox_create_key_request_set_key_spec(pq_req, "ML_DSA_65"));
        OK(sealbox_keystore_create_key(ks, pq_req, &pq));
        CHECK_STR(sealbox_key_metadata_key_spec(pq), "ML_DSA_65");
        OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(pq), &pq_pub));
        CHECK(pq_pub->len == 22 + 1952); /* RFC 9881 SubjectPublicKeyInfo */
        sealbox_buffer_free(pq_pub);
        OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(pq), m, sizeof m, "ML_DSA_SHAKE_256", NULL, &pq_sig));
        CHECK(pq_sig->len == 3309);
        valid = false;
        OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(pq), m, sizeof m, pq_sig->data, pq_sig->len,
                                   "ML_DSA_SHAKE_256", "RAW", &valid));
        CHECK(valid);
        OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(pq), m, sizeof m - 1, pq_sig->data, pq_sig->len,
                                   "ML_DSA_SHAKE_256", "RAW", &valid));
        CHECK(!valid);
        sealbox_buffer_free(pq_sig);
        OK(sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(pq), mu, sizeof mu, "ML_DSA_SHAKE_256",
                                 "EXTERNAL_MU", &pq_sig));
        OK(sealbox_keystore_verify(ks, sealbox_key_metadata_key_id(pq), mu, sizeof mu, pq_sig->data, pq_sig->len,
                                   "ML_DSA_SHAKE_256", "EXTERNAL_MU", &valid));
        CHECK(valid);
        sealbox_buffer_free(pq_sig);
        pq_sig = SENTINEL;
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(pq), mu, 63,
                                                                      "ML_DSA_SHAKE_256", "EXTERNAL_MU", &pq_sig));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(pq), mu, 64,
                                                                      "ML_DSA_SHAKE_256", "DIGEST", &pq_sig));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(ec_key), mu,
                                                                      64, "ECDSA_SHA_256", "EXTERNAL_MU", &pq_sig));
        EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(pq), m,
                                                                       sizeof m, "ECDSA_SHA_256", NULL, &pq_sig));
        CHECK(pq_sig == SENTINEL);
        sealbox_key_metadata_free(pq);
        sealbox_create_key_request_free(pq_req);
    }
    OK(sealbox_keystore_get_public_key_pem(ks, sealbox_key_metadata_key_id(ec_key), &pem));
    CHECK(strncmp((const char *)pem->data, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
    CHECK(strlen((const char *)pem->data) == pem->len);
    sealbox_buffer_free(pem);

    /* RSA 2048 from OpenSSL (bring your own key): its public key comes back
     * exactly as OpenSSL writes it; OAEP round trip; PSS signature. */
    OK(sealbox_create_key_request_set_key_spec(req, "RSA_3072"));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_keystore_import_key(ks, req, rsa_der, der_len, &bad));
    OK(sealbox_create_key_request_set_key_spec(req, "RSA_2048"));
    OK(sealbox_create_key_request_set_key_usage(req, "ENCRYPT_DECRYPT"));
    OK(sealbox_keystore_import_key(ks, req, rsa_der, der_len, &rsa));
    CHECK_STR(sealbox_key_metadata_origin(rsa), "EXTERNAL");
    OK(sealbox_keystore_get_public_key(ks, sealbox_key_metadata_key_id(rsa), &der));
    CHECK_BYTES(der->data, der->len, rsa_pub, pub_len);
    sealbox_buffer_free(der);
    OK(sealbox_keystore_encrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), msg, sizeof msg, "RSAES_OAEP_SHA_256", &ct));
    CHECK(ct->len == 256);
    OK(sealbox_keystore_decrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), ct->data, ct->len, "RSAES_OAEP_SHA_256", &pt));
    CHECK_BYTES(pt->data, pt->len, msg, sizeof msg);
    sealbox_buffer_free(pt);
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_DECRYPTION_FAILED, sealbox_keystore_decrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), ct->data,
                                                                          ct->len, "RSAES_OAEP_SHA_1", &pt));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_decrypt_rsa(ks, sealbox_key_metadata_key_id(rsa), ct->data,
                                                                         ct->len, "RSAES_PKCS1", &pt));
    CHECK(pt == SENTINEL);
    sealbox_buffer_free(ct);
    /* Imported material is not rotated by sealbox; RSA keys never are. */
    EXPECT(SEALBOX_RESULT_UNSUPPORTED, sealbox_keystore_rotate_key(ks, sealbox_key_metadata_key_id(rsa), NULL));
    /* An ENCRYPT_DECRYPT RSA key does not sign. */
    sig = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE, sealbox_keystore_sign(ks, sealbox_key_metadata_key_id(rsa), msg,
                                                                   sizeof msg, "RSASSA_PSS_SHA_256", NULL, &sig));
    CHECK(sig == SENTINEL);

    /* HMAC. */
    OK(sealbox_create_key_request_set_key_spec(req, "HMAC_256"));
    OK(sealbox_create_key_request_set_key_usage(req, "GENERATE_VERIFY_MAC"));
    OK(sealbox_keystore_create_key(ks, req, &hmac));
    OK(sealbox_keystore_generate_mac(ks, sealbox_key_metadata_key_id(hmac), msg, sizeof msg, "HMAC_SHA_256", &mac));
    CHECK(mac->len == 32);
    OK(sealbox_keystore_verify_mac(ks, sealbox_key_metadata_key_id(hmac), msg, sizeof msg, mac->data, mac->len,
                                   "HMAC_SHA_256", &valid));
    CHECK(valid);
    OK(sealbox_keystore_verify_mac(ks, sealbox_key_metadata_key_id(hmac), msg, sizeof msg, mac->data, mac->len - 1,
                                   "HMAC_SHA_256", &valid));
    CHECK(!valid);
    EXPECT(SEALBOX_RESULT_INVALID_KEY_USAGE, sealbox_keystore_verify_mac(ks, sealbox_key_metadata_key_id(hmac), msg,
                                                                         sizeof msg, mac->data, mac->len,
                                                                         "HMAC_SHA_512", &valid));
    sealbox_buffer_free(mac);

    /* Imported AES material: exactly 32 bytes. */
    OK(sealbox_create_key_request_set_key_spec(req, "AES_256"));
    OK(sealbox_create_key_request_set_key_usage(req, "ENCRYPT_DECRYPT"));
    EXPECT(SEALBOX_RESULT_INVALID_KEY, sealbox_keystore_import_key(ks, req, material, 31, &bad));
    CHECK(bad == SENTINEL);
    OK(sealbox_keystore_import_key(ks, NULL, material, sizeof material, &aes));
    CHECK_STR(sealbox_key_metadata_origin(aes), "EXTERNAL");

    sealbox_create_key_request_free(req);
    sealbox_key_metadata_free(aes);
    sealbox_key_metadata_free(hmac);
    sealbox_key_metadata_free(rsa);
    sealbox_key_metadata_free(ec_key);
    free(rsa_der);
    free(rsa_pub);
}

/* Envelope encryption with a key-store key, through a caching CMM. */
static void test_keystore_keyring(const sealbox_keystore *ks) {
    sealbox_key_metadata *md = NULL;
    const sealbox_keyring *kr = NULL, *missing = NULL;
    const sealbox_cmm *cmm = NULL, *cache = NULL, *missing_cmm = NULL;
    sealbox_buffer *msg = NULL, *pt = NULL;
    context_t ec = {0};
    uint64_t before, after, hits = 0, misses = 0;
    int i;

    context_add(&ec, "tenant", "acme");
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    OK(sealbox_keystore_create_alias(ks, "alias/envelope", sealbox_key_metadata_key_id(md)));
    OK(sealbox_keystore_keyring_new(ks, "alias/envelope", &kr));
    OK(sealbox_default_cmm_new(kr, &cmm));
    OK(sealbox_caching_cmm_new(cmm, 60.0, 0, 0, 0, NULL, &cache));
    before = sealbox_keystore_operation_count(ks, "GenerateDataKey");
    for (i = 0; i < 5; i++) {
        OK(sealbox_encrypt(cache, (const uint8_t *)"row", 3, CTX(&ec), NULL, &msg));
        OK(sealbox_decrypt(cmm, msg->data, msg->len, CTX(&ec), NULL, &pt, NULL));
        CHECK_BYTES(pt->data, pt->len, "row", (size_t)3);
        sealbox_buffer_free(pt);
        sealbox_buffer_free(msg);
    }
    after = sealbox_keystore_operation_count(ks, "GenerateDataKey");
    CHECK(after - before == 1); /* one data key for five messages */
    CHECK(sealbox_keystore_operation_count(ks, "NoSuchOperation") == 0);
    CHECK(sealbox_keystore_operation_count(ks, NULL) == 0);
    OK(sealbox_cmm_cache_stats(cache, &hits, &misses));
    CHECK(hits == 4 && misses == 1);

    /* A keyring over a missing key fails on use. */
    OK(sealbox_keystore_keyring_new(ks, "alias/missing", &missing));
    OK(sealbox_default_cmm_new(missing, &missing_cmm));
    msg = SENTINEL;
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_encrypt(missing_cmm, (const uint8_t *)"x", 1, NO_CTX, NULL, &msg));
    CHECK(msg == SENTINEL);
    /* A disabled key: no new data keys. */
    OK(sealbox_keystore_disable_key(ks, "alias/envelope"));
    EXPECT(SEALBOX_RESULT_KEY_DISABLED, sealbox_encrypt(cmm, (const uint8_t *)"x", 1, NO_CTX, NULL, &msg));
    OK(sealbox_keystore_enable_key(ks, "alias/envelope"));

    sealbox_cmm_free(missing_cmm);
    sealbox_keyring_free(missing);
    sealbox_cmm_free(cache);
    sealbox_cmm_free(cmm);
    sealbox_keyring_free(kr);
    sealbox_key_metadata_free(md);
    context_free(&ec);
}

/* Counts the records of sealbox_keystore_audit_records. */
static int count_record(void *userdata, uint64_t seq, const uint8_t *line, size_t len) {
    size_t *count = userdata;
    (void)seq;
    if (len == 0 || line[0] != '{') return 1;
    (*count)++;
    return 0;
}

static void test_audit(const sealbox_keystore *ks, const char *audit_path) {
    audit_sink_t sink;
    sealbox_buffer *b = NULL, *problem = SENTINEL;
    uint64_t records = 0, bad_line = 99;
    unsigned long before;
    size_t len = 0, i, line = 0;
    uint8_t *log;
    FILE *f;

    memset(&sink, 0, sizeof sink);
    pthread_mutex_init(&sink.lock, NULL);
    OK(sealbox_keystore_add_audit_callback(ks, on_audit, &sink));
    before = sink.events;
    OK(sealbox_keystore_generate_random(ks, 8, &b));
    sealbox_buffer_free(b);
    CHECK(sink.events == before + 1);
    CHECK(strstr(sink.last, "\"operation\":\"GenerateRandom\"") != NULL);
    CHECK(strstr(sink.last, "\"principal\":\"c-tests\"") != NULL);
    CHECK(strstr(sink.last, "\"outcome\":\"allowed\"") != NULL);
    /* A callback that fails stops the operation. */
    sink.fail_next = 1;
    b = SENTINEL;
    EXPECT(SEALBOX_RESULT_AUDIT_ERROR, sealbox_keystore_generate_random(ks, 8, &b));
    CHECK(b == SENTINEL);
    CHECK_DETAIL("audit callback returned 5");

    /* The chained log verifies... */
    OK(sealbox_keystore_verify_audit_log(ks, &records, &bad_line, &problem));
    if (bad_line != 0) fprintf(stderr, "records %llu, first bad line %llu\n", (unsigned long long)records, (unsigned long long)bad_line);
    CHECK(records > 20 && bad_line == 0 && problem == NULL);
    /* ...and reads back record by record (the file's lines, seq 0, 1, ...). */
    {
        size_t count = 0;
        uint64_t after = 1;
        OK(sealbox_keystore_audit_records(ks, NULL, 1000000, count_record, &count, NULL));
        CHECK(count == records);
        count = 0;
        OK(sealbox_keystore_audit_records(ks, &after, 1000000, count_record, &count, NULL));
        CHECK(count == records - 2);
    }
    /* ...until a record is edited. */
    log = read_file(audit_path, &len);
    CHECK(log != NULL && len > 0);
    for (i = 0; i < len && line < 3; i++) {
        if (log[i] == '\n') line++;
    }
    /* Third record: change one character of its time. */
    CHECK(memcmp(log + i, "{", 1) == 0);
    {
        uint8_t *t = (uint8_t *)strstr((char *)log + i, "\"time\":\"");
        CHECK(t != NULL);
        t[10] = t[10] == '1' ? '2' : '1';
    }
    f = fopen(audit_path, "wb");
    CHECK(f != NULL && fwrite(log, 1, len, f) == len && fclose(f) == 0);
    free(log);
    OK(sealbox_keystore_verify_audit_log(ks, &records, &bad_line, &problem));
    CHECK(bad_line == 4 && records == 3);
    CHECK(problem != NULL && problem->len > 0);
    sealbox_buffer_free(problem);
    OK(sealbox_keystore_verify_audit_log(ks, &records, &bad_line, NULL));
    CHECK(bad_line == 4);
    pthread_mutex_destroy(&sink.lock);
}

/* Imported material that expires, is deleted and is imported again. */
static void test_imported_material(const sealbox_keystore *ks) {
    static const uint8_t material[32] = {0x42, 1, 2, 3};
    static const uint8_t other[32] = {0x43};
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *md = NULL, *md2 = SENTINEL;
    sealbox_buffer *ct = NULL, *pt = NULL;
    char id[64];
    size_t purged = 9;
    int64_t valid_to = (int64_t)time(NULL) + 2;

    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_valid_to(req, (int64_t)time(NULL) - 10));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_import_key(ks, req, material, sizeof material, &md2));
    OK(sealbox_create_key_request_set_valid_to(req, valid_to));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_key(ks, req, &md2));
    CHECK(md2 == SENTINEL);
    OK(sealbox_keystore_import_key(ks, req, material, sizeof material, &md));
    snprintf(id, sizeof id, "%s", sealbox_key_metadata_key_id(md));
    CHECK(sealbox_key_metadata_valid_to(md) == valid_to);
    {
        bool present = false;
        int64_t version_valid_to = 0;
        OK(sealbox_key_metadata_version_material(md, 0, &present, &version_valid_to));
        CHECK(present && version_valid_to == valid_to);
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_key_metadata_version_material(md, 1, &present, &version_valid_to));
    }
    CHECK_STR(sealbox_key_metadata_key_state(md), "Enabled");
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_encrypt(ks, id, (const uint8_t *)"pan", 3, NO_CTX, &ct));

    /* Past ValidTo: refused, PendingImport; the purge destroys it. */
    while ((int64_t)time(NULL) < valid_to + 1) {
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_KEY_DISABLED, sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    CHECK(pt == SENTINEL);
    OK(sealbox_keystore_purge_expired_material(ks, &purged));
    CHECK(purged == 1);
    OK(sealbox_keystore_describe_key(ks, id, &md));
    CHECK_STR(sealbox_key_metadata_key_state(md), "PendingImport");
    {
        bool present = true;
        int64_t version_valid_to = 0;
        OK(sealbox_key_metadata_version_material(md, 0, &present, &version_valid_to));
        CHECK(!present);
    }
    sealbox_key_metadata_free(md);

    /* Only the same material comes back; then it decrypts again. */
    EXPECT(SEALBOX_RESULT_INVALID_KEY,
           sealbox_keystore_import_key_material(ks, id, other, sizeof other, 0, &md2));
    CHECK(md2 == SENTINEL);
    OK(sealbox_keystore_import_key_material(ks, id, material, sizeof material, 0, &md));
    CHECK_STR(sealbox_key_metadata_key_state(md), "Enabled");
    CHECK(sealbox_key_metadata_valid_to(md) == 0);
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    CHECK_BYTES(pt->data, pt->len, "pan", (size_t)3);
    sealbox_buffer_free(pt);

    /* Deleted on request; a generated key has no material to delete. */
    OK(sealbox_keystore_delete_imported_key_material(ks, id));
    pt = SENTINEL;
    EXPECT(SEALBOX_RESULT_KEY_DISABLED, sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    OK(sealbox_keystore_import_key_material(ks, id, material, sizeof material, 0, &md));
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    sealbox_buffer_free(pt);
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    EXPECT(SEALBOX_RESULT_UNSUPPORTED, sealbox_keystore_delete_imported_key_material(ks, sealbox_key_metadata_key_id(md)));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_delete_imported_key_material(ks, NULL));
    sealbox_key_metadata_free(md);
    sealbox_buffer_free(ct);
    sealbox_create_key_request_free(req);
}

/* Decrypt and GenerateDataKey for a recipient: OpenSSL opens the CMS
 * EnvelopedData with the recipient's private key. */
static void test_for_recipient(const sealbox_keystore *ks) {
    size_t pub_len = 0, out_len = 0;
    uint8_t *pub = read_file(scratch("rsa_public.der"), &pub_len);
    uint8_t *opened;
    sealbox_key_metadata *k = NULL;
    sealbox_buffer *blob = NULL, *cms = NULL, *ct = NULL, *pt = NULL, *none = SENTINEL;
    char cmd[4096];
    FILE *f;

    CHECK(pub != NULL);
    OK(sealbox_keystore_create_key(ks, NULL, &k));
    OK(sealbox_keystore_encrypt(ks, sealbox_key_metadata_key_id(k), (const uint8_t *)"for bob only", 12, NO_CTX, &blob));
    OK(sealbox_keystore_decrypt_for_recipient(ks, blob->data, blob->len, NO_CTX, pub, pub_len, &cms));
    f = fopen(scratch("recipient.cms"), "wb");
    CHECK(f != NULL && fwrite(cms->data, 1, cms->len, f) == cms->len && fclose(f) == 0);
    snprintf(cmd, sizeof cmd, "openssl cms -decrypt -inform DER -in '%s' -inkey '%s' -out '%s'",
             scratch("recipient.cms"), scratch("rsa_private.pem"), scratch("recipient.out"));
    CHECK(system(cmd) == 0);
    opened = read_file(scratch("recipient.out"), &out_len);
    CHECK_BYTES(opened, out_len, "for bob only", (size_t)12);
    free(opened);
    sealbox_buffer_free(cms);

    OK(sealbox_keystore_generate_data_key_for_recipient(ks, sealbox_key_metadata_key_id(k), 32, NO_CTX, pub, pub_len,
                                                         &cms, &ct));
    OK(sealbox_keystore_decrypt(ks, ct->data, ct->len, NO_CTX, &pt));
    f = fopen(scratch("recipient.cms"), "wb");
    CHECK(f != NULL && fwrite(cms->data, 1, cms->len, f) == cms->len && fclose(f) == 0);
    CHECK(system(cmd) == 0);
    opened = read_file(scratch("recipient.out"), &out_len);
    CHECK_BYTES(opened, out_len, pt->data, pt->len);
    free(opened);

    /* Not an RSA public key: refused, nothing written. */
    EXPECT(SEALBOX_RESULT_INVALID_KEY,
           sealbox_keystore_decrypt_for_recipient(ks, blob->data, blob->len, NO_CTX, (const uint8_t *)"junk", 4, &none));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_decrypt_for_recipient(ks, blob->data, blob->len, NO_CTX, NULL, 4, &none));
    CHECK(none == SENTINEL);
    sealbox_buffer_free(cms);
    sealbox_buffer_free(ct);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(blob);
    sealbox_key_metadata_free(k);
    free(pub);
}

int main(int argc, char **argv) {
    const sealbox_keystore *ks;
    static uint8_t other_root[32] = {8};
    char db[1024];
    if (argc > 1) scratch_dir = argv[1];
    snprintf(db, sizeof db, "%s", scratch("keys.db"));

    test_root_keys();
    ks = open_store(db, ".audit.jsonl", root_bytes, SEALBOX_RESULT_OK);
    {
        /* A SQLite store reads metadata every time unless told otherwise. */
        uint64_t ttl = 99;
        OK(sealbox_keystore_metadata_cache_ttl_ms(ks, &ttl));
        CHECK(ttl == 0);
    }
    test_lifecycle(ks);
    test_symmetric(ks);
    test_asymmetric_and_mac(ks);
    test_imported_material(ks);
    test_for_recipient(ks);
    test_keystore_keyring(ks);
    /* The same store, opened again alongside: the right root key works, a
     * wrong one is refused. Both instances append to the store's one audit
     * chain; a log without the records the store anchored (a fresh file
     * named instead) is refused. */
    {
        const sealbox_keystore *again = open_store(db, ".audit.jsonl", root_bytes, SEALBOX_RESULT_OK);
        sealbox_key_metadata *md = NULL;
        OK(sealbox_keystore_describe_key(again, "alias/orders", &md));
        sealbox_key_metadata_free(md);
        sealbox_keystore_free(again);
        open_store(db, ".again.audit.jsonl", root_bytes, SEALBOX_RESULT_AUDIT_LOG_TAMPERED);
        open_store(db, ".wrong.audit.jsonl", other_root, SEALBOX_RESULT_WRONG_ROOT_KEY);
    }
    {
        char audit[1100];
        snprintf(audit, sizeof audit, "%s.audit.jsonl", db);
        test_audit(ks, audit);
    }
    sealbox_keystore_free(ks);
    return finish("test_keystore");
}
