# Helpline: `make run` starts the whole desk, `make test` runs the whole suite. Nothing else to install.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# requirements/dev.txt is the locked runtime + development set (hashes); the image installs only
# requirements/runtime.txt. Edit requirements/*.in, then `make lock` (docs/operations.md).
LOCKED := requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(LOCKED) | sha1sum | cut -c1-12)
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
# Each recipe line that needs the services sources the environment scripts/services.py printed.
WITH_SERVICES := set -a && . ./.data/services.env && set +a &&

# The web UI (frontend/): `npm ci` cached on the lockfile's hash, like the virtualenv.
UI := frontend
NPM_STAMP := $(UI)/node_modules/.installed-$(shell cat $(UI)/package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
DJANGO_TEST := DJANGO_SETTINGS_MODULE=config.settings_test
# The suite runs on two xdist workers, each with its own test database (pytest-django) and Redis
# database (config/settings.py); a module's tests stay on one worker. PYTEST_XDIST= runs it serially.
PYTEST_XDIST ?= -n 2 --dist loadscope
# The schema needs settings, not services: read the environment file when there is one, never rewrite it.
WITH_ENV := set -a && { [ ! -f .data/services.env ] || . ./.data/services.env; } && set +a &&

.PHONY: help run test bench lint format typecheck services install lock lock-upgrade demo clean ui ui-deps ui-dev ui-check ui-schema ui-schema-check chromium

# `make run` is the development desk: DEBUG on (demo credentials, browsable API) unless overridden.
run demo: export DEBUG ?= 1

help:
	@echo "make run    - set everything up and start the desk (API :8000, WebSocket :8001, worker, beat)"
	@echo "make test   - set everything up and run the whole suite against real PostgreSQL and Redis"
	@echo "make bench  - run the benchmarks; figures land in bench/results/*.json"
	@echo "make lock   - recompile requirements/runtime.txt and dev.txt (hashed) from requirements/*.in"
	@echo "make ui     - build the web UI (frontend/dist, served by Django at /); make ui-dev - Vite dev server"
	@echo "make ui-schema - regenerate frontend/src/api/schema.d.ts from the API's OpenAPI schema"
	@echo "make lint / format / typecheck"

$(STAMP): $(LOCKED)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCKED)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

services: install
	@mkdir -p .data
	@$(PY) scripts/services.py > .data/services.env.tmp && mv .data/services.env.tmp .data/services.env

run: services ui
	$(WITH_SERVICES) $(PY) manage.py migrate --noinput
	$(WITH_SERVICES) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(WITH_SERVICES) $(PY) manage.py sync_schedules
	$(WITH_SERVICES) $(PY) manage.py seed_demo
	@echo "Starting: API http://127.0.0.1:$${PORT:-8000} (docs /api/docs/, admin /admin/), WebSockets ws://127.0.0.1:$${WS_PORT:-8001}, Celery worker and beat. Ctrl-C stops all."
	$(WITH_SERVICES) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" API_PORT=$${PORT:-8000} $(VENV)/bin/honcho start -f Procfile

demo: services
	$(WITH_SERVICES) $(PY) manage.py migrate --noinput && $(WITH_SERVICES) $(PY) manage.py seed_demo

test: services ui chromium ui-check
	$(WITH_SERVICES) $(VENV)/bin/ruff check .
	$(WITH_SERVICES) $(VENV)/bin/ruff format --check .
	$(WITH_SERVICES) $(VENV)/bin/mypy .
	$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=config.settings_test $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(WITH_SERVICES) $(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# The UI benchmarks (bench_ui*.py) load the built app in Debian's Chromium.
bench: services ui chromium
	$(WITH_SERVICES) $(PY) bench/run.py $(BENCH_ARGS)

$(NPM_STAMP): $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund
	@rm -f $(UI)/node_modules/.installed-* && touch $(NPM_STAMP)

ui-deps: $(NPM_STAMP)

ui: ui-deps
	cd $(UI) && npm run build

# Vite's dev server on :5173 with the API (:8000) and WebSockets (:8001) proxied; run `make run` too.
ui-dev: ui-deps
	cd $(UI) && npm run dev -- --host 127.0.0.1

ui-schema: install ui-deps
	@mkdir -p .data
	$(WITH_ENV) $(DJANGO_TEST) $(PY) manage.py spectacular --format openapi-json --file .data/openapi.json
	cd $(UI) && npx openapi-typescript ../.data/openapi.json -o src/api/schema.d.ts

# Fails when the API's schema changed and frontend/src/api/schema.d.ts was not regenerated.
ui-schema-check: install ui-deps
	@mkdir -p .data
	$(WITH_ENV) $(DJANGO_TEST) $(PY) manage.py spectacular --format openapi-json --file .data/openapi-check.json
	cd $(UI) && npx openapi-typescript ../.data/openapi-check.json -o ../.data/schema-check.d.ts >/dev/null
	@diff -q .data/schema-check.d.ts $(UI)/src/api/schema.d.ts >/dev/null || \
	  (echo "frontend/src/api/schema.d.ts is stale: run make ui-schema"; exit 1)

ui-check: ui-deps ui-schema-check
	cd $(UI) && npm run lint && npm run typecheck && npm run format:check && npm test

chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

typecheck: install
	$(VENV)/bin/mypy .

# Recompile both lock files from requirements/*.in, keeping every pin that still satisfies them
# (lock-upgrade moves everything to the newest allowed releases). Then `make install`.
lock: install
	$(PIP_COMPILE) --output-file requirements/runtime.txt requirements/runtime.in
	$(PIP_COMPILE) --output-file requirements/dev.txt requirements/dev.in

lock-upgrade: install
	$(PIP_COMPILE) --upgrade --output-file requirements/runtime.txt requirements/runtime.in
	$(PIP_COMPILE) --upgrade --output-file requirements/dev.txt requirements/dev.in

clean:
	rm -rf .data/media staticfiles
