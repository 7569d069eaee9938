#!/usr/bin/env bash
# Live interoperability tests between sealbox and the AWS Encryption SDKs
# for Python and for JavaScript (Node), in both directions.
#
#   tests/interop/run.sh            # everything
#   tests/interop/run.sh -k unicode # extra arguments go to pytest
#
# Needs Python >= 3.11 with venv + pip, Node >= 20 with npm, and cargo; reaches
# PyPI, the npm registry and crates.io, nothing else (no AWS calls: raw AES and
# RSA keys only). The Python packages go into $ROOT/.venv (installed only when
# requirements.txt changed), the Node ones into tests/interop/node/node_modules
# (npm ci, from the committed package-lock.json). Exits non-zero on any failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv"
REQS="$HERE/requirements.txt"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'interop: %s\n' "$*" >&2; exit 1; }

# --- Python: a virtualenv with the pinned AWS Encryption SDK -----------------
find_python() {
    local c
    for c in "${PYTHON:-}" python3 python3.11 python3.12 python3.13 python; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(find_python)" || die "Python >= 3.11 not found (set PYTHON=...)"
    log "creating virtualenv $VENV with $PY"
    "$PY" -m venv "$VENV" || die "could not create $VENV (is the venv module installed?)"
fi
"$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$VENV has Python < 3.11; remove it and run again"

STAMP="$VENV/.sealbox-interop-requirements"
WANT="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$REQS")"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    log "installing $REQS into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
    echo "$WANT" >"$STAMP"
fi

# --- Node: the pinned AWS Encryption SDK for JavaScript ----------------------
command -v node >/dev/null 2>&1 || die "node not found"
command -v npm >/dev/null 2>&1 || die "npm not found"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
    || die "Node >= 20 required (found $(node --version))"
log "npm ci (tests/interop/node)"
(cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# --- sealbox: the example binary both suites drive --------------------------
# The workspace's package selection, as make test's first build: `-p
# sealbox` alone would unify features differently and build the core again.
log "cargo build --example esdk_tool"
(cd "$ROOT" && cargo build --quiet --workspace --exclude sealbox-python --exclude sealbox-node --example esdk_tool)
TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
    | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
SEALBOX_ESDK_TOOL="$TARGET_DIR/debug/examples/esdk_tool"
[ -x "$SEALBOX_ESDK_TOOL" ] || die "built example not found at $SEALBOX_ESDK_TOOL"
export SEALBOX_ESDK_TOOL

# --- run both suites; fail if either fails ------------------------------------
status=0
log "pytest tests/interop/python"
(cd "$ROOT" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/interop/python "$@") || status=1
log "node --test tests/interop/node"
(cd "$HERE/node" && node --test --test-reporter=spec interop.test.mjs) || status=1

if [ "$status" -ne 0 ]; then
    log "interop: FAILED"
else
    log "interop: all passed"
fi
exit "$status"
