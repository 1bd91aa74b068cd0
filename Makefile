# `make run` starts Renfort (the sandbox when no TELEGRAM_BOT_TOKEN is set);
# `make test` installs everything and runs the whole suite with the checks (the wheel test
# included: it builds the wheel and installs it into a fresh virtualenv).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck catalogs catalogs-update pytest bench clean constraints floors

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Renfort needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
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
	@command -v chromium >/dev/null 2>&1 || echo "no chromium: the board's browser tests are skipped (apt-get install chromium)"
	$(BIN)/pytest -q -rs

test: lint typecheck catalogs pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# Re-pin every dependency from a clean install of pyproject.toml's ranges (README says when).
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/python -m pip install --quiet '.[dev]'
	head -3 constraints.txt > build/constraints.txt
	build/constraints-venv/bin/python -m pip freeze --exclude renfort >> build/constraints.txt
	mv build/constraints.txt constraints.txt
	rm -rf build/constraints-venv

# The lowest versions pyproject.toml allows, in a virtualenv of their own, through the suite.
floors:
	$(PYTHON) .ci/floors.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
