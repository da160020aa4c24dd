# SIPAS Bot — the two everyday commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist; most of an end-to-end test is waiting on the
# real process). PYTEST_WORKERS=0 runs it in one process, e.g. to debug with pdb.
PYTEST_WORKERS ?= auto
# The project's bytecode, written ahead (also where PYTHONDONTWRITEBYTECODE is set): every
# process the suite starts — `sipas serve`, the CLI — would otherwise compile ~190 modules.
BYTECODE = $(BIN)/python -m compileall -q -j 0 bot storage scoring scheduler bench
# The locked dependency set (pinned with hashes, compiled from pyproject.toml by `make lock`):
# what `make run` and `make test` install, so every machine and CI get the same versions.
LOCK      := requirements.lock
TEST_LOCK := requirements-test.lock
COMPILE    = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --build-deps-for editable --upgrade

.PHONY: run test migrate lint bench sample clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

# The project itself goes in editable, without resolving anything: the lock brought every
# dependency and the build backend (hence no build isolation, which would fetch the newest).
$(VENV)/.run-installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.test-installed: $(TEST_LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(TEST_LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $@ $(VENV)/.run-installed

.env: | $(VENV)/.run-installed
	$(BIN)/sipas init-env

## run: install, create .env with random secrets if missing, migrate SQLite, serve on :8080
run: $(VENV)/.run-installed .env
	@$(BYTECODE)
	$(BIN)/sipas migrate
	@echo "Post a first signed event from another terminal:  $(BIN)/sipas send-sample"
	$(BIN)/sipas serve

# The browser tests drive Debian's Chromium (never a browser Playwright downloads). Installed
# when missing and the machine allows it (root or passwordless sudo); otherwise those tests skip
# with the reason, except in CI, where they fail.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); \
	elif sudo -n true 2>/dev/null; then sudo apt-get install -y -qq chromium >/dev/null || (sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null); \
	else echo "Chromium is not installed and cannot be installed here: browser tests will be skipped (apt-get install chromium)"; fi

## test: install test tools and Chromium, run the whole suite (PostgreSQL on 127.0.0.1:5432)
test: $(VENV)/.test-installed | $(CHROMIUM)
	@$(BYTECODE) tests
	@$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); rc=$$?; \
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

## lock: re-resolve pyproject.toml's dependencies to the newest allowed versions and pin them
lock: | $(BIN)/python
	$(PIP) install --quiet pip-tools
	$(COMPILE) -o $(LOCK) pyproject.toml
	$(COMPILE) --extra test -o $(TEST_LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
