# The two commands: `make run` (server + demo data on the embedded store) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= data

.PHONY: run test lint bench clean

$(BIN)/fhir-server: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,mongo]'
	touch $@

# Authorization on, demo data and accounts; `make run EXTRA=--no-auth` for raw API work.
run: $(BIN)/fhir-server
	$(BIN)/fhir-server serve --host $(HOST) --port $(PORT) --data $(DATA) --seed $(EXTRA)

test: $(BIN)/fhir-server
	$(BIN)/ruff check .
	$(BIN)/mypy fhir_server smart_auth terminology
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(BIN)/fhir-server
	$(BIN)/python bench/rest_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
