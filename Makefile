# Two commands do everything on a fresh machine (see README.md):
#   make run    install, migrate, import articles/, build the search index, serve on localhost
#   make test   install (incl. Debian's chromium for the browser tests), lint, run the test suite

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES ?= chromium

.PHONY: run test install install-dev system-deps lint check bench serve clean

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

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

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
	$(BIN)/gunicorn kb.wsgi --bind $(HOST):$(PORT) --workers 2 --no-control-socket

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

test: install-dev system-deps lint
	$(BIN)/python -m pytest

# The search benchmark's real corpus (kernel docs, man pages en/ja/zh) and wrk for serving.
BENCH_PACKAGES ?= linux-doc manpages manpages-dev manpages-ja manpages-zh wrk

bench: install-dev
	$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(BENCH_PACKAGES)"
	$(BIN)/python bench/run.py

clean:
	rm -rf var/ .pytest_cache .ruff_cache
