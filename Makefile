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

.PHONY: help run test bench lint format typecheck services install lock lock-upgrade demo clean

# `make run` is the development desk: DEBUG on (demo credentials, browsable API) unless overridden.
run demo: export DEBUG ?= 1

help:
	@echo "make run    - set everything up and start the desk (API :8000, WebSocket :8001, worker, beat)"
	@echo "make test   - set everything up and run the whole suite against real PostgreSQL and Redis"
	@echo "make bench  - run the benchmarks; figures land in bench/results/*.json"
	@echo "make lock   - recompile requirements/runtime.txt and dev.txt (hashed) from requirements/*.in"
	@echo "make lint / format / typecheck"

$(STAMP): $(LOCKED)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(LOCKED)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

services: install
	@mkdir -p .data
	@$(PY) scripts/services.py > .data/services.env.tmp && mv .data/services.env.tmp .data/services.env

run: services
	$(WITH_SERVICES) $(PY) manage.py migrate --noinput
	$(WITH_SERVICES) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(WITH_SERVICES) $(PY) manage.py sync_schedules
	$(WITH_SERVICES) $(PY) manage.py seed_demo
	@echo "Starting: API http://127.0.0.1:$${PORT:-8000} (docs /api/docs/, admin /admin/), WebSockets ws://127.0.0.1:$${WS_PORT:-8001}, Celery worker and beat. Ctrl-C stops all."
	$(WITH_SERVICES) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" API_PORT=$${PORT:-8000} $(VENV)/bin/honcho start -f Procfile

demo: services
	$(WITH_SERVICES) $(PY) manage.py migrate --noinput && $(WITH_SERVICES) $(PY) manage.py seed_demo

test: services
	$(WITH_SERVICES) $(VENV)/bin/ruff check .
	$(WITH_SERVICES) $(VENV)/bin/ruff format --check .
	$(WITH_SERVICES) $(VENV)/bin/mypy .
	$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=config.settings_test $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(WITH_SERVICES) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: services
	$(WITH_SERVICES) $(PY) bench/run.py $(BENCH_ARGS)

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
