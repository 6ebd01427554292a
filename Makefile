# The README's two set-up commands: `make run` (serve on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin
# torch==2.13.0 first: on this CI machine pip takes it from a local CPU wheel; an unpinned
# `torch` would download a multi-GB CUDA build. Override with TORCH=... elsewhere.
TORCH ?= torch==2.13.0

.PHONY: run test lint bench clean

$(BIN)/python:
	@echo "creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The worker computes probe reports with the client library's core (clients/python).
$(VENV)/.installed-run: pyproject.toml clients/python/pyproject.toml | $(BIN)/python
	@echo "installing $(TORCH) for the re-evaluation worker (the first time takes a minute or two)"
	$(BIN)/python -m pip install -q '$(TORCH)'
	@echo "installing lossgap, its worker extra and the Python client"
	$(BIN)/python -m pip install -q -e '.[worker]' -e clients/python
	touch $@

$(VENV)/.installed-dev: pyproject.toml clients/python/pyproject.toml | $(BIN)/python
	@echo "installing $(TORCH) for the re-evaluation worker (the first time takes a minute or two)"
	$(BIN)/python -m pip install -q '$(TORCH)'
	@echo "installing lossgap with its dev and worker extras and the Python client"
	$(BIN)/python -m pip install -q -e '.[dev,worker]' -e clients/python
	touch $@ $(VENV)/.installed-run

## run: create the virtualenv, install, migrate and serve on http://$(HOST):$(PORT) (SQLite in ./data)
run: $(VENV)/.installed-run
	$(BIN)/lossgap db upgrade
	@echo "the lossgap command is $(abspath $(BIN))/lossgap (or: . $(VENV)/bin/activate)"
	@echo "serving http://$(HOST):$(PORT) (Swagger UI at /docs); Ctrl-C stops it"
	$(BIN)/lossgap serve --host $(HOST) --port $(PORT)

## test: install with the dev and worker extras, lint, type-check and run every test on SQLite and Postgres
test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: ingestion benchmark against MLflow (installs the bench extra)
bench: $(VENV)/.installed-dev
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
