# ---- Fuzzing (fuzz/, issue 17) ---------------------------------------------
# Seven targets (fuzz/src/targets.rs): the message-header parser, the
# streaming decryptor on arbitrary bytes and on mutated valid messages (fed
# in input-chosen chunk sizes), the encryption-context codec, the key-store
# blob parser, the audit-line parser and the DER helpers.
#
#   make fuzz              AFL++ (cargo-afl, stable Rust) on each target for
#                          FUZZ_SECONDS (default 600), one after the other;
#                          prints corpus sizes, executions per second and
#                          fails on any crash (found under target/fuzz/<t>/)
#   make test-fuzz-smoke   replays the committed corpora fuzz/corpus/<t>/,
#                          then FUZZ_SMOKE_SECONDS (default 5) per target
#                          with AFL++ when cargo-afl is installed, else the
#                          replay binary's own bounded random loop
#   make fuzz-seeds        rewrites fuzz/corpus/ with the seed generator
#   make test-proptest     the property tests (core/tests/proptest_*.rs)
#
# fuzz/ is not a workspace member. Its plain build shares target/; the AFL
# build, whose instrumentation changes every artifact, has target/afl.

FUZZ_TARGETS := header decrypt_stream decrypt_mutate context blob audit der
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_MANIFEST := --manifest-path $(ROOT)/fuzz/Cargo.toml
FUZZ_CORPUS := $(ROOT)/fuzz/corpus
FUZZ_OUT := $(ROOT)/target/fuzz
AFL_TARGET_DIR := $(ROOT)/target/afl
# The smoke period in `make test` runs the replay binaries' own random
# loop, so that `make test` takes the same time on every machine (an AFL++
# build of the targets costs minutes); FUZZ_SMOKE_AFL=yes runs it under
# AFL++ instead (needs cargo-afl). `make fuzz` always uses AFL++.
FUZZ_SMOKE_AFL ?=

.PHONY: fuzz fuzz-build fuzz-afl fuzz-seeds test-fuzz-smoke test-proptest

# The targets as plain binaries (replay and random loop; no AFL).
fuzz-build:
	CARGO_TARGET_DIR=$(ROOT)/target $(CARGO) build $(FUZZ_MANIFEST) --bins

fuzz-seeds: fuzz-build
	rm -rf $(FUZZ_CORPUS)
	$(ROOT)/target/debug/seeds $(FUZZ_CORPUS)

# cargo-afl from crates.io, and AFL++ built by it (once per machine).
fuzz-afl:
	@command -v cargo-afl >/dev/null || $(CARGO) install cargo-afl --locked
	@$(CARGO) afl config --build >/dev/null 2>&1 || true
	CARGO_TARGET_DIR=$(AFL_TARGET_DIR) $(CARGO) afl build --release $(FUZZ_MANIFEST) --features afl --bins

fuzz: fuzz-afl
	@for t in $(FUZZ_TARGETS); do $(ROOT)/fuzz/afl.sh $$t $(FUZZ_SECONDS) $(FUZZ_OUT); done
	@echo "make fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZ_SECONDS) s each, no crash"

test-fuzz-smoke: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  $(ROOT)/target/debug/$$t --crash-dir $(ROOT)/target $(FUZZ_CORPUS)/$$t \
	    $(if $(FUZZ_SMOKE_AFL),,--seconds $(FUZZ_SMOKE_SECONDS)); \
	done
	@if [ -n "$(FUZZ_SMOKE_AFL)" ]; then \
	  $(MAKE) --no-print-directory fuzz-afl && \
	  for t in $(FUZZ_TARGETS); do \
	    $(ROOT)/fuzz/afl.sh $$t $(FUZZ_SMOKE_SECONDS) $(ROOT)/target/fuzz-smoke; \
	  done; \
	fi
	@echo "fuzz smoke: corpora replayed, $(FUZZ_SMOKE_SECONDS) s per target, no crash"

test-proptest:
	$(CARGO) test --workspace $(NOT_BINDINGS) --test proptest_message --test proptest_codecs
