# Two commands set everything up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED_MNIST := $(abspath ../shared/data/mnist)
# real MNIST from the shared folder when it is there (tests that need it skip otherwise)
export SCRATCHGRAD_DATA ?= $(if $(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),$(SHARED_MNIST))

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,plots]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scratchgrad demo

test: $(STAMP)
	$(BIN)/python -m ruff check .
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/scalar.py
	$(BIN)/python bench/twolayer.py

clean:
	rm -rf $(VENV) build *.egg-info out
