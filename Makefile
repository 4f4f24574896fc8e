# The project's commands. `make lab` and `make test` each work alone on a fresh clone:
# they create .venv if missing and install the pinned requirements (quick when installed).
#   make lab    torch (CPU build on Linux) + the student lock, requirements/student.txt
#   make test   the same + the developer lock, requirements/dev.txt; also builds .venv-student
#               from the student lock alone, the environment tests/project/test_student_env.py runs in
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STUDENT_LOCK := requirements/student.txt
DEV_LOCK := requirements/dev.txt
# The pure-Python wheels the browser edition serves (requirements/browser.txt, with hashes;
# downloaded into build/browser-wheels by make site and make test).
BROWSER_LOCK := requirements/browser.txt
BROWSER_WHEELS := build/browser-wheels/.downloaded
STUDENT_VENV := .venv-student
# torch is pinned once, in the student lock; its torch-only install step comes first.
TORCH_VERSION := $(shell sed -n 's/^torch==//p' $(STUDENT_LOCK))
# PyTorch's CPU-only wheel index on Linux (PyPI's Linux wheel pulls the CUDA libraries);
# TORCH_INDEX= (empty) takes PyPI's wheel, as macOS always does.
ifeq ($(shell uname -s),Linux)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
else
TORCH_INDEX ?=
endif
# A 20 s timeout and two retries: where the index is unreachable pip falls back to its other
# sources after seconds, not after pip's default 5 retries, each of which may wait the whole
# timeout (PIP_DEFAULT_TIMEOUT) on a network that drops packets.
PIP := -m pip install --quiet --disable-pip-version-check
PIP_TORCH := $(PIP) --timeout 20 --retries 2 --no-deps $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
# Which torch build the step installed (the CI log shows +cpu).
SHOW_TORCH := -c 'import importlib.metadata as m; print("installed torch", m.version("torch"))'
# Notebooks get their threads from setup() (lecture_utils/course/threads.py: one thread for numpy's
# BLAS and torch, the fastest on the lecture's small products, idle or beside a busy program), so
# stored outputs are made as a student's kernel runs, and their float32 sums do not depend on
# the machine's cores. The unit tests do not call setup(): THREADS keeps each of the two pytest workers on one
# thread, so they share the two cores without oversubscription (setup() obeys it too: 1 thread).
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# Two pytest workers; each notebook (its cells depend on each other) stays on one worker.
WORKERS ?= 2
XDIST := -n $(WORKERS) --dist loadfile
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600
QUICK_NOTEBOOKS := notebooks/00_start_here.ipynb notebooks/01_likelihood_criterion.ipynb \
	notebooks/02_tiny_examples_and_backprop.ipynb notebooks/03_gd_momentum_newton.ipynb

.PHONY: lab test test-quick outputs data lint bench lock FORCE

# The Python a venv is made with: supported (requires-python of pyproject.toml, read here), and
# the one that made an existing venv, else that venv is rebuilt. Checked before any venv is made.
PYTHON_MIN := $(shell sed -n 's/^requires-python = ">=\(.*\)"/\1/p' pyproject.toml)
PYTHON_FOUND := $(shell $(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
PYTHON_MINOR := $(basename $(PYTHON_FOUND))
venv_python = $(shell $(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV_PYTHON := $(call venv_python,$(VENV))
STUDENT_VENV_PYTHON := $(call venv_python,$(STUDENT_VENV))
# A venv missing, broken or made by another Python is (re)built: its stamp depends on FORCE.
rebuild = $(if $(filter $(PYTHON_MINOR),$(1)),,FORCE)
ifneq ($(call rebuild,$(VENV_PYTHON))$(call rebuild,$(STUDENT_VENV_PYTHON)),)
ifeq ($(PYTHON_FOUND),)
$(error $(PYTHON) not found: the project needs Python $(PYTHON_MIN) or newer (make PYTHON=python3.12 ...))
endif
ifneq ($(firstword $(shell printf '%s\n' $(PYTHON_MIN) $(PYTHON_FOUND) | sort -V)),$(PYTHON_MIN))
$(error $(PYTHON) is Python $(PYTHON_FOUND); the project needs Python $(PYTHON_MIN) or newer (make PYTHON=python3.12 ...))
endif
endif

# $(call make_venv,FOLDER,ITS_PYTHON): create FOLDER with $(PYTHON), first removing one made by
# another Python (or broken).
define make_venv
	@if [ -e $(1) ] && [ "$(2)" != "$(PYTHON_MINOR)" ]; then \
		echo "$(1) was made by Python $(or $(2),(broken)), not $(PYTHON_MINOR): rebuilding it"; \
		rm -rf $(1); fi
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
endef

# torch alone from TORCH_INDEX, then the student lock, then lecture_utils itself (editable).
define install_student
	$(1)/bin/python $(PIP_TORCH) torch==$(TORCH_VERSION)
	@$(1)/bin/python $(SHOW_TORCH)
	$(1)/bin/python $(PIP) -r $(STUDENT_LOCK)
	$(1)/bin/python $(PIP) --no-deps --no-build-isolation -e .
endef

$(VENV)/.student: $(STUDENT_LOCK) pyproject.toml $(call rebuild,$(VENV_PYTHON))
	$(call make_venv,$(VENV),$(VENV_PYTHON))
	$(call install_student,$(VENV))
	touch $@

$(STAMP): $(VENV)/.student $(DEV_LOCK)
	$(BIN)/python $(PIP) -r $(DEV_LOCK)
	touch $@

# The student environment of tests/project/test_student_env.py: the student lock alone, no test tools.
$(STUDENT_VENV)/.installed: $(STUDENT_LOCK) pyproject.toml $(call rebuild,$(STUDENT_VENV_PYTHON))
	$(call make_venv,$(STUDENT_VENV),$(STUDENT_VENV_PYTHON))
	$(call install_student,$(STUDENT_VENV))
	touch $@

$(BROWSER_WHEELS): $(BROWSER_LOCK) $(STAMP)
	rm -rf $(@D) && mkdir -p $(@D)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps \
		--only-binary=:all: --require-hashes -r $(BROWSER_LOCK) -d $(@D)
	touch $@

## Open JupyterLab on the start notebook of the student edition (LAB_ARGS="--no-browser --port 8899"
## to customise; LAB_NOTEBOOK=notebooks/00_start_here.ipynb for the complete edition).
LAB_NOTEBOOK ?= $(firstword $(wildcard notebooks/student/00_start_here.ipynb) notebooks/00_start_here.ipynb)
lab: $(VENV)/.student
	$(BIN)/jupyter lab $(LAB_NOTEBOOK) $(LAB_ARGS)

## Every test: ruff, unit tests, nbval on every notebook, the browser test.
## The browser edition: make test runs notebooks 00-03 in Pyodide (the ones it is the first
## choice for) and all eight in Python where import torch fails; all eight in Pyodide take about
## 25 minutes: make test-browser-edition (CI runs 04-07 there after make test).
LITE_NOTEBOOKS ?= 00 01 02 03
test: $(STAMP) $(STUDENT_VENV)/.installed $(BROWSER_WHEELS)
	scripts/ensure-chromium
	$(BIN)/ruff check .
	LITE_NOTEBOOKS="$(LITE_NOTEBOOKS)" $(THREADS) $(BIN)/python -m pytest $(XDIST) tests \
		$(sort $(wildcard notebooks/*.ipynb)) $(NBVAL) $(PYTEST_ARGS)

## Every notebook of the browser edition run in Pyodide in headless Chromium
## (EDITION_NOTEBOOKS="04 05" for some).
EDITION_NOTEBOOKS ?=
.PHONY: test-browser-edition
test-browser-edition: $(STAMP) $(BROWSER_WHEELS)
	scripts/ensure-chromium
	LITE_NOTEBOOKS="$(EDITION_NOTEBOOKS)" $(THREADS) $(BIN)/python -m pytest tests/project/test_lite.py $(PYTEST_ARGS)

## Under 3 minutes: unit tests and the fast notebooks, no browser.
test-quick: $(STAMP)
	$(BIN)/ruff check .
	$(THREADS) $(BIN)/python -m pytest $(XDIST) -m "not browser and not slow and not registry" tests $(QUICK_NOTEBOOKS) \
		$(NBVAL) $(PYTEST_ARGS)

## Re-execute every notebook in order and store its outputs (NOTEBOOKS=... for some).
outputs: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)
	$(MAKE) student

## Download and verify MNIST into the cache (what Binder's postBuild runs).
data: $(STAMP)
	$(BIN)/python -m lecture_utils fetch-data

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

## Re-pin both locks from pyproject.toml's ranges (UPGRADE=1: newest versions; needs PyPI).
lock: $(STAMP)
	$(BIN)/python scripts/lock

## Write the student edition notebooks/student/ (solutions stubbed, outputs cleared) and
## nbgrader's cell metadata into the complete edition.
.PHONY: student
student: $(STAMP)
	$(BIN)/python -m lecture_utils.course.editions

## Build the static website of the notebooks into build/site/html (site/build_site.py), with
## the browser edition (JupyterLite, Pyodide from PYODIDE_DIR, default ../shared/pyodide/0.27.7)
## in lite/. PYODIDE_URL=https://cdn.jsdelivr.net/pyodide/v0.27.7/full/pyodide.js LITE_URL=<where
## lite/ is published> takes Pyodide from its public copy instead. MNIST: LECTURE_MNIST_DIR.
.PHONY: site
site: $(STAMP) $(BROWSER_WHEELS)
	$(BIN)/python site/build_site.py --lite

## Prove that stored outputs are reproducible: execute each notebook twice (nothing written)
## and list changed lines outside `# NBVAL_IGNORE_OUTPUT` cells (NOTEBOOKS=... for some).
.PHONY: outputs-stable
outputs-stable: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py --check-stable $(NOTEBOOKS)
