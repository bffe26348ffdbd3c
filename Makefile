# certhub: `make run` starts a demo on http://127.0.0.1:8000, `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The first Python 3.12+ on the PATH (pyenv's python3 follows .python-version = 3.13).
PYTHON := $(shell for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	then echo $$p; break; fi; done)
# uv installs from the lock file and never downloads an interpreter of its own.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
DATA ?= $(CURDIR)/data
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run install test lint pytest migrations-check clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -n "$(PYTHON)" || { echo "certhub needs Python 3.12 or newer on the PATH" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv sync --locked --python $(BIN)/python
	@touch $@

run: install
	@mkdir -p $(DATA)
	@export CERTHUB_DEMO=1 CERTHUB_DATA_DIR=$(DATA); set -e; \
	$(BIN)/certhub migrate --noinput -v0; \
	$(BIN)/certhub collectstatic --noinput -v0; \
	$(BIN)/certhub demo; \
	$(BIN)/certhub db_worker --queue-name '*' & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	echo "certhub is starting on http://$(HOST):$(PORT)/ (worker pid $$worker; Ctrl-C stops both)"; \
	$(BIN)/certhub runserver --noreload $(HOST):$(PORT)

test: lint pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: install
	@mkdir -p .test-data
	CERTHUB_DATA_DIR=$(CURDIR)/.test-data $(BIN)/pytest -n 2 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .test-data .pytest_cache .mypy_cache .ruff_cache
