# Two commands do everything on a fresh machine (see README.md):
#   make run    install, migrate, import articles/, build the search index, serve on localhost
#   make test   install (incl. Debian's chromium for the browser tests), lint, run the test suite

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES ?= chromium

.PHONY: run test install install-dev system-deps lint check bench serve clean messages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the pins change.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

# axe-core for the accessibility browser tests: pinned in tests/browser/axe/package-lock.json,
# installed into that test-only folder (never served, never loaded by the site).
AXE_JS := tests/browser/axe/node_modules/axe-core/axe.min.js
# npm is often there already (with NodeSource's nodejs, whose package conflicts with Debian's
# npm): only a machine without the command gets Debian's package.
$(AXE_JS): tests/browser/axe/package-lock.json
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory system-deps APT_PACKAGES=npm
	npm ci --prefix tests/browser/axe --no-audit --no-fund --ignore-scripts --silent
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev $(AXE_JS)

# Debian packages the tests need (chromium for the browser tests). Root or sudo installs them.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_articles
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/python manage.py rebuild_index --if-changed
	$(BIN)/gunicorn kb.wsgi --config gunicorn.conf.py --bind $(HOST):$(PORT) --no-control-socket

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

test: install-dev system-deps lint
	$(BIN)/python -m pytest

# Interface translations: collect the strings of templates and code into locale/*/django.po,
# then compile the .mo files (committed, so nothing needs gettext at run time). Needs Debian's gettext.
messages: install
	$(BIN)/python manage.py makemessages -l ja -l zh_Hans --no-location \
	  --ignore=.venv --ignore=tests --ignore=var --ignore=bench --ignore=node_modules
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Screenshots of every page type at 390 and 1366 px, light and dark, into var/screenshots/.
# fonts-wqy-microhei draws the Japanese and Chinese text (headless chromium has no CJK font).
screenshots: install-dev
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="chromium fonts-wqy-microhei"
	$(BIN)/python scripts/screenshots.py --out var/screenshots

# The search benchmark's real corpus (kernel docs, man pages en/ja/zh) and wrk for serving.
BENCH_PACKAGES ?= linux-doc manpages manpages-dev manpages-ja manpages-zh wrk

bench: install-dev
	$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(BENCH_PACKAGES)"
	$(BIN)/python bench/run.py

clean:
	rm -rf var/ .pytest_cache .ruff_cache
