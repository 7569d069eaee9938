#!/usr/bin/env bash
# The C library and the command line as one archive,
# sealbox-VERSION-x86_64-linux.tar.gz, holding one directory:
#   bin/sealbox
#   lib/libsealbox.so.VERSION (+ .so.MAJOR, .so links), lib/libsealbox.a
#   lib/pkgconfig/sealbox.pc       relocatable: prefix=${pcfiledir}/../..
#   include/sealbox.h
#   share/man/man1/sealbox*.1      made from the CLI's own grammar
#   share/bash-completion/completions/sealbox
#   share/zsh/site-functions/_sealbox
#   share/fish/vendor_completions.d/sealbox.fish
#   share/doc/sealbox/             README.md, LICENSE, docs/*.md, examples/c
#   install.sh                     copies the tree into a prefix
#
#   scripts/dist/c-archive.sh VERSION BUILD_DIR OUT_DIR
# BUILD_DIR holds libsealbox.so, libsealbox.a and the sealbox binary.
set -euo pipefail
umask 022

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="${1:?usage: c-archive.sh VERSION BUILD_DIR OUT_DIR}"
BUILD="$(cd "${2:?build dir}" && pwd)"
OUT="${3:?out dir}"
NAME="sealbox-$VERSION-x86_64-linux"
STAGE="$ROOT/target/dist-stage/c"
TREE="$STAGE/$NAME"

[ -x "$BUILD/sealbox" ] || { echo "c-archive: $BUILD/sealbox is missing" >&2; exit 1; }
rm -rf "$STAGE"
mkdir -p "$TREE" "$OUT"

# The library, header and pkg-config file, as `make install` lays them out.
DESTDIR="$TREE" SEALBOX_BUILD_DIR="$BUILD" SEALBOX_RELOCATABLE=1 \
    "$ROOT/scripts/install-c-library.sh" / /lib /include >/dev/null

install -D -m 0755 "$BUILD/sealbox" "$TREE/bin/sealbox"
# Debug information stays in target/ (the release profile keeps it for
# profiling); the archive ships stripped binaries, as the wheel does.
strip --strip-unneeded "$TREE/bin/sealbox" "$TREE/lib/libsealbox.so.$VERSION"
strip --strip-debug "$TREE/lib/libsealbox.a"
# Man pages and completions from the packaged binary itself.
"$TREE/bin/sealbox" --quiet man --out-dir "$TREE/share/man/man1"
for c in bash:bash-completion/completions/sealbox zsh:zsh/site-functions/_sealbox \
    fish:fish/vendor_completions.d/sealbox.fish; do
    f="$TREE/share/${c#*:}"
    mkdir -p "$(dirname "$f")"
    "$TREE/bin/sealbox" completions "${c%%:*}" >"$f"
    [ -s "$f" ] || { echo "c-archive: empty ${c%%:*} completions" >&2; exit 1; }
done
chmod 0644 "$TREE"/share/man/man1/*.1 "$TREE"/share/*/*/*sealbox*

doc="$TREE/share/doc/sealbox"
install -d "$doc/docs" "$doc/examples/c"
install -m 0644 "$ROOT/README.md" "$ROOT/LICENSE" "$doc/"
install -m 0644 "$ROOT"/docs/*.md "$doc/docs/"
install -m 0644 "$ROOT/examples/c/quickstart.c" "$doc/examples/c/"

cat >"$TREE/install.sh" <<'SH'
#!/bin/sh
# Installs this sealbox release into PREFIX (default /usr/local):
#   ./install.sh [PREFIX]
# Nothing here names its directory: sealbox.pc finds the prefix from its
# own place, so the tree also works unpacked anywhere as it is. Programs
# that link libsealbox.so need PREFIX/lib on the loader's path (ldconfig,
# -Wl,-rpath or LD_LIBRARY_PATH).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${1:-/usr/local}"
mkdir -p "$prefix"
for d in bin lib include share; do
    mkdir -p "$prefix/$d"
    # A new inode for every file: a library that a running program maps
    # is replaced, never rewritten under it.
    cp -R -P --remove-destination "$here/$d/." "$prefix/$d/"
done
echo "sealbox installed into $prefix"
SH
chmod 0755 "$TREE/install.sh"

# Reproducible archive: sorted names, fixed owner and time.
MTIME="@${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$MTIME" --mode='u+rwX,go+rX,go-w' \
    -C "$STAGE" -cf - "$NAME" | gzip -n -9 >"$OUT/$NAME.tar.gz"
echo "c-archive: $OUT/$NAME.tar.gz"
