# ---- `make docs`: one static site under target/docs ------------------------
# Reference documentation per language, from the sources, with the README,
# docs/*.md and the examples (scripts/docs/):
#
#   target/docs/index.html    links everything
#   target/docs/rust/         rustdoc of the core crate `sealbox`
#   target/docs/python/       pdoc of the installed package (docstrings, stubs)
#   target/docs/node/         TypeDoc of bindings/node/sealbox.d.ts (+ index.d.ts)
#   target/docs/c/            include/sealbox.h (scripts/docs/c_header.py)
#   target/docs/README.html, docs/*.html, examples/ ...   the Markdown and the
#                             source files they link to (scripts/docs/pages.py)
#
# A public item without documentation fails its step: rustdoc with
# -D missing_docs (and every other rustdoc warning an error), pdoc through
# python_api.py's check, TypeDoc with validation.notDocumented as an error,
# c_header.py for the header. Then check_links.py checks every relative
# link (and #fragment) of the site and fails on a broken one.
#
# Needs the Python package installed (python-package: the pdoc step
# imports it) and the Node package's devDependencies (TypeDoc); the Node
# addon is not built for this.
DOCS_DIR := $(ROOT)/target/docs
DOCS_SCRIPTS := $(ROOT)/scripts/docs
TYPEDOC := $(NODE_DIR)/node_modules/.bin/typedoc
DOCS_RUSTDOCFLAGS := -D warnings -D missing_docs -D rustdoc::broken_intra_doc_links \
	-D rustdoc::private_intra_doc_links -D rustdoc::missing_crate_level_docs \
	-D rustdoc::unescaped_backticks

.PHONY: docs docs-tools docs-rust docs-python docs-node docs-c docs-pages docs-check

docs: python-package docs-tools
	@start=$$(date +%s); rm -rf "$(DOCS_DIR)" && mkdir -p "$(DOCS_DIR)"; \
	$(MAKE) --no-print-directory docs-rust docs-python docs-node docs-c docs-pages && \
	$(MAKE) --no-print-directory docs-check && \
	echo "make docs: target/docs/index.html ($$(( $$(date +%s) - start )) s)"

# TypeDoc is a pinned devDependency of bindings/node (package-lock.json).
docs-tools:
	@test -x $(TYPEDOC) || { cd $(NODE_DIR) && npm ci --no-audit --no-fund --ignore-scripts; }

# target/doc is made afresh: rustdoc merges its shared files (search
# index, lists of implementors) with what an earlier `cargo doc` left there,
# and the C library's crate is named `sealbox` too. cargo documents the
# core again when its pages are gone (a few seconds).
docs-rust:
	@echo "== docs: Rust (rustdoc, crate sealbox)"
	@rm -rf $(ROOT)/target/doc
	@RUSTDOCFLAGS="$(DOCS_RUSTDOCFLAGS)" $(CARGO) doc --quiet --no-deps -p sealbox
	@rm -rf "$(DOCS_DIR)/rust" && mkdir -p "$(DOCS_DIR)/rust"
	@cp -R $(ROOT)/target/doc/. "$(DOCS_DIR)/rust/"
	@printf '%s\n' '<!DOCTYPE html>' '<meta charset="utf-8">' \
	  '<meta http-equiv="refresh" content="0; url=sealbox/index.html">' \
	  '<title>sealbox (Rust)</title>' '<a href="sealbox/index.html">sealbox</a>' > "$(DOCS_DIR)/rust/index.html"
	@echo "rust: $$(find "$(DOCS_DIR)/rust/sealbox" -name '*.html' | wc -l) pages of crate sealbox, no rustdoc warning"

docs-python:
	@echo "== docs: Python (pdoc, package sealbox)"
	@rm -rf "$(DOCS_DIR)/python"
	@$(PY) $(DOCS_SCRIPTS)/python_api.py "$(DOCS_DIR)/python"

docs-node:
	@echo "== docs: Node (TypeDoc, bindings/node/sealbox.d.ts)"
	@rm -rf "$(DOCS_DIR)/node"
	@cd $(NODE_DIR) && $(TYPEDOC) --options $(DOCS_SCRIPTS)/typedoc.json --out "$(DOCS_DIR)/node"
	@echo "node: $$(find "$(DOCS_DIR)/node" -name '*.html' | wc -l) pages, every exported item documented"

docs-c:
	@echo "== docs: C (include/sealbox.h)"
	@rm -rf "$(DOCS_DIR)/c"
	@$(PY) $(DOCS_SCRIPTS)/c_header.py $(ROOT)/include/sealbox.h "$(DOCS_DIR)"

docs-pages:
	@echo "== docs: README, docs/*.md, examples and the files they link to"
	@$(PY) $(DOCS_SCRIPTS)/pages.py $(ROOT) "$(DOCS_DIR)"

# rustdoc refers each trait page to trait.impl/<path>.js (implementors in
# other crates) but writes it only when there are some.
docs-check:
	@echo "== docs: links"
	@$(PY) $(DOCS_SCRIPTS)/check_links.py "$(DOCS_DIR)" --optional 'rust/trait.impl/*'
