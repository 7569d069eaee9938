#!/usr/bin/env bash
# Installs the system packages the test suites need, only when missing.
# Runs as root on CI (a fresh Debian machine); elsewhere it uses sudo if it
# must and says what it needs if it cannot.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd openssl || need+=(openssl)
have_cmd python3 || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
have_cmd node || need+=(nodejs)
have_cmd npm || need+=(npm)
have_cmd cc || need+=(gcc)
# The HSM of the tests, and an independent PKCS#11 client.
have_cmd softhsm2-util || need+=(softhsm2)
have_cmd pkcs11-tool || need+=(opensc)
# The C tests: run under valgrind, built with pkg-config; the header is
# also compiled as C++.
have_cmd valgrind || need+=(valgrind)
have_cmd pkg-config || need+=(pkg-config)
have_cmd c++ || need+=(g++)
# The PostgreSQL metadata store's tests run a throwaway server of their own
# (scripts/pg-server.sh): the server binaries and psql. The package also
# makes a system cluster on port 5432; ours uses a port of its own.
have_pg_server() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" ]] && return 0
  done
  return 1
}
have_pg_server || need+=(postgresql)

if ((${#need[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${need[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if have_cmd sudo; then SUDO=sudo; else
    echo "install-deps: need root to install: ${need[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
