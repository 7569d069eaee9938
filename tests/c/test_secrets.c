/*
 * Secrets from C (issue 21): create, get (text and binary, by stage and by
 * version), put, every label transition, list/describe/list-version-ids as
 * JSON, delete with a recovery window, restore, forced deletion, rotation
 * with C callbacks (success, and each failing step leaving CURRENT intact),
 * and the refusals (missing secret, wrong stage, deleted secret, oversized
 * value, disabled key, NULLs, bad UTF-8) with their codes.
 *
 *   test_secrets SCRATCH_DIR
 */
#include <stdbool.h>

#include "check.h"

static const uint8_t root_bytes[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                       7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

#define TEXT(s) (const uint8_t *)(s), strlen(s), false

/* The CURRENT (or `stage`) value of `name` must be the text `want`. */
static void check_value(const sealbox_keystore *ks, const char *name, const char *stage, const char *want) {
    sealbox_buffer *v = NULL;
    bool binary = true;
    OK(sealbox_keystore_get_secret_value(ks, name, stage, NULL, &v, &binary, NULL));
    CHECK(!binary);
    CHECK_BYTES(v->data, v->len, want, strlen(want));
    sealbox_buffer_free(v);
}

/* The JSON of describe_secret contains `needle`. */
static void check_describe(const sealbox_keystore *ks, const char *name, const char *needle) {
    sealbox_buffer *j = NULL;
    OK(sealbox_keystore_describe_secret(ks, name, &j));
    if (strstr((const char *)j->data, needle) == NULL)
        check_failed(__FILE__, __LINE__, "describe contains needle", "%s not in %s", needle, (const char *)j->data);
    checks_passed++;
    sealbox_buffer_free(j);
}

static void copy_id(char dst[80], const sealbox_buffer *b) {
    CHECK(b != NULL && b->len > 0 && b->len < 80);
    memcpy(dst, b->data, b->len);
    dst[b->len] = 0;
}

static void test_values(const sealbox_keystore *ks) {
    sealbox_buffer *id = NULL, *v = NULL, *vid = NULL, *j = NULL;
    char v1[80], v2[80], v3[80];
    bool binary = false;
    context_t tags = {0};
    sealbox_secret_options opts;

    memset(&opts, 0, sizeof opts);
    context_add(&tags, "team", "payments");
    opts.description = "the app database";
    opts.tags = CTX(&tags);
    OK(sealbox_keystore_create_secret(ks, "db/password", TEXT("hunter2"), &opts, &id));
    copy_id(v1, id);
    sealbox_buffer_free(id);
    context_free(&tags);
    check_value(ks, "db/password", NULL, "hunter2");
    check_describe(ks, "db/password", "\"description\":\"the app database\"");
    check_describe(ks, "db/password", "\"tags\":{\"team\":\"payments\"}");
    check_describe(ks, "db/password", "\"key_id\":\"alias/sealbox/secrets\"");

    /* Binary, with NUL bytes; NULL options; NULL version-id output. */
    {
        const uint8_t bin[5] = {0, 1, 2, 0xff, 0};
        OK(sealbox_keystore_create_secret(ks, "api/cert", bin, sizeof bin, true, NULL, NULL));
        OK(sealbox_keystore_get_secret_value(ks, "api/cert", NULL, NULL, &v, &binary, &vid));
        CHECK(binary);
        CHECK_BYTES(v->data, v->len, bin, sizeof bin);
        CHECK(vid->len == 36);
        sealbox_buffer_free(v);
        sealbox_buffer_free(vid);
    }

    /* put: new CURRENT, old PREVIOUS; by version ID; both must agree. */
    OK(sealbox_keystore_put_secret_value(ks, "db/password", TEXT("v2-secret"), NULL, 0, NULL, &id));
    copy_id(v2, id);
    sealbox_buffer_free(id);
    check_value(ks, "db/password", NULL, "v2-secret");
    check_value(ks, "db/password", "PREVIOUS", "hunter2");
    OK(sealbox_keystore_get_secret_value(ks, "db/password", NULL, v1, &v, NULL, &vid));
    CHECK_BYTES(v->data, v->len, "hunter2", 7);
    CHECK_STR((const char *)vid->data, v1);
    sealbox_buffer_free(v);
    sealbox_buffer_free(vid);
    v = SENTINEL;
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND,
           sealbox_keystore_get_secret_value(ks, "db/password", "CURRENT", v1, &v, NULL, NULL));
    CHECK(v == SENTINEL);

    /* PENDING: CURRENT stays. */
    {
        const char *pending[] = {"PENDING"};
        OK(sealbox_keystore_put_secret_value(ks, "db/password", TEXT("v3-pending"), pending, 1, NULL, &id));
        copy_id(v3, id);
        sealbox_buffer_free(id);
    }
    check_value(ks, "db/password", NULL, "v2-secret");
    check_value(ks, "db/password", "PENDING", "v3-pending");

    /* Idempotent put; another value under the same token is refused. */
    {
        const char *token = "0123456789abcdef0123456789abcdef";
        const char *custom[] = {"custom"};
        OK(sealbox_keystore_put_secret_value(ks, "db/password", TEXT("same"), custom, 1, token, &id));
        CHECK_STR((const char *)id->data, token);
        sealbox_buffer_free(id);
        OK(sealbox_keystore_put_secret_value(ks, "db/password", TEXT("same"), custom, 1, token, NULL));
        EXPECT(SEALBOX_RESULT_ALREADY_EXISTS,
               sealbox_keystore_put_secret_value(ks, "db/password", TEXT("other"), NULL, 0, token, NULL));
        check_value(ks, "db/password", "custom", "same");
    }

    /* Labels: promote PENDING by moving CURRENT (naming its holder). */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_update_secret_version_stage(ks, "db/password", "CURRENT", v3, NULL));
    OK(sealbox_keystore_update_secret_version_stage(ks, "db/password", "CURRENT", v3, v2));
    check_value(ks, "db/password", NULL, "v3-pending");
    check_value(ks, "db/password", "PREVIOUS", "v2-secret");
    OK(sealbox_keystore_update_secret_version_stage(ks, "db/password", "PENDING", NULL, v3));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND,
           sealbox_keystore_get_secret_value(ks, "db/password", "PENDING", NULL, &v, NULL, NULL));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_update_secret_version_stage(ks, "db/password", "CURRENT", NULL, v3));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_update_secret_version_stage(ks, "db/password", "blue", NULL, NULL));
    OK(sealbox_keystore_update_secret_version_stage(ks, "db/password", "blue", v1, NULL));
    check_value(ks, "db/password", "blue", "hunter2");

    /* Metadata as JSON, never values. */
    OK(sealbox_keystore_list_secret_version_ids(ks, "db/password", false, &j));
    CHECK(strstr((const char *)j->data, v1) != NULL && strstr((const char *)j->data, "\"blue\"") != NULL);
    CHECK(strstr((const char *)j->data, "hunter2") == NULL);
    CHECK(((const char *)j->data)[0] == '[');
    sealbox_buffer_free(j);
    OK(sealbox_keystore_list_secret_version_ids(ks, "api/cert", true, &j));
    CHECK(strstr((const char *)j->data, "\"binary\":true") != NULL);
    sealbox_buffer_free(j);
    OK(sealbox_keystore_list_secrets(ks, false, &j));
    {
        const char *a = strstr((const char *)j->data, "\"name\":\"api/cert\"");
        const char *b = strstr((const char *)j->data, "\"name\":\"db/password\"");
        CHECK(a != NULL && b != NULL && a < b);
        CHECK(strstr((const char *)j->data, "hunter2") == NULL);
    }
    sealbox_buffer_free(j);
    check_describe(ks, "db/password", v3);
    check_describe(ks, "db/password", "\"deletion_date\":null");
}

static void test_refusals(const sealbox_keystore *ks, const char *key) {
    sealbox_buffer *v = SENTINEL, *id = SENTINEL;
    sealbox_secret_options opts;
    uint8_t *big = calloc(65537, 1);
    CHECK(big != NULL);
    memset(big, 'a', 65537);

    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_get_secret_value(ks, "nope", NULL, NULL, &v, NULL, NULL));
    CHECK(v == SENTINEL);
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_describe_secret(ks, "nope", &v));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_list_secret_version_ids(ks, "nope", true, &v));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND,
           sealbox_keystore_put_secret_value(ks, "nope", TEXT("x"), NULL, 0, NULL, NULL));
    CHECK(v == SENTINEL);
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_get_secret_value(ks, "api/cert", "PENDING", NULL, &v, NULL, NULL));
    EXPECT(SEALBOX_RESULT_ALREADY_EXISTS, sealbox_keystore_create_secret(ks, "api/cert", TEXT("x"), NULL, &id));
    CHECK(id == SENTINEL);

    /* 64 KiB, as AWS; empty refused too. */
    OK(sealbox_keystore_put_secret_value(ks, "api/cert", big, 65536, true, NULL, 0, NULL, NULL));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_put_secret_value(ks, "api/cert", big, 65537, true, NULL, 0, NULL, NULL));
    CHECK_DETAIL("65536");
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_secret(ks, "big", big, 65537, false, NULL, NULL));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_describe_secret(ks, "big", &v));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_put_secret_value(ks, "api/cert", (const uint8_t *)"", 0, false, NULL, 0, NULL, NULL));
    free(big);

    /* Text must be UTF-8; names and labels are checked. */
    {
        const uint8_t bad[2] = {0xff, 0xfe};
        const char *bad_stage[] = {"no spaces"};
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_secret(ks, "t", bad, 2, false, NULL, NULL));
        CHECK_DETAIL("UTF-8");
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_secret(ks, "bad name!", TEXT("x"), NULL, NULL));
        EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
               sealbox_keystore_put_secret_value(ks, "api/cert", TEXT("x"), bad_stage, 1, NULL, NULL));
    }

    /* A secret without a value: no CURRENT until the first put. */
    OK(sealbox_keystore_create_secret(ks, "later", NULL, 0, false, NULL, &id));
    CHECK(id->len == 0);
    sealbox_buffer_free(id);
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_get_secret_value(ks, "later", NULL, NULL, &v, NULL, NULL));
    OK(sealbox_keystore_put_secret_value(ks, "later", TEXT("now"), NULL, 0, NULL, NULL));
    check_value(ks, "later", NULL, "now");

    /* A disabled key: its secrets refused until it is enabled. */
    memset(&opts, 0, sizeof opts);
    opts.key_id = key;
    OK(sealbox_keystore_create_secret(ks, "on-key", TEXT("v1"), &opts, NULL));
    OK(sealbox_keystore_disable_key(ks, key));
    EXPECT(SEALBOX_RESULT_KEY_DISABLED, sealbox_keystore_get_secret_value(ks, "on-key", NULL, NULL, &v, NULL, NULL));
    EXPECT(SEALBOX_RESULT_KEY_DISABLED, sealbox_keystore_put_secret_value(ks, "on-key", TEXT("v2"), NULL, 0, NULL, NULL));
    OK(sealbox_keystore_enable_key(ks, key));
    check_value(ks, "on-key", NULL, "v1");
    opts.key_id = "alias/none";
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_create_secret(ks, "no-key", TEXT("v"), &opts, NULL));
    opts.key_id = NULL;
    opts.client_request_token = "short";
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_create_secret(ks, "tok", TEXT("v"), &opts, NULL));

    /* NULLs. */
    CHECK(v == SENTINEL);
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_create_secret(NULL, "n", TEXT("x"), NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_create_secret(ks, NULL, TEXT("x"), NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_create_secret(ks, "n", NULL, 3, false, NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_get_secret_value(ks, "on-key", NULL, NULL, NULL, NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_get_secret_value(NULL, "on-key", NULL, NULL, &v, NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_put_secret_value(ks, "on-key", NULL, 1, false, NULL, 0, NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER,
           sealbox_keystore_put_secret_value(ks, "on-key", TEXT("x"), NULL, 1, NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_update_secret_version_stage(ks, "on-key", NULL, "x", NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_list_secrets(NULL, false, &v));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_list_secrets(ks, false, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_describe_secret(ks, NULL, &v));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_list_secret_version_ids(ks, "on-key", false, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_delete_secret(ks, NULL, 7, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_restore_secret(NULL, "on-key"));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_rotate_secret(ks, "on-key", NULL, NULL));
    CHECK(v == SENTINEL);
    check_value(ks, "on-key", NULL, "v1");
}

static void test_delete(const sealbox_keystore *ks) {
    int64_t at = 0;
    sealbox_buffer *v = SENTINEL, *j = NULL;
    OK(sealbox_keystore_create_secret(ks, "del/a", TEXT("alpha"), NULL, NULL));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_delete_secret(ks, "del/a", 6, &at));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_delete_secret(ks, "del/a", 31, &at));
    CHECK(at == 0);
    OK(sealbox_keystore_delete_secret(ks, "del/a", 7, &at));
    CHECK(at > 1700000000);
    EXPECT(SEALBOX_RESULT_INVALID_KEY_STATE, sealbox_keystore_get_secret_value(ks, "del/a", NULL, NULL, &v, NULL, NULL));
    CHECK_DETAIL("scheduled for deletion");
    CHECK(v == SENTINEL);
    EXPECT(SEALBOX_RESULT_INVALID_KEY_STATE,
           sealbox_keystore_put_secret_value(ks, "del/a", TEXT("x"), NULL, 0, NULL, NULL));
    EXPECT(SEALBOX_RESULT_INVALID_KEY_STATE, sealbox_keystore_delete_secret(ks, "del/a", 7, NULL));
    OK(sealbox_keystore_list_secrets(ks, false, &j));
    CHECK(strstr((const char *)j->data, "del/a") == NULL);
    sealbox_buffer_free(j);
    OK(sealbox_keystore_list_secrets(ks, true, &j));
    CHECK(strstr((const char *)j->data, "\"name\":\"del/a\"") != NULL);
    sealbox_buffer_free(j);
    {
        char want[64];
        snprintf(want, sizeof want, "\"deletion_date\":%lld", (long long)at);
        check_describe(ks, "del/a", want);
    }
    OK(sealbox_keystore_restore_secret(ks, "del/a"));
    EXPECT(SEALBOX_RESULT_INVALID_KEY_STATE, sealbox_keystore_restore_secret(ks, "del/a"));
    check_value(ks, "del/a", NULL, "alpha");
    /* 0: now and for good; the name is free again. */
    OK(sealbox_keystore_delete_secret(ks, "del/a", 0, NULL));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_describe_secret(ks, "del/a", &v));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_restore_secret(ks, "del/a"));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_delete_secret(ks, "del/a", 0, NULL));
    OK(sealbox_keystore_create_secret(ks, "del/a", TEXT("again"), NULL, NULL));
    check_value(ks, "del/a", NULL, "again");
}

/* The target system of the rotation tests: a password, the steps called. */
typedef struct {
    char password[128];
    char calls[256];
    const char *fail_at; /* the step that returns 1, or NULL */
    const char *new_value;
    const sealbox_keystore *ks;
} target_t;

static void note(target_t *t, const char *step) {
    strncat(t->calls, step, sizeof t->calls - strlen(t->calls) - 2);
    strcat(t->calls, ",");
}

static int create_step(void *userdata, const char *secret_name, const char *version_id,
                       const char *current_version_id, uint8_t *value, size_t value_cap, size_t *value_len,
                       bool *is_binary) {
    target_t *t = userdata;
    (void)version_id;
    (void)current_version_id;
    note(t, "create");
    if (strcmp(secret_name, "rot") != 0) return 5;
    if (t->fail_at != NULL && strcmp(t->fail_at, "create") == 0) return 1;
    if (strlen(t->new_value) > value_cap) return 2;
    memcpy(value, t->new_value, strlen(t->new_value));
    *value_len = strlen(t->new_value);
    *is_binary = false;
    return 0;
}

static int set_step(void *userdata, const char *secret_name, const char *version_id, const char *current_version_id,
                    const uint8_t *pending, size_t pending_len, bool is_binary) {
    target_t *t = userdata;
    sealbox_buffer *v = NULL, *vid = NULL;
    (void)secret_name;
    (void)current_version_id;
    note(t, "set");
    if (is_binary || pending_len >= sizeof t->password) return 3;
    /* The new value is stored as PENDING before the target changes. */
    if (sealbox_keystore_get_secret_value(t->ks, "rot", "PENDING", NULL, &v, NULL, &vid) != SEALBOX_RESULT_OK) return 4;
    int same = v->len == pending_len && memcmp(v->data, pending, pending_len) == 0 &&
               strcmp((const char *)vid->data, version_id) == 0;
    sealbox_buffer_free(v);
    sealbox_buffer_free(vid);
    if (!same) return 6;
    if (t->fail_at != NULL && strcmp(t->fail_at, "set") == 0) return 1;
    memcpy(t->password, pending, pending_len);
    t->password[pending_len] = 0;
    return 0;
}

static int test_step(void *userdata, const char *secret_name, const char *version_id, const char *current_version_id,
                     const uint8_t *pending, size_t pending_len, bool is_binary) {
    target_t *t = userdata;
    (void)secret_name;
    (void)version_id;
    (void)current_version_id;
    (void)is_binary;
    note(t, "test");
    if (t->fail_at != NULL && strcmp(t->fail_at, "test") == 0) return 1;
    return strlen(t->password) == pending_len && memcmp(t->password, pending, pending_len) == 0 ? 0 : 7;
}

static int finish_step(void *userdata, const char *secret_name, const char *version_id,
                       const char *current_version_id) {
    target_t *t = userdata;
    (void)secret_name;
    (void)version_id;
    (void)current_version_id;
    note(t, "finish");
    return t->fail_at != NULL && strcmp(t->fail_at, "finish") == 0 ? 42 : 0;
}

static void test_rotation(const sealbox_keystore *ks) {
    sealbox_buffer *id = NULL, *v = NULL, *vid = NULL;
    char v1[80];
    target_t t;
    sealbox_secret_rotator rot = {&t, create_step, set_step, test_step, finish_step};
    static const char *const steps[] = {"create", "set", "test", "finish"};

    memset(&t, 0, sizeof t);
    t.ks = ks;
    snprintf(t.password, sizeof t.password, "old");
    OK(sealbox_keystore_create_secret(ks, "rot", TEXT("old"), NULL, &id));
    copy_id(v1, id);
    sealbox_buffer_free(id);

    /* Each failing step: CURRENT unchanged, the new version PENDING (but
     * for createSecret, which stored nothing). */
    for (size_t i = 0; i < 4; i++) {
        t.fail_at = steps[i];
        t.new_value = steps[i];
        t.calls[0] = 0;
        id = SENTINEL;
        EXPECT(SEALBOX_RESULT_INVALID_STATE, sealbox_keystore_rotate_secret(ks, "rot", &rot, &id));
        CHECK(id == SENTINEL);
        CHECK_DETAIL("CURRENT is unchanged");
        if (i == 3) CHECK_DETAIL("returned 42");
        OK(sealbox_keystore_get_secret_value(ks, "rot", NULL, NULL, &v, NULL, &vid));
        CHECK_BYTES(v->data, v->len, "old", 3);
        CHECK_STR((const char *)vid->data, v1);
        sealbox_buffer_free(v);
        sealbox_buffer_free(vid);
        if (i > 0) check_value(ks, "rot", "PENDING", steps[i]);
    }
    CHECK_STR(t.calls, "create,set,test,finish,");

    /* Success: the four steps in order; PENDING -> CURRENT, old -> PREVIOUS. */
    t.fail_at = NULL;
    t.new_value = "new-password";
    t.calls[0] = 0;
    OK(sealbox_keystore_rotate_secret(ks, "rot", &rot, &id));
    CHECK_STR(t.calls, "create,set,test,finish,");
    CHECK_STR(t.password, "new-password");
    OK(sealbox_keystore_get_secret_value(ks, "rot", NULL, NULL, &v, NULL, &vid));
    CHECK_BYTES(v->data, v->len, "new-password", 12);
    CHECK_BYTES(vid->data, vid->len, id->data, id->len);
    sealbox_buffer_free(v);
    sealbox_buffer_free(vid);
    sealbox_buffer_free(id);
    check_value(ks, "rot", "PREVIOUS", "old");
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_get_secret_value(ks, "rot", "PENDING", NULL, &v, NULL, NULL));
    check_describe(ks, "rot", "\"last_rotated_at\":1");

    /* Optional steps left NULL: a random password, no finish. */
    {
        sealbox_secret_rotator minimal = {&t, NULL, set_step, test_step, NULL};
        t.calls[0] = 0;
        OK(sealbox_keystore_rotate_secret(ks, "rot", &minimal, NULL));
        CHECK_STR(t.calls, "set,test,");
        CHECK(strlen(t.password) == 32);
        check_value(ks, "rot", NULL, t.password);
        check_value(ks, "rot", "PREVIOUS", "new-password");
    }
    /* Required steps missing; a missing secret. */
    {
        sealbox_secret_rotator none = {&t, NULL, NULL, test_step, NULL};
        EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_rotate_secret(ks, "rot", &none, NULL));
        EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_rotate_secret(ks, "nope", &rot, NULL));
    }
}

/* A resource policy (secretsmanager: actions) decides each operation on
 * the secret; none: the key alone. */
static void test_resource_policy(const sealbox_keystore *ks) {
    static const char policy[] =
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        "{\"Sid\":\"Owner\",\"Effect\":\"Allow\",\"Principal\":{\"Sealbox\":\"c-secrets\"},"
        "\"Action\":\"secretsmanager:*\",\"Resource\":\"*\"},"
        "{\"Sid\":\"Read\",\"Effect\":\"Allow\",\"Principal\":{\"Sealbox\":\"reader\"},"
        "\"Action\":\"secretsmanager:GetSecretValue\",\"Resource\":\"*\"}]}";
    const sealbox_keystore *reader = NULL, *other = NULL;
    sealbox_buffer *p = SENTINEL, *v = NULL;
    bool binary = false;

    OK(sealbox_keystore_create_secret(ks, "pol", TEXT("s-1"), NULL, NULL));
    OK(sealbox_keystore_get_secret_resource_policy(ks, "pol", &p));
    CHECK(p == NULL); /* none yet */
    OK(sealbox_keystore_as_principal(ks, "reader", &reader));
    OK(sealbox_keystore_as_principal(ks, "other", &other));
    /* The lockout check: the reader could not change it again. */
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_put_secret_resource_policy(reader, "pol", policy, false));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT,
           sealbox_keystore_put_secret_resource_policy(ks, "pol", "{\"Version\":1}", false));
    OK(sealbox_keystore_put_secret_resource_policy(ks, "pol", policy, false));
    OK(sealbox_keystore_get_secret_resource_policy(ks, "pol", &p));
    CHECK(p != NULL && strstr((const char *)p->data, "\"Read\"") != NULL);
    sealbox_buffer_free(p);
    check_value(reader, "pol", NULL, "s-1");
    EXPECT(SEALBOX_RESULT_ACCESS_DENIED, sealbox_keystore_get_secret_value(other, "pol", NULL, NULL, &v, &binary, NULL));
    EXPECT(SEALBOX_RESULT_ACCESS_DENIED, sealbox_keystore_put_secret_value(reader, "pol", TEXT("evil"), NULL, 0, NULL, NULL));
    EXPECT(SEALBOX_RESULT_ACCESS_DENIED, sealbox_keystore_delete_secret_resource_policy(reader, "pol"));
    check_value(ks, "pol", NULL, "s-1");
    OK(sealbox_keystore_delete_secret_resource_policy(ks, "pol"));
    check_value(other, "pol", NULL, "s-1");
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_put_secret_resource_policy(ks, "pol", NULL, false));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_get_secret_resource_policy(ks, "pol", NULL));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_delete_secret_resource_policy(ks, "nope"));
    sealbox_keystore_free(reader);
    sealbox_keystore_free(other);
}

/* UpdateSecret, TagResource and UntagResource on a secret. */
static void test_update_and_tags(const sealbox_keystore *ks, const char *key) {
    context_t tags = {0};
    const char *gone[1] = {"team"};
    OK(sealbox_keystore_create_secret(ks, "upd", TEXT("u-1"), NULL, NULL));
    OK(sealbox_keystore_update_secret(ks, "upd", "the API key", NULL));
    check_describe(ks, "upd", "the API key");
    OK(sealbox_keystore_update_secret(ks, "upd", NULL, key));
    check_describe(ks, "upd", key);
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_update_secret(ks, "upd", NULL, NULL));
    context_add(&tags, "team", "payments");
    context_add(&tags, "env", "prod");
    OK(sealbox_keystore_tag_secret(ks, "upd", CTX(&tags)));
    check_describe(ks, "upd", "\"team\":\"payments\"");
    OK(sealbox_keystore_untag_secret(ks, "upd", gone, 1));
    check_describe(ks, "upd", "\"env\":\"prod\"");
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_tag_secret(ks, "upd", NULL));
    EXPECT(SEALBOX_RESULT_KEY_NOT_FOUND, sealbox_keystore_tag_secret(ks, "nope", CTX(&tags)));
    check_value(ks, "upd", NULL, "u-1");
    context_free(&tags);
}

int main(int argc, char **argv) {
    char db[512];
    sealbox_root_key *rk = NULL;
    sealbox_keystore_options *o = NULL;
    const sealbox_keystore *ks = NULL;
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *md = NULL;
    char key[64];

    if (argc != 2) {
        fprintf(stderr, "usage: test_secrets SCRATCH_DIR\n");
        return 2;
    }
    snprintf(db, sizeof db, "%s/secrets.db", argv[1]);
    remove(db);
    OK(sealbox_root_key_from_bytes(root_bytes, 32, &rk));
    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_principal(o, "c-secrets"));
    OK(sealbox_keystore_open(db, rk, o, &ks));
    sealbox_keystore_options_free(o);
    sealbox_root_key_free(rk);
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_keystore_create_key(ks, req, &md));
    snprintf(key, sizeof key, "%s", sealbox_key_metadata_key_id(md));
    sealbox_key_metadata_free(md);
    sealbox_create_key_request_free(req);

    test_values(ks);
    test_refusals(ks, key);
    test_delete(ks);
    test_rotation(ks);
    test_resource_policy(ks);
    test_update_and_tags(ks, key);

    sealbox_keystore_free(ks);
    printf("test_secrets: %lu checks\n", checks_passed);
    return 0;
}
