# Two commands on a fresh machine: `make report` and `make test`.
# Each creates .venv when it is missing or older than pyproject.toml, then does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data/sample
PERIOD ?= latest

.PHONY: setup test report lab dashboard sample benchmarks clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Cannot create $(VENV) with $(PYTHON); on Debian: apt-get install python3-venv" >&2; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name ctlib --display-name "Python (ctlib)" >/dev/null
	@touch $(STAMP)

# The tests' system packages and services (chromium, postgresql) come from one script; see its header.
test: $(STAMP)
	scripts/test-environment $(BIN)/python -m pytest -q

report: $(STAMP)
	$(BIN)/ctlib report --all $(DATA) --period $(PERIOD) --out reports
	@echo "Reports written under reports/ (open reports/index.html)"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

dashboard: $(STAMP)
	$(BIN)/ctlib dashboard $(DATA)

sample: $(STAMP)
	$(BIN)/python data/generate_samples.py

benchmarks: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports/*/ reports/index.html .pytest_cache
