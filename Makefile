# The two commands a learner needs:  make lab  (JupyterLab on my-notebooks/, your copy of notebooks/)
#                                    make test (all tests, notebooks included)
# Both create .venv with Python 3.11 and install into it the first time only.
# make test-fast: the unit tests only, for the edit-test loop.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Extra arguments for jupyter lab, e.g. make lab LAB_ARGS='--no-browser --port 8899'
LAB_ARGS ?=
# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-k data'
PYTEST_ARGS ?=
# Matplotlib's configuration and font cache inside the project: a stale
# ~/.cache/matplotlib must not change what the notebooks and the tests print.
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib

.PHONY: lab reset-notebooks test test-fast data subset store-outputs benchmark clean

# Serves my-notebooks/, made from notebooks/ on the first run and never
# overwritten; only one server per checkout (tools/lab.py).
lab: $(STAMP)
	$(BIN)/python tools/lab.py $(LAB_ARGS)

# The original notebooks again; yours move to my-notebooks-backups/<time>/.
# One notebook only: make reset-notebooks NB=01_googlenet.ipynb
reset-notebooks: $(STAMP)
	$(BIN)/python tools/lab.py --reset-notebooks $(if $(filter command line,$(origin NB)),$(NB))

# Notebooks run under the smoke training setting (a few batches) and offline:
# nbval compares their stored outputs, which never include training numbers.
# The tests always use notebooks/, never your my-notebooks/.
test: $(STAMP)
	D2L_MODE=smoke D2L_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS) \
	    --nbval --nbval-current-env --nbval-cell-timeout=600 \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks

# The unit tests only: no notebooks, no browser, no benchmark runs.
test-fast: $(STAMP)
	D2L_MODE=smoke D2L_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS) tests \
	    --ignore=tests/browser --ignore=tests/test_benchmarks.py

# The full Fashion-MNIST set: found on this machine, or downloaded to data/fashion-mnist.
data: $(STAMP)
	$(BIN)/python -c 'import sys; from d2lhelpers.datafiles import main; sys.exit(main())'

# Rebuild the embedded 6,000/1,000-image subset from the full set.
subset: $(STAMP)
	$(BIN)/python data/make_subset.py

# Re-execute notebooks and store their outputs the way nbval sees them, under
# the quick setting a CPU learner gets, with full plans (never shrunk, even
# on a busy machine): make store-outputs NB=notebooks/01_googlenet.ipynb
NB ?= notebooks/*.ipynb
store-outputs: $(STAMP)
	D2L_MODE=quick D2L_FULL_PLAN=1 $(BIN)/python tools/store_outputs.py $(NB)

# Speed against the d2lzh loop and PyTorch (benchmarks/README.md). PyTorch goes
# into its own environment, .venv-bench, never into the project's.
BENCH       := .venv-bench
BENCH_STAMP := $(BENCH)/.installed
BENCH_ARGS  ?= --write
benchmark: $(BENCH_STAMP)
	$(BENCH)/bin/python benchmarks/speed.py $(BENCH_ARGS)

$(BENCH_STAMP): pyproject.toml $(STAMP)
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH)/bin/python -m pip install --quiet -e . torch==2.13.0
	touch $(BENCH_STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "make: '$(PYTHON)' was not found. This project needs Python 3.11 (mxnet 1.9.1 has no wheels for newer Pythons). Install Python 3.11, or use conda: 'conda env create -f environment.yml', 'conda activate d2l-modern-cnns', then 'make $(or $(MAKECMDGOALS),lab) PYTHON=python'."; \
	  exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "make: '$(PYTHON)' is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'), but this project needs Python 3.11 (mxnet 1.9.1 has no wheels for newer Pythons). Point PYTHON at a 3.11 interpreter, or use conda: 'conda env create -f environment.yml', 'conda activate d2l-modern-cnns', then 'make $(or $(MAKECMDGOALS),lab) PYTHON=python'."; \
	  exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Keeps my-notebooks/ and its backups: they are the learner's work.
clean:
	rm -rf $(VENV) $(BENCH) .pytest_cache test-artifacts .cache
