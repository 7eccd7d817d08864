# Kesu: the two commands. Works on a fresh machine with Python 3.11, git and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL for the second test run (this machine kind and CI provide it; trust auth).
KESU_TEST_PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: demo test install lint fmt bench clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Kesu needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kesu demo

# Browser tests drive Debian's chromium (never a downloaded browser build).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's chromium (and CJK fonts for screenshots) for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
		else \
			echo "chromium not found: browser tests will be skipped (install Debian's chromium)"; \
		fi; \
	fi

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	KESU_HOME=$$(mktemp -d) $(BIN)/kesu manage makemigrations --check --dry-run
	@echo "== test suite on SQLite =="
	$(BIN)/pytest
	@if $(BIN)/python -m kesu.ops.pgcheck "$(KESU_TEST_PG_URL)"; then \
		echo "== test suite on PostgreSQL =="; \
		KESU_DATABASE_URL="$(KESU_TEST_PG_URL)" $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI: PostgreSQL at $(KESU_TEST_PG_URL) is required but not reachable"; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(KESU_TEST_PG_URL): skipped the PostgreSQL run"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .mypy_cache
