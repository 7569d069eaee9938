# make fragment for the advisory check, included by the top-level Makefile.
#
#   make test-advisories   Cargo.lock (and fuzz/Cargo.lock) against the offline RustSec advisory
#                          database in ../shared/advisory-db (issue 17)
#
# cargo-audit reads its settings from .cargo/audit.toml: the database is
# never fetched, yanked crates are not looked up (that needs the network),
# unsound crates fail the check like vulnerabilities, and the advisories
# with no fixed release are ignored by id, each with its reason on its line
# (printed below; what they mean for users: docs/SECURITY.md, "Advisories").
# An advisory that has a fix is not ignored: upgrade with
# `cargo update -p <crate> --precise <version>`.
#
# cargo-audit is pinned and installed into .tools/ (not on PATH) the first
# time, as cbindgen is, without its default `binary-scanning` feature (only
# Cargo.lock is checked). The database is read-only and cargo-audit wants a
# git repository: each run checks a throwaway committed copy of it.
# `make test` runs scripts/check-advisories.py: the same decision as
# cargo-audit over the same database and ignore list, in a second, without
# building cargo-audit (minutes on a fresh machine). `make audit-cargo`
# runs cargo-audit itself as a cross-check.
.PHONY: cargo-audit test-advisories audit-cargo

CARGO_AUDIT_VERSION := 0.22.2
CARGO_AUDIT := $(TOOLS)/bin/cargo-audit
ADVISORY_DB ?= $(abspath $(ROOT)/../shared/advisory-db)
AUDIT_CONFIG := $(ROOT)/.cargo/audit.toml
# The workspace's lock file, and the fuzz targets' (fuzz/ builds on its own).
ADVISORY_LOCKS := Cargo.lock fuzz/Cargo.lock

cargo-audit:
	@if [ "$$($(CARGO_AUDIT) --version 2>/dev/null)" != "cargo-audit $(CARGO_AUDIT_VERSION)" ]; then \
	  echo "installing cargo-audit $(CARGO_AUDIT_VERSION) into $(TOOLS)"; \
	  $(CARGO) install cargo-audit --version $(CARGO_AUDIT_VERSION) --locked --no-default-features --root $(TOOLS); \
	fi

test-advisories:
	@test -d "$(ADVISORY_DB)/crates" || { echo "missing advisory database at $(ADVISORY_DB)"; exit 1; }
	@echo "== $(ADVISORY_LOCKS) against the RustSec advisory database ($(ADVISORY_DB), $$(sed -n 's/.*(rustsec\/advisory-db, \(.*\)),.*/\1/p' "$(ADVISORY_DB)/README.sealbox.md")) =="
	@echo "   ignored (no fixed release; .cargo/audit.toml):"
	@sed -n 's/^ *"\(RUSTSEC-[0-9]*-[0-9]*\)", *# */     \1: /p' "$(AUDIT_CONFIG)"
	@cd $(ROOT) && python3 $(ROOT)/scripts/check-advisories.py "$(ADVISORY_DB)" "$(AUDIT_CONFIG)" $(ADVISORY_LOCKS)

audit-cargo: cargo-audit
	@test -d "$(ADVISORY_DB)/crates" || { echo "missing advisory database at $(ADVISORY_DB)"; exit 1; }
	@db=$$(mktemp -d); trap 'rm -rf "$$db"' EXIT; \
	cp -R "$(ADVISORY_DB)/." "$$db/"; \
	git -C "$$db" init -q && git -C "$$db" add -A && \
	  git -C "$$db" -c user.name=sealbox -c user.email=sealbox@localhost commit -q -m "offline copy"; \
	echo "== $(ADVISORY_LOCKS) against the RustSec advisory database ($(ADVISORY_DB), $$(sed -n 's/.*(rustsec\/advisory-db, \(.*\)),.*/\1/p' "$(ADVISORY_DB)/README.sealbox.md")) =="; \
	echo "   ignored (no fixed release; .cargo/audit.toml):"; \
	sed -n 's/^ *"\(RUSTSEC-[0-9]*-[0-9]*\)", *# */     \1: /p' "$(AUDIT_CONFIG)"; \
	cd $(ROOT) && for lock in $(ADVISORY_LOCKS); do \
	  [ -f "$$lock" ] || continue; \
	  $(CARGO_AUDIT) audit --db "$$db" --file "$$lock" 2>&1; \
	done; \
	echo "test-advisories: no advisory applies to $(ADVISORY_LOCKS) beyond those ignored above"
