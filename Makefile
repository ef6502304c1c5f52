# Two commands: `make demo` (the main job) and `make test` (lint, types, tests).
# Both build .venv with the package and the extras they need, and Graphviz's `dot`
# when it is missing and apt-get can install it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit conformance browser chromium bench dot clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

dot:
	@sh scripts/ensure_dot.sh

demo: $(STAMP) dot
	$(VENV)/bin/tinygrad-edu demo

test: $(STAMP) dot lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check tinygrad_edu viz tests examples benchmarks scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy tinygrad_edu viz

unit: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 tests

# The PyTorch promise: tests/conformance/ with PyTorch 2.13 (CPU) as the oracle. pip takes
# torch==2.13.0 from this machine's wheel directory (PIP_FIND_LINKS); never another version.
TORCH_STAMP := $(VENV)/.installed-torch

$(TORCH_STAMP): $(STAMP)
	@$(PY) -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
	  || $(PY) -m pip install --quiet torch==2.13.0 \
	  || { echo "make conformance: could not install torch==2.13.0 into $(VENV)"; exit 1; }
	@touch $(TORCH_STAMP)

conformance: $(TORCH_STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 tests/conformance

# The step-through page (viz.backprop_steps) in a real browser: Debian's Chromium driven by
# Playwright from PyPI (its driver only: the browser is the Debian package, never a download).
PLAYWRIGHT_STAMP := $(VENV)/.installed-playwright

$(PLAYWRIGHT_STAMP): $(STAMP)
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet playwright \
	  || { echo "make browser: could not install playwright into $(VENV)"; exit 1; }
	@touch $(PLAYWRIGHT_STAMP)

chromium:
	@sh scripts/ensure_chromium.sh

browser: $(PLAYWRIGHT_STAMP) chromium dot
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests/browser

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
