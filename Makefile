# Two commands set everything up on a fresh clone: `make demo` and `make test`.
# pip runs with -qq: errors still show, the build backend's and this machine's notices do not.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED_MNIST := $(abspath ../shared/data/mnist)
# real MNIST from the shared folder when it is there (tests that need it skip otherwise)
export SCRATCHGRAD_DATA ?= $(if $(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),$(SHARED_MNIST))
# one BLAS thread for tests and benchmarks: on 2 cores, BLAS threads fighting with the test
# runner or the other contender make timings swing 5-10x
PINNED := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: demo test bench book clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test,plots]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scratchgrad demo

test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(PINNED) HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest

# every ch. 4-6 script and notebook; figures and out/book/index.html (full MNIST training: minutes)
book: $(STAMP)
	$(PINNED) $(BIN)/python examples/book/build.py

bench: $(STAMP)
	$(PINNED) $(BIN)/python bench/scalar.py
	$(PINNED) $(BIN)/python bench/twolayer.py
	$(PINNED) $(BIN)/python bench/trace.py

clean:
	rm -rf $(VENV) build *.egg-info out
