# The README's two commands: `make run` (the platform, embedded default) and `make test` (the suite).
# Both install what is missing first: uv, then the locked environment in .venv, compiled to bytecode
# once (every Dagster run is a fresh process that imports the whole stack). `make help` lists all.
#
# uv: the one on PATH, else a private copy in .tools/uv (pinned; `pip install --target`, which a
# PEP 668 system Python allows, or tools/bootstrap_uv.py where there is no pip at all).
# Python 3.11, the one version CI and every image run: PYTHON (default python3) when it is 3.11,
# else a 3.11 that uv finds or downloads.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
TOOLS := .tools
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/uv/bin/uv)
PYTHON_FITS := $(shell $(PYTHON) -c 'import sys; print(int(sys.version_info[:2] == (3, 11)))' 2>/dev/null)
UV_PYTHON := --python $(if $(filter 1,$(PYTHON_FITS)),$(PYTHON),3.11)
COMPOSE ?= docker compose
# The secrets `make up` checks in .env before starting anything (compose's check-env checks the same).
SECRETS := POSTGRES_PASSWORD DAGSTER_POSTGRES_PASSWORD MLFLOW_POSTGRES_PASSWORD \
	S3_ROOT_ACCESS_KEY S3_ROOT_SECRET_KEY S3_APP_ACCESS_KEY S3_APP_SECRET_KEY \
	S3_API_ACCESS_KEY S3_API_SECRET_KEY

.PHONY: help run test install lint format audit up down retrain bench-ingest bench-backtest bench-run \
	bench-serving bench-soak bench-effects clean

help: ## this list
	@echo "crime_weather: make TARGET"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(TOOLS)/uv/bin/uv:
	@echo "uv is not on PATH: installing uv $(UV_VERSION) into $(TOOLS)/uv, for this project only"
	@if $(PYTHON) -m pip --version >/dev/null 2>&1; then \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(TOOLS)/uv "uv==$(UV_VERSION)"; \
	else \
		$(PYTHON) tools/bootstrap_uv.py $(UV_VERSION) $(TOOLS)/uv; \
	fi

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode $(UV_PYTHON)
	@touch $@

install: $(VENV)/.installed ## create or update .venv from uv.lock (run and test do it first)

run: install ## the whole platform on this machine, in the foreground (Ctrl-C stops it)
	$(VENV)/bin/crime-weather run

test: install ## ruff, pip-audit and the whole test suite (what CI runs)
	$(VENV)/bin/python -m crime_weather_tests.system_deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory audit
	$(VENV)/bin/python -m pytest

# Known vulnerabilities in the locked dependencies; accepted ones are listed, with the reason, in
# audit-exceptions.txt (one "ID  reason" per line).
audit: install ## known vulnerabilities in the locked dependencies
	@$(UV) export --frozen --all-extras --no-dev --no-hashes --no-emit-project --quiet -o $(VENV)/audit-requirements.txt
	$(VENV)/bin/pip-audit -r $(VENV)/audit-requirements.txt --no-deps --disable-pip --progress-spinner off \
		$$(grep -v '^#' audit-exceptions.txt | awk 'NF {print "--ignore-vuln", $$1}') 2>&1 | sed '/could not be audited/d' 

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## ruff fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The production topology (README: "Production topology"). The Dagster image is built once here:
# compose would build it once per service that uses it.
up: ## docker compose: check .env, build the images, start every service in the background
	@$(PYTHON) docker/check_env.py --env-file .env $(SECRETS)
	CRIME_WEATHER_GIT_COMMIT=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		$(COMPOSE) --profile all build code-location mlflow api
	$(COMPOSE) --profile all up --detach
	$(COMPOSE) --profile all ps --all

down: ## docker compose: stop every service; the data stays in the volumes
	$(COMPOSE) --profile all down

bench-ingest: install ## benchmark: parse, validate and build features over the shared data
	$(VENV)/bin/python benchmarks/ingest.py --make-run

bench-backtest: install ## benchmark: the model as a retrain trains it (search, backtest, contest): figures, CIs, times
	$(VENV)/bin/python benchmarks/backtest.py

bench-run: install ## benchmark: make run until every month is materialized and a champion served
	$(VENV)/bin/python benchmarks/make_run.py

bench-serving: install ## benchmark: our API against mlflow models serve
	$(VENV)/bin/python benchmarks/serving.py

bench-soak: install ## benchmark: 60 s of load with a promotion halfway
	$(VENV)/bin/python benchmarks/soak.py

bench-effects: install ## benchmark: the weather-effects GLM on all shared data, and its CI coverage on planted data
	$(VENV)/bin/python benchmarks/effects.py

# Force a retrain now, with `make run` running: submits a run of the `retrain` job (split -> challenger
# -> champion -> weather effects) to the Dagster instance's run queue (one retrain at a time), which the
# daemon launches, and prints its status until it ends.
retrain: install ## retrain and promote now through the run queue, with make run running
	$(VENV)/bin/crime-weather retrain

clean: ## remove .venv, .tools and the caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
