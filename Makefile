# Set-up commands of the README. Each target creates / updates .venv itself and is idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.ililab-installed
DEV_STAMP := $(VENV)/.ililab-dev-installed
TORCH_STAMP := $(VENV)/.ililab-torch-installed
# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
PLUGIN_DIRS := $(wildcard plugins/*/pyproject.toml)

export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: install dev demo test lint bench clean browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

install: $(STAMP)

$(DEV_STAMP): pyproject.toml $(PLUGIN_DIRS) | $(PY)
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[dev]"
	for d in $(dir $(PLUGIN_DIRS)); do $(PIP) install --quiet -e "$$d[dev]" || $(PIP) install --quiet -e "$$d" || exit 1; done
	touch $(STAMP) $@

dev: $(DEV_STAMP)

demo: $(STAMP)
	mkdir -p demo
	$(VENV)/bin/ililab simulate soft-labels --classes 10 --samples 20000 --seed 0 -o demo
	$(VENV)/bin/ililab infer-graph demo/soft_labels.npy --names demo/names.txt --seed 0 -o demo/graph.json
	$(VENV)/bin/ililab show demo/graph.json
	$(VENV)/bin/ililab compare demo/graph.json demo/true_graph.json

# The report's browser tests drive Debian's chromium: install it when missing and we are root (as in CI);
# otherwise say that those tests will skip. A failed install fails the target.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium with apt-get (browser tests of ililab report)"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: no chromium and not root: the browser tests of ililab report will skip"; \
	  fi; }

# Doctests run with --import-mode=prepend: under pyproject's importlib mode a doctest run of one file
# (pytest --doctest-modules ililab/errors.py) loads a second copy of that module, whose classes differ
# from those the rest of ililab raises; prepend gives the whole run and single files the same modules.
test: $(DEV_STAMP) browser
	$(PY) -m ruff check ililab tests benchmarks examples plugins
	$(PY) -m pytest -q
	$(PY) -m pytest -q --doctest-modules --import-mode=prepend ililab

lint: $(DEV_STAMP)
	$(PY) -m ruff check ililab tests benchmarks examples plugins

clean:
	rm -rf $(VENV) demo build *.egg-info
