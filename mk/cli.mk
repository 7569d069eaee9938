# make fragment for cli (included by the top-level Makefile)
.PHONY: test-cli bench-cli demo-cli
test-cli:
	@echo "test-cli: not yet"
bench-cli:
	@echo "bench-cli: not yet"
demo-cli:
	@echo "demo-cli: not yet"
