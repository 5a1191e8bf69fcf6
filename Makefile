# The runnable documentation: `make run` and `make test` work on a fresh machine
# with only Python 3.11 and make.
#
# Each target installs only what it needs, once: `make run` the package and its runtime
# dependencies, `make test` adds the `test` extra, `make lint` the `lint` extra. Each
# install leaves a stamp in .venv/, redone when pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
PIP_STAMP := $(VENV)/.installed-pip
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
LINT_STAMP := $(VENV)/.installed-lint

.PHONY: run test lint bench schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip from 25.2 writes console scripts that do not import `re` (the older ones' wrapper
# did, to tidy argv[0] on Windows): ~5-15 ms off every `scofeed` command's start-up, a
# third of `scofeed --version` (issue #9). Its own stamp: a venv made before this step
# existed gets it at its next make, and the package is installed again after it, which
# writes the `scofeed` script anew. Not a requirement: where no such pip can be had
# (a mirror holding older ones), the venv's own pip installs scofeed as before
$(PIP_STAMP): | $(BIN)/python
	$(PIP) --upgrade 'pip>=25.2' || echo "make: pip >= 25.2 not available; going on with $$($(BIN)/python -m pip --version)"
	touch $@

# src/scofeed/__init__.py holds the version (pyproject.toml reads it from there): a new
# one installs the package again, so that its metadata (`pip show scofeed`) follows
$(RUN_STAMP): pyproject.toml src/scofeed/__init__.py $(PIP_STAMP) | $(BIN)/python
	$(PIP) -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP)
	$(PIP) -e '.[test]'
	touch $@

$(LINT_STAMP): $(RUN_STAMP)
	$(PIP) -e '.[lint]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/scofeed --config config.toml run

# four test processes (pytest-xdist) on the 2-core machine: most tests wait on
# subprocesses, sockets and deliberate delays, so two processes left the cores idle a
# third of the time (~4 min 15 s; four: ~3 min 25 s). worksteal hands a slow test's
# neighbours to an idle process. TEST_WORKERS=0 runs them here, one after the other.
# The suite starts scofeed hundreds of times, most forked from two processes per
# worker that have loaded it (tests/forkserver.py), the rest fresh: with PYTHONDONTWRITEBYTECODE
# set (as some machines have it), each compiled every module of src/ again; its bytecode
# is cached for this run (git ignores it)
TEST_WORKERS ?= 4

test: $(TEST_STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n $(TEST_WORKERS) \
		$(if $(filter 0,$(TEST_WORKERS)),,--dist worksteal)

lint: $(LINT_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# bench/build.py twice: the default layout, then the 30-line script's own job (the newest
# 50 in Atom and RSS, no archives): issue 9's 2x is against the script doing that job,
# judged on the median of 5 rounds (the issue's own measure)
bench: $(RUN_STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/build.py
	$(BIN)/python bench/build.py --rounds 5 --set feeds.archives=false \
		--set "feeds.formats=['atom','rss']"
	$(BIN)/python bench/build.py --incremental
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/index.py
	$(BIN)/python bench/activitypub.py
	$(BIN)/python bench/websub.py
	$(BIN)/python bench/hostile.py

# after appending a store migration: the schema a new store is made from (store/fresh.py)
schema: $(TEST_STAMP)
	$(BIN)/python tests/test_store_schema.py

clean:
	rm -rf $(VENV) state
