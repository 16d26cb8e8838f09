# The two commands: `make run` (server + demo data on the embedded store) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= data

.PHONY: run test lint bench mutation clean browser-deps

$(BIN)/fhir-server: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,mongo]'
	touch $@

# Authorization on, demo data and accounts; `make run EXTRA=--no-auth` for raw API work.
run: $(BIN)/fhir-server
	$(BIN)/fhir-server serve --host $(HOST) --port $(PORT) --data $(DATA) --seed $(EXTRA)

test: $(BIN)/fhir-server browser-deps
	$(BIN)/ruff check .
	$(BIN)/mypy fhir_server smart_auth terminology
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(BIN)/fhir-server
	$(BIN)/python bench/rest_bench.py

# Mutation score of the critical modules (scripts/mutation.toml): minutes, not part of CI.
# `make mutation MODULES="ids dates" JOBS=1` runs some of them with one test run at a time.
MODULES ?=
JOBS ?= 2
mutation: $(BIN)/fhir-server
	$(BIN)/pip show mutmut >/dev/null 2>&1 || $(BIN)/pip install --quiet -e '.[test,mongo,mutation]'
	$(BIN)/python scripts/mutation.py $(MODULES) --jobs $(JOBS)

clean:
	rm -rf $(VENV) build *.egg-info

# tests/browser drive Debian's Chromium (never `playwright install`); the printout test
# renders PDFs with pdftoppm. Installed when missing (root, as on CI).
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils; \
	  else \
	    echo "make test needs chromium and poppler-utils: sudo apt-get install -y chromium poppler-utils"; exit 1; \
	  fi; \
	fi
