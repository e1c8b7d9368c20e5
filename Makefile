# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install test test-fast lint demo bench clean chromium postgresql

# `make demo` needs the core only (about 70 MB); `make test` installs everything.
# torch first, pinned: the CPU build (a plain `torch` requirement would pull a multi-GB CUDA build).
# TORCH_INDEX points pip at the CPU wheel index, for machines without a local torch wheel:
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

$(BIN)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev,eval,server,github,postgres]"
	touch $(BIN)/.core $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	$(BIN)/actionlint .github/workflows/*.yml examples/workflows/*.yml

# The status-page test screenshots the page with Debian's headless Chromium.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# The store tests start a real PostgreSQL server (Debian's binaries) in a temporary directory.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }

test: lint chromium postgresql
	$(BIN)/pytest

# The fast loop while developing: lint-free, and without the tests marked slow (real engines,
# killed processes, PostgreSQL servers, the Action as a subprocess, wheel builds, load tests), on two
# pytest-xdist workers. `make test` runs everything.
test-fast: install chromium
	$(BIN)/pytest -m "not slow" -q -n 2

demo: $(BIN)/.core
	$(BIN)/evalbot demo

bench: install
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/bot.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/webhooks.py --replicas 2

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
