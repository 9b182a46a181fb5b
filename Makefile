# Helpline: `make run` starts the whole desk, `make test` runs the whole suite. Nothing else to install.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | sha1sum | cut -c1-12)
# Each recipe line that needs the services sources the environment scripts/services.py printed.
WITH_SERVICES := set -a && . ./.data/services.env && set +a &&

.PHONY: help run test bench lint format typecheck services install lock demo clean

# `make run` is the development desk: DEBUG on (demo credentials, browsable API) unless overridden.
run demo: export DEBUG ?= 1

help:
	@echo "make run    - set everything up and start the desk (API :8000, WebSocket :8001, worker, beat)"
	@echo "make test   - set everything up and run the whole suite against real PostgreSQL and Redis"
	@echo "make bench  - run the benchmarks; figures land in bench/results/*.json"
	@echo "make lint / format / typecheck"

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
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
	$(WITH_SERVICES) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: services
	$(WITH_SERVICES) $(PY) bench/run.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

typecheck: install
	$(VENV)/bin/mypy .

lock:
	rm -rf /tmp/helpline-lock && $(PYTHON) -m venv /tmp/helpline-lock
	/tmp/helpline-lock/bin/pip install --quiet -r requirements.in
	(echo "# Generated: pip freeze of a venv built from requirements.in (Python 3.11). Regenerate with \`make lock\`."; \
	 /tmp/helpline-lock/bin/pip freeze) > requirements.txt

clean:
	rm -rf .data/media staticfiles
