/*
 * The thread-safe handles (key store, keyrings, CMMs) shared by many
 * threads at once: key-store operations, envelope messages through a
 * key-store keyring and a shared caching CMM, and handles freed on another
 * thread than the one that made them. Each thread also checks that its
 * last-error detail is its own.
 *
 *   test_threads SCRATCH_DIR
 */
#include <pthread.h>
#include <stdbool.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 12 };

typedef struct {
    const sealbox_keystore *ks;
    const sealbox_cmm *shared;  /* caching CMM over a key-store keyring */
    const sealbox_cmm *raw;     /* default CMM over a raw AES keyring */
    const sealbox_keyring *kr;  /* freed by worker 0 while others use CMMs built on it */
    const char *key_id;
    int index;
    int rounds;
    int failed;
    char why[256];
} worker_t;

#define W_OK(call)                                                           \
    do {                                                                     \
        sealbox_result rc_ = (call);                                         \
        if (rc_ != SEALBOX_RESULT_OK) {                                      \
            snprintf(w->why, sizeof w->why, "%s -> %u", #call, (unsigned)rc_); \
            w->failed = 1;                                                   \
            return NULL;                                                     \
        }                                                                    \
    } while (0)
#define W_CHECK(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            snprintf(w->why, sizeof w->why, "%s", #cond);                    \
            w->failed = 1;                                                   \
            return NULL;                                                     \
        }                                                                    \
    } while (0)

static void *work(void *arg) {
    worker_t *w = arg;
    char tenant[32], detail[256];
    context_t ec = {0};
    int r;
    size_t n = 0;

    snprintf(tenant, sizeof tenant, "tenant-%d", w->index);
    context_add(&ec, "tenant", tenant);
    for (r = 0; r < w->rounds; r++) {
        sealbox_buffer *ct = NULL, *pt = NULL, *dk = NULL, *dk_ct = NULL, *msg = NULL;
        bool valid = false;
        char alias[64];

        /* Key store, direct. */
        W_OK(sealbox_keystore_encrypt(w->ks, w->key_id, (const uint8_t *)tenant, strlen(tenant), CTX(&ec), &ct));
        W_OK(sealbox_keystore_decrypt(w->ks, ct->data, ct->len, CTX(&ec), &pt));
        W_CHECK(pt->len == strlen(tenant) && memcmp(pt->data, tenant, pt->len) == 0);
        sealbox_buffer_free(pt);
        sealbox_buffer_free(ct);
        W_OK(sealbox_keystore_generate_data_key(w->ks, w->key_id, 32, CTX(&ec), &dk, &dk_ct));
        sealbox_buffer_free(dk);
        sealbox_buffer_free(dk_ct);
        W_OK(sealbox_keystore_generate_mac(w->ks, "alias/mac", (const uint8_t *)tenant, strlen(tenant), "HMAC_SHA_256", &ct));
        W_OK(sealbox_keystore_verify_mac(w->ks, "alias/mac", (const uint8_t *)tenant, strlen(tenant), ct->data, ct->len,
                                         "HMAC_SHA_256", &valid));
        W_CHECK(valid);
        sealbox_buffer_free(ct);

        /* Key lifecycle from many threads: each thread its own alias. */
        snprintf(alias, sizeof alias, "alias/t%d-r%d", w->index, r);
        W_OK(sealbox_keystore_create_alias(w->ks, alias, w->key_id));
        W_OK(sealbox_keystore_delete_alias(w->ks, alias));

        /* Envelope: shared caching CMM and shared raw CMM. */
        W_OK(sealbox_encrypt(w->shared, (const uint8_t *)tenant, strlen(tenant), CTX(&ec), NULL, &msg));
        W_OK(sealbox_decrypt(w->shared, msg->data, msg->len, CTX(&ec), NULL, &pt, NULL));
        W_CHECK(pt->len == strlen(tenant) && memcmp(pt->data, tenant, pt->len) == 0);
        sealbox_buffer_free(pt);
        sealbox_buffer_free(msg);
        W_OK(sealbox_encrypt(w->raw, (const uint8_t *)tenant, strlen(tenant), CTX(&ec), NULL, &msg));
        W_OK(sealbox_decrypt(w->raw, msg->data, msg->len, NO_CTX, NULL, &pt, NULL));
        sealbox_buffer_free(pt);
        sealbox_buffer_free(msg);

        /* A per-thread failure, and its detail stays on this thread. */
        snprintf(alias, sizeof alias, "alias/missing-%d", w->index);
        W_CHECK(sealbox_keystore_describe_key(w->ks, alias, NULL) == SEALBOX_RESULT_NULL_PARAMETER);
        {
            sealbox_key_metadata *md = NULL;
            W_CHECK(sealbox_keystore_describe_key(w->ks, alias, &md) == SEALBOX_RESULT_KEY_NOT_FOUND);
        }
        W_OK(sealbox_last_error_detail(detail, sizeof detail, &n));
        W_CHECK(strstr(detail, alias) != NULL);

        /* Worker 0 lets go of the keyring midway: the CMMs keep it. */
        if (w->index == 0 && r == ROUNDS / 2) {
            sealbox_keyring_free(w->kr);
            w->kr = NULL;
        }
    }
    context_free(&ec);
    return NULL;
}

int main(int argc, char **argv) {
    static const uint8_t root[32] = {5}, wrap[32] = {6};
    sealbox_root_key *rk = NULL;
    const sealbox_keystore *ks = NULL;
    sealbox_keystore_options *o = NULL;
    sealbox_key_metadata *md = NULL, *mac = NULL;
    sealbox_create_key_request *req = NULL;
    const sealbox_keyring *ks_kr = NULL, *raw_kr = NULL;
    const sealbox_cmm *base = NULL, *shared = NULL, *raw = NULL;
    pthread_t threads[THREADS];
    worker_t workers[THREADS];
    uint64_t hits = 0, misses = 0;
    int i;

    if (argc > 1) scratch_dir = argv[1];
    OK(sealbox_root_key_from_bytes(root, sizeof root, &rk));
    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_audit_log(o, scratch("threads.audit.jsonl")));
    OK(sealbox_keystore_open(scratch("threads.db"), rk, o, &ks));
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_key_spec(req, "HMAC_256"));
    OK(sealbox_create_key_request_set_alias(req, "alias/mac"));
    OK(sealbox_keystore_create_key(ks, req, &mac));
    OK(sealbox_keystore_keyring_new(ks, sealbox_key_metadata_key_id(md), &ks_kr));
    OK(sealbox_default_cmm_new(ks_kr, &base));
    OK(sealbox_caching_cmm_new(base, 600.0, 0, 0, 100, NULL, &shared));
    OK(sealbox_raw_aes_keyring_new("threads", "k", wrap, sizeof wrap, &raw_kr));
    OK(sealbox_default_cmm_new(raw_kr, &raw));

    /* One round on this thread first: the crypto library behind the core
     * (aws-lc) sets up its method tables on first use under pthread_once,
     * which helgrind does not model (DRD does), so a first use on two
     * threads at once would be reported as a race on aws-lc's statics.
     * pthread_create orders this round before every worker. */
    {
        worker_t warm;
        memset(&warm, 0, sizeof warm);
        warm.ks = ks;
        warm.shared = shared;
        warm.raw = raw;
        warm.key_id = sealbox_key_metadata_key_id(md);
        warm.index = THREADS;
        warm.rounds = 1;
        work(&warm);
        if (warm.failed) fprintf(stderr, "first round: %s\n", warm.why);
        CHECK(!warm.failed);
    }
    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].rounds = ROUNDS;
        workers[i].ks = ks;
        workers[i].shared = shared;
        workers[i].raw = raw;
        workers[i].kr = i == 0 ? raw_kr : NULL;
        workers[i].key_id = sealbox_key_metadata_key_id(md);
        workers[i].index = i;
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        if (workers[i].failed) fprintf(stderr, "worker %d: %s\n", i, workers[i].why);
        CHECK(!workers[i].failed);
    }
    CHECK(workers[0].kr == NULL); /* worker 0 freed the raw keyring */

    /* One data key per tenant (context), reused by every round; the first
     * round on this thread was one more tenant. */
    OK(sealbox_cmm_cache_stats(shared, &hits, &misses));
    CHECK(misses == 2 * (THREADS + 1));
    CHECK(hits == 2 * THREADS * (ROUNDS - 1));
    {
        uint64_t records = 0, bad = 99;
        OK(sealbox_keystore_verify_audit_log(ks, &records, &bad, NULL));
        CHECK(bad == 0 && records > (uint64_t)((THREADS * ROUNDS + 1) * 8));
    }

    sealbox_cmm_free(raw);
    sealbox_cmm_free(shared);
    sealbox_cmm_free(base);
    sealbox_keyring_free(ks_kr);
    sealbox_create_key_request_free(req);
    sealbox_key_metadata_free(mac);
    sealbox_key_metadata_free(md);
    sealbox_keystore_free(ks);
    sealbox_keystore_options_free(o);
    sealbox_root_key_free(rk);
    return finish("test_threads");
}
