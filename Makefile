# The README's two commands: `make run` (the platform, embedded default) and `make test` (the suite).
# Both install what is missing first: uv (pinned) through pip, then the locked environment in .venv.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(PYTHON) -m uv
VENV := .venv

.PHONY: run test install lint format bench-ingest bench-train bench-serving bench-soak bench-run readme-table audit clean

$(VENV)/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen --all-extras
	@touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/python -m crime_weather.launcher

test: install
	$(VENV)/bin/python -m crime_weather_tests.system_deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-ingest: install
	$(VENV)/bin/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
