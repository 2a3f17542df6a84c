# Two commands on a fresh machine: `make report` and `make test`.
# Each creates .venv when it is missing or older than pyproject.toml or the lock file, installs the
# locked versions into it (hashes checked; exactly those: --no-deps, so that a dependency the lock
# leaves out, pyproject.toml's [tool.uv] override-dependencies, stays out; `pip check` then says
# whether one is missing), then does its job. `make lock` renews the lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements-lock.txt
LOCK_EXTRAS := --extra dev --extra dask
DATA ?= data/sample
PERIOD ?= latest

.PHONY: setup lock test report lab dashboard sample benchmarks docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Cannot create $(VENV) with $(PYTHON); on Debian: apt-get install python3-venv" >&2; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; echo "The lock file misses a dependency of pyproject.toml: make lock" >&2; exit 1; }
	$(BIN)/python -m ipykernel install --sys-prefix --name ctlib --display-name "Python (ctlib)" >/dev/null
	@touch $(STAMP)

# After changing the dependencies in pyproject.toml (and environment.yml): resolve and export again.
# Needs only .venv and uv (the range pyproject.toml gives), so that it works with a stale lock too.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet \
	  "$$(grep -o '"uv[<>=][^"]*"' pyproject.toml | tr -d '"')"
	$(BIN)/uv lock
	$(BIN)/uv export --quiet $(LOCK_EXTRAS) --no-emit-project --format requirements-txt -o $(LOCK)

# The tests' system packages and services (chromium, postgresql) come from one script; see its header.
test: $(STAMP)
	scripts/test-environment $(BIN)/python -m pytest -q

report: $(STAMP)
	$(BIN)/ctlib report --all $(DATA) --period $(PERIOD) --out reports
	@echo "Reports written under reports/ (open reports/index.html)"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# The dashboard shows what the donor reports released: the reports run first (kept when unchanged).
dashboard: $(STAMP)
	$(BIN)/ctlib report --all $(DATA) --period $(PERIOD) --out reports --resume
	$(BIN)/ctlib dashboard $(DATA)

sample: $(STAMP)
	$(BIN)/python data/generate_samples.py

benchmarks: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The data guide's reference parts (tables, columns, markers) from ctlib's own declarations.
docs: $(STAMP)
	$(BIN)/python -c "from ctlib._publish.data_guide import update_guide; update_guide('docs/data.md')"

# The samples' release ledgers go too (a real project's ledger is the record of what it published).
clean:
	rm -rf $(VENV) reports/*/ reports/index.html .pytest_cache data/sample/*/.ctlib
