# Everything a fresh clone needs: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-compiled lint typecheck bench bench-dask docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project metadata changes; the package itself is editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The viz extra (matplotlib) too: `srcgrad graph ... -o f.png` draws PNG pictures.
demo: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[viz]'
	$(BIN)/python examples/lecture.py

# pytest runs in JOBS worker processes (pytest-xdist): one per core, at most 4. CI has
# 2 cores, so 2 there. Not `-n auto`, which takes every logical CPU of the host (more
# than a container or a shared runner may get): each worker pays the suite's fixed
# costs again (imports, the generated modules of test_rules, test_runtime and
# test_names), and the longest single tests (the fuzzer's three shards) bound what more
# workers can gain, so the cap keeps that overhead small (measured at 2 workers only).
# `make test JOBS=1` runs everything in one process (plain pytest, no xdist).
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
ifeq ($(JOBS),1)
PYTEST_JOBS :=
else
PYTEST_JOBS := -n $(JOBS)
endif

# The tests of backend="numba" need numba (the `numba` extra); without it they skip.
NUMBA_STAMP := $(VENV)/.installed-numba
$(NUMBA_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,numba]'
	touch $(NUMBA_STAMP)

# The tests of Dask arrays need dask and distributed (the `dask` extra): `make test` installs
# both extras; without them those tests skip too.
TEST_STAMP := $(VENV)/.installed-test
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,numba,dask]'
	touch $(TEST_STAMP)

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy srcgrad
	$(BIN)/python -m pytest -q $(PYTEST_JOBS)

# Not part of `make test` (about 6 minutes on 2 cores): the whole rule spec table and random
# programs against the numba backend, compiled as users get it (LLVM's optimizer on).
test-compiled: $(NUMBA_STAMP)
	NUMBA_OPT=3 $(BIN)/python -m pytest -q $(PYTEST_JOBS) -m slow tests/test_compiled_sweeps.py \
		tests/test_compiled_overloads.py tests/test_compiled.py

# The benchmark's peers (autograd, JAX, PyTorch CPU) and matplotlib: the `bench` extra.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Dask against NumPy, and peak memory on data larger than a worker (a cluster and 3.2 GB
# of rows, about 20 s); writes bench/results-dask.md. Also the last part of `make bench`.
DASK_STAMP := $(VENV)/.installed-dask
$(DASK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(DASK_STAMP)

bench-dask: $(DASK_STAMP)
	$(BIN)/python bench/dask_bench.py

# Not part of `make test`: prints the tables; writes bench/results.md, bench/results.png,
# bench/checkpointing.md (memory and time of checkpointed loops) and bench/results-dask.md.
bench: $(BENCH_STAMP) $(DASK_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/checkpointing.py
	$(BIN)/python bench/dask_bench.py

# The API reference, generated from the docstrings by pdoc (in the dev extra); gitignored.
docs: $(STAMP)
	$(BIN)/pdoc srcgrad -o docs/api

# mypy, configured in pyproject.toml ([tool.mypy]): strict on the IR and the rule tables.
typecheck: $(STAMP)
	$(BIN)/mypy srcgrad

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy srcgrad

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache .mypy_cache
