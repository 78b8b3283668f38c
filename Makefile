# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1

.PHONY: install demo test lint bench format

# torch is pinned to the CPU wheel here; a GPU user installs the CUDA build of the same
# version first (pip install torch==2.13.0 --index-url <the CUDA index>), which satisfies the pin.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,scale]'
	touch $(STAMP)

install: $(STAMP)

# the peers the benchmarks measure against (datasketch, rensa): the bench extra, not a dependency
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,scale,bench]'
	touch $(BENCH_STAMP)

demo: install
	$(BIN)/winnow demo

# The Ray tests run in a pytest process of their own: after the rest of the suite in one
# process, pytest exited 1 with no summary as the `ray start` cluster test began (seen twice
# under CI, never with tests/curate/test_ray.py alone); the cause is not found yet.
test: install
	$(BIN)/pytest -q --ignore=tests/curate/test_ray.py
	$(BIN)/pytest -q tests/curate/test_ray.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/heuristics_vs_datatrove.py
	$(BIN)/python benchmarks/memory_2gb.py
	$(BIN)/python benchmarks/minhash_vs_datasketch.py
	$(BIN)/python benchmarks/korean_recipes.py
	cd benchmarks && ../$(BIN)/python minhash_1m.py
	PYTHONPATH=. $(BIN)/python benchmarks/dashboard_browse.py
	cd benchmarks && ../$(BIN)/python scale_out.py
