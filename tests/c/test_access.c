/*
 * Access control from C (issue 16), the scenarios of core/tests/access.rs:
 * principals and sealbox_keystore_as_principal, a policy with an
 * encryption-context condition, explicit deny, an allowed and a denied case
 * for every key-store operation that takes a key, the lockout check, the
 * creator default policy, grants with context constraints, retire and
 * revoke, and the denial's audit record (outcome "denied"); NULLs and bad
 * text answered by their codes.
 *
 *   test_access SCRATCH_DIR
 */
#include <pthread.h>
#include <stdbool.h>

#include "check.h"

static const uint8_t root_bytes[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                       9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static const char ADMIN_ONLY[] =
    "{\"Version\": \"2012-10-17\", \"Statement\": ["
    "{\"Sid\": \"Admin\", \"Effect\": \"Allow\", \"Principal\": {\"Sealbox\": [\"admin\"]},"
    " \"Action\": \"kms:*\", \"Resource\": \"*\"}]}";

/* admin: everything; app: the data plane for tenant t1 only, never for an
 * "export" purpose; auditor: DescribeKey. */
static const char SPLIT[] =
    "{\"Version\": \"2012-10-17\", \"Statement\": ["
    "{\"Sid\": \"Admin\", \"Effect\": \"Allow\", \"Principal\": {\"Sealbox\": \"admin\"},"
    " \"Action\": \"kms:*\", \"Resource\": \"*\"},"
    "{\"Sid\": \"AppDataPlane\", \"Effect\": \"Allow\", \"Principal\": {\"Sealbox\": [\"app\"]},"
    " \"Action\": [\"kms:Encrypt\", \"kms:Decrypt\", \"kms:GenerateDataKey*\", \"kms:ReEncrypt*\"],"
    " \"Resource\": \"*\","
    " \"Condition\": {\"StringEquals\": {\"kms:EncryptionContext:tenant\": \"t1\"}}},"
    "{\"Sid\": \"NoExport\", \"Effect\": \"Deny\", \"Principal\": \"*\","
    " \"Action\": \"kms:Decrypt\", \"Resource\": \"*\","
    " \"Condition\": {\"StringEquals\": {\"kms:EncryptionContext:purpose\": \"export\"}}},"
    "{\"Sid\": \"Auditor\", \"Effect\": \"Allow\", \"Principal\": {\"Sealbox\": \"auditor\"},"
    " \"Action\": \"kms:DescribeKey\", \"Resource\": \"*\"}]}";

/* The SPLIT policy with the admin's statement given to the app: it would
 * lock the admin out. */
static const char APP_ONLY[] =
    "{\"Version\": \"2012-10-17\", \"Statement\": ["
    "{\"Sid\": \"App\", \"Effect\": \"Allow\", \"Principal\": {\"Sealbox\": \"app\"},"
    " \"Action\": \"kms:*\", \"Resource\": \"*\"}]}";

/* The last audit event of the store, as JSON. */
typedef struct {
    pthread_mutex_t lock;
    unsigned long events;
    char last[4096];
} audit_sink_t;

static audit_sink_t sink = {PTHREAD_MUTEX_INITIALIZER, 0, {0}};

static int on_audit(void *userdata, const uint8_t *json, size_t len) {
    audit_sink_t *s = userdata;
    pthread_mutex_lock(&s->lock);
    s->events++;
    if (len >= sizeof s->last) len = sizeof s->last - 1;
    memcpy(s->last, json, len);
    s->last[len] = 0;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* The last audit event contains `needle`. */
#define CHECK_EVENT(needle)                                                 \
    do {                                                                    \
        if (strstr(sink.last, (needle)) == NULL)                            \
            check_failed(__FILE__, __LINE__, "event contains " #needle,     \
                         "event is %s", sink.last);                         \
        checks_passed++;                                                    \
    } while (0)

/* `call` is refused as ACCESS_DENIED; the detail and the audit record (of
 * outcome "denied") both say `why`. */
#define DENIED(call, why)                                                   \
    do {                                                                    \
        EXPECT(SEALBOX_RESULT_ACCESS_DENIED, call);                         \
        CHECK_DETAIL(why);                                                  \
        CHECK_EVENT("\"outcome\":\"denied\"");                              \
        CHECK_EVENT(why);                                                   \
    } while (0)

static const sealbox_keystore *open_store(const char *db, const char *principal, const char *default_policy) {
    sealbox_root_key *rk = NULL;
    sealbox_keystore_options *o = NULL;
    const sealbox_keystore *ks = NULL;
    OK(sealbox_root_key_from_bytes(root_bytes, 32, &rk));
    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_principal(o, principal));
    if (default_policy != NULL) OK(sealbox_keystore_options_set_default_policy(o, default_policy));
    OK(sealbox_keystore_open(db, rk, o, &ks));
    sealbox_keystore_options_free(o);
    sealbox_root_key_free(rk);
    return ks;
}

/* A new key of `spec` with `policy`; its ID into `id`. */
static void create(const sealbox_keystore *ks, const char *spec, const char *policy, char id[64]) {
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *md = NULL;
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_key_spec(req, spec));
    if (policy != NULL) OK(sealbox_create_key_request_set_policy(req, policy, false));
    OK(sealbox_keystore_create_key(ks, req, &md));
    snprintf(id, 64, "%s", sealbox_key_metadata_key_id(md));
    sealbox_key_metadata_free(md);
    sealbox_create_key_request_free(req);
}

static void test_principals(const sealbox_keystore *ks) {
    const sealbox_keystore *billing = SENTINEL;
    sealbox_buffer *name = NULL;
    char key[64];
    OK(sealbox_keystore_principal(ks, &name));
    CHECK_STR((const char *)name->data, "c-access");
    CHECK(name->len == strlen("c-access"));
    sealbox_buffer_free(name);
    OK(sealbox_keystore_as_principal(ks, "billing", &billing));
    OK(sealbox_keystore_principal(billing, &name));
    CHECK_STR((const char *)name->data, "billing");
    sealbox_buffer_free(name);
    /* The same store; its records name the principal. */
    create(ks, "AES_256", NULL, key);
    {
        sealbox_key_metadata *md = NULL;
        OK(sealbox_keystore_describe_key(billing, key, &md));
        CHECK_STR(sealbox_key_metadata_key_id(md), key);
        sealbox_key_metadata_free(md);
    }
    CHECK_EVENT("\"principal\":\"billing\"");
    /* Freed independently: the first handle goes on working. */
    sealbox_keystore_free(billing);
    OK(sealbox_keystore_principal(ks, &name));
    sealbox_buffer_free(name);
    /* Bad names and NULLs. */
    billing = SENTINEL;
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_as_principal(ks, "", &billing));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_as_principal(ks, "a\nb", &billing));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_as_principal(ks, "\xff\xfe", &billing));
    CHECK_DETAIL("UTF-8");
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_as_principal(ks, NULL, &billing));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_as_principal(NULL, "x", &billing));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_as_principal(ks, "x", NULL));
    CHECK(billing == SENTINEL);
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_principal(NULL, &name));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_principal(ks, NULL));
}

static void test_policy_conditions(const sealbox_keystore *admin) {
    const sealbox_keystore *app = NULL, *auditor = NULL;
    context_t t1 = {0}, t2 = {0}, exp = {0};
    sealbox_buffer *blob = NULL, *b2 = NULL, *pt = NULL, *policy = NULL, *ct = SENTINEL;
    sealbox_key_metadata *md = NULL;
    char key[64];
    create(admin, "AES_256", SPLIT, key);
    OK(sealbox_keystore_as_principal(admin, "app", &app));
    OK(sealbox_keystore_as_principal(admin, "auditor", &auditor));
    context_add(&t1, "tenant", "t1");
    context_add(&t2, "tenant", "t2");
    context_add(&exp, "tenant", "t1");
    context_add(&exp, "purpose", "export");
    /* Allowed inside the condition. */
    OK(sealbox_keystore_encrypt(app, key, (const uint8_t *)"card", 4, CTX(&t1), &blob));
    CHECK_EVENT("\"principal\":\"app\"");
    CHECK_EVENT("\"outcome\":\"allowed\"");
    OK(sealbox_keystore_decrypt(app, blob->data, blob->len, CTX(&t1), &pt));
    CHECK_BYTES(pt->data, pt->len, "card", 4);
    sealbox_buffer_free(pt);
    /* Outside it: no statement allows; nothing is written. */
    DENIED(sealbox_keystore_encrypt(app, key, (const uint8_t *)"x", 1, CTX(&t2), &ct),
           "no statement or grant allows kms:Encrypt");
    CHECK(ct == SENTINEL);
    CHECK_EVENT("\"principal\":\"app\"");
    DENIED(sealbox_keystore_generate_data_key_without_plaintext(app, key, 32, NO_CTX, &ct), "kms:GenerateDataKey");
    /* Explicit deny wins over the allow, for the admin too. */
    OK(sealbox_keystore_encrypt(app, key, (const uint8_t *)"x", 1, CTX(&exp), &b2));
    DENIED(sealbox_keystore_decrypt(app, b2->data, b2->len, CTX(&exp), &pt), "NoExport");
    DENIED(sealbox_keystore_decrypt(admin, b2->data, b2->len, CTX(&exp), &pt), "NoExport");
    /* Management is not the app's; the auditor may only describe. */
    DENIED(sealbox_keystore_disable_key(app, key), "kms:DisableKey");
    OK(sealbox_keystore_describe_key(auditor, key, &md));
    CHECK_STR(sealbox_key_metadata_key_state(md), "Enabled");
    sealbox_key_metadata_free(md);
    DENIED(sealbox_keystore_decrypt(auditor, blob->data, blob->len, CTX(&t1), &pt), "kms:Decrypt");
    /* The policy reads back as JSON text. */
    OK(sealbox_keystore_get_key_policy(admin, key, &policy));
    CHECK(strstr((const char *)policy->data, "\"AppDataPlane\"") != NULL);
    CHECK(strstr((const char *)policy->data, "\"NoExport\"") != NULL);
    CHECK(policy->data[policy->len] == 0);
    sealbox_buffer_free(policy);
    sealbox_buffer_free(blob);
    sealbox_buffer_free(b2);
    context_free(&t1);
    context_free(&t2);
    context_free(&exp);
    sealbox_keystore_free(app);
    sealbox_keystore_free(auditor);
}

/* ----------------------------------------------- every operation, a table -- */

static struct {
    char aes[64], ecc[64], rsa[64], hmac[64], other[64];
    sealbox_buffer *blob, *sig, *mac, *rsa_ct;
    char grant[128];
    context_t ctx;
} ops;

/* Runs operation `i` as `k`; frees whatever it returned. */
static sealbox_result run_op(int i, const sealbox_keystore *k) {
    sealbox_buffer *b = NULL, *b2 = NULL;
    sealbox_key_metadata *md = NULL;
    int64_t when = 0;
    uint32_t version = 0;
    bool valid = false;
    const uint8_t m[1] = {'m'};
    const char *tag_keys[1] = {"t"}, *tag_values[1] = {"v"};
    const char *grant_ops[1] = {"Encrypt"};
    sealbox_result rc;
    switch (i) {
    case 0: rc = sealbox_keystore_describe_key(k, ops.aes, &md); break;
    case 1: rc = sealbox_keystore_disable_key(k, ops.other); break;
    case 2: rc = sealbox_keystore_enable_key(k, ops.other); break;
    case 3: rc = sealbox_keystore_schedule_key_deletion(k, ops.other, 7, &when); break;
    case 4: rc = sealbox_keystore_cancel_key_deletion(k, ops.other); break;
    case 5: rc = sealbox_keystore_rotate_key(k, ops.aes, &version); break;
    case 6: rc = sealbox_keystore_enable_key_rotation(k, ops.aes, 90); break;
    case 7: rc = sealbox_keystore_disable_key_rotation(k, ops.aes); break;
    case 8: rc = sealbox_keystore_update_key_description(k, ops.aes, "d"); break;
    case 9: rc = sealbox_keystore_tag_key(k, ops.aes, tag_keys, tag_values, 1); break;
    case 10: rc = sealbox_keystore_untag_key(k, ops.aes, tag_keys, 1); break;
    case 11: rc = sealbox_keystore_create_alias(k, "alias/ops2", ops.aes); break;
    case 12: rc = sealbox_keystore_update_alias(k, "alias/ops2", ops.other); break;
    case 13: rc = sealbox_keystore_delete_alias(k, "alias/ops2"); break;
    case 14: rc = sealbox_keystore_encrypt(k, ops.aes, m, 1, CTX(&ops.ctx), &b); break;
    case 15: rc = sealbox_keystore_decrypt(k, ops.blob->data, ops.blob->len, CTX(&ops.ctx), &b); break;
    case 16:
        rc = sealbox_keystore_re_encrypt(k, ops.blob->data, ops.blob->len, CTX(&ops.ctx), ops.aes, CTX(&ops.ctx), &b);
        break;
    case 17: rc = sealbox_keystore_generate_data_key(k, ops.aes, 32, CTX(&ops.ctx), &b, &b2); break;
    case 18: rc = sealbox_keystore_generate_data_key_without_plaintext(k, ops.aes, 32, CTX(&ops.ctx), &b); break;
    case 19: rc = sealbox_keystore_sign(k, ops.ecc, m, 1, "ECDSA_SHA_256", "RAW", &b); break;
    case 20:
        rc = sealbox_keystore_verify(k, ops.ecc, m, 1, ops.sig->data, ops.sig->len, "ECDSA_SHA_256", "RAW", &valid);
        if (rc == SEALBOX_RESULT_OK && !valid) rc = SEALBOX_RESULT_INVALID_STATE;
        break;
    case 21: rc = sealbox_keystore_get_public_key(k, ops.ecc, &b); break;
    case 22: rc = sealbox_keystore_get_public_key_pem(k, ops.rsa, &b); break;
    case 23: rc = sealbox_keystore_encrypt_rsa(k, ops.rsa, m, 1, "RSAES_OAEP_SHA_256", &b); break;
    case 24:
        rc = sealbox_keystore_decrypt_rsa(k, ops.rsa, ops.rsa_ct->data, ops.rsa_ct->len, "RSAES_OAEP_SHA_256", &b);
        break;
    case 25: rc = sealbox_keystore_generate_mac(k, ops.hmac, m, 1, "HMAC_SHA_256", &b); break;
    case 26:
        rc = sealbox_keystore_verify_mac(k, ops.hmac, m, 1, ops.mac->data, ops.mac->len, "HMAC_SHA_256", &valid);
        if (rc == SEALBOX_RESULT_OK && !valid) rc = SEALBOX_RESULT_INVALID_STATE;
        break;
    case 27: rc = sealbox_keystore_get_key_policy(k, ops.aes, &b); break;
    case 28: rc = sealbox_keystore_put_key_policy(k, ops.aes, ADMIN_ONLY, false); break;
    case 29: rc = sealbox_keystore_list_grants(k, ops.aes, &b); break;
    case 30:
        rc = sealbox_keystore_create_grant(k, ops.aes, "x", grant_ops, 1, NULL, NULL, NULL, NULL, &b);
        break;
    case 31: rc = sealbox_keystore_revoke_grant(k, ops.aes, ops.grant); break;
    default: rc = SEALBOX_RESULT_INVALID_ARGUMENT; break;
    }
    sealbox_key_metadata_free(md);
    sealbox_buffer_free(b);
    sealbox_buffer_free(b2);
    return rc;
}

/* The policy action each operation of `run_op` is decided by. */
static const char *const OP_ACTIONS[] = {
    "kms:DescribeKey", "kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource", "kms:CreateAlias",
    "kms:UpdateAlias", "kms:DeleteAlias", "kms:Encrypt", "kms:Decrypt",
    "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Sign",
    "kms:Verify", "kms:GetPublicKey", "kms:GetPublicKey", "kms:Encrypt",
    "kms:Decrypt", "kms:GenerateMac", "kms:VerifyMac", "kms:GetKeyPolicy",
    "kms:PutKeyPolicy", "kms:ListGrants", "kms:CreateGrant", "kms:RevokeGrant",
};

static void test_every_operation(const sealbox_keystore *admin) {
    const sealbox_keystore *nobody = NULL;
    sealbox_buffer *id = NULL, *b = NULL;
    const char *decrypt_op[1] = {"Decrypt"};
    const size_t n = sizeof OP_ACTIONS / sizeof OP_ACTIONS[0];
    size_t i;
    sealbox_key_metadata *md = NULL;
    create(admin, "AES_256", ADMIN_ONLY, ops.aes);
    create(admin, "ECC_NIST_P256", ADMIN_ONLY, ops.ecc);
    create(admin, "HMAC_256", ADMIN_ONLY, ops.hmac);
    create(admin, "AES_256", ADMIN_ONLY, ops.other);
    {
        sealbox_create_key_request *req = NULL;
        OK(sealbox_create_key_request_new(&req));
        OK(sealbox_create_key_request_set_key_spec(req, "RSA_2048"));
        OK(sealbox_create_key_request_set_key_usage(req, "ENCRYPT_DECRYPT"));
        OK(sealbox_create_key_request_set_policy(req, ADMIN_ONLY, false));
        OK(sealbox_keystore_create_key(admin, req, &md));
        snprintf(ops.rsa, sizeof ops.rsa, "%s", sealbox_key_metadata_key_id(md));
        sealbox_key_metadata_free(md);
        sealbox_create_key_request_free(req);
    }
    context_add(&ops.ctx, "a", "b");
    OK(sealbox_keystore_encrypt(admin, ops.aes, (const uint8_t *)"x", 1, CTX(&ops.ctx), &ops.blob));
    OK(sealbox_keystore_sign(admin, ops.ecc, (const uint8_t *)"m", 1, "ECDSA_SHA_256", "RAW", &ops.sig));
    OK(sealbox_keystore_generate_mac(admin, ops.hmac, (const uint8_t *)"m", 1, "HMAC_SHA_256", &ops.mac));
    OK(sealbox_keystore_encrypt_rsa(admin, ops.rsa, (const uint8_t *)"r", 1, "RSAES_OAEP_SHA_256", &ops.rsa_ct));
    OK(sealbox_keystore_create_grant(admin, ops.aes, "someone", decrypt_op, 1, NULL, NULL, NULL, NULL, &id));
    snprintf(ops.grant, sizeof ops.grant, "%s", (const char *)id->data);
    sealbox_buffer_free(id);
    OK(sealbox_keystore_as_principal(admin, "nobody", &nobody));
    for (i = 0; i < n; i++) {
        sealbox_result rc;
        /* Denied first: nothing happens, the record says why. */
        DENIED(run_op((int)i, nobody), OP_ACTIONS[i]);
        CHECK_EVENT("\"principal\":\"nobody\"");
        /* Then allowed for the admin. */
        rc = run_op((int)i, admin);
        if (rc != SEALBOX_RESULT_OK)
            check_failed(__FILE__, __LINE__, OP_ACTIONS[i], "as admin: %u", (unsigned)rc);
        checks_passed++;
        CHECK_EVENT("\"outcome\":\"allowed\"");
        CHECK_EVENT("\"principal\":\"admin\"");
    }
    /* CreateKey, ListKeys and GenerateRandom are not governed by a key's policy. */
    OK(sealbox_keystore_create_key(nobody, NULL, &md));
    sealbox_key_metadata_free(md);
    OK(sealbox_keystore_generate_random(nobody, 8, &b));
    sealbox_buffer_free(b);
    sealbox_keystore_free(nobody);
    sealbox_buffer_free(ops.blob);
    sealbox_buffer_free(ops.sig);
    sealbox_buffer_free(ops.mac);
    sealbox_buffer_free(ops.rsa_ct);
    context_free(&ops.ctx);
}

static void test_lockout(const sealbox_keystore *admin) {
    const sealbox_keystore *app = NULL, *nobody = NULL;
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *md = NULL;
    sealbox_buffer *policy = NULL, *ct = NULL;
    char key[64], open_key[64];
    create(admin, "AES_256", SPLIT, key);
    /* A policy that leaves the admin unable to change it is refused... */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_put_key_policy(admin, key, APP_ONLY, false));
    CHECK_DETAIL("bypass_policy_lockout_safety_check");
    OK(sealbox_keystore_get_key_policy(admin, key, &policy));
    CHECK(strstr((const char *)policy->data, "AppDataPlane") != NULL);
    sealbox_buffer_free(policy);
    /* ...unless the caller says so; then the admin is locked out. */
    OK(sealbox_keystore_put_key_policy(admin, key, APP_ONLY, true));
    DENIED(sealbox_keystore_get_key_policy(admin, key, &policy), "kms:GetKeyPolicy");
    /* A bad policy is an invalid argument and changes nothing. */
    OK(sealbox_keystore_as_principal(admin, "app", &app));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_put_key_policy(app, key, "{\"Statement\": 3}", false));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_put_key_policy(app, key, "not json", false));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_put_key_policy(app, key, "\xff", false));
    CHECK_DETAIL("UTF-8");
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_put_key_policy(app, key, NULL, false));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_put_key_policy(app, NULL, ADMIN_ONLY, false));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_put_key_policy(NULL, key, ADMIN_ONLY, false));
    OK(sealbox_keystore_get_key_policy(app, key, &policy));
    CHECK(strstr((const char *)policy->data, "\"App\"") != NULL);
    sealbox_buffer_free(policy);
    policy = SENTINEL;
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_get_key_policy(app, NULL, &policy));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_get_key_policy(app, key, NULL));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_get_key_policy(app, "alias/none", &policy));
    CHECK(policy == SENTINEL);
    /* On a create-key request: checked when set, the lockout when creating. */
    OK(sealbox_create_key_request_new(&req));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_create_key_request_set_policy(req, "{", false));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_create_key_request_set_policy(req, NULL, false));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_create_key_request_set_policy(NULL, ADMIN_ONLY, false));
    OK(sealbox_create_key_request_set_policy(req, APP_ONLY, false));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_key(admin, req, &md));
    CHECK_DETAIL("bypass_policy_lockout_safety_check");
    OK(sealbox_create_key_request_set_policy(req, APP_ONLY, true));
    OK(sealbox_keystore_create_key(admin, req, &md));
    snprintf(key, sizeof key, "%s", sealbox_key_metadata_key_id(md));
    sealbox_key_metadata_free(md);
    sealbox_create_key_request_free(req);
    OK(sealbox_keystore_encrypt(app, key, (const uint8_t *)"x", 1, NO_CTX, &ct));
    sealbox_buffer_free(ct);
    DENIED(sealbox_keystore_encrypt(admin, key, (const uint8_t *)"x", 1, NO_CTX, &ct), "kms:Encrypt");
    /* A key made without a policy allows everyone (the default policy). */
    create(admin, "AES_256", NULL, open_key);
    OK(sealbox_keystore_as_principal(admin, "nobody", &nobody));
    OK(sealbox_keystore_encrypt(nobody, open_key, (const uint8_t *)"x", 1, NO_CTX, &ct));
    sealbox_buffer_free(ct);
    OK(sealbox_keystore_get_key_policy(nobody, open_key, &policy));
    CHECK(strstr((const char *)policy->data, "\"*\"") != NULL);
    sealbox_buffer_free(policy);
    sealbox_keystore_free(app);
    sealbox_keystore_free(nobody);
}

static void test_default_policy_creator(void) {
    const sealbox_keystore *a, *b, *b_as_a = NULL, *a_as_b = NULL;
    sealbox_keystore_options *o = NULL;
    sealbox_buffer *ct = NULL;
    char ka[64], kb[64];
    const char *db = scratch("creator.db");
    /* Only the two names. */
    OK(sealbox_keystore_options_new(&o));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_options_set_default_policy(o, "everyone"));
    CHECK_DETAIL("allow-all, creator");
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_options_set_default_policy(o, "\xc3"));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_options_set_default_policy(o, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_options_set_default_policy(NULL, "creator"));
    OK(sealbox_keystore_options_set_default_policy(o, "allow-all"));
    sealbox_keystore_options_free(o);

    a = open_store(db, "team-a", "creator");
    create(a, "AES_256", NULL, ka);
    OK(sealbox_keystore_encrypt(a, ka, (const uint8_t *)"x", 1, NO_CTX, &ct));
    sealbox_buffer_free(ct);
    OK(sealbox_keystore_as_principal(a, "team-b", &a_as_b));
    EXPECT(SEALBOX_RESULT_ACCESS_DENIED, sealbox_keystore_encrypt(a_as_b, ka, (const uint8_t *)"x", 1, NO_CTX, &ct));
    sealbox_keystore_free(a_as_b);
    sealbox_keystore_free(a);
    /* The setting is the store's: a handle opened without it follows it. */
    b = open_store(db, "team-b", NULL);
    create(b, "AES_256", NULL, kb);
    OK(sealbox_keystore_as_principal(b, "team-a", &b_as_a));
    EXPECT(SEALBOX_RESULT_ACCESS_DENIED, sealbox_keystore_encrypt(b_as_a, kb, (const uint8_t *)"x", 1, NO_CTX, &ct));
    OK(sealbox_keystore_encrypt(b_as_a, ka, (const uint8_t *)"x", 1, NO_CTX, &ct));
    sealbox_buffer_free(ct);
    sealbox_keystore_free(b_as_a);
    sealbox_keystore_free(b);
}

static void test_grants(const sealbox_keystore *admin) {
    const sealbox_keystore *batch = NULL, *ops_p = NULL, *svc = NULL;
    context_t t1 = {0}, t2 = {0}, t2more = {0}, sub = {0};
    sealbox_buffer *b1 = NULL, *b2 = NULL, *pt = NULL, *ct = NULL, *id = NULL, *list = NULL, *bad = SENTINEL;
    char key[64], subset[128], equals[128];
    const char *decrypt_op[1] = {"Decrypt"};
    const char *encrypt_op[1] = {"Encrypt"};
    const char *retire_ops[2] = {"Encrypt", "RetireGrant"};
    const char *bad_op[1] = {"Launch"};
    const char *null_op[1] = {NULL};
    create(admin, "AES_256", ADMIN_ONLY, key);
    OK(sealbox_keystore_as_principal(admin, "batch", &batch));
    context_add(&t1, "tenant", "t1");
    context_add(&t1, "job", "nightly");
    context_add(&t2, "tenant", "t2");
    context_add(&t2more, "tenant", "t2");
    context_add(&t2more, "more", "1");
    context_add(&sub, "tenant", "t1");
    OK(sealbox_keystore_encrypt(admin, key, (const uint8_t *)"one", 3, CTX(&t1), &b1));
    OK(sealbox_keystore_encrypt(admin, key, (const uint8_t *)"two", 3, CTX(&t2), &b2));
    DENIED(sealbox_keystore_decrypt(batch, b1->data, b1->len, CTX(&t1), &pt), "no statement or grant");
    /* Subset: the request's context includes tenant=t1. */
    OK(sealbox_keystore_create_grant(admin, key, "batch", decrypt_op, 1, "ops", "nightly-batch", NULL, CTX(&sub), &id));
    CHECK(id->len > 0 && id->data[id->len] == 0);
    snprintf(subset, sizeof subset, "%s", (const char *)id->data);
    sealbox_buffer_free(id);
    OK(sealbox_keystore_decrypt(batch, b1->data, b1->len, CTX(&t1), &pt));
    CHECK_BYTES(pt->data, pt->len, "one", 3);
    sealbox_buffer_free(pt);
    CHECK_EVENT("\"outcome\":\"allowed\"");
    DENIED(sealbox_keystore_decrypt(batch, b2->data, b2->len, CTX(&t2), &pt), "no statement or grant");
    DENIED(sealbox_keystore_encrypt(batch, key, (const uint8_t *)"x", 1, CTX(&t1), &ct), "kms:Encrypt");
    /* Equals: exactly that context. */
    OK(sealbox_keystore_create_grant(admin, key, "batch", encrypt_op, 1, NULL, NULL, CTX(&t2), NULL, &id));
    snprintf(equals, sizeof equals, "%s", (const char *)id->data);
    sealbox_buffer_free(id);
    OK(sealbox_keystore_encrypt(batch, key, (const uint8_t *)"x", 1, CTX(&t2), &ct));
    sealbox_buffer_free(ct);
    DENIED(sealbox_keystore_encrypt(batch, key, (const uint8_t *)"x", 1, CTX(&t2more), &ct), "kms:Encrypt");
    /* Listed as a JSON array. */
    OK(sealbox_keystore_list_grants(admin, key, &list));
    CHECK(list->data[0] == '[' && list->data[list->len - 1] == ']');
    CHECK(strstr((const char *)list->data, subset) != NULL);
    CHECK(strstr((const char *)list->data, equals) != NULL);
    CHECK(strstr((const char *)list->data, "\"retiring_principal\":\"ops\"") != NULL);
    CHECK(strstr((const char *)list->data, "\"name\":\"nightly-batch\"") != NULL);
    CHECK(strstr((const char *)list->data, "\"encryption_context_subset\":{\"tenant\":\"t1\"}") != NULL);
    CHECK(strstr((const char *)list->data, "\"encryption_context_equals\":{\"tenant\":\"t2\"}") != NULL);
    sealbox_buffer_free(list);
    /* Retire: not by the grantee (it lacks RetireGrant), by the retiring principal. */
    DENIED(sealbox_keystore_retire_grant(batch, key, subset), subset);
    OK(sealbox_keystore_as_principal(admin, "ops", &ops_p));
    OK(sealbox_keystore_retire_grant(ops_p, key, subset));
    DENIED(sealbox_keystore_decrypt(batch, b1->data, b1->len, CTX(&t1), &pt), "no statement or grant");
    /* Revoke takes effect for the next operation. */
    OK(sealbox_keystore_revoke_grant(admin, key, equals));
    DENIED(sealbox_keystore_encrypt(batch, key, (const uint8_t *)"x", 1, CTX(&t2), &ct), "kms:Encrypt");
    OK(sealbox_keystore_list_grants(admin, key, &list));
    CHECK(list->len == 2 && memcmp(list->data, "[]", 2) == 0);
    sealbox_buffer_free(list);
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_revoke_grant(admin, key, equals));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_retire_grant(admin, key, equals));
    /* The grantee retires a grant that lists RetireGrant. */
    OK(sealbox_keystore_create_grant(admin, key, "svc", retire_ops, 2, NULL, NULL, NULL, NULL, &id));
    OK(sealbox_keystore_as_principal(admin, "svc", &svc));
    OK(sealbox_keystore_encrypt(svc, key, (const uint8_t *)"x", 1, NO_CTX, &ct));
    sealbox_buffer_free(ct);
    OK(sealbox_keystore_retire_grant(svc, key, (const char *)id->data));
    sealbox_buffer_free(id);
    EXPECT(SEALBOX_RESULT_ACCESS_DENIED, sealbox_keystore_encrypt(svc, key, (const uint8_t *)"x", 1, NO_CTX, &ct));
    /* Malformed grants and NULLs are refused; nothing is written or stored. */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_create_grant(admin, key, "x", bad_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_create_grant(admin, key, "x", decrypt_op, 0, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_create_grant(admin, key, "", decrypt_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_create_grant(admin, key, "x", decrypt_op, 1, NULL, "bad name!", NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_create_grant(admin, key, "\xff", decrypt_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_create_grant(admin, key, "x", null_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_create_grant(admin, key, "x", NULL, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_create_grant(admin, key, NULL, decrypt_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_create_grant(admin, NULL, "x", decrypt_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_create_grant(NULL, key, "x", decrypt_op, 1, NULL, NULL, NULL, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_create_grant(admin, key, "x", decrypt_op, 1, NULL, NULL, NULL, NULL, NULL));
    CHECK(bad == SENTINEL);
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_list_grants(admin, key, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_list_grants(admin, NULL, &bad));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_retire_grant(admin, key, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_revoke_grant(NULL, key, "g"));
    OK(sealbox_keystore_list_grants(admin, key, &list));
    CHECK(list->len == 2 && memcmp(list->data, "[]", 2) == 0);
    sealbox_buffer_free(list);

    sealbox_buffer_free(b1);
    sealbox_buffer_free(b2);
    context_free(&t1);
    context_free(&t2);
    context_free(&t2more);
    context_free(&sub);
    sealbox_keystore_free(batch);
    sealbox_keystore_free(ops_p);
    sealbox_keystore_free(svc);
}

/* The audit log file has the denial: outcome "denied", principal, reason. */
static void test_audit_log(const sealbox_keystore *admin, const char *audit_path) {
    const sealbox_keystore *intruder = NULL;
    size_t len = 0;
    uint8_t *log;
    char *last;
    char key[64];
    uint64_t records = 0, bad_line = 1;
    create(admin, "AES_256", ADMIN_ONLY, key);
    OK(sealbox_keystore_as_principal(admin, "intruder", &intruder));
    DENIED(sealbox_keystore_disable_key(intruder, key), "kms:DisableKey");
    log = read_file(audit_path, &len);
    CHECK(log != NULL && len > 0);
    log[len - 1] = 0; /* the final newline */
    last = strrchr((char *)log, '\n');
    last = last == NULL ? (char *)log : last + 1;
    CHECK(strstr(last, "\"operation\":\"DisableKey\"") != NULL);
    CHECK(strstr(last, "\"outcome\":\"denied\"") != NULL);
    CHECK(strstr(last, "\"principal\":\"intruder\"") != NULL);
    CHECK(strstr(last, key) != NULL);
    free(log);
    OK(sealbox_keystore_verify_audit_log(admin, &records, &bad_line, NULL));
    CHECK(bad_line == 0 && records > 0);
    sealbox_keystore_free(intruder);
}

int main(int argc, char **argv) {
    const sealbox_keystore *ks, *admin = NULL;
    char audit[1100];
    if (argc > 1) scratch_dir = argv[1];
    ks = open_store(scratch("access.db"), "c-access", NULL);
    snprintf(audit, sizeof audit, "%s.audit.jsonl", scratch("access.db"));
    OK(sealbox_keystore_add_audit_callback(ks, on_audit, &sink));
    test_principals(ks);
    OK(sealbox_keystore_as_principal(ks, "admin", &admin));
    test_policy_conditions(admin);
    test_every_operation(admin);
    test_lockout(admin);
    test_grants(admin);
    test_audit_log(admin, audit);
    sealbox_keystore_free(admin);
    sealbox_keystore_free(ks);
    test_default_policy_creator();
    return finish("test_access");
}
