# ---- The Node package `sealbox` (bindings/node, napi-rs) -------------------
# `npm ci` installs the pinned devDependencies (@napi-rs/cli, the AWS
# Encryption SDK for the interop tests and the bench) from the committed
# package-lock.json, and the package's own `install` script builds the
# addon (release: the bench and the 256 MiB stream test need it).
NODE_DIR := $(ROOT)/bindings/node
NAPI := $(NODE_DIR)/node_modules/.bin/napi
# Forces napi-derive to run again (and so to write the type definitions)
# even when cargo has the crate cached.
NAPI_FORCE := NAPI_FORCE_BUILD_SEALBOX_NODE=$$(date +%s%N)

.PHONY: test-node bench-node demo-node node-install node-dts node-dts-check

# NODE_PROFILE=dev (make test) builds the addon with the dev profile.
NODE_PROFILE ?= release
NAPI_PROFILE = $(if $(filter dev,$(NODE_PROFILE)),,--release)

# The package's `install` script is the release build; here the addon is
# built by hand in the profile asked for.
node-install:
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	cd $(NODE_DIR) && $(NAPI) build --platform $(NAPI_PROFILE) --js false --dts ../../target/sealbox-node-install.d.ts

# Regenerates the committed index.js loader and index.d.ts from src/
# (commit the result).
node-dts:
	@test -x $(NAPI) || $(MAKE) --no-print-directory node-install
	cd $(NODE_DIR) && $(NAPI_FORCE) $(NAPI) build --platform --release --js index.js --dts index.d.ts

# Fails when the committed index.d.ts (or index.js) is not what the pinned
# napi CLI and napi-derive make of src/.
node-dts-check:
	@test -x $(NAPI) || $(MAKE) --no-print-directory node-install
	@out=$(ROOT)/target/node-dts-check; rm -rf "$$out"; mkdir -p "$$out"; \
	cd $(NODE_DIR) && $(NAPI_FORCE) $(NAPI) build --platform $(NAPI_PROFILE) \
	  --js ../../target/node-dts-check/index.js --dts ../../target/node-dts-check/index.d.ts \
	  >"$$out/log" 2>&1 || { cat "$$out/log"; exit 1; }; \
	for f in index.d.ts index.js; do \
	  if ! diff -u "$(NODE_DIR)/$$f" "$$out/$$f"; then \
	    echo "bindings/node/$$f does not match src/: run 'make node-dts' and commit it"; exit 1; \
	  fi; \
	done; \
	echo "bindings/node/index.d.ts and index.js match src/ (pinned napi CLI and napi-derive)"

test-node: node-install node-dts-check pg-start
	cd $(NODE_DIR) && $(PG_ENV) node --test --test-concurrency=1 __test__/

bench-node: node-install
	cd $(NODE_DIR) && node bench/compare.js

demo-node:
	@echo
	@echo "== 3/4  Node: the sealbox package (napi-rs), examples/node/quickstart.js =="
	@echo "   npm ci in bindings/node (its install script builds the addon) ..."
	@$(MAKE) --no-print-directory node-install >/dev/null
	@node $(ROOT)/examples/node/quickstart.js | sed 's/^/   /'
