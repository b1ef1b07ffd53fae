# Amazing Segments — the commands people expect. Everything installs into ./.venv from PyPI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AMAZING_HOME ?= $(CURDIR)/.amazing
export DAGSTER_HOME ?= $(AMAZING_HOME)/dagster_home

.PHONY: setup browser run test test-unit test-spark test-fast lint typecheck format constraints ui app bench bench-etl bench-backfill \
	clean

$(STAMP): pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "Java 17 is required by Spark (apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@# The commit hook (ruff, mypy) only in a git checkout: a source tarball has no .git.
	if [ -e .git ] && [ -x $(BIN)/pre-commit ]; then $(BIN)/pre-commit install; fi
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the pinned dependencies (and the pre-commit hook in a checkout)

CHROMIUM ?= /usr/bin/chromium
browser:  ## Debian's Chromium for the browser tests (Playwright cannot download its own here)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

# The embedded instance's settings (one run at a time, oldest month first); kept if already there.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster/dagster.local.yaml
	mkdir -p $(DAGSTER_HOME)
	test -f $@ || cp $< $@

run: setup $(DAGSTER_HOME)/dagster.yaml  ## generate a 3-month demo landing zone and materialise the pipeline (embedded default)
	$(BIN)/amazing-demo

# Lint first: a formatting or typing error fails in seconds, not after the slow suites.
test: setup lint browser  ## lint, then the whole suite, slow end-to-end tests included (what CI runs)
	$(BIN)/pytest

# The unit tier starts no JVM: Java is taken off PATH (a stub that refuses stands first) and a
# test that asks for a SparkSession without a JVM tier's marker fails (conftest.py).
NO_JAVA := $(CURDIR)/amazing_assets_tests/support/no-java
test-unit: setup  ## the tier that starts no JVM (seconds to a few minutes): pure logic, configs
	env -u JAVA_HOME PATH="$(NO_JAVA):$$PATH" $(BIN)/pytest -m 'not spark and not slow and not browser'

test-spark: setup  ## unit + Spark tiers, without the slow end-to-end and browser suites
	$(BIN)/pytest -m 'not slow and not browser'

test-fast: test-spark

lint: setup  ## ruff check, ruff format --check, then the type checker
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: setup  ## mypy on amazing_assets/ and panel_app/ (configured in pyproject.toml)
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# This host only by default: Dagster OSS has no authentication (compose puts a proxy in front).
UI_HOST ?= 127.0.0.1
APP_HOST ?= 127.0.0.1
ui: setup $(DAGSTER_HOME)/dagster.yaml  ## Dagster UI on http://localhost:3000 (same instance as `make run`)
	$(BIN)/dagster dev -m amazing_assets.definitions -h $(UI_HOST) -p 3000

APP_PORT ?= 5006
app: setup  ## the Panel app for business users on http://localhost:5006 (the demo warehouse)
	$(BIN)/panel serve panel_app/app.py --port $(APP_PORT) --address $(APP_HOST) --warm --liveness \
	  --allow-websocket-origin localhost:$(APP_PORT) --allow-websocket-origin 127.0.0.1:$(APP_PORT) \
	  $(if $(PANEL_BASIC_AUTH_FILE),--basic-auth $(PANEL_BASIC_AUTH_FILE) --cookie-secret $$PANEL_COOKIE_SECRET,)

bench: setup  ## performance benchmarks; results in benchmarks/results/
	$(BIN)/python -m benchmarks.run

EVENTS ?= 10000000
BENCH_WORK ?= benchmarks/work/etl
bench-etl: setup  ## ETL vs the DuckDB reference on one generated month: make bench-etl EVENTS=10000000
	$(BIN)/python -m benchmarks.etl --events $(EVENTS) --work $(BENCH_WORK)

MONTHS ?= 4
MONTH_EVENTS ?= 300000
bench-backfill: setup  ## one run per month over MONTHS months: make bench-backfill MONTHS=7 MONTH_EVENTS=2000000
	$(BIN)/python -m benchmarks.backfill --months $(MONTHS) --events $(MONTH_EVENTS)

# Re-pins constraints.txt from pyproject.toml for Python 3.11 (the Docker image's), keeping every
# pin the new requirements still allow; UPGRADE=1 moves all pins to the newest allowed versions.
# Needs only uv, so it works while the pins themselves are what keeps `make setup` from resolving.
constraints:  ## regenerate constraints.txt from pyproject.toml (UPGRADE=1 to bump every pin)
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet -c constraints.txt uv; }
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 \
	  --no-header --no-annotate $(if $(UPGRADE),--upgrade,) -o constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
