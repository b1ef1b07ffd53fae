# Amazing Segments — the commands people expect. Everything installs into ./.venv from PyPI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AMAZING_HOME ?= $(CURDIR)/.amazing
export DAGSTER_HOME ?= $(AMAZING_HOME)/dagster_home

.PHONY: setup run test test-fast lint format ui app bench clean

$(STAMP): pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "Java 17 is required by Spark (apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the pinned dependencies

run: setup  ## generate a 3-month demo landing zone and materialise the pipeline (embedded default)
	$(BIN)/amazing-demo

test: setup  ## the whole suite, slow end-to-end tests included (what CI runs)
	$(BIN)/pytest

test-fast: setup  ## skip the slow end-to-end suites
	$(BIN)/pytest -m 'not slow'

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

ui: setup  ## Dagster UI on http://localhost:3000 (same instance as `make run`)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -m amazing_assets.definitions -h 0.0.0.0 -p 3000

bench: setup  ## performance benchmarks; results in benchmarks/results/
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
