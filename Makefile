# RightsDesk. The README's two commands are `make run` and `make test`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstalls only when pyproject.toml changes; lives in the venv, so a new venv reinstalls.
INSTALLED := $(VENV)/.rightsdesk-installed

# `make test` runs on PostgreSQL and Redis. These are make variables, not exported: `make run`
# does not see them and keeps its embedded default unless DATABASE_URL is in your environment.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/rightsdesk
CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test install lint fmt messages seed check-timelines ci clean-var help

## run: start the embedded default (SQLite, file broker, worker with beat, demo data) on :8000
run: $(INSTALLED)
	$(BIN)/python manage.py run_embedded

## test: the whole test suite on PostgreSQL and Redis, then ruff (every step runs; any failure fails)
test: $(INSTALLED)
	@status=0; \
	DATABASE_URL='$(DATABASE_URL)' CELERY_BROKER_URL='$(CELERY_BROKER_URL)' $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	exit $$status

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## install: create .venv and install the project with its dev extras
install: $(INSTALLED)

## lint: ruff check and ruff format --check
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## fmt: format the code and apply ruff's safe fixes
fmt: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## messages: extract the translatable strings into locale/ja and compile them
messages: $(INSTALLED)
	$(BIN)/python manage.py makemessages --locale ja --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*' --ignore 'var/*'

## seed: add demo cases to the configured database (CASES=200 SEED=2026)
seed: $(INSTALLED)
	$(BIN)/python manage.py seed_demo --cases $(or $(CASES),200) --seed $(or $(SEED),2026)

## check-timelines: verify every case's hash-chained timeline
check-timelines: $(INSTALLED)
	$(BIN)/python manage.py verify_timelines

## ci: what CI runs (services, chromium, make test, a smoke test of make run)
ci:
	.ci/run

## clean-var: delete the embedded database, broker files, uploads and static files in var/
clean-var:
	rm -rf var/

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
