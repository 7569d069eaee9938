#!/usr/bin/env bash
# Installs what `make dist` wrote under DIST_DIR the way a user without
# Rust would, and runs each package's quickstart (issue 20):
#   - cargo, rustc and every C compiler are off PATH (a PATH of links to
#     every other command), and the install steps are offline;
#   - Python: a fresh virtualenv, `pip install` of the wheel, the quickstart;
#   - Node: a fresh npm project, both tarballs installed offline, the
#     quickstart; then the main package alone, which must say what is
#     missing;
#   - C: the archive unpacked and installed into a new prefix, the C
#     quickstart built with pkg-config (the compiler back for that step
#     only), shared and static, and run;
#   - the packaged sealbox: init, key create, encrypt, decrypt, audit verify;
#   - every package reports the same version and crypto provider;
#     SHA256SUMS checks.
#
#   scripts/dist/test-dist.sh DIST_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST="$(cd "${1:?usage: test-dist.sh DIST_DIR}" && pwd)"
VERSION="$("$ROOT/scripts/version.sh")"
PROVIDER="${SEALBOX_EXPECT_PROVIDER:-aws-lc}"
WANT="$VERSION (crypto provider: $PROVIDER, FIPS mode: off)"
T="$ROOT/target/dist-test"
FULL_PATH="$PATH"
step() { echo "== test-dist: $*"; }
fail() { echo "test-dist: FAILED: $*" >&2; exit 1; }

rm -rf "$T"
mkdir -p "$T/path"

# ---- A PATH without Rust and without a C compiler ---------------------------
is_toolchain() {
    case "$1" in
        cargo | cargo-* | rustc | rustdoc | rustup | rustfmt | rust-gdb* | rust-lldb | rust-analyzer | clippy-driver) return 0 ;;
        cc | c++ | c89 | c99 | cpp | cpp-* | tcc | zig | *gcc* | *g++* | *clang* | *-linux-gnu-cc | *-linux-musl-cc) return 0 ;;
    esac
    return 1
}
IFS=: read -r -a dirs <<<"$FULL_PATH"
for d in "${dirs[@]}"; do
    [ -d "$d" ] || continue
    case "$d" in */.cargo/bin | */.rustup/*) continue ;; esac
    for f in "$d"/*; do
        n="${f##*/}"
        [ -x "$f" ] && [ ! -d "$f" ] || continue
        is_toolchain "$n" && continue
        [ -e "$T/path/$n" ] || ln -s "$f" "$T/path/$n"
    done
done
NO_TOOLCHAIN_PATH="$T/path"
# Nothing that could point back into the build tree either.
run_bare() {
    env -u CC -u CXX -u RUSTC -u CARGO -u RUSTUP_TOOLCHAIN -u CARGO_TARGET_DIR \
        -u LD_LIBRARY_PATH -u LD_PRELOAD -u PYTHONPATH -u NODE_PATH -u NODE_OPTIONS \
        PATH="$NO_TOOLCHAIN_PATH" "$@"
}
for tool in cargo rustc cc gcc c++ clang; do
    if run_bare bash -c "command -v $tool" >/dev/null 2>&1; then fail "$tool is still on the bare PATH"; fi
done
step "PATH without cargo, rustc or a C compiler: $(ls "$T/path" | wc -l) commands"

step "checksums"
(cd "$DIST" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
listed=$(cut -d' ' -f3 "$DIST/SHA256SUMS" | sort | tr '\n' ' ')
present=$(cd "$DIST" && ls | grep -v '^SHA256SUMS$' | sort | tr '\n' ' ')
[ "$listed" = "$present" ] || fail "SHA256SUMS lists [$listed], dist/ holds [$present]"

# ---- Python ---------------------------------------------------------------
step "Python: fresh virtualenv, pip install of the wheel (offline, binary only)"
wheel=$(ls "$DIST"/sealbox-"$VERSION"-*.whl)
run_bare python3 -m venv "$T/venv"
run_bare "$T/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
    --only-binary :all: "$wheel"
mkdir -p "$T/py" && cp "$ROOT/examples/python/quickstart.py" "$T/py/"
(cd "$T/py" && run_bare "$T/venv/bin/python" quickstart.py) | sed 's/^/   /'
py_info=$(cd "$T/py" && run_bare "$T/venv/bin/python" -c \
    'import sealbox, importlib.metadata as m; assert m.version("sealbox") == sealbox.__version__; print(sealbox.build_info())')
[ "$py_info" = "$WANT" ] || fail "Python reports '$py_info', want '$WANT'"
loc=$(cd "$T/py" && run_bare "$T/venv/bin/python" -c 'import sealbox; print(sealbox.__file__)')
case "$loc" in "$T/venv/"*) ;; *) fail "sealbox was imported from $loc, not the fresh virtualenv" ;; esac

# ---- Node -----------------------------------------------------------------
main_tgz="$DIST/sealbox-$VERSION.tgz"
plat_tgz="$DIST/sealbox-linux-x64-gnu-$VERSION.tgz"
npm_offline() { run_bare npm --offline --no-audit --no-fund --loglevel=error --cache "$T/npm-cache" "$@"; }
step "Node: fresh npm project, both tarballs installed offline"
mkdir -p "$T/node"
(cd "$T/node" && npm_offline init -y >/dev/null && npm_offline install "$main_tgz" "$plat_tgz" >/dev/null)
[ -f "$T/node/node_modules/sealbox-linux-x64-gnu/sealbox.linux-x64-gnu.node" ] || fail "the platform package was not installed"
[ ! -e "$T/node/node_modules/sealbox/sealbox.linux-x64-gnu.node" ] || fail "the main package carries an addon"
sed "s|require('../../bindings/node')|require('sealbox')|" "$ROOT/examples/node/quickstart.js" >"$T/node/quickstart.js"
grep -q "require('sealbox')" "$T/node/quickstart.js" || fail "the Node quickstart does not require the package"
(cd "$T/node" && run_bare node quickstart.js) | sed 's/^/   /'
(cd "$T/node" && run_bare node -e '
  for (const p of ["sealbox", "sealbox-linux-x64-gnu"]) {
    const where = require.resolve(p)
    if (!where.startsWith(process.cwd() + "/node_modules/")) throw new Error(`${p} resolved to ${where}`)
  }') || fail "the Node packages do not resolve to the fresh project"
node_info=$(cd "$T/node" && run_bare node -e '
  const s = require("sealbox"), i = s.buildInfo()
  if (s.version !== require("sealbox/package.json").version) throw new Error("package.json version")
  console.log(`${i.version} (crypto provider: ${i.cryptoProvider}, FIPS mode: ${i.fipsMode ? "on" : "off"})`)')
[ "$node_info" = "$WANT" ] || fail "Node reports '$node_info', want '$WANT'"

step "Node: the main package without its platform package says what is missing"
mkdir -p "$T/node-bare"
(cd "$T/node-bare" && npm_offline init -y >/dev/null && npm_offline install --omit=optional "$main_tgz" >/dev/null)
[ ! -e "$T/node-bare/node_modules/sealbox-linux-x64-gnu" ] || fail "the platform package was installed"
if msg=$(cd "$T/node-bare" && run_bare node -e 'require("sealbox")' 2>&1); then
    fail "require('sealbox') worked without the addon"
fi
echo "$msg" | grep -q "npm install sealbox-linux-x64-gnu@$VERSION" || fail "unclear error without the addon: $msg"
echo "$msg" | grep -q "sealbox: no native addon for linux-x64-gnu is installed" || fail "unclear error without the addon: $msg"
echo "   $(echo "$msg" | grep -m1 'sealbox: no native addon' | cut -c1-160)..."

# ---- C library and CLI ------------------------------------------------------
step "C: the archive installed into a new prefix"
archive="$DIST/sealbox-$VERSION-x86_64-linux.tar.gz"
mkdir -p "$T/unpack"
run_bare tar -xzf "$archive" -C "$T/unpack"
PREFIX="$T/opt/sealbox"
run_bare "$T/unpack/sealbox-$VERSION-x86_64-linux/install.sh" "$PREFIX" | sed 's/^/   /'
rm -rf "$T/unpack"   # the prefix alone must work
for f in bin/sealbox include/sealbox.h lib/libsealbox.a "lib/libsealbox.so.$VERSION" lib/libsealbox.so \
    lib/pkgconfig/sealbox.pc share/man/man1/sealbox.1 share/man/man1/sealbox-encrypt.1 \
    share/bash-completion/completions/sealbox share/zsh/site-functions/_sealbox \
    share/fish/vendor_completions.d/sealbox.fish; do
    [ -e "$PREFIX/$f" ] || fail "$f is missing from the installed prefix"
done
run_bare bash -n "$PREFIX/share/bash-completion/completions/sealbox" || fail "bash completion does not parse"
for sh in zsh:share/zsh/site-functions/_sealbox fish:share/fish/vendor_completions.d/sealbox.fish; do
    if command -v "${sh%%:*}" >/dev/null; then
        "${sh%%:*}" -n "$PREFIX/${sh#*:}" || fail "${sh%%:*} completion does not parse"
    fi
done
grep -q "^\.TH sealbox 1 .*$VERSION" "$PREFIX/share/man/man1/sealbox.1" || fail "sealbox.1 is not the man page of $VERSION"
[ "$(ls "$PREFIX/share/man/man1" | wc -l)" -gt 40 ] || fail "a man page per subcommand is missing"
readelf -d "$PREFIX/lib/libsealbox.so.$VERSION" | grep -q "SONAME.*\[libsealbox\.so\.${VERSION%%.*}\]" ||
    fail "libsealbox.so.$VERSION has no soname libsealbox.so.${VERSION%%.*}"

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
[ "$(run_bare pkg-config --modversion sealbox)" = "$VERSION" ] || fail "pkg-config --modversion"
[ "$(run_bare pkg-config --variable=libdir sealbox)" -ef "$PREFIX/lib" ] || fail "sealbox.pc does not find its prefix"
step "C: the quickstart built with pkg-config (compiler allowed for this step), shared and static"
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
QUICKSTART_C="$PREFIX/share/doc/sealbox/examples/c/quickstart.c"   # the copy the archive ships
PATH="$FULL_PATH" cc -std=c11 -O2 "$QUICKSTART_C" $(pkg-config --cflags --libs sealbox) \
    -Wl,-rpath,"$PREFIX/lib" -o "$T/quickstart-shared"
# shellcheck disable=SC2046
PATH="$FULL_PATH" cc -std=c11 -O2 "$QUICKSTART_C" $(pkg-config --cflags sealbox) \
    "$PREFIX/lib/libsealbox.a" $(pkg-config --libs-only-l --static sealbox | sed 's/-lsealbox//') -o "$T/quickstart-static"
readelf -d "$T/quickstart-shared" | grep -q "NEEDED.*\[libsealbox\.so\.${VERSION%%.*}\]" ||
    fail "the shared quickstart does not need libsealbox.so.${VERSION%%.*}"
readelf -d "$T/quickstart-static" | grep -q 'NEEDED.*libsealbox' && fail "the static quickstart needs libsealbox.so"
mkdir -p "$T/c" && seq 1 2000 | sed 's/$/,4111-1111-1111-1111,12.00/' >"$T/c/orders.csv"
for kind in shared static; do
    (cd "$T/c" && run_bare "$T/quickstart-$kind" orders.csv "orders-$kind.sealed" "store-$kind") | sed 's/^/   /'
done

step "CLI: the packaged sealbox through init, key create, encrypt, decrypt, audit verify"
sb() { run_bare "$PREFIX/bin/sealbox" --store "$T/cli-store" "$@"; }
cli_version=$(run_bare "$PREFIX/bin/sealbox" --version)
[ "$cli_version" = "sealbox $WANT" ] || fail "sealbox --version says '$cli_version', want 'sealbox $WANT'"
sb init >/dev/null
sb key create --alias alias/dist-test >/dev/null
head -c 300000 /dev/urandom >"$T/plain.bin"
sb encrypt --key alias/dist-test --context purpose=dist-test "$T/plain.bin" -o "$T/plain.bin.sbx" 2>&1 | sed "s/^/   /"
sb decrypt --context purpose=dist-test "$T/plain.bin.sbx" -o "$T/plain.out" 2>&1 | sed "s/^/   /"
cmp "$T/plain.bin" "$T/plain.out" || fail "the CLI round trip changed the data"
if sb decrypt --context purpose=other "$T/plain.bin.sbx" -o "$T/wrong.out" 2>/dev/null; then
    fail "decrypt with the wrong context succeeded"
fi
sb audit verify | sed 's/^/   /'

step "C: the loaded library's version and provider"
cat >"$T/version.c" <<'C'
#include <stdio.h>
#include <sealbox.h>
int main(void) {
    printf("%s (crypto provider: %s, FIPS mode: %s)\n", sealbox_version(), sealbox_crypto_provider(),
           sealbox_fips_mode() ? "on" : "off");
    return 0;
}
C
# shellcheck disable=SC2046
PATH="$FULL_PATH" cc -std=c11 -Wall -Werror "$T/version.c" $(pkg-config --cflags --libs sealbox) -Wl,-rpath,"$PREFIX/lib" -o "$T/version"
c_info=$(run_bare "$T/version")
[ "$c_info" = "$WANT" ] || fail "the C library reports '$c_info', want '$WANT'"

step "one version and provider everywhere: $WANT"
echo "test-dist: the wheel, the npm packages and the C/CLI archive install and run without Rust or a C compiler"
