/*
 * A tiny assertion kit for the C tests of libsealbox: every check counts,
 * the first failing one prints where, what, and the library's last error
 * detail, then exits 1. Each program ends by printing "<name>: N checks".
 */
#ifndef SEALBOX_TEST_CHECK_H
#define SEALBOX_TEST_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sealbox.h>

static unsigned long checks_passed;

static void check_failed(const char *file, int line, const char *what, const char *fmt, ...) {
    char detail[512];
    size_t n = 0;
    va_list ap;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    if (fmt != NULL) {
        va_start(ap, fmt);
        fputs("  ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    if (sealbox_last_error_detail(detail, sizeof detail, &n) == SEALBOX_RESULT_OK && n > 0) {
        fprintf(stderr, "  last error detail: %s\n", detail);
    }
    exit(1);
}

/* A condition. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) check_failed(__FILE__, __LINE__, #cond, NULL);        \
        checks_passed++;                                                   \
    } while (0)

/* A call that must answer exactly `code`. */
#define EXPECT(code, call)                                                 \
    do {                                                                   \
        sealbox_result rc_ = (call);                                       \
        if (rc_ != (sealbox_result)(code))                                 \
            check_failed(__FILE__, __LINE__, #call, "expected %s (%u), got %u", \
                         #code, (unsigned)(code), (unsigned)rc_);          \
        checks_passed++;                                                   \
    } while (0)

/* A call that must succeed. */
#define OK(call) EXPECT(SEALBOX_RESULT_OK, call)

/* Two byte strings must be equal. */
#define CHECK_BYTES(a, alen, b, blen)                                      \
    CHECK((alen) == (blen) && ((alen) == 0 || memcmp((a), (b), (alen)) == 0))

/* A NUL-terminated string must equal a literal. */
#define CHECK_STR(s, lit) CHECK((s) != NULL && strcmp((s), (lit)) == 0)

/* The last error detail of this thread contains `needle`. */
#define CHECK_DETAIL(needle)                                               \
    do {                                                                   \
        char d_[512];                                                      \
        size_t n_ = 0;                                                     \
        OK(sealbox_last_error_detail(d_, sizeof d_, &n_));                 \
        if (strstr(d_, (needle)) == NULL)                                  \
            check_failed(__FILE__, __LINE__, "detail contains " #needle,   \
                         "detail is \"%s\"", d_);                          \
        checks_passed++;                                                   \
    } while (0)

/* Sentinels: outputs must be left alone on failure. */
#define SENTINEL ((void *)(uintptr_t)0x5ea1b0c5u)

/* An encryption context: a sealbox_string_map filled pair by pair. The map
 * is made on the first pair; until then it is NULL, which the library takes
 * as the empty context. Free it with context_free. (No check is counted
 * here, so that worker threads may build contexts too.) */
typedef struct {
    sealbox_string_map *map;
} context_t;

static inline void context_add(context_t *c, const char *k, const char *v) {
    if ((c->map == NULL && sealbox_string_map_new(&c->map) != SEALBOX_RESULT_OK) ||
        sealbox_string_map_insert(c->map, (const uint8_t *)k, strlen(k), (const uint8_t *)v, strlen(v)) !=
            SEALBOX_RESULT_OK)
        check_failed(__FILE__, __LINE__, "context_add", "could not add \"%s\"", k);
}

static inline void context_free(context_t *c) {
    sealbox_string_map_free(c->map);
    c->map = NULL;
}

#define CTX(c) ((const sealbox_string_map *)(c)->map)
#define NO_CTX NULL

/* A string-map entry must be (k, v). */
#define CHECK_MAP_ENTRY(map, i, k, v)                                      \
    do {                                                                   \
        const uint8_t *mk_ = NULL, *mv_ = NULL;                            \
        size_t mkl_ = 0, mvl_ = 0;                                         \
        OK(sealbox_string_map_get((map), (i), &mk_, &mkl_, &mv_, &mvl_)); \
        CHECK_BYTES(mk_, mkl_, (k), strlen(k));                            \
        CHECK_BYTES(mv_, mvl_, (v), strlen(v));                            \
        CHECK(mk_[mkl_] == 0 && mv_[mvl_] == 0);                           \
    } while (0)

/* Reads a whole file (the caller frees). */
static inline uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = 0;
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* A path inside the test's scratch directory (argv[1]). */
static const char *scratch_dir = ".";
static inline char *scratch(const char *name) {
    static char paths[32][1024];
    static int next;
    char *p = paths[next++ % 32];
    snprintf(p, sizeof paths[0], "%s/%s", scratch_dir, name);
    return p;
}

static inline int finish(const char *name) {
    printf("%s: %lu checks passed\n", name, checks_passed);
    return 0;
}

/* A test program's main: the scratch folder from argv[1] (if given), then
 * each test in `tests` (NULL-terminated), then the summary line. */
typedef void (*test_fn)(void);
static inline int run_tests(const char *name, int argc, char **argv, const test_fn *tests) {
    if (argc > 1) scratch_dir = argv[1];
    for (; *tests != NULL; tests++) (*tests)();
    return finish(name);
}

#endif
