# make fragment for python (included by the top-level Makefile)
.PHONY: test-python bench-python demo-python
test-python:
	@echo "test-python: not yet"
bench-python:
	@echo "bench-python: not yet"
demo-python:
	@echo "demo-python: not yet"
