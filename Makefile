# SIPAS Bot — the two everyday commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test migrate lint bench sample clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@ $(VENV)/.run-installed

.env: | $(VENV)/.run-installed
	$(BIN)/sipas init-env

## run: install, create .env with random secrets if missing, migrate SQLite, serve on :8080
run: $(VENV)/.run-installed .env
	$(BIN)/sipas migrate
	@echo "Post a first signed event from another terminal:  $(BIN)/sipas send-sample"
	$(BIN)/sipas serve

## test: install test tools and run the whole suite (PostgreSQL tests need 127.0.0.1:5432)
test: $(VENV)/.test-installed
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no test matched '$(PYTEST_ARGS)'"; exit 0; fi; \
	exit $$rc

migrate: $(VENV)/.run-installed .env
	$(BIN)/sipas migrate

sample: $(VENV)/.run-installed .env
	$(BIN)/sipas send-sample

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage scoring scheduler

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
