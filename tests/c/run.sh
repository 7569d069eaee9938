#!/usr/bin/env bash
# The C tests of libsealbox, against the library as `make install` lays it
# out (make test-c installs it into target/c/prefix first):
#
#   tests/c/run.sh PREFIX
#
#  1. the installed layout: soname libsealbox.so.MAJOR, links, sealbox.pc;
#  2. the header: compiles as C99 and C++, every function and type says who
#     owns what and whether it is thread-safe, the library exports exactly
#     its functions, and the C tests call every one of them;
#  3. the C test programs (-Wall -Wextra -Werror), each under valgrind with
#     leaks counted as errors: basics and NULLs, the panic boundary, the
#     envelope layer, the key store, access control (policies, grants), secrets, threads, the PKCS#11 backend on SoftHSM2;
#  4. one of them linked statically against libsealbox.a;
#  5. examples/c/quickstart.c built with `cc $(pkg-config --cflags --libs sealbox)`;
#  6. a 256 MiB file streamed through the encryptor in under 32 MiB of peak
#     memory, decrypted by the AWS Encryption SDK for Python (the interop
#     virtualenv, $ROOT/.venv, that tests/interop/run.sh makes) and by the
#     C decryptor.
#
# Ends with "c: N passed, M failed"; exits 1 on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PREFIX="${1:?usage: tests/c/run.sh PREFIX}"
LIB="$PREFIX/lib"
export PKG_CONFIG_PATH="$LIB/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
CC="${CC:-cc}"
CXX="${CXX:-c++}"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -Wpedantic -D_POSIX_C_SOURCE=200809L -g -O1)
VALGRIND=(valgrind --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible
    --track-origins=yes --suppressions="$HERE/valgrind.supp")
STREAM_BYTES="${SEALBOX_C_STREAM_BYTES:-268435456}" # 256 MiB
# The panic test panics on purpose: the message is enough, no backtrace.
export RUST_BACKTRACE=0

mkdir -p "$ROOT/target/c"
WORK="$(mktemp -d "$ROOT/target/c/run.XXXXXX")"
BIN="$WORK/bin"
SCRATCH="$WORK/scratch"
mkdir -p "$BIN" "$SCRATCH"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

passed=0
failed=0
summary=()
log() { printf '==> %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'ok      %s\n' "$1"; [ -z "${2:-}" ] || summary+=("$1: $2"); }
not_ok() { failed=$((failed + 1)); printf 'FAILED  %s\n' "$1"; summary+=("$1: FAILED"); }

# Runs "$@" under valgrind; passes if the program and valgrind are happy.
under_valgrind() {
    local name="$1"; shift
    local vlog="$WORK/$name.valgrind.log"
    if "${VALGRIND[@]}" --log-file="$vlog" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
        local checks leaks
        checks="$(tail -n 1 "$WORK/$name.out")"
        leaks="$(sed -n 's/.*definitely lost: \(.*\)/definitely lost \1/p; s/.*indirectly lost: \(.*\)/indirectly lost \1/p; s/.*possibly lost: \(.*\)/possibly lost \1/p' "$vlog" | paste -sd ',' - | sed 's/,/, /g')"
        [ -n "$leaks" ] || leaks="no leaks possible (all heap blocks freed)"
        ok "$name" "${checks#*: }; valgrind: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$vlog"), $leaks"
    else
        not_ok "$name"
        sed -n '1,60p' "$WORK/$name.err" >&2 || true
        grep -v '^==[0-9]*==    by 0x\|^==[0-9]*==    at 0x' "$vlog" | tail -n 40 >&2 || true
    fi
}

# --- 1. installed layout ------------------------------------------------------
log "installed layout in $PREFIX"
version="$(pkg-config --modversion sealbox)"
major="${version%%.*}"
soname="$(readelf -d "$LIB/libsealbox.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
if [ "$soname" = "libsealbox.so.$major" ] \
    && [ "$(readlink "$LIB/libsealbox.so")" = "libsealbox.so.$major" ] \
    && [ "$(readlink "$LIB/libsealbox.so.$major")" = "libsealbox.so.$version" ] \
    && [ -f "$LIB/libsealbox.a" ] && [ -f "$PREFIX/include/sealbox.h" ] \
    && cmp -s "$PREFIX/include/sealbox.h" "$ROOT/include/sealbox.h"; then
    ok "install-layout" "libsealbox.so.$version, soname $soname, libsealbox.a, sealbox.h, sealbox.pc $version"
else
    not_ok "install-layout"
fi

# --- 2. the header --------------------------------------------------------------
log "header: C99, C++, docs, exports, test coverage"
if "$CC" -std=c99 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -x c "$ROOT/include/sealbox.h" \
    && "$CXX" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ "$ROOT/include/sealbox.h"; then
    ok "header-compiles" "as C99 -Wpedantic and C++17"
else
    not_ok "header-compiles"
fi
if python3 "$HERE/check_header.py" "$ROOT/include/sealbox.h" "$LIB/libsealbox.so" "$HERE" >"$WORK/check_header.out"; then
    ok "header-docs-exports-coverage" "$(tail -n 1 "$WORK/check_header.out" | sed 's/^check_header: //')"
else
    cat "$WORK/check_header.out" >&2
    not_ok "header-docs-exports-coverage"
fi

# --- 3. the test programs under valgrind ------------------------------------------
log "building tests/c with ${CFLAGS[*]}"
TESTS=(test_basics test_panic test_envelope test_keystore test_access test_secrets test_threads test_pkcs11 test_postgres)
for t in "${TESTS[@]}" stream_large; do
    # shellcheck disable=SC2046
    "$CC" "${CFLAGS[@]}" -pthread $(pkg-config --cflags sealbox) "$HERE/$t.c" -o "$BIN/$t" \
        $(pkg-config --libs sealbox) -Wl,-rpath,"$LIB"
done

# Key material from OpenSSL for the raw RSA keyring and BYOK.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SCRATCH/rsa_private.pem" 2>/dev/null
openssl pkey -in "$SCRATCH/rsa_private.pem" -pubout -out "$SCRATCH/rsa_public.pem"
openssl pkey -in "$SCRATCH/rsa_private.pem" -outform DER -out "$SCRATCH/rsa_private.der"
openssl pkey -in "$SCRATCH/rsa_private.pem" -pubout -outform DER -out "$SCRATCH/rsa_public.der"
# Two P-384 key pairs for the raw ECDH keyring: PEM private keys, DER public keys.
for who in alice bob; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$SCRATCH/ec_$who.pem" 2>/dev/null
    openssl pkey -in "$SCRATCH/ec_$who.pem" -pubout -outform DER -out "$SCRATCH/ec_$who.pub.der"
done

log "running the tests under valgrind"
under_valgrind test_basics "$BIN/test_basics" "$SCRATCH"
under_valgrind test_panic "$BIN/test_panic"
under_valgrind test_envelope "$BIN/test_envelope" "$SCRATCH"
under_valgrind test_keystore "$BIN/test_keystore" "$SCRATCH"
mkdir -p "$SCRATCH/access"
under_valgrind test_access "$BIN/test_access" "$SCRATCH/access"
mkdir -p "$SCRATCH/secrets"
under_valgrind test_secrets "$BIN/test_secrets" "$SCRATCH/secrets"
under_valgrind test_threads "$BIN/test_threads" "$SCRATCH"

# The PostgreSQL store, on the test server of `make pg-start` (its env:
# SEALBOX_TEST_PG_URL, SEALBOX_TEST_PG_CA), in a fresh database dropped
# afterwards. Skipped without a server, except on CI (CI set): a failure.
if [ -n "${SEALBOX_TEST_PG_URL:-}" ]; then
    pg_db="sbc_$$_$(date +%s)"
    pg_base="${SEALBOX_TEST_PG_URL%%\?*}"
    if psql -X -q -v ON_ERROR_STOP=1 "$SEALBOX_TEST_PG_URL" -c "CREATE DATABASE $pg_db" >"$WORK/pg.out" 2>&1; then
        under_valgrind test_postgres "$BIN/test_postgres" "${pg_base%/*}/$pg_db" "${SEALBOX_TEST_PG_CA:-}"
        psql -X -q "$SEALBOX_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >>"$WORK/pg.out" 2>&1 || true
    else
        cat "$WORK/pg.out" >&2
        not_ok test_postgres
    fi
elif [ -n "${CI:-}" ]; then
    echo "SEALBOX_TEST_PG_URL is not set: on CI the PostgreSQL tests must run (make pg-start)" >&2
    not_ok test_postgres
else
    log "test_postgres skipped: no test PostgreSQL server (make pg-start; SEALBOX_TEST_PG_URL)"
fi

# A SoftHSM2 token of our own, found by label.
MODULE="${SEALBOX_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
mkdir -p "$WORK/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK/softhsm/tokens" \
    >"$WORK/softhsm/softhsm2.conf"
export SOFTHSM2_CONF="$WORK/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label sealbox-c-tests --so-pin 87654321 --pin 2468 >/dev/null
under_valgrind test_pkcs11 "$BIN/test_pkcs11" "$SCRATCH" "$MODULE" sealbox-c-tests 2468

# --- 4. static library ------------------------------------------------------------
log "test_basics linked statically against libsealbox.a"
# shellcheck disable=SC2046
if "$CC" "${CFLAGS[@]}" -pthread $(pkg-config --cflags sealbox) "$HERE/test_basics.c" -o "$BIN/test_basics_static" \
    "$LIB/libsealbox.a" $(pkg-config --static --libs-only-l sealbox | sed 's/-lsealbox//') \
    && ! readelf -d "$BIN/test_basics_static" | grep -q 'libsealbox' \
    && mkdir -p "$SCRATCH/static" && "$BIN/test_basics_static" "$SCRATCH/static" >"$WORK/static.out"; then
    ok "static-link" "$(tail -n 1 "$WORK/static.out" | sed 's/^[^:]*: //'), no libsealbox.so needed"
else
    not_ok "static-link"
fi

# --- 5. the quickstart, built as its comment says ----------------------------------
log "examples/c/quickstart.c with cc \$(pkg-config --cflags --libs sealbox)"
# shellcheck disable=SC2046
if cc "$ROOT/examples/c/quickstart.c" $(pkg-config --cflags --libs sealbox) -o "$BIN/quickstart"; then
    head -c 300000 /dev/urandom >"$SCRATCH/quickstart.in"
    # Linked without an rpath, as a user would: the loader is told where.
    export LD_LIBRARY_PATH="$LIB"
    # The first run makes the store, its root key (mode 0600) and the key;
    # the second, under valgrind, finds them.
    if "$BIN/quickstart" "$SCRATCH/quickstart.in" "$SCRATCH/quickstart.sealed" "$SCRATCH/store" >/dev/null \
        && [ "$(stat -c %a "$SCRATCH/store/root.key")" = 600 ]; then
        under_valgrind quickstart "$BIN/quickstart" "$SCRATCH/quickstart.in" "$SCRATCH/quickstart.sealed" "$SCRATCH/store"
    else
        not_ok "quickstart"
    fi
    unset LD_LIBRARY_PATH
else
    not_ok "quickstart-build"
fi

# --- 6. 256 MiB streamed from C -------------------------------------------------------
log "streaming $STREAM_BYTES bytes from C"
head -c "$STREAM_BYTES" /dev/urandom >"$SCRATCH/big.in"
if "$BIN/stream_large" encrypt "$SCRATCH/big.in" "$SCRATCH/big.msg" >"$WORK/enc.out"; then
    ok "stream-encrypt-256MiB" "$(sed 's/^stream_large encrypt: //' "$WORK/enc.out")"
else
    cat "$WORK/enc.out" >&2 || true
    not_ok "stream-encrypt-256MiB"
fi
PY="$ROOT/.venv/bin/python"
if [ -x "$PY" ] && "$PY" -c 'import aws_encryption_sdk' 2>/dev/null; then
    if "$PY" "$HERE/esdk_decrypt.py" "$SCRATCH/big.msg" "$SCRATCH/big.in" >"$WORK/esdk.out"; then
        ok "aws-esdk-python-decrypts-it" "$(sed 's/^esdk_decrypt: //' "$WORK/esdk.out")"
    else
        cat "$WORK/esdk.out" >&2 || true
        not_ok "aws-esdk-python-decrypts-it"
    fi
else
    echo "the AWS Encryption SDK for Python is not in $ROOT/.venv: run tests/interop/run.sh (make test-interop) first" >&2
    not_ok "aws-esdk-python-decrypts-it"
fi
if "$BIN/stream_large" decrypt "$SCRATCH/big.msg" "$SCRATCH/big.out" >"$WORK/dec.out" \
    && cmp -s "$SCRATCH/big.in" "$SCRATCH/big.out"; then
    ok "stream-decrypt-256MiB" "$(sed 's/^stream_large decrypt: //' "$WORK/dec.out"); identical to the input"
else
    cat "$WORK/dec.out" >&2 || true
    not_ok "stream-decrypt-256MiB"
fi
rm -f "$SCRATCH"/big.*

echo
echo "== C ABI summary =="
printf '  %s\n' "${summary[@]}"
echo "c: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
