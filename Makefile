# Two entry points: `make run` (the embedded demo) and `make test` (the whole suite).
# Each creates its own virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck services bench clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(BIN)/tthc-monitor run

services:
	bash scripts/ensure-test-services.sh

lint: $(STAMP)
	$(BIN)/ruff check monitor checks alerts tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) services lint typecheck
	$(BIN)/python -m pytest

# After changing user-facing texts: refresh the catalogs, then translate the new Vietnamese entries.
messages: $(STAMP)
	$(BIN)/python scripts/update_catalogs.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sources.py
	$(BIN)/python benchmarks/bench_mapping.py
	$(BIN)/python benchmarks/bench_checks.py

clean:
	rm -rf $(VENV) tthc-state tthc-demo .pytest_cache .mypy_cache .ruff_cache
