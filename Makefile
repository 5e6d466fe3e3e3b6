# SEAM: `make run` serves, `make test` runs every test. Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format system-deps clean bench

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.dev: requirements.txt requirements-dev.txt $(BIN)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.runtime
	$(BIN)/python seam.py

system-deps:
	bash .ci/system-deps

test: $(BIN)/.dev system-deps
	$(BIN)/python -m pytest

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks (not tests, not in CI): servers from a requirements.txt-only venv, load from the dev venv.
bench/.venv-runtime/bin/python: requirements.txt
	$(BIN)/python -m venv bench/.venv-runtime
	bench/.venv-runtime/bin/pip install -q -r requirements.txt
	touch $@

bench: $(BIN)/.dev bench/.venv-runtime/bin/python
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts bench/.venv-runtime
