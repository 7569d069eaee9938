# make fragment for the lock checks of issue 17, included by the top-level
# Makefile.
#
#   make test-lock-check   - core/tests/lock_order.rs (CreateKey/RotateKey
#                            racing audited operations on a key store with
#                            one session, a watchdog failing it after 20 s
#                            without progress) natively on the PKCS#11
#                            backend (SoftHSM2), where the lock-order
#                            inversion of issue 17 hung it for good;
#                          - the same test under valgrind's helgrind (soft
#                            and PKCS#11 backends) and DRD (PKCS#11);
#                          - tests/c/test_threads.c (the C ABI's handles
#                            shared by eight threads) under helgrind.
#                          Each valgrind run must report no error.
#
# Under valgrind the lock-order test is built with the core's feature
# `lock-check` (core/src/sync.rs): the core's Mutex, RwLock and Condvar are
# then pthread locks, which helgrind and DRD see, so that they check
# sealbox's own locks (races on what they guard, lock order) together with
# SQLite's, SoftHSM2's (OS locking) and glibc's. What is suppressed is
# named in mk/hardening.supp: three pieces of std's own synchronisation,
# built on atomics that the tools cannot see (the stack-overflow guard
# registry, std's channels that libtest reports through, libtest's output
# capture flag). Atomic read-modify-writes (Arc's counts, the test's
# counters) are not reported by helgrind. aws-lc sets up its method tables
# (AES-GCM, digests, HMAC) on first use under pthread_once, which helgrind
# does not intercept (DRD does): a first use on two threads at once is
# reported as a race on aws-lc's statics (a CI run did, by chance of the
# schedule), so both programs run one round of their operations on the main
# thread before they start threads. The watchdog test also checks the
# order natively (the order is documented in
# core/src/keystore/backend/pkcs11/session.rs).
#
# core/tests/pkcs11_hardening.rs (leftover and duplicate token objects,
# fault injection) needs nothing special: `test-rust` runs it.
.PHONY: test-lock-check

LOCK_CHECK_PREFIX := $(ROOT)/target/c/lockcheck-prefix
LOCK_CHECK_DIR := $(ROOT)/target/lockcheck
LOCK_CHECK_VALGRIND := valgrind --error-exitcode=99 --num-callers=40 --suppressions=$(ROOT)/mk/hardening.supp
LOCK_CHECK_FEATURES := --features sealbox/lock-check

test-lock-check:
	@echo "== lock_order on the PKCS#11 backend, natively (max_sessions=1, watchdog 20 s) =="
	SEALBOX_TEST_BACKEND=pkcs11 $(CARGO) test --workspace $(NOT_BINDINGS) --test lock_order
	@rm -rf $(LOCK_CHECK_DIR) && mkdir -p $(LOCK_CHECK_DIR)
	@bin=$$($(CARGO) test --workspace $(NOT_BINDINGS) $(LOCK_CHECK_FEATURES) --test lock_order --no-run --message-format=json \
	    | sed -n 's/.*"executable":"\([^"]*lock_order[^"]*\)".*/\1/p' | tail -n 1); \
	test -x "$$bin" || { echo "no lock_order test binary"; exit 1; }; \
	echo "== control: two of the core's locks taken in both orders, under helgrind (must be reported) =="; \
	log=$(LOCK_CHECK_DIR)/control.helgrind.log; \
	if $(LOCK_CHECK_VALGRIND) --tool=helgrind --log-file=$$log "$$bin" --ignored --exact \
	    lock_check_control_inverts_two_locks > $$log.out 2>&1; then \
	  echo "helgrind did not see the inversion: it does not see the core's locks"; cat $$log; exit 1; \
	fi; \
	grep -q 'lock order .* violated' $$log || { echo "the control failed otherwise:"; cat $$log.out; exit 1; }; \
	echo "ok: $$(grep -o 'lock order "[^"]*" violated' $$log | head -n 1)"; \
	for run in helgrind:soft helgrind:pkcs11 drd:pkcs11; do \
	  tool=$${run%%:*}; backend=$${run#*:}; log=$(LOCK_CHECK_DIR)/lock_order.$$tool.$$backend.log; \
	  echo "== lock_order under $$tool, $$backend backend =="; \
	  if SEALBOX_TEST_BACKEND=$$backend SEALBOX_LOCK_TEST_SECONDS=3 \
	      $(LOCK_CHECK_VALGRIND) --tool=$$tool --log-file=$$log "$$bin" --test-threads=1 \
	      > $$log.out 2>&1; then \
	    echo "ok: $$(grep -o 'ERROR SUMMARY: [0-9]* errors' $$log)"; \
	  else \
	    tail -n 20 $$log.out; grep -v '^==[0-9]*== *$$' $$log | tail -n 60; exit 1; \
	  fi; \
	done
	@echo "== tests/c/test_threads under helgrind =="
	rm -rf $(LOCK_CHECK_PREFIX)
	$(MAKE) --no-print-directory install PREFIX=$(LOCK_CHECK_PREFIX) C_PROFILE=dev C_FEATURES="$(LOCK_CHECK_FEATURES)"
	@lib=$(LOCK_CHECK_PREFIX)/lib; export PKG_CONFIG_PATH=$$lib/pkgconfig; \
	cc -std=c11 -Wall -Wextra -Werror -Wpedantic -D_POSIX_C_SOURCE=200809L -g -O1 -pthread \
	  $$(pkg-config --cflags sealbox) $(ROOT)/tests/c/test_threads.c -o $(LOCK_CHECK_DIR)/test_threads \
	  $$(pkg-config --libs sealbox) -Wl,-rpath,$$lib; \
	mkdir -p $(LOCK_CHECK_DIR)/scratch; log=$(LOCK_CHECK_DIR)/test_threads.helgrind.log; \
	if $(LOCK_CHECK_VALGRIND) --tool=helgrind --log-file=$$log \
	    $(LOCK_CHECK_DIR)/test_threads $(LOCK_CHECK_DIR)/scratch > $$log.out 2>&1; then \
	  echo "ok: $$(tail -n 1 $$log.out); $$(grep -o 'ERROR SUMMARY: [0-9]* errors' $$log)"; \
	else \
	  tail -n 20 $$log.out; grep -v '^==[0-9]*== *$$' $$log | tail -n 60; exit 1; \
	fi
	@echo "test-lock-check: no deadlock, and no race, lock-order or pthread error reported by helgrind or DRD"
