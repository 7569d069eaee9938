/*
 * The PostgreSQL metadata store from C (issue 15, shared custody): a key
 * store opened by URL with sealbox_keystore_open, a round trip and a
 * rotation, a second handle writing into the same audit chain, the chain
 * verified and read back record by record, the propagation bound (option
 * and getter, and a disable seen by the other handle within it), and the
 * errors: nothing listening (STORE_UNAVAILABLE), an audit log file for a
 * database store (INVALID_ARGUMENT).
 *
 *   test_postgres URL [CA]   URL: a fresh, empty database on the test
 *                            server (tests/c/run.sh makes it); CA: its
 *                            certificate authority, for sslmode=verify-full
 */
#include <stdbool.h>
#include <time.h>

#include "check.h"

static const uint8_t root_bytes[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                       9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

/* What the audit-record callback saw. */
typedef struct {
    size_t calls;
    uint64_t first_seq, last_seq;
    bool consecutive, all_chained;
    size_t stop_after; /* 0: never stop */
} records_t;

static int on_record(void *userdata, uint64_t seq, const uint8_t *line, size_t len) {
    records_t *r = userdata;
    char *copy = malloc(len + 1);
    if (copy == NULL) return 1;
    memcpy(copy, line, len);
    copy[len] = 0;
    if (r->calls == 0) {
        r->first_seq = seq;
    } else if (seq != r->last_seq + 1) {
        r->consecutive = false;
    }
    if (copy[0] != '{' || strstr(copy, "\"mac\":\"") == NULL) r->all_chained = false;
    free(copy);
    r->last_seq = seq;
    r->calls++;
    return r->stop_after != 0 && r->calls >= r->stop_after;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Opens `url` with the given principal and bound (UINT64_MAX: the default). */
static sealbox_result open_url(const char *url, const char *principal, uint64_t ttl_ms,
                               const sealbox_keystore **out) {
    sealbox_root_key *rk = NULL;
    sealbox_keystore_options *o = NULL;
    sealbox_result rc;
    OK(sealbox_root_key_from_bytes(root_bytes, 32, &rk));
    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_principal(o, principal));
    if (ttl_ms != UINT64_MAX) OK(sealbox_keystore_options_set_metadata_cache_ttl_ms(o, ttl_ms));
    rc = sealbox_keystore_open(url, rk, o, out);
    sealbox_keystore_options_free(o);
    sealbox_root_key_free(rk);
    return rc;
}

static void test_round_trip_and_one_chain(const char *url) {
    const sealbox_keystore *a = NULL, *b = NULL;
    sealbox_create_key_request *req = NULL;
    sealbox_key_metadata *md = NULL;
    sealbox_buffer *pt = NULL, *ct = NULL, *back = NULL, *problem = SENTINEL;
    context_t ec = {NULL};
    uint64_t ttl = 0, records = 0, bad_line = 99, after;
    uint32_t version = 0;
    size_t count = 0, i;
    records_t seen;

    OK(open_url(url, "c-a", UINT64_MAX, &a));
    OK(sealbox_keystore_metadata_cache_ttl_ms(a, &ttl));
    CHECK(ttl == 1000); /* the default of a shared database */
    OK(sealbox_create_key_request_new(&req));
    OK(sealbox_create_key_request_set_alias(req, "alias/orders"));
    OK(sealbox_keystore_create_key(a, req, &md));
    sealbox_create_key_request_free(req);

    context_add(&ec, "purpose", "c-postgres-tests");
    OK(sealbox_keystore_generate_data_key(a, "alias/orders", 32, CTX(&ec), &pt, &ct));
    OK(sealbox_keystore_decrypt(a, ct->data, ct->len, CTX(&ec), &back));
    CHECK_BYTES(back->data, back->len, pt->data, pt->len);
    sealbox_buffer_free(back);
    OK(sealbox_keystore_rotate_key(a, sealbox_key_metadata_key_id(md), &version));
    CHECK(version == 2);

    /* A second handle on the same database: the same keys, one trail. */
    OK(open_url(url, "c-b", 250, &b));
    OK(sealbox_keystore_metadata_cache_ttl_ms(b, &ttl));
    CHECK(ttl == 250);
    back = NULL;
    OK(sealbox_keystore_decrypt(b, ct->data, ct->len, CTX(&ec), &back));
    CHECK_BYTES(back->data, back->len, pt->data, pt->len);
    sealbox_buffer_free(back);
    for (i = 0; i < 10; i++) {
        sealbox_buffer *r = NULL;
        OK(sealbox_keystore_generate_random(i % 2 ? a : b, 8, &r));
        sealbox_buffer_free(r);
    }
    OK(sealbox_keystore_verify_audit_log(b, &records, &bad_line, &problem));
    CHECK(bad_line == 0 && problem == NULL);
    /* CreateKey, GenerateDataKey, Decrypt, RotateKey, Decrypt, 10 x GenerateRandom. */
    CHECK(records >= 15);

    /* Every record, read back through the other handle. */
    memset(&seen, 0, sizeof seen);
    seen.consecutive = seen.all_chained = true;
    OK(sealbox_keystore_audit_records(a, NULL, 100000, on_record, &seen, &count));
    CHECK(count == records && seen.calls == records);
    CHECK(seen.consecutive && seen.all_chained);
    CHECK(seen.last_seq == seen.first_seq + records - 1);
    /* A page after the 5th record, and a callback that stops early. */
    after = seen.first_seq + 4;
    memset(&seen, 0, sizeof seen);
    seen.consecutive = seen.all_chained = true;
    OK(sealbox_keystore_audit_records(b, &after, 3, on_record, &seen, &count));
    CHECK(count == 3 && seen.first_seq == after + 1 && seen.last_seq == after + 3 && seen.consecutive);
    memset(&seen, 0, sizeof seen);
    seen.consecutive = seen.all_chained = true;
    seen.stop_after = 2;
    OK(sealbox_keystore_audit_records(b, NULL, 100, on_record, &seen, NULL));
    CHECK(seen.calls == 2);
    count = 99;
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_audit_records(b, NULL, 0, on_record, &seen, &count));
    CHECK(count == 99);
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_audit_records(b, NULL, 10, NULL, NULL, &count));

    /* A disable through `a` is honoured by `b` within its bound (250 ms). */
    {
        const char *key = sealbox_key_metadata_key_id(md);
        sealbox_buffer *p2 = NULL, *c2 = NULL;
        sealbox_result rc = SEALBOX_RESULT_OK;
        double disabled_at, seen_after;
        OK(sealbox_keystore_generate_data_key(b, key, 32, CTX(&ec), &p2, &c2));
        sealbox_buffer_free(p2);
        sealbox_buffer_free(c2);
        OK(sealbox_keystore_disable_key(a, key));
        disabled_at = now_ms();
        for (;;) {
            p2 = c2 = NULL;
            rc = sealbox_keystore_generate_data_key(b, key, 32, CTX(&ec), &p2, &c2);
            sealbox_buffer_free(p2);
            sealbox_buffer_free(c2);
            if (rc != SEALBOX_RESULT_OK || now_ms() - disabled_at > 10000) break;
            pause_ms(10);
        }
        seen_after = now_ms() - disabled_at;
        CHECK(rc == SEALBOX_RESULT_KEY_DISABLED);
        /* The bound, plus the slack of a loaded machine (and valgrind). */
        if (seen_after > 250 + 1500) fprintf(stderr, "disable seen after %.0f ms\n", seen_after);
        CHECK(seen_after <= 250 + 1500);
    }

    context_free(&ec);
    sealbox_buffer_free(pt);
    sealbox_buffer_free(ct);
    sealbox_key_metadata_free(md);
    sealbox_keystore_free(b);
    sealbox_keystore_free(a);
}

static void test_errors(const char *url) {
    const sealbox_keystore *ks = SENTINEL;
    sealbox_root_key *rk = NULL;
    sealbox_keystore_options *o = NULL;

    /* Nothing listening on port 9: unavailable (not a storage error). */
    EXPECT(SEALBOX_RESULT_STORE_UNAVAILABLE,
           open_url("postgresql://sealbox:pw@127.0.0.1:9/sealbox", "c-a", UINT64_MAX, &ks));
    CHECK(ks == SENTINEL);

    /* A database store keeps its own audit trail: no file for it. */
    OK(sealbox_root_key_from_bytes(root_bytes, 32, &rk));
    OK(sealbox_keystore_options_new(&o));
    OK(sealbox_keystore_options_set_audit_log(o, "/tmp/sealbox-c-not-used.audit.jsonl"));
    EXPECT(SEALBOX_RESULT_INVALID_ARGUMENT, sealbox_keystore_open(url, rk, o, &ks));
    CHECK(ks == SENTINEL);
    sealbox_keystore_options_free(o);
    sealbox_root_key_free(rk);

    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_metadata_cache_ttl_ms(NULL, NULL));
    EXPECT(SEALBOX_RESULT_NULL_PARAMETER, sealbox_keystore_options_set_metadata_cache_ttl_ms(NULL, 5));
}

static void test_tls(const char *url, const char *ca) {
    char tls[2048];
    const sealbox_keystore *ks = NULL;
    sealbox_key_metadata *md = NULL;
    uint64_t records = 0, bad_line = 99;
    snprintf(tls, sizeof tls, "%s?sslmode=verify-full&sslrootcert=%s", url, ca);
    OK(open_url(tls, "c-tls", UINT64_MAX, &ks));
    OK(sealbox_keystore_create_key(ks, NULL, &md));
    OK(sealbox_keystore_verify_audit_log(ks, &records, &bad_line, NULL));
    CHECK(records >= 1 && bad_line == 0);
    sealbox_key_metadata_free(md);
    sealbox_keystore_free(ks);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_postgres URL [CA]\n");
        return 2;
    }
    test_round_trip_and_one_chain(argv[1]);
    test_errors(argv[1]);
    if (argc > 2 && argv[2][0] != 0) test_tls(argv[1], argv[2]);
    return finish("test_postgres");
}
