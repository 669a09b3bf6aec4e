# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what they depend on; each step is skipped when its inputs have not changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
GEN := gen/python
GENERATED := $(GEN)/.generated
PROTOS := $(shell find protos -name '*.proto' 2>/dev/null)
PYTEST_ARGS ?=
# `make bench BENCH_ARGS=--quick` for a short run of every benchmark.
BENCH_ARGS ?=
# `make faults FAULTS_ARGS=--short` for the three faults `make test` runs.
FAULTS_ARGS ?=

# The console's chart library, from npm by package-lock.json, served from its own static files.
CHART_JS := services/console/static/vendor/chart.umd.js

.PHONY: run test bench faults soak lint setup preflight migrate run-deps system-deps clean

run: setup run-deps $(CHART_JS)
	$(VENV)/bin/crs seed --demo
	$(VENV)/bin/crs run

# The suite migrates databases of its own (tests/support/infra.py), so it neither needs nor touches the
# development database that `make run` migrates.
test: preflight $(INSTALLED) $(GENERATED) system-deps $(CHART_JS)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup system-deps
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script $(BENCH_ARGS) || exit 1; done

# Every fault of tests/faults/suite.py under 20 calls/s and web forms, on a PostgreSQL and a RabbitMQ of its
# own (the shared ones are never touched); prints the table and fails when anything is lost or doubled.
# `make test` runs the short form (tests/faults/test_faults.py).
faults: $(INSTALLED) $(GENERATED) system-deps
	$(PY) -m tests.faults $(FAULTS_ARGS)

# 30 minutes at 20 calls/s with recordings and web forms; fails when a process's RSS or open files grow
# beyond the bound of tests/support/resources.py. `make soak SOAK_MINUTES=5`, SOAK_RATE, SOAK_HOSTILE=1.
SOAK_MINUTES ?= 30
SOAK_RATE ?= 20
soak: setup system-deps
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_RATE=$(SOAK_RATE) $(PY) scripts/soak.py

# The last step names tests that cannot fail and benchmarks that could exit 0 unmeasured (docs/testing.md).
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m tests.support.lint_tests

setup: preflight $(INSTALLED) $(GENERATED) migrate

# Says at once what to start when PostgreSQL or RabbitMQ cannot be reached; never waits for them.
preflight:
	@$(PYTHON) scripts/preflight.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

$(GENERATED): $(PROTOS) $(INSTALLED) scripts/gen_protos.py
	$(PY) scripts/gen_protos.py --out $(GEN)
	touch $@

migrate: $(INSTALLED) $(GENERATED)
	$(VENV)/bin/crs migrate

# Installs from the registry here, at set-up, and never at run time; the console serves the copy.
$(CHART_JS): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js and npm (Debian: apt-get install npm), then run make again" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(@D)
	cp node_modules/chart.js/dist/chart.umd.min.js $@

# Debian packages, installed when missing: for running, the SIP edge and sipp (`crs call`);
# for testing, also the SIP peers and the browser the acceptance tests drive.
run-deps:
	@scripts/system-deps.sh run

system-deps:
	@scripts/system-deps.sh test

clean:
	rm -rf $(VENV) gen .pytest_cache .ruff_cache node_modules $(dir $(CHART_JS))
