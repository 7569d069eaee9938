#!/usr/bin/env bash
# Installs the C library of sealbox: libsealbox.so.X.Y.Z with the soname
# libsealbox.so.X (and the libsealbox.so link for the linker), libsealbox.a,
# include/sealbox.h and sealbox.pc for pkg-config.
#
#   scripts/install-c-library.sh PREFIX [LIBDIR] [INCLUDEDIR]
#
# DESTDIR (environment) is prepended to every path, for packaging. The
# release build must exist (`make install` builds it first); with
# SEALBOX_BUILD_DIR=debug the dev build is installed instead (make test);
# an absolute SEALBOX_BUILD_DIR names any build directory (make dist).
# With SEALBOX_RELOCATABLE=1, sealbox.pc finds its prefix from its own
# location (${pcfiledir}/../..): the tree can be moved anywhere (the
# release archive).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:?usage: install-c-library.sh PREFIX [LIBDIR] [INCLUDEDIR]}"
LIBDIR="${2:-$PREFIX/lib}"
INCLUDEDIR="${3:-$PREFIX/include}"
DESTDIR="${DESTDIR:-}"
case "$PREFIX" in /*) ;; *) echo "install: PREFIX must be an absolute path (got $PREFIX)" >&2; exit 1 ;; esac

VERSION="$("$ROOT/scripts/version.sh")"
MAJOR="${VERSION%%.*}"
case "${SEALBOX_BUILD_DIR:-release}" in
    /*) BUILD="$SEALBOX_BUILD_DIR" ;;
    *)
        TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
            | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
        BUILD="$TARGET_DIR/${SEALBOX_BUILD_DIR:-release}"
        ;;
esac
for f in libsealbox.so libsealbox.a; do
    [ -f "$BUILD/$f" ] || { echo "install: $BUILD/$f is missing (cargo build --release -p sealbox-ffi)" >&2; exit 1; }
done

lib="$DESTDIR$LIBDIR"
inc="$DESTDIR$INCLUDEDIR"
install -d "$lib" "$lib/pkgconfig" "$inc"
install -m 0755 "$BUILD/libsealbox.so" "$lib/libsealbox.so.$VERSION"
ln -sfn "libsealbox.so.$VERSION" "$lib/libsealbox.so.$MAJOR"
ln -sfn "libsealbox.so.$MAJOR" "$lib/libsealbox.so"
install -m 0644 "$BUILD/libsealbox.a" "$lib/libsealbox.a"
install -m 0644 "$ROOT/include/sealbox.h" "$inc/sealbox.h"
if [ "${SEALBOX_RELOCATABLE:-0}" = 1 ]; then
    PC_PREFIX='${pcfiledir}/../..' PC_LIBDIR='${prefix}/lib' PC_INCLUDEDIR='${prefix}/include'
else
    PC_PREFIX="$PREFIX" PC_LIBDIR="$LIBDIR" PC_INCLUDEDIR="$INCLUDEDIR"
fi
sed -e "s|@PREFIX@|$PC_PREFIX|" -e "s|@LIBDIR@|$PC_LIBDIR|" -e "s|@INCLUDEDIR@|$PC_INCLUDEDIR|" \
    -e "s|@VERSION@|$VERSION|" "$ROOT/ffi/sealbox.pc.in" >"$lib/pkgconfig/sealbox.pc"
chmod 0644 "$lib/pkgconfig/sealbox.pc"
echo "installed libsealbox $VERSION (soname libsealbox.so.$MAJOR) into $DESTDIR$PREFIX"
