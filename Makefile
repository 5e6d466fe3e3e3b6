# SEAM: `make run` serves, `make test` runs every test. Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format system-deps clean vendor

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

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
