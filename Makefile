# ccbook: two commands do everything.
#   make book   - create .venv if needed, install the pinned dependencies, execute every
#                 chapter (default profile: paper on a GPU, quick on a CPU) and build the
#                 HTML with warnings as errors; prints where the book is.
#                 `make book PROFILE=smoke` picks another profile; it first prints each
#                 chapter's estimated training time and refuses one above 12 hours
#                 (`make book MAX_HOURS=N` accepts up to N).
#   make test   - same set-up, then `ruff check` and `ruff format --check` (make lint),
#                 then the whole test suite.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test lint sync clean clean-cache

book: $(STAMP)
	$(PY) -m cclib build $(if $(PROFILE),--profile $(PROFILE)) $(if $(MAX_HOURS),--max-hours $(MAX_HOURS))

# The files ruff checks (lint and format, config in pyproject.toml).
LINTED := cclib/ tests/ benchmarks/ $(wildcard book/*.py)

test: lint $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

sync: $(STAMP)
	$(PY) -m cclib sync

clean:
	rm -rf _build

clean-cache:
	rm -rf "$${CCBOOK_CACHE:-.cache}"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -c constraints.txt -e '.[dev]'
	touch $@
