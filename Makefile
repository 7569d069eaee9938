# sealbox — one entry point for people and CI.
#
#   make demo    build and run the main job end to end (no HSM needed)
#   make test    install what the tests need, build everything, run every suite
#   make bench   side-by-side benchmarks, reported as ratios
#   make lint    rustfmt + clippy

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# Vendored AWS Encryption SDK vectors live beside the checkout.
export SEALBOX_VECTORS ?= $(abspath $(ROOT)/../shared/vectors)

.PHONY: all demo test test-rust test-vectors test-interop deps bench lint fmt clean

all: test

demo:
	@echo "== sealbox demo: envelope encryption of a file (raw AES wrapping key, streaming) =="
	$(CARGO) run -q -p sealbox --example quickstart
	@echo "(the key store, C library, Python and Node packages and CLI join this demo as they land)"

# What the test suites need from the system. Debian packages are installed
# only when missing (CI runs as root on a fresh machine).
deps:
	@$(ROOT)/scripts/install-deps.sh

test: deps test-rust test-interop
	@echo "make test: all suites passed"

test-rust:
	@test -d "$(SEALBOX_VECTORS)/esdk-python-4.0.7" || { echo "missing vectors at $(SEALBOX_VECTORS)"; exit 1; }
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	@echo "== the key-store suite again, on the PKCS#11 backend (SoftHSM2, module: $${SEALBOX_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}) =="
	SEALBOX_TEST_BACKEND=pkcs11 $(CARGO) test -p sealbox --test keystore

test-vectors:
	$(CARGO) test -p sealbox --test vectors -- --nocapture

test-interop:
	$(ROOT)/tests/interop/run.sh

bench:
	$(CARGO) bench -p sealbox --bench envelope
	$(CARGO) bench -p sealbox --bench keystore

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(ROOT)/.venv $(ROOT)/tests/interop/node/node_modules
