# ---- Release artifacts (issue 20): make dist, make test-dist ----------------
# `make dist` writes under dist/, for users who install packages and have no
# Rust toolchain:
#   sealbox-VERSION-cp311-abi3-manylinux_2_17_x86_64.whl  (auditwheel-checked)
#   sealbox-VERSION.tar.gz                   the Python sdist (builds from source)
#   sealbox-VERSION.tgz, sealbox-linux-x64-gnu-VERSION.tgz  the npm packages
#   sealbox-VERSION-x86_64-linux.tar.gz      the C library and the CLI
#   SHA256SUMS
# VERSION is the workspace version in Cargo.toml, the one version of every
# package. The release builds link with zig against glibc 2.17
# (manylinux2014): cargo-zigbuild for the C library, the CLI and the Node
# addon, maturin --zig for the wheel.
#
# DIST_PROFILE=dev (what `make test` uses) packages, into target/dist-dev,
# the dev builds that the test suites have already compiled, linked natively
# (this machine's glibc; the wheel gets the tag auditwheel finds): the same
# packaging, installation and quickstarts, without two more full builds of
# every dependency (zig's target and maturin's each rebuild all of them).
DIST_VERSION := $(shell $(ROOT)/scripts/version.sh)
DIST_TRIPLE := x86_64-unknown-linux-gnu
DIST_GLIBC := 2.17
DIST_PROFILE ?= release
VENV_PATH = PATH="$(PY_VENV)/bin:$$PATH"
# One timestamp for every archive (tar, maturin's wheel and sdist): the
# last commit's.
export SOURCE_DATE_EPOCH ?= $(shell git -C $(ROOT) log -1 --format=%ct 2>/dev/null || echo 315532800)

ifeq ($(DIST_PROFILE),dev)
DIST_DIR := $(ROOT)/target/dist-dev
DIST_BUILD := $(ROOT)/target/debug
DIST_REQS := $(PY_DIR)/requirements-dist.txt
else
DIST_DIR := $(ROOT)/dist
DIST_BUILD := $(ROOT)/target/$(DIST_TRIPLE)/release
DIST_REQS := $(PY_DIR)/requirements-dist.txt $(PY_DIR)/requirements-zig.txt
endif
DIST_STAMP := $(PY_VENV)/.sealbox-dist-requirements-$(DIST_PROFILE)

.PHONY: dist dist-tools test-dist dist-check test-sdist test-dist-dev

dist-tools: python-venv
	@want=$$(cat $(DIST_REQS) | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat $(DIST_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo "installing $(notdir $(DIST_REQS)) into $(PY_VENV)"; \
	  $(PY) -m pip install --quiet --disable-pip-version-check $(addprefix -r ,$(DIST_REQS)); \
	  echo "$$want" > $(DIST_STAMP); \
	fi

dist: dist-tools
	rm -rf $(DIST_DIR) && mkdir -p $(DIST_DIR)
ifeq ($(DIST_PROFILE),dev)
	$(CARGO) build --workspace $(NOT_BINDINGS) --lib --bins
	$(CARGO) build --manifest-path $(NODE_DIR)/Cargo.toml --lib
	cd $(PY_DIR) && $(VENV_PATH) maturin build --quiet --profile dev --out $(DIST_DIR)
else
	$(VENV_PATH) $(CARGO) zigbuild --release --target $(DIST_TRIPLE).$(DIST_GLIBC) \
	  -p sealbox-ffi -p sealbox-cli -p sealbox-node
	cd $(PY_DIR) && $(VENV_PATH) maturin build --quiet --release --zig --compatibility manylinux2014 --out $(DIST_DIR)
endif
	cd $(PY_DIR) && $(VENV_PATH) maturin sdist --out $(DIST_DIR)
	$(ROOT)/scripts/dist/node-packages.sh $(DIST_VERSION) $(DIST_BUILD)/libsealbox_node.so $(DIST_DIR)
	$(ROOT)/scripts/dist/c-archive.sh $(DIST_VERSION) $(DIST_BUILD) $(DIST_DIR)
	cd $(DIST_DIR) && sha256sum * > SHA256SUMS
	@$(MAKE) --no-print-directory dist-check DIST_PROFILE=$(DIST_PROFILE)

# What the artifacts are: the wheel's platform tag and the glibc symbol
# versions of every binary (release: at most glibc 2.17, else it fails),
# metadata checks, sizes.
dist-check: dist-tools
	@out=$$($(PY_VENV)/bin/auditwheel show $(DIST_DIR)/sealbox-$(DIST_VERSION)-*.whl); echo "$$out"; \
	if [ "$(DIST_PROFILE)" = release ]; then \
	  echo "$$out" | tr -s ' \n' ' ' | grep -q 'platform tag: "manylinux_2_17_x86_64"' || { \
	    echo "dist-check: the wheel is not manylinux_2_17_x86_64"; exit 1; }; \
	fi
	$(PY_VENV)/bin/twine check --strict $(DIST_DIR)/sealbox-$(DIST_VERSION)-*.whl $(DIST_DIR)/sealbox-$(DIST_VERSION).tar.gz
	@for f in $(DIST_BUILD)/libsealbox.so $(DIST_BUILD)/sealbox $(DIST_BUILD)/libsealbox_node.so; do \
	  need=$$(objdump -T "$$f" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1); \
	  echo "$${f#$(ROOT)/}: needs glibc $$need"; \
	  if [ "$(DIST_PROFILE)" = release ] && \
	     [ "$$(printf '%s\n%s\n' "$$need" "$(DIST_GLIBC)" | sort -V | tail -1)" != "$(DIST_GLIBC)" ]; then \
	    echo "dist-check: $$f needs glibc $$need, more than $(DIST_GLIBC)"; exit 1; \
	  fi; \
	done
	@cd $(DIST_DIR) && ls -l --time-style=+ * | awk '{printf "  %10d  %s\n", $$5, $$NF}'

# `make test`: dist/ made from the dev builds (into target/dist-dev, so
# that a release dist/ is left alone), then installed as users do.
test-dist-dev:
	$(MAKE) --no-print-directory dist DIST_PROFILE=dev
	$(ROOT)/scripts/dist/test-dist.sh $(ROOT)/target/dist-dev

# Installs dist/ without Rust or a C compiler and runs every quickstart
# (scripts/dist/test-dist.sh), after `make dist` (incremental: cargo
# rebuilds only what changed).
test-dist: dist
	$(ROOT)/scripts/dist/test-dist.sh $(DIST_DIR)

# The Python sdist builds from source (cargo needed, as any sdist of an
# extension): a fresh virtualenv pip-installs dist/sealbox-VERSION.tar.gz
# offline with the pinned maturin, then imports it. A target directory of
# its own (in the shared one cargo would take the unpacked sources for the
# ones it built, same relative paths and older mtimes, and compile
# nothing), so every crate compiles: minutes, not part of `make test`.
test-sdist:
	@test -f $(DIST_DIR)/sealbox-$(DIST_VERSION).tar.gz || $(MAKE) --no-print-directory dist
	rm -rf $(ROOT)/target/sdist-test && $(PY) -m venv $(ROOT)/target/sdist-test/venv
	$(ROOT)/target/sdist-test/venv/bin/pip install --quiet --disable-pip-version-check \
	  $$(grep '^maturin==' $(PY_DIR)/requirements-dev.txt)
	cd $(ROOT)/target/sdist-test && CARGO_TARGET_DIR=$(ROOT)/target/sdist-test/target MATURIN_PEP517_ARGS="--profile dev" \
	  PATH="$(ROOT)/target/sdist-test/venv/bin:$$PATH" venv/bin/pip install --quiet --disable-pip-version-check \
	  --no-index --no-build-isolation $(DIST_DIR)/sealbox-$(DIST_VERSION).tar.gz
	cd $(ROOT)/target/sdist-test && venv/bin/python -c \
	  'import sealbox; k = sealbox.RawAesKeyring("ns", "k", bytes(32)); print("sdist build:", sealbox.build_info())'
