# make fragment for node (included by the top-level Makefile)
.PHONY: test-node bench-node demo-node
test-node:
	@echo "test-node: not yet"
bench-node:
	@echo "bench-node: not yet"
demo-node:
	@echo "demo-node: not yet"
