#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the PostgreSQL metadata
# store: its own cluster in a directory the caller gives (make uses
# target/pg), on 127.0.0.1 at a free port and on a Unix socket in that
# directory, with TLS (a self-signed CA made here) and password
# (scram-sha-256) authentication over TCP.
#
#   scripts/pg-server.sh start DIR     create the cluster if DIR has none, start it
#                                      (nothing to do if it runs); prints its env
#   scripts/pg-server.sh stop DIR      fast shutdown (nothing to do if it is stopped)
#   scripts/pg-server.sh restart DIR   fast shutdown, then start the same cluster
#                                      on the same port
#   scripts/pg-server.sh status DIR    exit 0 if the server of DIR runs, 1 if not
#   scripts/pg-server.sh env DIR       print DIR/env
#
# DIR/env holds the lines the Makefile and the tests read (plain NAME=value
# lines, valid shell: `set -a && . DIR/env && set +a`):
#   SEALBOX_TEST_PG_URL   postgresql://sealbox:sealbox-test-pw@127.0.0.1:PORT/sealbox
#                         (role `sealbox`, LOGIN CREATEDB, owner of database `sealbox`)
#   SEALBOX_TEST_PG_CA    DIR/ca.crt, the CA of the server certificate (CN=localhost,
#                         SAN IP:127.0.0.1, DNS:localhost), for sslmode=verify-full
#   SEALBOX_TEST_PG_DIR   DIR (for `pg-server.sh restart "$SEALBOX_TEST_PG_DIR"`)
#   SEALBOX_TEST_PG_PORT  PORT
#
# The server keeps fsync on (the tests measure real commit latency). Its
# log is DIR/server.log. The PostgreSQL superuser is `postgres`, reachable
# only through the socket in DIR (mode 0700), without a password.
#
# initdb and pg_ctl refuse to run as root: as root (CI), DIR is given to the
# `postgres` user (made by the Debian package) and they run as that user
# through runuser; otherwise they run as the current user. The server
# binaries are the newest of /usr/lib/postgresql/*/bin (Debian), else those
# on PATH; scripts/install-deps.sh installs them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROLE=sealbox
ROLE_PASSWORD=sealbox-test-pw
DATABASE=sealbox
SUPERUSER=postgres
READY_TIMEOUT=60

die() { echo "pg-server: $*" >&2; exit 1; }
usage() { die "usage: pg-server.sh {start|stop|restart|status|env} DIR"; }

(($# == 2)) || usage
CMD="$1"
case "$CMD" in start | stop | restart | status | env) ;; *) usage ;; esac
[[ -n "$2" ]] || die "DIR is empty"
DIR="$(realpath -m -- "$2")"
# The path goes into the env file, postgresql.conf strings and a socket
# path: keep it to characters none of them treat specially.
[[ "$DIR" =~ ^/[A-Za-z0-9._/+-]+$ ]] ||
  die "DIR must be a path of letters, digits and ._/+- only (got '$DIR')"
[[ "$DIR" != "/" ]] || die "DIR cannot be /"
# The socket DIR/.s.PGSQL.PORT must fit a sockaddr_un (107 bytes and a NUL).
((${#DIR} + 15 <= 107)) || die "DIR is too long for the server's Unix socket (at most 92 characters): $DIR"
DATA="$DIR/data"
TLS="$DIR/tls"
LOG="$DIR/server.log"
ENV_FILE="$DIR/env"
PORT_FILE="$DIR/port"
MARKER="$DIR/.sealbox-pg-cluster"

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

# ---- the PostgreSQL binaries -------------------------------------------------
find_bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
    # Versions are directory names (13, 15, 16 ...): pick the highest.
    if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1)" == "$d" ]]; then
      best="$d"
    fi
  done
  if [[ -z "$best" ]] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 &&
    command -v postgres >/dev/null 2>&1; then
    best="$(dirname "$(command -v initdb)")"
  fi
  [[ -n "$best" ]] || die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin or on PATH; run scripts/install-deps.sh (Debian package 'postgresql')"
  printf '%s\n' "$best"
}
BINDIR="$(find_bindir)"
for tool in psql pg_isready; do
  [[ -x "$BINDIR/$tool" ]] || command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' is missing; run scripts/install-deps.sh (Debian package 'postgresql')"
done
tool_path() { if [[ -x "$BINDIR/$1" ]]; then printf '%s\n' "$BINDIR/$1"; else command -v "$1"; fi; }
PSQL="$(tool_path psql)"
PG_ISREADY="$(tool_path pg_isready)"

# Runs a command as the owner of the cluster, from DIR (the postgres user
# may not be allowed into the caller's working directory), without the
# lock's descriptor (the server would otherwise hold the lock for good).
as_owner() {
  if ((IS_ROOT)); then
    (cd "$DIR" && runuser -u "$SUPERUSER" -- "$@" 9>&-)
  else
    (cd "$DIR" && "$@" 9>&-)
  fi
}

# ---- state -------------------------------------------------------------------
initialised() { [[ -f "$DATA/PG_VERSION" && -f "$ENV_FILE" && -f "$PORT_FILE" ]]; }
port_of_cluster() {
  local p
  p="$(cat "$PORT_FILE")"
  [[ "$p" =~ ^[0-9]+$ ]] || die "$PORT_FILE does not hold a port number"
  printf '%s\n' "$p"
}
# pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
running() {
  [[ -f "$DATA/PG_VERSION" ]] || return 1
  as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

wait_ready() {
  local port="$1" deadline=$((SECONDS + READY_TIMEOUT))
  until "$PG_ISREADY" -q -h 127.0.0.1 -p "$port" -t 2; do
    ((SECONDS < deadline)) || die "the server in $DIR did not accept connections on 127.0.0.1:$port within ${READY_TIMEOUT}s (log: $LOG)"
    sleep 0.2
  done
}

print_env() {
  echo "pg-server: PostgreSQL $(cat "$DATA/PG_VERSION") running in $DIR"
  cat "$ENV_FILE"
}

# Starts the cluster on the port of its configuration. Returns 2 when the
# port is taken (so that a new cluster can retry on another one), dies on
# any other failure.
start_server() {
  local port="$1" log_from
  log_from=$(($(stat -c %s "$LOG" 2>/dev/null || echo 0) + 1))
  if as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$READY_TIMEOUT" -s start >/dev/null 2>&1; then
    wait_ready "$port"
    return 0
  fi
  if tail -c +"$log_from" "$LOG" 2>/dev/null | grep -q 'could not bind\|Address already in use'; then
    return 2
  fi
  echo "pg-server: the server in $DIR did not start; the end of $LOG:" >&2
  tail -c +"$log_from" "$LOG" 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

free_port() {
  if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null; then
    return 0
  fi
  # No Python: a random port above the usual ephemeral range's start;
  # start_server reports a collision and the caller retries.
  echo $((20000 + RANDOM % 30000))
}

# ---- creating the cluster ----------------------------------------------------
make_certificates() {
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  local ext="$TLS/server.ext" serial
  # The CA: a v3 certificate with CA:TRUE (rustls and webpki reject v1 roots).
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$TLS/ca.key" -out "$DIR/ca.crt" -days 3650 -sha256 \
    -subj "/CN=sealbox test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 ||
    die "openssl could not make the test CA"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=localhost" >/dev/null 2>&1 ||
    die "openssl could not make the server key"
  cat >"$ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  serial="0x$(openssl rand -hex 16)"
  openssl x509 -req -in "$TLS/server.csr" -CA "$DIR/ca.crt" -CAkey "$TLS/ca.key" \
    -set_serial "$serial" -days 825 -sha256 -extfile "$ext" -out "$TLS/server.crt" >/dev/null 2>&1 ||
    die "openssl could not sign the server certificate"
  openssl verify -CAfile "$DIR/ca.crt" "$TLS/server.crt" >/dev/null ||
    die "the server certificate does not verify against $DIR/ca.crt"
  # Nothing else is ever signed with the CA key.
  rm -f "$TLS/ca.key" "$TLS/server.csr" "$ext"
  chmod 600 "$TLS/server.key"
  chmod 644 "$DIR/ca.crt" "$TLS/server.crt"
}

write_settings() {
  local port="$1"
  cat >"$DATA/sealbox.conf" <<EOF
# Written by scripts/pg-server.sh; included last from postgresql.conf.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR'
max_connections = 200
shared_buffers = 128MB
# Real durability: the tests measure commit latency.
fsync = on
synchronous_commit = on
full_page_writes = on
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = '$TLS/server.crt'
ssl_key_file = '$TLS/server.key'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

create_cluster() {
  check_ours
  # A cluster whose creation was interrupted: start over.
  find "$DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
  touch "$MARKER"
  chmod 700 "$DIR"
  make_certificates
  if ((IS_ROOT)); then
    getent passwd "$SUPERUSER" >/dev/null ||
      die "running as root needs the '$SUPERUSER' user (made by the Debian package 'postgresql'; run scripts/install-deps.sh)"
    chown -R "$SUPERUSER:" "$DIR"
    runuser -u "$SUPERUSER" -- test -w "$DIR" ||
      die "the '$SUPERUSER' user cannot write $DIR (is a parent directory closed to it?); use a directory it can reach"
  fi

  local initdb_out
  if ! initdb_out="$(as_owner "$BINDIR/initdb" -D "$DATA" -U "$SUPERUSER" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 2>&1)"; then
    printf '%s\n' "$initdb_out" >&2
    die "initdb failed in $DATA"
  fi
  cat >"$DATA/pg_hba.conf" <<EOF
# Written by scripts/pg-server.sh.
# TYPE  DATABASE  USER        ADDRESS        METHOD
# The superuser, only through the socket in $DIR (mode 0700).
local   all       $SUPERUSER                 trust
local   all       all                        scram-sha-256
# TCP: a password always (a wrong one is a real error), with or without TLS.
host    all       all         127.0.0.1/32   scram-sha-256
host    all       all         ::1/128        scram-sha-256
EOF
  echo "include 'sealbox.conf'" >>"$DATA/postgresql.conf"
  : >"$LOG"
  if ((IS_ROOT)); then chown "$SUPERUSER:" "$DATA/pg_hba.conf" "$DATA/postgresql.conf" "$LOG"; fi

  local port rc
  for _ in 1 2 3 4 5 6 7 8; do
    port="$(free_port)"
    write_settings "$port"
    if ((IS_ROOT)); then chown "$SUPERUSER:" "$DATA/sealbox.conf"; fi
    rc=0
    start_server "$port" || rc=$?
    ((rc == 0)) && break
    echo "pg-server: port $port was taken, trying another" >&2
  done
  ((rc == 0)) || die "found no free port for the server in $DIR"

  as_owner "$PSQL" -X -q -h "$DIR" -p "$port" -U "$SUPERUSER" -d postgres -v ON_ERROR_STOP=1 <<EOF ||
CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD';
CREATE DATABASE $DATABASE OWNER $ROLE;
EOF
    die "could not create the role and database '$ROLE' (log: $LOG)"

  echo "$port" >"$PORT_FILE"
  # The env file last: its presence marks a complete cluster.
  cat >"$ENV_FILE.tmp" <<EOF
SEALBOX_TEST_PG_URL=postgresql://$ROLE:$ROLE_PASSWORD@127.0.0.1:$port/$DATABASE
SEALBOX_TEST_PG_CA=$DIR/ca.crt
SEALBOX_TEST_PG_DIR=$DIR
SEALBOX_TEST_PG_PORT=$port
EOF
  chmod 644 "$ENV_FILE.tmp" "$PORT_FILE"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---- subcommands -------------------------------------------------------------
lock() {
  exec 9>>"$DIR/.lock"
  flock -w 120 9 || die "another pg-server.sh holds $DIR/.lock"
}

# Only an empty directory or one this script made is (re)used: an
# unfinished cluster is wiped, and a mistyped DIR must not cost anyone
# their files.
check_ours() {
  if [[ -d "$DIR" && ! -f "$MARKER" && -n "$(ls -A "$DIR" | grep -v '^\.lock$' || true)" ]]; then
    die "$DIR is not empty and was not made by pg-server.sh; give an empty or new directory"
  fi
}

cmd_start() {
  check_ours
  mkdir -p "$DIR"
  lock
  if initialised; then
    if ! running; then
      local port rc=0
      port="$(port_of_cluster)"
      start_server "$port" || rc=$?
      ((rc == 0)) || die "port $port of the cluster in $DIR is taken by another process"
    else
      wait_ready "$(port_of_cluster)"
    fi
  else
    # A server of a cluster whose creation did not finish: stop it, the
    # cluster is made afresh.
    if [[ -f "$MARKER" ]] && running; then
      as_owner "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -s stop >/dev/null 2>&1 || true
    fi
    running && die "a server runs in $DIR but its creation did not finish; stop it and start again"
    create_cluster
  fi
  print_env
}

cmd_stop() {
  [[ -f "$DATA/PG_VERSION" ]] || { echo "pg-server: no cluster in $DIR"; return 0; }
  lock
  if running; then
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t "$READY_TIMEOUT" -s stop ||
      die "could not stop the server in $DIR (log: $LOG)"
    echo "pg-server: stopped the server in $DIR"
  else
    echo "pg-server: no server running in $DIR"
  fi
}

cmd_restart() {
  initialised || die "no complete cluster in $DIR; run 'pg-server.sh start $DIR'"
  lock
  local port rc=0
  port="$(port_of_cluster)"
  if running; then
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t "$READY_TIMEOUT" -s stop ||
      die "could not stop the server in $DIR (log: $LOG)"
  fi
  start_server "$port" || rc=$?
  ((rc == 0)) || die "port $port of the cluster in $DIR was taken by another process during the restart"
  print_env
}

cmd_status() {
  if [[ -d "$DIR" ]] && running; then
    echo "pg-server: running in $DIR (port $(cat "$PORT_FILE" 2>/dev/null || echo '?'))"
    return 0
  fi
  echo "pg-server: not running in $DIR"
  return 1
}

cmd_env() {
  [[ -f "$ENV_FILE" ]] || die "no $ENV_FILE; run 'pg-server.sh start $DIR'"
  cat "$ENV_FILE"
}

cd "$ROOT"
"cmd_$CMD"
