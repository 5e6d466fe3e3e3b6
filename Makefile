# SEAM: `make run` serves, `make test` runs every test, `make binary` builds dist/seam.
# All set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD_VENV := build/venv
# What goes into dist/seam; the binary is rebuilt only when one of these is newer.
BINARY_INPUTS := seam.py messages.py requirements.txt requirements-build.txt \
	$(shell find handlers store static -type f ! -path '*/__pycache__/*')
# Imported by name at run time, so PyInstaller's import scan cannot see them.
HIDDEN_IMPORTS := engineio.async_drivers.tornado

.PHONY: run test lint format system-deps binary clean

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

$(BUILD_VENV)/.ready: requirements.txt requirements-build.txt
	test -x $(BUILD_VENV)/bin/python || $(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/pip install -q -r requirements-build.txt
	touch $@

binary: dist/seam

# One file: the bootloader unpacks Python, the dependencies and static/ to a private temp dir at start.
dist/seam: $(BUILD_VENV)/.ready $(BINARY_INPUTS)
	$(BUILD_VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --onefile --name seam \
		--distpath dist --workpath build/pyinstaller --specpath build/pyinstaller \
		--add-data "$(CURDIR)/static:static" $(addprefix --hidden-import ,$(HIDDEN_IMPORTS)) seam.py
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts build dist
