/*
 * Streams a large file through the C ABI in constant memory:
 *
 *   stream_large encrypt IN OUT   IN -> AWS Encryption SDK message OUT
 *   stream_large decrypt IN OUT   message IN -> plaintext OUT
 *
 * 64 KiB reads, a raw AES keyring (namespace "sealbox-c-stream", name
 * "aes-256", the key below: esdk_decrypt.py uses the same), suite 0x0478,
 * encryption context {"purpose": "c-stream"}. Prints the peak resident set
 * (VmHWM) and fails if it reaches 32 MiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sealbox.h>

#define LIMIT_KIB (32 * 1024)
#define CHUNK (64 * 1024)

static const uint8_t wrapping_key[32] = {0x5e, 0xa1, 0xb0, 0xc5, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                        13,   14,   15,   16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};

static long vm_hwm_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return kib;
}

static int fail(const char *what, sealbox_result rc) {
    char text[256] = "", detail[512] = "";
    size_t n;
    sealbox_error_message(rc, text, sizeof text, &n);
    sealbox_last_error_detail(detail, sizeof detail, &n);
    fprintf(stderr, "stream_large: %s: %s (%s)\n", what, text, detail);
    return 1;
}

static int put(FILE *out, sealbox_buffer *b) {
    int ok = b->len == 0 || fwrite(b->data, 1, b->len, out) == b->len;
    sealbox_buffer_free(b);
    return ok;
}

int main(int argc, char **argv) {
    static uint8_t chunk[CHUNK];
    sealbox_string_map *context = NULL;
    const sealbox_keyring *kr = NULL;
    const sealbox_cmm *cmm = NULL;
    sealbox_encryptor *enc = NULL;
    sealbox_decryptor *dec = NULL;
    sealbox_buffer *b = NULL;
    sealbox_result rc;
    unsigned long long total = 0, written = 0;
    FILE *in, *out;
    size_t n;
    long hwm;
    int encrypting;

    if (argc != 4 || (strcmp(argv[1], "encrypt") != 0 && strcmp(argv[1], "decrypt") != 0)) {
        fprintf(stderr, "usage: stream_large encrypt|decrypt IN OUT\n");
        return 2;
    }
    encrypting = strcmp(argv[1], "encrypt") == 0;
    in = fopen(argv[2], "rb");
    out = fopen(argv[3], "wb");
    if (in == NULL || out == NULL) {
        perror("stream_large: open");
        return 1;
    }
    if ((rc = sealbox_raw_aes_keyring_new("sealbox-c-stream", "aes-256", wrapping_key, sizeof wrapping_key, &kr)))
        return fail("keyring", rc);
    if ((rc = sealbox_default_cmm_new(kr, &cmm))) return fail("cmm", rc);
    if ((rc = sealbox_string_map_new(&context)) ||
        (rc = sealbox_string_map_insert(context, (const uint8_t *)"purpose", 7, (const uint8_t *)"c-stream", 8)))
        return fail("context", rc);
    if (encrypting) {
        if ((rc = sealbox_encryptor_new(cmm, context, NULL, &enc))) return fail("encryptor", rc);
    } else if ((rc = sealbox_decryptor_new(cmm, context, NULL, &dec))) {
        return fail("decryptor", rc);
    }
    sealbox_string_map_free(context); /* the contexts copied what they need */
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        rc = encrypting ? sealbox_encryptor_update(enc, chunk, n, &b) : sealbox_decryptor_update(dec, chunk, n, &b);
        if (rc) return fail("update", rc);
        written += b->len;
        if (!put(out, b)) return fail("write", SEALBOX_RESULT_IO_ERROR);
        total += n;
    }
    if (ferror(in)) return fail("read", SEALBOX_RESULT_IO_ERROR);
    rc = encrypting ? sealbox_encryptor_finish(enc, &b) : sealbox_decryptor_finish(dec, &b);
    if (rc) return fail("finish", rc);
    written += b->len;
    if (!put(out, b) || fclose(out) != 0) return fail("write", SEALBOX_RESULT_IO_ERROR);
    fclose(in);
    sealbox_encryptor_free(enc);
    sealbox_decryptor_free(dec);
    sealbox_cmm_free(cmm);
    sealbox_keyring_free(kr);

    hwm = vm_hwm_kib();
    printf("stream_large %s: %llu bytes in, %llu bytes out, peak RSS (VmHWM) %ld KiB (limit %d KiB)\n", argv[1],
           total, written, hwm, LIMIT_KIB);
    if (hwm < 0 || hwm >= LIMIT_KIB) {
        fprintf(stderr, "stream_large: peak memory %ld KiB is not under %d KiB\n", hwm, LIMIT_KIB);
        return 1;
    }
    return 0;
}
