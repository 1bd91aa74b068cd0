# `make run` starts Renfort (the sandbox when no TELEGRAM_BOT_TOKEN is set);
# `make test` installs everything and runs the whole suite with the checks.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck catalogs catalogs-update pytest bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Renfort needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/renfort run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

catalogs: $(STAMP)
	$(BIN)/python -m bot.i18n_check

catalogs-update: $(STAMP)
	$(BIN)/python -m bot.i18n_check --update

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck catalogs pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
