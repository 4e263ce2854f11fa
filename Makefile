# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SECRET_FILE := instance/secret_key

.PHONY: run test system-packages bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(SECRET_FILE):
	mkdir -p instance
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

## Start the app on http://127.0.0.1:5000 (SQLite and media under instance/).
run: $(VENV)/.installed $(SECRET_FILE)
	FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/flask --app fieldapp db upgrade
	FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/flask --app fieldapp run --host 127.0.0.1 --port 5000

## Debian packages the tests use: Chromium (browser tests), WebKitGTK's WebKitWebDriver and Xvfb (the
## real-WebKit tests, see tests/webkit.py), zbar (QR decoding), poppler (PDF rasterising), PostgreSQL
## (the database tests start their own server). `make bench` also wants `wrk`.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v WebKitWebDriver >/dev/null 2>&1 || missing="$$missing webkit2gtk-driver"; \
	command -v Xvfb >/dev/null 2>&1 || missing="$$missing xvfb"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	ldconfig -p 2>/dev/null | grep -q libzbar.so.0 || missing="$$missing libzbar0"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing). Tests that need them are skipped."; \
	  fi; \
	fi

## Install what the tests need, lint, and run the whole suite, browser tests included.
## Two at a time (pytest-xdist): the browser tests wait on pages more than they use the CPU.
test: $(VENV)/.test-installed system-packages lint
	$(BIN)/python -m pytest -n 2 --dist load

lint: $(VENV)/.test-installed
	$(BIN)/ruff check fieldapp tests bench
	$(BIN)/ruff format --check fieldapp tests bench

bench: $(VENV)/.installed
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) .pytest_cache
