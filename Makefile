# The two commands: `make demo` and `make test`. Each creates .venv itself (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medletter-installed
# The CPU build of PyTorch that lies on this machine's disk; installed before anything can pull a CUDA build.
TORCH_CPU := torch==2.13.0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all env sysdeps deid-model demo test test-slow bench clean

all: test

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_CPU)
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

# Chromium, Pango, fonts and PostgreSQL for the tests (apt-get when root; otherwise it says what to install)
sysdeps:
	@bash tools/system-deps.sh

# The learned PHI tagger, built once into ~/.cache/medletter (about 1.5 minutes; offline)
deid-model: $(STAMP)
	$(VENV)/bin/medletter deid train-model --if-missing

demo: $(STAMP) deid-model
	$(VENV)/bin/medletter demo

test: $(STAMP) sysdeps deid-model
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) runs .pytest_cache
