# The README's two commands: `make run` (the platform, embedded default) and `make test` (the suite).
# Both install what is missing first: uv (pinned) through pip, then the locked environment in .venv,
# compiled to bytecode once (every Dagster run is a fresh process that imports the whole stack).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(PYTHON) -m uv
VENV := .venv

.PHONY: run test install lint format audit retrain bench-ingest bench-train bench-run bench-serving bench-soak bench-effects clean

$(VENV)/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen --all-extras --compile-bytecode
	@touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/python -m crime_weather.runtime.supervisor

test: install
	$(VENV)/bin/python -m crime_weather_tests.system_deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory audit
	$(VENV)/bin/python -m pytest

# Known vulnerabilities in the locked dependencies; accepted ones are listed, with the reason, in
# audit-exceptions.txt (one "ID  reason" per line).
audit: install
	@$(UV) export --frozen --all-extras --no-dev --no-hashes --no-emit-project --quiet -o $(VENV)/audit-requirements.txt
	$(VENV)/bin/pip-audit -r $(VENV)/audit-requirements.txt --no-deps --disable-pip --progress-spinner off \
		$$(grep -v '^#' audit-exceptions.txt | awk 'NF {print "--ignore-vuln", $$1}') 2>&1 | sed '/could not be audited/d' 

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-ingest: install
	$(VENV)/bin/python benchmarks/ingest.py --make-run

bench-train: install
	$(VENV)/bin/python benchmarks/train.py

bench-run: install
	$(VENV)/bin/python benchmarks/make_run.py

bench-serving: install
	$(VENV)/bin/python benchmarks/serving.py

bench-soak: install
	$(VENV)/bin/python benchmarks/soak.py

bench-effects: install
	$(VENV)/bin/python benchmarks/effects.py

# Force a retrain now, with `make run` running: split -> challenger -> champion, recorded in the same
# Dagster instance (the UI shows the run) and MLflow server (paths and URLs from the settings).
retrain: install
	$(VENV)/bin/python -m crime_weather.runtime.retrain

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
