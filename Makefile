# Two commands (see README.md):
#   make dev   set everything up and serve the portal with demo data at http://localhost:8000, with the
#              background worker and its scheduler beside it (Ctrl-C stops them all)
#   make test  run the whole test suite
# Both create .venv and install the pinned dependencies of pyproject.toml on first use, and only
# reinstall when pyproject.toml changes.
# make browser-deps  installs what tests/browser needs (Chromium from Debian, axe-core from npm); make test
# runs it first (where Chromium cannot be installed, outside CI, those tests are skipped).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: dev test install browser-deps gateway-deps redis-deps bench-deps

# The background worker and its scheduler (Celery beat) run beside the server, on the embedded broker unless
# REDIS_URL is set. Ctrl-C stops both: the shell's trap ends the worker whenever the server ends, however it ends.
dev: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Serving the portal at http://localhost:$(PORT)/ with the background worker (sign in with the demo login above; Ctrl-C stops both)"
	@$(BIN)/celery -A portal worker --beat --loglevel INFO & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install browser-deps gateway-deps
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Chromium comes from the distribution (Playwright's own download is not used); apt-get runs only when it is
# missing. axe-core is pinned in package-lock.json and reinstalled only when that file changes.
SUDO := $(shell test "$$(id -u)" -eq 0 || echo sudo)

# Outside CI a machine where Chromium cannot be installed (no root) still runs every other test; in CI
# (CI=true) that is a failure, and tests/browser refuses to be skipped.
browser-deps: node_modules/.installed
	@test -x /usr/bin/chromium || { \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } || { \
		test -z "$$CI" && echo "Chromium could not be installed: the browser tests will be skipped."; }

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# nginx for tests/gateway (section 18: forward authentication in front of a service), from the distribution like
# Chromium: apt-get runs only when /usr/sbin/nginx is missing. Outside CI those tests are skipped without it; in CI
# (CI=true) that is a failure.
gateway-deps:
	@test -x /usr/sbin/nginx || { \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light; } || { \
		test -z "$$CI" && echo "nginx could not be installed: the gateway's nginx tests will be skipped."; }

# Debian's redis-server (and redis-cli) for the Redis Cluster the request path's tests run on (.ci/redis-cluster);
# apt-get runs only when it is missing.
redis-deps:
	@command -v redis-server >/dev/null || { \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server; }

# What bench/ needs besides the virtualenv (run by hand, never by the tests): Debian's wrk loads the servers, nginx
# is the gateway benchmark's proxy; the peers (drf-api-key, django-oauth-toolkit's own classes) the bench installs itself.
bench-deps: install gateway-deps
	@command -v wrk >/dev/null || { \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
