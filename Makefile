# The commands of the README: `make run` (`make run-phone`) and `make test`. `make` alone lists
# the targets.
PYTHON ?= python3
# Where `make run` listens: `make run PORT=5001`, or `make run HOST=0.0.0.0` for the phones
# on the same wifi (open /setup first: see README.md); over HTTPS, which a phone's installable
# app needs: `make run-phone` (PORT= is then the app's own port behind Caddy).
HOST ?= 127.0.0.1
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
SECRET_FILE := instance/secret_key
# Wait up to 2 minutes for another apt or dpkg (another `make test`, unattended upgrades) to
# let go of its lock instead of failing at once. `apt-get update` ignores this option (apt 2.6
# applies it to dpkg's lock only), so system-packages also waits for the lists lock itself.
APT_GET := apt-get -o DPkg::Lock::Timeout=120
APT_LOCK_WAIT := 120

.DEFAULT_GOAL := help
.PHONY: help run run-phone test system-packages bench lint typecheck clean translations messages
# The drawer's translations: gettext catalogues (.po, under version control) compiled to .mo.
CATALOGUES := $(wildcard fieldapp/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

## List the targets and what they do (what `make` alone does).
help:
	@echo "Usage: make [target] [PORT=5000] [HOST=127.0.0.1]"
	@awk '/^## /{ if (doc == "") doc = substr($$0, 4); next } \
	  /^[a-z][a-z-]*:/{ if (doc != "") printf "  %-16s %s\n", substr($$1, 1, length($$1) - 1), doc } \
	  { doc = "" }' $(firstword $(MAKEFILE_LIST))

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

# The first start prints the /setup address to open at once (its first visitor becomes the
# collector). `exec`: make's child is the server itself, which Ctrl-C stops cleanly, so make
# has no failed command to report.
## Serve the app on http://127.0.0.1:5000 (PORT=, HOST= to change); data under instance/.
run: $(VENV)/.installed $(SECRET_FILE) translations
	FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/flask --app fieldapp db upgrade
	@FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/python -m fieldapp.first_run $(HOST) $(PORT)
	FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) exec $(BIN)/flask --app fieldapp run --host $(HOST) --port $(PORT)

# The same, for the artist's phone on the same wifi: Caddy (Debian's `caddy`) serves the app
# over HTTPS on this laptop's LAN address from its own certificate authority, kept in
# instance/caddy/ so that a phone trusts it once. fieldapp/phone/ prints a QR code to the page
# that installs that certificate on the phone; Ctrl-C stops Caddy and the app.
## Serve the app to your phone on the same wifi over HTTPS (Caddy), with a QR code to scan.
run-phone: $(VENV)/.installed $(SECRET_FILE) translations
	FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/flask --app fieldapp db upgrade
	FIELDAPP_SECRET_KEY=$$(cat $(SECRET_FILE)) PHONE_APP_PORT=$(PORT) exec $(BIN)/python -m fieldapp.phone

## Install the Debian packages the tests use (as root; else name the missing ones).
## Chromium (browser tests), WebKitGTK's WebKitWebDriver and Xvfb (the real-WebKit tests, see
## tests/webkit.py), zbar (QR decoding), poppler (PDF rasterising; poppler-data and
## fonts-droid-fallback draw the receipt's Chinese), ExifTool (judges that no
## image keeps metadata), PostgreSQL, Redis and Caddy (the tests start their own servers). `make bench`
## needs none of them; `bench/load.py` wants `wrk`.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v WebKitWebDriver >/dev/null 2>&1 || missing="$$missing webkit2gtk-driver"; \
	command -v Xvfb >/dev/null 2>&1 || missing="$$missing xvfb"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	[ -d /usr/share/poppler/cMap/Adobe-GB1 ] || missing="$$missing poppler-data"; \
	[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing="$$missing fonts-droid-fallback"; \
	ldconfig -p 2>/dev/null | grep -q libzbar.so.0 || missing="$$missing libzbar0"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v exiftool >/dev/null 2>&1 || missing="$$missing libimage-exiftool-perl"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v caddy >/dev/null 2>&1 || missing="$$missing caddy"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    waited=0; \
	    until out=$$(LC_ALL=C $(APT_GET) update -qq 2>&1); do \
	      case "$$out" in *"Could not get lock"*) ;; *) echo "$$out" >&2; exit 1 ;; esac; \
	      if [ $$waited -ge $(APT_LOCK_WAIT) ]; then echo "$$out" >&2; exit 1; fi; \
	      echo "Waiting for another apt to release its lock ($$waited s)"; \
	      sleep 5; waited=$$((waited + 5)); \
	    done; \
	    DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing). Tests that need them are skipped."; \
	  fi; \
	fi

## Install what the tests need, lint, type-check, and run every test, browser tests included.
## Two at a time (pytest-xdist): the browser tests wait on pages more than they use the CPU.
## Prints the coverage of fieldapp/ (lines and branches; files not fully covered, then the
## total); no threshold fails the run (pyproject.toml's [tool.coverage.*]).
test: $(VENV)/.test-installed system-packages lint typecheck translations
	$(BIN)/python -m pytest -n 2 --dist load --cov=fieldapp --cov-report=term:skip-covered

## Compile the drawer's translations (fieldapp/translations/*/LC_MESSAGES/*.po to .mo).
translations: $(COMPILED)

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

## After changing a translatable string: extract them all and update the catalogues.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-by-file -k lazy_gettext -F babel.cfg -o fieldapp/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i fieldapp/translations/messages.pot -d fieldapp/translations

## Check the code with ruff (lint and format), as `make test` does first.
lint: $(VENV)/.test-installed
	$(BIN)/ruff check fieldapp tests bench
	$(BIN)/ruff format --check fieldapp tests bench

## Check the type hints of fieldapp/ with mypy (settings in pyproject.toml), as `make test` does.
typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

## Time photo processing, the dataset export and the busiest pages (bench/).
bench: $(VENV)/.installed
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/pages.py

## Remove the virtualenv and the caches of pytest and mypy (instance/, your data, stays).
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache
