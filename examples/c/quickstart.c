/*
 * sealbox quickstart in C: envelope-encrypt a file with a key from the
 * embedded key store, then decrypt it back.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs sealbox) -o quickstart
 *   ./quickstart report.pdf report.pdf.sealed [STORE_DIR]
 *
 * STORE_DIR (default ./sealbox-store) holds the key store: keys.db (SQLite),
 * its audit log, and root.key, the 32-byte secret that seals the key
 * material, made on first use with mode 0600. In production the root key
 * comes from your secret manager instead (sealbox_root_key_from_bytes).
 *
 * The file is encrypted in the AWS Encryption SDK message format with a data
 * key that the key store generates and wraps under "alias/quickstart"; the
 * AWS Encryption SDKs can read it given the same keyring. Memory use stays
 * constant whatever the file size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sealbox.h>

#define KEY_ALIAS "alias/quickstart"

/* Prints what failed and why, and exits. */
static void check(sealbox_result rc, const char *what) {
    char text[128], detail[512];
    size_t n;
    if (rc == SEALBOX_RESULT_OK) return;
    sealbox_error_message(rc, text, sizeof text, &n);
    sealbox_last_error_detail(detail, sizeof detail, &n);
    fprintf(stderr, "quickstart: %s: %s (%s)\n", what, text, detail);
    exit(1);
}

/* Opens the key store in `dir`, making the directory and root key the
 * first time. */
static const sealbox_keystore *open_store(const char *dir) {
    char root_path[1024], db_path[1024];
    sealbox_root_key *root = NULL;
    const sealbox_keystore *ks = NULL;
    sealbox_result rc;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        perror(dir);
        exit(1);
    }
    snprintf(root_path, sizeof root_path, "%s/root.key", dir);
    snprintf(db_path, sizeof db_path, "%s/keys.db", dir);
    rc = sealbox_root_key_from_file(root_path, &root);
    if (rc != SEALBOX_RESULT_OK) {
        /* First run: a new random root key, written with mode 0600. */
        check(sealbox_root_key_generate(&root), "generate a root key");
        check(sealbox_root_key_write_new_file(root, root_path), "write the root key");
    }
    check(sealbox_keystore_open(db_path, root, NULL, &ks), "open the key store");
    sealbox_root_key_free(root); /* the store keeps what it needs */
    return ks;
}

/* The key named KEY_ALIAS, created on first use. */
static void ensure_key(const sealbox_keystore *ks) {
    sealbox_key_metadata *md = NULL;
    sealbox_create_key_request *req = NULL;
    if (sealbox_keystore_describe_key(ks, KEY_ALIAS, &md) == SEALBOX_RESULT_OK) {
        sealbox_key_metadata_free(md);
        return;
    }
    check(sealbox_create_key_request_new(&req), "create-key request");
    check(sealbox_create_key_request_set_alias(req, KEY_ALIAS), "alias");
    check(sealbox_create_key_request_set_description(req, "sealbox C quickstart"), "description");
    check(sealbox_keystore_create_key(ks, req, &md), "create the key");
    printf("created key %s (%s)\n", sealbox_key_metadata_key_id(md), KEY_ALIAS);
    sealbox_key_metadata_free(md);
    sealbox_create_key_request_free(req);
}

/* Writes a buffer the library returned, then frees it. */
static void put(FILE *out, sealbox_buffer *b) {
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len) {
        perror("write");
        exit(1);
    }
    sealbox_buffer_free(b);
}

int main(int argc, char **argv) {
    sealbox_string_map *context = NULL;
    static uint8_t chunk[64 * 1024];
    const sealbox_keystore *ks;
    const sealbox_keyring *keyring = NULL;
    const sealbox_cmm *cmm = NULL;
    sealbox_encryptor *enc = NULL;
    sealbox_decryptor *dec = NULL;
    sealbox_buffer *b = NULL;
    unsigned long long in_bytes = 0, out_bytes = 0, back_bytes = 0;
    FILE *in, *out;
    size_t n;

    if (argc < 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT [STORE_DIR]\n", argv[0]);
        return 2;
    }
    printf("libsealbox %s\n", sealbox_version());
    ks = open_store(argc > 3 ? argv[3] : "sealbox-store");
    ensure_key(ks);

    /* A keyring over the key-store key, and the default materials manager. */
    check(sealbox_keystore_keyring_new(ks, KEY_ALIAS, &keyring), "keyring");
    check(sealbox_default_cmm_new(keyring, &cmm), "materials manager");

    /* The encryption context: authenticated, stored in the message, and
     * required to match on decrypt. A map of UTF-8 strings, made once and
     * passed to any number of calls. */
    check(sealbox_string_map_new(&context), "context");
    check(sealbox_string_map_insert(context, (const uint8_t *)"purpose", 7, (const uint8_t *)"quickstart", 10),
          "context");

    /* Encrypt INPUT -> OUTPUT, streaming. */
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        perror("open");
        return 1;
    }
    check(sealbox_encryptor_new(cmm, context, NULL, &enc), "start encryption");
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        in_bytes += n;
        check(sealbox_encryptor_update(enc, chunk, n, &b), "encrypt");
        out_bytes += b->len;
        put(out, b);
    }
    check(sealbox_encryptor_finish(enc, &b), "finish encryption");
    out_bytes += b->len;
    put(out, b);
    sealbox_encryptor_free(enc);
    fclose(in);
    if (fclose(out) != 0) {
        perror("close");
        return 1;
    }
    printf("encrypted %s (%llu bytes) -> %s (%llu bytes) under %s\n", argv[1], in_bytes, argv[2], out_bytes,
           KEY_ALIAS);

    /* Decrypt it back, expecting the same context, and count the bytes. */
    in = fopen(argv[2], "rb");
    if (in == NULL) {
        perror("open");
        return 1;
    }
    check(sealbox_decryptor_new(cmm, context, NULL, &dec), "start decryption");
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        check(sealbox_decryptor_update(dec, chunk, n, &b), "decrypt");
        back_bytes += b->len;
        sealbox_buffer_free(b);
    }
    check(sealbox_decryptor_finish(dec, &b), "finish decryption");
    back_bytes += b->len;
    sealbox_buffer_free(b);
    sealbox_decryptor_free(dec);
    fclose(in);
    printf("decrypted %s: %llu bytes, authenticated\n", argv[2], back_bytes);

    sealbox_string_map_free(context);
    sealbox_cmm_free(cmm);
    sealbox_keyring_free(keyring);
    sealbox_keystore_free(ks);
    return back_bytes == in_bytes ? 0 : 1;
}
