# ---- The Python package `sealbox` (bindings/python, PyO3 + maturin) ---------
# Everything runs in the repository's virtualenv $(ROOT)/.venv (the one
# tests/interop/run.sh makes; created here when missing, so that the demo
# works on a fresh machine). `python-package` installs the pinned tools
# (bindings/python/requirements-dev.txt: maturin, pytest, mypy) and the AWS
# Encryption SDK for Python (tests/interop/requirements.txt: the interop
# tests and the bench), each only when its file changed, then builds the
# abi3 wheel with maturin (release: the bench needs it; cargo reuses
# target/, so a rebuild after a change is incremental) and installs it.
PY_DIR := $(ROOT)/bindings/python
PY_VENV := $(ROOT)/.venv
PY := $(PY_VENV)/bin/python
PY_REQS := $(PY_DIR)/requirements-dev.txt $(ROOT)/tests/interop/requirements.txt
PY_STAMP := $(PY_VENV)/.sealbox-python-requirements

.PHONY: python-venv python-package test-python bench-python demo-python

python-venv:
	@if [ ! -x "$(PY)" ]; then \
	  py=""; for c in python3 python3.11 python3.12 python3.13; do \
	    if command -v $$c >/dev/null && $$c -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then py=$$c; break; fi; \
	  done; \
	  [ -n "$$py" ] || { echo "Python >= 3.11 not found"; exit 1; }; \
	  echo "creating virtualenv $(PY_VENV) with $$py"; \
	  "$$py" -m venv "$(PY_VENV)"; \
	fi
	@want=$$(cat $(PY_REQS) | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat $(PY_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo "installing $(PY_REQS) into $(PY_VENV)"; \
	  $(PY) -m pip install --quiet --disable-pip-version-check $(addprefix -r ,$(PY_REQS)); \
	  echo "$$want" > $(PY_STAMP); \
	fi

# --no-build-isolation: the pinned maturin of the venv builds the wheel
# (no second download of it per build).
# PY_PROFILE=dev (make test) builds the wheel with the dev profile.
PY_PROFILE ?= release
PY_BUILD_ENV = $(if $(filter dev,$(PY_PROFILE)),MATURIN_PEP517_ARGS="--profile dev",)

python-package: python-venv
	PATH="$(PY_VENV)/bin:$$PATH" $(PY_BUILD_ENV) $(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation \
	  --force-reinstall --no-deps $(PY_DIR)

# The pytest suite (bindings/python/tests: soft and PKCS#11 key stores,
# envelope, streams, threads, interop with the AWS Encryption SDK for
# Python), then mypy --strict over the package, the tests and the examples.
test-python: python-package
	cd $(PY_DIR) && $(PG_ENV) $(PY) -m pytest -q -p no:cacheprovider tests
	cd $(ROOT) && $(PY) -m mypy --strict --no-incremental --cache-dir=/dev/null --config-file $(PY_DIR)/pyproject.toml \
	  $(PY_DIR)/python/sealbox $(PY_DIR)/tests $(PY_DIR)/bench $(ROOT)/examples/python

# sealbox beside the AWS Encryption SDK for Python and pyca AESGCM, one run.
bench-python: python-package
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements-bench.txt
	$(PY) $(PY_DIR)/bench/compare.py

demo-python:
	@echo
	@echo "== 2/4  Python: the sealbox package (PyO3), examples/python/quickstart.py =="
	@echo "   building the package and installing it into $(PY_VENV) ..."
	@$(MAKE) --no-print-directory python-package >/dev/null
	@$(PY) $(ROOT)/examples/python/quickstart.py | sed 's/^/   /'
