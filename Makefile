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
	$(BIN)/pip install -q -e '.[dev,scale,korean,embed]'
	touch $(STAMP)

install: $(STAMP)

# the peers the benchmarks measure against (datasketch, rensa): the bench extra, not a dependency
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,scale,korean,embed,bench]'
	touch $(BENCH_STAMP)

demo: install
	$(BIN)/winnow demo

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/heuristics_vs_datatrove.py
	$(BIN)/python benchmarks/memory_2gb.py
	$(BIN)/python benchmarks/minhash_vs_datasketch.py
	$(BIN)/python benchmarks/korean_recipes.py
	$(BIN)/python benchmarks/korean_vs_datatrove.py
	$(BIN)/python benchmarks/korean_comments.py
	$(BIN)/python benchmarks/korean_toxicity.py
	cd benchmarks && ../$(BIN)/python minhash_1m.py
	PYTHONPATH=. $(BIN)/python benchmarks/dashboard_browse.py
	cd benchmarks && ../$(BIN)/python scale_out.py
