#!/usr/bin/env bash
# The command-line part of `make demo`: a short session with the `sealbox`
# tool on the embedded default (a soft key store in a temporary directory),
# told in plain words. Needs only cargo.
#
#   examples/cli/demo.sh            # builds the tool, then runs the session
#   SEALBOX=/path/to/sealbox examples/cli/demo.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CARGO="${CARGO:-cargo}"

if [ -z "${SEALBOX:-}" ]; then
    echo "Building the sealbox command line (cargo build -p sealbox-cli) ..."
    (cd "$ROOT" && "$CARGO" build --quiet -p sealbox-cli)
    SEALBOX="${CARGO_TARGET_DIR:-$ROOT/target}/debug/sealbox"
fi
[ -x "$SEALBOX" ] || { echo "demo-cli: no sealbox binary at $SEALBOX" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sealbox-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# Everything of this session stays in $WORK: no settings of the user apply.
unset SEALBOX_CONFIG SEALBOX_ROOT_KEY SEALBOX_ROOT_KEY_FILE SEALBOX_JSON
export SEALBOX_STORE="$WORK/store" XDG_CONFIG_HOME="$WORK/.config" SEALBOX_PRINCIPAL="demo-user"

step=0
say() { step=$((step + 1)); printf '\n== %d. %s\n' "$step" "$*"; }
run() { printf '$ sealbox %s\n' "$*"; "$SEALBOX" "$@"; }

say "Create a key store. It is a SQLite file of key metadata, a root key file (mode 0600) that seals every key, and an audit log."
run init

say "Create a key for order records. Its material is generated inside the key store and never leaves it."
run key create --alias alias/orders --description "order records"

say "Make a file to protect: 1 MB of made-up card orders."
for i in $(seq 1 20000); do printf 'order %06d, card 4111 1111 1111 %04d, amount %d.%02d\n' "$i" $((i % 10000)) $((i % 500)) $((i % 100)); done > orders.csv
ls -l orders.csv | awk '{print $5 " bytes in orders.csv"}'

say "Encrypt it with the key (AWS Encryption SDK message format). The encryption context dept=billing is bound to it: it must be given again to decrypt."
run encrypt --key alias/orders --context dept=billing orders.csv -o orders.csv.sbx
echo "The encrypted file starts with the message header bytes: $(head -c 3 orders.csv.sbx | od -An -tx1 | xargs) (version 2, suite 0x0478)."
if grep -q "4111 1111" orders.csv.sbx; then echo "demo-cli: card numbers visible in the ciphertext" >&2; exit 1; fi
echo "No card number appears in orders.csv.sbx."

say "Rotate the key: a new version encrypts from now on; the old one is kept to decrypt what it encrypted."
run key rotate alias/orders
run key describe alias/orders

say "Decrypt the file that was encrypted before the rotation."
run decrypt --context dept=billing orders.csv.sbx -o orders.decrypted.csv
cmp orders.csv orders.decrypted.csv
echo "orders.decrypted.csv is identical to the original."

say "Try to decrypt it under another encryption context: refused, and nothing is written."
set +e
"$SEALBOX" decrypt --context dept=marketing orders.csv.sbx -o stolen.csv
code=$?
set -e
[ "$code" -eq 3 ] || { echo "demo-cli: expected exit code 3, got $code" >&2; exit 1; }
[ ! -e stolen.csv ] || { echo "demo-cli: stolen.csv exists" >&2; exit 1; }
echo "Exit code $code (decryption failed); stolen.csv was not created."

say "Show the audit trail: every operation, allowed or not, with key, version, context and who asked."
run audit tail -n 20

say "Verify the audit trail: each record is chained to the one before by an HMAC under a key the store holds."
run audit verify

say "Edit one record of a copy of the log, and verify again: the change is found."
cp -a store store-copy
sed -i '2s/"dept":"billing"/"dept":"sales"/' store-copy/keys.db.audit.jsonl
set +e
"$SEALBOX" --store store-copy --root-key-file store/root.key audit verify
code=$?
set -e
[ "$code" -eq 8 ] || { echo "demo-cli: expected exit code 8 for the edited log, got $code" >&2; exit 1; }
echo "Exit code $code: the edited log does not verify."

printf '\nThe CLI demo finished: key created, file encrypted, key rotated, old file decrypted, audit trail shown and verified.\n'
