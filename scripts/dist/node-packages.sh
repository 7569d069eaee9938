#!/usr/bin/env bash
# The npm packages of sealbox in the napi-rs layout, as `npm pack` tarballs:
#   sealbox-VERSION.tgz                the JS layer and typings; its optional
#                                      dependency is the platform package
#   sealbox-linux-x64-gnu-VERSION.tgz  the prebuilt addon (os/cpu/libc set,
#                                      so npm installs it only where it runs)
# Neither has an install script: installing them compiles nothing.
#
#   scripts/dist/node-packages.sh VERSION ADDON OUT_DIR
# ADDON is the built cdylib (libsealbox_node.so).
set -euo pipefail
umask 022

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="${1:?usage: node-packages.sh VERSION ADDON OUT_DIR}"
ADDON="${2:?addon}"
OUT="${3:?out dir}"
NODE_DIR="$ROOT/bindings/node"
PLATFORM=linux-x64-gnu
STAGE="$ROOT/target/dist-stage/node"

[ -f "$ADDON" ] || { echo "node-packages: $ADDON is missing" >&2; exit 1; }
rm -rf "$STAGE"
mkdir -p "$STAGE/main" "$STAGE/$PLATFORM" "$OUT"

# The main package: the files the checkout's package.json lists, less the
# addon, and a package.json without the build scripts and dev tools.
cp "$NODE_DIR"/{sealbox.js,sealbox.d.ts,index.js,index.d.ts,README.md} "$STAGE/main/"
cp "$ROOT/LICENSE" "$STAGE/main/"
cp "$ROOT/LICENSE" "$STAGE/$PLATFORM/"
install -m 0755 "$ADDON" "$STAGE/$PLATFORM/sealbox.$PLATFORM.node"
strip --strip-unneeded "$STAGE/$PLATFORM/sealbox.$PLATFORM.node"   # as the wheel is

SRC="$NODE_DIR/package.json" MAIN="$STAGE/main/package.json" PLAT="$STAGE/$PLATFORM/package.json" \
VERSION="$VERSION" PLATFORM="$PLATFORM" node <<'JS'
const fs = require('node:fs')
const env = process.env
const src = JSON.parse(fs.readFileSync(env.SRC, 'utf8'))
if (src.version !== env.VERSION) {
  console.error(`node-packages: bindings/node/package.json says ${src.version}, the workspace ${env.VERSION}`)
  process.exit(1)
}
const common = {
  version: env.VERSION,
  license: src.license,
  homepage: 'https://example.invalid/sealbox',
  repository: { type: 'git', url: 'https://example.invalid/sealbox.git' },
  bugs: { url: 'https://example.invalid/sealbox/issues' },
  engines: src.engines,
}
const platformPackage = `${src.name}-${env.PLATFORM}`
const main = {
  name: src.name,
  ...common,
  description: src.description,
  keywords: ['kms', 'encryption', 'envelope-encryption', 'key-management', 'aws-encryption-sdk', 'pkcs11', 'hsm'],
  main: src.main,
  types: src.types,
  files: src.files.filter((f) => !f.endsWith('.node')),
  napi: src.napi,
  optionalDependencies: { [platformPackage]: env.VERSION },
}
const [os, cpu, libc] = env.PLATFORM.split('-')
const platform = {
  name: platformPackage,
  ...common,
  description: `The prebuilt native addon of sealbox for ${os} ${cpu} (${libc === 'gnu' ? 'glibc' : libc})`,
  main: `sealbox.${env.PLATFORM}.node`,
  files: [`sealbox.${env.PLATFORM}.node`],
  os: [os],
  cpu: [cpu],
  libc: [libc === 'gnu' ? 'glibc' : libc],
}
fs.writeFileSync(env.MAIN, JSON.stringify(main, null, 2) + '\n')
fs.writeFileSync(env.PLAT, JSON.stringify(platform, null, 2) + '\n')
JS

cat >"$STAGE/$PLATFORM/README.md" <<MD
# sealbox-$PLATFORM

The prebuilt native addon of [sealbox](https://example.invalid/sealbox) for
Linux x86-64 with glibc 2.17 or later. Install \`sealbox\`, not this package:
npm installs this one as its optional dependency on this platform.
MD

for d in main "$PLATFORM"; do
    (cd "$STAGE/$d" && npm pack --silent --pack-destination "$OUT" >/dev/null)
done
ls "$OUT"/sealbox-"$VERSION".tgz "$OUT/sealbox-$PLATFORM-$VERSION.tgz" >/dev/null
echo "node-packages: $OUT/sealbox-$VERSION.tgz, $OUT/sealbox-$PLATFORM-$VERSION.tgz"
