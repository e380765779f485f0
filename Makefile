# The two commands: `make run` (live demo, nothing to install) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The night run's search is compiled (numba) and cached on disk: compile it at install,
# not during the first solve.
WARM_UP := $(BIN)/python -c "from optimiser.mobility.static.fast_search import warm_up; warm_up()"

.PHONY: run test lint typecheck pytest services bench clean

run: $(VENV)/.installed
	$(BIN)/territory demo

test: $(VENV)/.dev-installed services lint typecheck pytest

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	$(WARM_UP)
	touch $@

$(VENV)/.dev-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(WARM_UP)
	touch $(VENV)/.installed $@

services:
	@bash scripts/ensure-services.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

bench: $(VENV)/.dev-installed services
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/optimiser.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/ocpp.py --record

clean:
	rm -rf $(VENV) var test-artifacts
