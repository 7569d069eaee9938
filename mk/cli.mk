# make fragment for the `sealbox` command line (cli/), included by the
# top-level Makefile.
#
#   make test-cli   the CLI suites that `test-rust` cannot run: the interop
#                   test with the AWS Encryption SDK for Python (required
#                   here; $(ROOT)/.venv exists after test-interop), and the
#                   demo session, so that `make demo` cannot rot unnoticed
#   make demo-cli   the CLI part of `make demo`
#
# Every other CLI test (cli/tests/*.rs: every subcommand, --json, exit
# codes, interrupted encrypts, the PKCS#11 store on SoftHSM2) runs in
# `test-rust` through `cargo test --workspace`; it is not run twice.
.PHONY: test-cli demo-cli

test-cli:
	$(PG_ENV) SEALBOX_REQUIRE_INTEROP=1 $(CARGO) test --workspace $(NOT_BINDINGS) --test interop -- --nocapture
	@echo "== the CLI demo session (output shown only if it fails) =="
	@out=$$($(PG_ENV) CARGO="$(CARGO)" $(ROOT)/examples/cli/demo.sh 2>&1) || { printf '%s\n' "$$out"; exit 1; }
	@echo "test-cli: the CLI interop test and the demo session passed"

demo-cli:
	@echo
	@echo "== 4/4  the sealbox command line (cli/): a short session, examples/cli/demo.sh =="
	@CARGO="$(CARGO)" $(ROOT)/examples/cli/demo.sh
