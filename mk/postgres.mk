# make fragment for the throwaway PostgreSQL server of the PostgreSQL
# metadata store's tests (issue 15), included by the top-level Makefile.
#
#   make pg-start     create (first time) and start the cluster in target/pg:
#                     127.0.0.1 on a free port, TLS, scram-sha-256; prints its
#                     env (scripts/pg-server.sh says what is in it)
#   make pg-stop      stop it (the cluster stays, for the next pg-start)
#   make pg-restart   fast shutdown and start on the same port
#   make pg-status    exit 0 if it runs
#
# test-rust, test-python and test-cli start it first and run their suites
# with $(PG_DIR)/env exported (prefix a recipe line with $(PG_ENV)):
# SEALBOX_TEST_PG_URL, SEALBOX_TEST_PG_CA, SEALBOX_TEST_PG_DIR,
# SEALBOX_TEST_PG_PORT. A server that cannot start fails pg-start, hence
# those targets (on CI too). `make test` stops it at its end; a server a
# developer started by hand with `make pg-start` runs until `make pg-stop`,
# unless `make test` is run meanwhile.
.PHONY: pg-start pg-stop pg-restart pg-status

PG_DIR := $(ROOT)/target/pg
PG_SERVER := $(ROOT)/scripts/pg-server.sh
PG_ENV := set -a && . $(PG_DIR)/env && set +a &&

# `deps` installs the server (Debian package postgresql) when it is missing.
pg-start: deps
	@$(PG_SERVER) start $(PG_DIR)

pg-stop:
	@$(PG_SERVER) stop $(PG_DIR)

pg-restart:
	@$(PG_SERVER) restart $(PG_DIR)

pg-status:
	@$(PG_SERVER) status $(PG_DIR)

test-rust test-python test-cli: pg-start
