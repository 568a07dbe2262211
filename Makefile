# Two commands: `make demo` and `make test`. Each creates .venv if needed and
# installs what it needs, so both work on a fresh machine with only Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test bench bench-quick lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[demo]'
	touch $@

# torch is pinned exactly (torch==2.13.0) in the test extra: that takes the
# small CPU wheel; a range would pull a CUDA build of several GB.
# timm's scheduler modules are the reference for compat.timm; `import timm`
# needs torchvision, whose registry builds are CUDA builds, so timm comes
# without its dependencies and the tests load only timm/scheduler/*.py.
$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test,docs]'
	$(PIP) --no-deps timm==1.0.31
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/python -m optax_scheds.demo

# Two workers (the machine's cores); each test file stays on one worker, so a
# module's fixtures (the docs site build) run once.
test: $(VENV)/.test-installed
	KERAS_BACKEND=jax $(BIN)/python -m pytest -n auto --dist loadfile

# The whole benchmark suite (several minutes): tables on stdout, JSON and
# PNGs under benchmarks/results/. bench-quick is the smoke run that
# tests/test_benchmarks.py also runs inside `make test`.
bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench.py

bench-quick: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench.py --quick

lint: $(VENV)/.test-installed
	$(BIN)/ruff check optax_scheds tests benchmarks docs conftest.py

# Regenerates the figures and the schedule catalogue (docs/schedules.md), then
# builds the site into site/ (mkdocs.yml); --strict turns every warning into an
# error. tests/test_docs_site.py runs the same build inside `make test`.
docs: $(VENV)/.test-installed
	$(BIN)/python docs/plots.py
	$(BIN)/python docs/catalogue.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

clean:
	rm -rf $(VENV) demo_out .pytest_cache .hypothesis
