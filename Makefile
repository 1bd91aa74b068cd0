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

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d locales -D messages -l $* >/dev/null

MO := $(patsubst %.po,%.mo,$(wildcard locales/*/LC_MESSAGES/messages.po))

run: $(STAMP) $(MO)
	$(BIN)/renfort run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

catalogs: $(STAMP) $(MO)
	$(BIN)/python -m bot.i18n_check

catalogs-update: $(STAMP)
	$(BIN)/python -m bot.i18n_check --update

pytest: $(STAMP) $(MO)
	$(BIN)/pytest -q

test: lint typecheck catalogs pytest

bench: $(STAMP) $(MO)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
