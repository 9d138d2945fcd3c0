# pikadb: `make run` starts a node on port 9221 with data in ./data; `make test` runs the checks.
# Works on a fresh Debian 12 machine as root without stdin: what is missing gets installed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 9221
DATA ?= ./data
BENCH_ARGS ?=
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: help run test lint format bench clean distclean redis venv

help:
	@echo "make run    - start pikadb on port $(PORT) with data in $(DATA)"
	@echo "make test   - install test dependencies, lint, run the test suite"
	@echo "make lint   - ruff check, ruff format --check, import-linter contracts"
	@echo "make format - ruff format and ruff check --fix"
	@echo "make bench  - pikadb vs redis-server with redis-benchmark (BENCH_ARGS=...)"
	@echo "make clean  - remove caches and build files (keeps .venv and ./data)"

# --- environment ------------------------------------------------------------------------
# Debian's python3.11 needs python3.11-venv for ensurepip; install it when venv fails.
$(PY):
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "venv failed: installing python3.11-venv" >&2; rm -rf $(VENV); \
	  apt-get update && apt-get install -y --no-install-recommends python3.11-venv && \
	  $(PYTHON) -m venv $(VENV); }

venv: $(STAMP)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@ $(STAMP)

# redis-server (differential tests, bench) and redis-tools (redis-cli, redis-benchmark).
# The package may start a redis-server service on 6379: tests and bench use their own
# ports, and a policy-rc.d (when none exists) keeps the service from starting at all.
redis:
	@if command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
	    && command -v redis-benchmark >/dev/null; then exit 0; fi; \
	set -e; policy=/usr/sbin/policy-rc.d; own=0; \
	if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' > $$policy; chmod +x $$policy; own=1; fi; \
	trap 'if [ $$own = 1 ]; then rm -f '$$policy'; fi' EXIT; \
	apt-get update; \
	apt-get install -y --no-install-recommends redis-server redis-tools

# --- targets ----------------------------------------------------------------------------
run: $(STAMP)
	$(BIN)/pikadb server --port $(PORT) --dir $(DATA)

# Every step runs even when an earlier one fails (one CI run shows everything); pytest is
# last so its summary is the closing line, and the exit status is non-zero if any failed.
test: $(TEST_STAMP) redis
	@status=0; \
	echo "== ruff check"; $(BIN)/ruff check . || { status=1; echo "FAILED: ruff check"; }; \
	echo "== ruff format --check"; $(BIN)/ruff format --check . || { status=1; echo "FAILED: ruff format --check (run make format)"; }; \
	echo "== lint-imports"; $(BIN)/lint-imports || { status=1; echo "FAILED: lint-imports"; }; \
	echo "== pytest"; \
	$(BIN)/pytest -q --durations=15 $(PYTEST_ARGS) tests || status=1; \
	exit $$status

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) redis
	$(PY) bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# Replication evidence at a large size (issue 7): the scenarios in tests/replication with
# REPL_KEYS preloaded keys (default 2 million), progress lines on stderr. The bench:
# `$(PY) bench/replication.py --large` (2 GB full sync, lag at 20k writes/s, 0/1/2 replicas).
REPL_KEYS ?= 2000000
.PHONY: repl-large
repl-large: $(TEST_STAMP) redis
	PIKADB_REPL_KEYS=$(REPL_KEYS) $(BIN)/pytest -s -q --durations=0 $(PYTEST_ARGS) tests/replication

# Mixed workloads over all types with `pikadb bench` (src/pikadb/tools/loadgen.py), pikadb vs
# redis-server side by side; e.g. make bench-mixed BENCH_ARGS="--duration 5 --calibrate".
.PHONY: bench-mixed
bench-mixed: $(STAMP) redis
	$(PY) bench/mixed.py $(BENCH_ARGS)

# Web dashboard browser test (tests/web, issue 8): Debian's chromium + chromium-driver for
# selenium (headless, --no-sandbox as root). Installed when missing; `make test` needs it.
.PHONY: chromium
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	set -e; apt-get update; \
	apt-get install -y --no-install-recommends chromium chromium-driver
test: chromium

# --- NET evidence (issue 6): long runs kept out of `make test` ---------------------------
FUZZ_FRAMES ?= 1000000
FUZZ_WORKERS ?= 4
.PHONY: fuzz-long clients-10k
fuzz-long: $(TEST_STAMP)
	$(PY) -m tests.fuzz.resp_fuzz --frames $(FUZZ_FRAMES) --workers $(FUZZ_WORKERS)

clients-10k: $(TEST_STAMP)
	PIKADB_MANY_CLIENTS=10000 $(BIN)/pytest -q -s tests/integration/test_many_clients.py
