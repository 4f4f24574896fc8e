# The project's commands. `make lab` and `make test` each work alone on a fresh clone:
# they create .venv if missing and install the pinned requirements (quick when installed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests and stored outputs run BLAS single-threaded: two pytest workers then use both cores
# without oversubscription, and float32 sums do not depend on the thread count.
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# Two pytest workers; each notebook (its cells depend on each other) stays on one worker.
WORKERS ?= 2
XDIST := -n $(WORKERS) --dist loadfile
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600
QUICK_NOTEBOOKS := notebooks/00_start_here.ipynb notebooks/01_likelihood_criterion.ipynb \
	notebooks/02_tiny_examples_and_backprop.ipynb notebooks/03_gd_momentum_newton.ipynb

.PHONY: lab test test-quick outputs data lint bench lock

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

## Open JupyterLab on the start notebook (LAB_ARGS="--no-browser --port 8899" to customise).
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(LAB_ARGS)

## Every test: ruff, unit tests, nbval on every notebook, the browser test.
test: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/ruff check .
	$(THREADS) $(BIN)/python -m pytest $(XDIST) tests $(sort $(wildcard notebooks/*.ipynb)) $(NBVAL) \
		$(PYTEST_ARGS)

## Under 3 minutes: unit tests and the fast notebooks, no browser.
test-quick: $(STAMP)
	$(BIN)/ruff check .
	$(THREADS) $(BIN)/python -m pytest $(XDIST) -m "not browser and not slow" tests $(QUICK_NOTEBOOKS) \
		$(NBVAL) $(PYTEST_ARGS)

## Re-execute every notebook in order and store its outputs (NOTEBOOKS=... for some).
outputs: $(STAMP)
	$(THREADS) $(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)

## Download and verify MNIST into the cache (what Binder's postBuild runs).
data: $(STAMP)
	$(BIN)/python -m lecture_utils fetch-data

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

## Re-pin requirements.txt from what .venv holds.
lock: $(STAMP)
	scripts/lock
