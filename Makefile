# sealbox — one entry point for people and CI.
#
#   make demo    build and run the main job end to end (no HSM needed)
#   make test    install what the tests need, build everything, run every suite
#   make bench   side-by-side benchmarks, reported as ratios
#   make fips    build and check the FIPS 140-3 variant (needs cmake and Go)
#   make lint    rustfmt + clippy

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
# Vendored AWS Encryption SDK vectors live beside the checkout.
export SEALBOX_VECTORS ?= $(abspath $(ROOT)/../shared/vectors)

.PHONY: soak bench-fleet bench-rewrap bench-parallel
.PHONY: all demo demo-c test test-rust test-vectors test-interop test-contract deps bench lint fmt clean \
	test-rust-rustcrypto test-differential fips bench-envelope

# The crypto provider other than the default (aws-lc): pure Rust, no C compiler.
RUSTCRYPTO := --no-default-features --features rustcrypto
# The Python and Node extension crates link against their interpreter at load
# time: their tests run from Python (pytest) and Node (node:test), not cargo.
NOT_BINDINGS := --exclude sealbox-python --exclude sealbox-node

all: test

# The whole product on the embedded default (SQLite key store, software
# root key; no HSM): the C library, the Python and Node packages and the
# CLI, each built here and run in turn. Everything it makes lives under
# target/demo (made afresh each time).
DEMO_DIR := $(ROOT)/target/demo
export DEMO_DIR

demo: deps
	@rm -rf "$(DEMO_DIR)" && mkdir -p "$(DEMO_DIR)"
	@echo "== sealbox demo: one key store, four ways in (C, Python, Node, command line) =="
	@echo "   (everything is written under $(DEMO_DIR))"
	@$(MAKE) --no-print-directory demo-c demo-python demo-node demo-cli
	@echo
	@echo "== demo finished: the C library, the Python and Node packages and the CLI all ran =="

# The C quickstart, built against `make install` into target/demo/prefix
# with pkg-config, as its header comment says.
demo-c:
	@echo
	@echo "== 1/4  C: libsealbox and examples/c/quickstart.c =="
	@echo "   building libsealbox (release) and installing it into $(DEMO_DIR)/prefix ..."
	@$(MAKE) --no-print-directory install PREFIX="$(DEMO_DIR)/prefix" >/dev/null
	@PKG_CONFIG_PATH="$(DEMO_DIR)/prefix/lib/pkgconfig" && export PKG_CONFIG_PATH && \
	  cc -std=c11 -O2 "$(ROOT)/examples/c/quickstart.c" $$(pkg-config --cflags --libs sealbox) \
	    -Wl,-rpath,"$(DEMO_DIR)/prefix/lib" -o "$(DEMO_DIR)/quickstart-c"
	@mkdir -p "$(DEMO_DIR)/c" && cd "$(DEMO_DIR)/c" && \
	  for i in $$(seq 1 40000); do echo "$$i,4111-1111-1111-$$(( i % 10000 )),$$(( i % 500 )).00"; done > orders.csv && \
	  echo "   a 40,000-row orders.csv is encrypted with a key from the key store in ./c-store:" && \
	  "$(DEMO_DIR)/quickstart-c" orders.csv orders.csv.sealed c-store | sed 's/^/   /'

# What the test suites need from the system. Debian packages are installed
# only when missing (CI runs as root on a fresh machine).
deps:
	@$(ROOT)/scripts/install-deps.sh

# `make test` builds the C library, the Python wheel and the Node addon
# with the dev profile: the test builds before them compiled every
# dependency fully optimised already (see Cargo.toml), so these builds
# compile the sealbox crates alone. `make install`, `make demo`, the
# benches and a plain `make test-python` / `test-node` build release.
test: C_PROFILE = dev
test: NODE_PROFILE = dev
test: PY_PROFILE = dev
# The fuzz smoke's random loop: 2 s per target here (7 targets), 5 s alone.
test: FUZZ_SMOKE_SECONDS = 2
test: deps header-check test-rust test-rust-rustcrypto test-differential test-interop test-c \
	test-python test-node test-cli test-contract test-dist-dev test-fuzz-smoke test-proptest test-advisories test-lock-check
	@$(MAKE) --no-print-directory pg-stop
	@echo "make test: all suites passed"

test-rust:
	@test -d "$(SEALBOX_VECTORS)/esdk-python-4.0.7" || { echo "missing vectors at $(SEALBOX_VECTORS)"; exit 1; }
	$(PG_ENV) SEALBOX_CLI=$(ROOT)/target/debug/sealbox $(CARGO) test --workspace $(NOT_BINDINGS) --all-targets
	$(PG_ENV) $(CARGO) test --workspace $(NOT_BINDINGS) --doc
	@echo "== the key-store suite again, on the PKCS#11 backend (SoftHSM2, module: $${SEALBOX_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}) =="
	@# One test at a time: SoftHSM2 fails a C_GenerateKey with CKR_GENERAL_ERROR, now and
	@# then, while other tests of the process log in and out of the same token
	@# (core/tests/common/mod.rs, hold_token_login); the threads inside a test still
	@# share one store concurrently.
	$(PG_ENV) SEALBOX_TEST_BACKEND=pkcs11 $(CARGO) test --workspace $(NOT_BINDINGS) --test keystore -- --test-threads=1
	@echo "== the key-store suite again, on the PostgreSQL metadata store =="
	$(PG_ENV) SEALBOX_TEST_STORE=postgres $(CARGO) test --workspace $(NOT_BINDINGS) --test keystore --test access --test integrity

# The shared-store soak of issue 15 for a minute on each store (SQLite and
# PostgreSQL, the server restarted once), with the CLI as a second operator;
# `make test` runs it for 8 s.
soak: pg-start
	$(CARGO) build --workspace $(NOT_BINDINGS) --bin sealbox
	$(PG_ENV) SEALBOX_CLI=$(ROOT)/target/debug/sealbox SEALBOX_CUSTODY_SECONDS=$${SEALBOX_CUSTODY_SECONDS:-60} \
	  $(CARGO) test -p sealbox --test shared_custody shared_custody -- --nocapture --test-threads 1

# The shared key store under load: Decrypt and GenerateDataKey per second
# and p50/p99 on SQLite and PostgreSQL from 1, 2 and 4 processes.
bench-fleet: pg-start
	$(PG_ENV) $(CARGO) bench -p sealbox --bench fleet

# (The passes above select the packages as the first does: `-p sealbox`
# alone unifies features differently and would build the core again.)

# The core suite again (unit, envelope, key store, AWS ESDK vectors,
# Wycheproof, doctests) with the rustcrypto provider; `test-rust` ran it with
# the default aws-lc provider.
# The suites in which the crypto provider does the work: the primitives
# (unit tests, Wycheproof, OpenSSL's keys and signatures), messages (the
# envelope suite, the AWS vectors, property tests, the security-review
# regressions), every key-store operation on the soft backend, and what
# the provider leaves in freed memory. The others test logic above the
# primitives these already cover and run once, in test-rust: access
# control, policies, metadata integrity, secrets, rewrap, the codecs, the
# streaming memory bound, the PostgreSQL store (off in the rustcrypto
# build), crash consistency, processes sharing a store, lock order, the
# PKCS#11 backend (the token does the crypto), and the differential suite
# (its own target, both providers in one binary).
RUSTCRYPTO_SUITES := envelope vectors wycheproof keystore keystore_openssl hardening \
	proptest_message freed_memory

test-rust-rustcrypto:
	@echo "== the core suite again with the rustcrypto provider =="
	$(CARGO) test -p sealbox $(RUSTCRYPTO) --lib $(addprefix --test ,$(RUSTCRYPTO_SUITES))
	$(CARGO) test -p sealbox $(RUSTCRYPTO) --doc

# Both providers in one binary (feature `differential`): each one's output
# given to the other.
test-differential:
	$(CARGO) test -p sealbox --features differential --test differential -- --nocapture

test-vectors:
	$(CARGO) test -p sealbox --test vectors -- --nocapture

test-interop:
	$(ROOT)/tests/interop/run.sh

# The contract: every error kind and every name table of the core, walked
# through the C header, the Python package, the Node package and the CLI
# (tests/contract/check_contract.py). Needs the Python package installed
# and the Node addon built (test-python, test-node run first in `make test`).
test-contract:
	$(CARGO) build --workspace $(NOT_BINDINGS) --bin sealbox --example contract
	$(ROOT)/target/debug/examples/contract > $(ROOT)/target/contract.json
	$(ROOT)/.venv/bin/python $(ROOT)/tests/contract/check_contract.py $(ROOT)/target/contract.json $(ROOT)/target/debug/sealbox

bench: bench-envelope bench-parallel bench-rewrap bench-c-abi bench-python bench-node bench-fleet
	$(CARGO) bench -p sealbox --bench keystore

# 64 MiB on one thread and on every core; 1 MiB at several frame lengths.
bench-parallel:
	$(CARGO) bench -p sealbox --bench parallel

# Rewrap beside decrypt + encrypt, and a 1 GiB file rewrapped beside a copy.
bench-rewrap:
	$(CARGO) bench -p sealbox --bench rewrap

# The envelope bench once per provider (one binary holds one provider), then
# one table of both beside `openssl speed -evp aes-256-gcm` and pyca AESGCM
# (pyca from the interop virtualenv .venv when it exists).
bench-envelope:
	$(CARGO) bench -p sealbox --bench envelope
	$(CARGO) bench -p sealbox --bench envelope $(RUSTCRYPTO)
	@py=python3; [ -x "$(ROOT)/.venv/bin/python" ] && py="$(ROOT)/.venv/bin/python"; \
	  "$$py" $(ROOT)/scripts/bench-report.py

# The FIPS 140-3 validated build of AWS-LC (aws-lc-fips-sys). Its build needs
# cmake and Go besides a C compiler, so it is not part of `make test`. Builds
# the library, then runs the crypto test suites on it, including the check
# that AWS-LC reports FIPS mode (docs/SECURITY.md).
fips:
	@command -v cmake >/dev/null && command -v go >/dev/null || { \
	  echo "make fips needs cmake and Go (Debian: apt-get install cmake golang-go)"; exit 1; }
	$(CARGO) build -p sealbox --release --features fips
	$(CARGO) test -p sealbox --features fips --lib crypto
	$(CARGO) test -p sealbox --features fips --test wycheproof --test vectors --test envelope

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(ROOT)/.venv $(ROOT)/tests/interop/node/node_modules

# ---- The C ABI (ffi/): header, C tests, install -----------------------------
# cbindgen is pinned: the committed header is what this version makes of
# ffi/, and another version could write it differently. It is installed
# into .tools/ (not on PATH) the first time a target needs it.
CBINDGEN_VERSION := 0.29.4
TOOLS := $(ROOT)/.tools
CBINDGEN := $(TOOLS)/bin/cbindgen
CBINDGEN_RUN = cd $(ROOT) && $(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate sealbox-ffi
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
C_TEST_PREFIX := $(ROOT)/target/c/prefix

.PHONY: cbindgen header header-check install test-c bench-c-abi

cbindgen:
	@if [ "$$($(CBINDGEN) --version 2>/dev/null)" != "cbindgen $(CBINDGEN_VERSION)" ]; then \
	  echo "installing cbindgen $(CBINDGEN_VERSION) into $(TOOLS)"; \
	  $(CARGO) install cbindgen --version $(CBINDGEN_VERSION) --locked --debug --root $(TOOLS); \
	fi

# Regenerates include/sealbox.h from ffi/ (commit the result).
header: cbindgen
	$(CBINDGEN_RUN) --output include/sealbox.h ffi

# Fails when include/sealbox.h is not what the pinned cbindgen makes of ffi/.
header-check: cbindgen
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; \
	$(CBINDGEN_RUN) --output "$$tmp" ffi; \
	if ! diff -u include/sealbox.h "$$tmp"; then \
	  echo "include/sealbox.h does not match ffi/: run 'make header' and commit it"; exit 1; \
	fi; \
	echo "include/sealbox.h matches ffi/ (cbindgen $(CBINDGEN_VERSION))"

# libsealbox.so.X.Y.Z (soname libsealbox.so.X, links libsealbox.so.X and
# libsealbox.so), libsealbox.a, include/sealbox.h, lib/pkgconfig/sealbox.pc.
# `make install PREFIX=$$HOME/.local`; DESTDIR=... for packaging.
# C_PROFILE=dev installs the dev build instead of the release one: `make
# test` does, since its test builds already compiled every dependency fully
# optimised (Cargo.toml), and a release build of them all would cost
# minutes more.
C_PROFILE ?= release
# C_FEATURES: cargo feature flags for the library (make test-lock-check
# builds it with the core's `lock-check`).
install:
ifeq ($(C_PROFILE),dev)
	$(CARGO) build --workspace $(NOT_BINDINGS) --lib $(C_FEATURES)
	DESTDIR="$(DESTDIR)" SEALBOX_BUILD_DIR=debug $(ROOT)/scripts/install-c-library.sh "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)"
else
	$(CARGO) build --release -p sealbox-ffi $(C_FEATURES)
	DESTDIR="$(DESTDIR)" $(ROOT)/scripts/install-c-library.sh "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)"
endif

# The C tests (tests/c/run.sh) against a fresh `make install` into
# target/c/prefix. Runs after test-interop in `make test`: the streaming
# check decrypts with the AWS Encryption SDK for Python from its .venv.
test-c: pg-start
	rm -rf $(C_TEST_PREFIX)
	$(MAKE) --no-print-directory install PREFIX=$(C_TEST_PREFIX) C_PROFILE=$(C_PROFILE)
	$(PG_ENV) $(ROOT)/tests/c/run.sh $(C_TEST_PREFIX)

# Per-call cost of the C ABI beside the Rust call (64 B and 1 KiB).
bench-c-abi:
	$(CARGO) build --release -p sealbox-ffi
	$(CARGO) bench -p sealbox-ffi --bench c_abi

# ---- Python package, Node package, CLI: one fragment each -----------------
include $(ROOT)/mk/python.mk $(ROOT)/mk/node.mk $(ROOT)/mk/cli.mk $(ROOT)/mk/docs.mk
include $(ROOT)/mk/fuzz.mk
include $(ROOT)/mk/advisories.mk
include $(ROOT)/mk/hardening.mk
include $(ROOT)/mk/postgres.mk
include $(ROOT)/mk/dist.mk
