# Two commands on a fresh machine: `make demo` and `make test`.
# Both create a local virtual environment (.venv) and install the project into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/wastefleet demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/pytest benchmarks --benchmark-only

serve: install
	$(BIN)/wastefleet serve

clean:
	rm -rf $(VENV) var output .pytest_cache .mypy_cache .ruff_cache
