# SPDX-License-Identifier: MIT
# SEAM: `make run` serves, `make test` runs every test, `make binary` builds dist/seam.
# All set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD_VENV := build/venv
# What goes into dist/seam; the binary is rebuilt only when one of these is newer.
BINARY_INPUTS := seam.py messages.py requirements.txt requirements-build.txt \
	$(shell find app handlers realtime security store web static -type f ! -path '*/__pycache__/*')
# Imported by name at run time, so PyInstaller's import scan cannot see them.
HIDDEN_IMPORTS := engineio.async_drivers.tornado
# Read at start-up by realtime/fanout.py (the versions its fast path was verified against).
METADATA := python-engineio python-socketio tornado

.PHONY: run test lint format system-deps binary clean vendor bench

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
		--add-data "$(CURDIR)/static:static" $(addprefix --hidden-import ,$(HIDDEN_IMPORTS)) \
		$(addprefix --copy-metadata ,$(METADATA)) seam.py
	touch $@

# The console's Socket.IO browser client, vendored from npm (no CDN: intranets are often offline).
SOCKETIO_CLIENT ?= 4
vendor:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent socket.io-client@$(SOCKETIO_CLIENT) >/dev/null && tar xzf socket.io-client-*.tgz) && \
	version=$$(node -p "require('$$tmp/package/package.json').version") && \
	mkdir -p static/vendor && \
	cp "$$tmp/package/dist/socket.io.min.js" "$$tmp/package/dist/socket.io.min.js.map" static/vendor/ && \
	cp "$$tmp/package/LICENSE" static/vendor/socket.io.LICENSE && \
	printf 'socket.io-client %s (npm), dist/socket.io.min.js, MIT licence: see socket.io.LICENSE\nsha256 %s\nrefresh: make vendor [SOCKETIO_CLIENT=4]\n' \
		"$$version" "$$(sha256sum static/vendor/socket.io.min.js | cut -d' ' -f1)" > static/vendor/VERSION && \
	echo "vendored socket.io-client $$version into static/vendor/"

# Benchmarks (not tests, not in CI): servers from a requirements.txt-only venv, load from the dev venv.
bench/.venv-runtime/bin/python: requirements.txt
	$(BIN)/python -m venv bench/.venv-runtime
	bench/.venv-runtime/bin/pip install -q -r requirements.txt
	touch $@

bench: $(BIN)/.dev bench/.venv-runtime/bin/python
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts build dist bench/.venv-runtime
