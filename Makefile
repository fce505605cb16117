# Two commands: `make demo` (the main job) and `make test` (the suite, `pytest -n auto`).
# Each bootstraps .venv from requirements.lock + pyproject.toml; re-running is a no-op.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.claimcheck-installed
# The embedded Cosmos endpoint (npm package pinned in package-lock.json).
NODE_STAMP := node_modules/.claimcheck-installed
# The checker's hot loop compiled with mypyc (harness/check/_build.py); without it the same
# search runs as Python, and a build older than _search.py is never used.
SEARCH_STAMP := $(VENV)/.claimcheck-search-built

.PHONY: demo test lint typecheck check bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(SEARCH_STAMP): harness/check/_search.py $(STAMP)
	$(BIN)/python -m harness.check._build
	touch $(SEARCH_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm not found; install Node.js 20 with npm (e.g. apt-get install nodejs npm)"; exit 3; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

demo: $(STAMP) $(SEARCH_STAMP) $(NODE_STAMP)
	$(BIN)/claimcheck run

test: $(STAMP) $(SEARCH_STAMP) $(NODE_STAMP)
	$(BIN)/pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP) $(SEARCH_STAMP) $(NODE_STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build harness/check/_search_c*.so
