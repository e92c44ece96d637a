# distillguard: the two commands a new user needs are `make demo` and `make test`.
# Every target installs missing Debian packages first (scripts/deps.sh).
.PHONY: all deps build demo screenshots test test-release test-asan test-tsan fuzz-smoke fuzz eval eval-peer eval-stress train bench bench-serve bench-soak bench-evict bench-tokenize tokenize-reference format tidy clean

JOBS ?= $(shell nproc)
BIN := build/release/distillguard
SHARED ?= $(abspath ../shared)
FUZZ_SECONDS ?= 30

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Generate a labelled day of traffic with the built-in prompt generator, scan it, show the verdicts.
demo: build
	@mkdir -p out/demo
	@$(BIN) simulate --scenario scenarios/demo.toml --out out/demo --seed 7
	@$(BIN) scan out/demo/events.jsonl --accounts out/demo/accounts.jsonl --report out/demo/report.json --threads 2
	@echo "report: out/demo/report.json   labels: out/demo/labels.json"

# PNGs of the analyst UI (queue and top case) for the README: a live serve loaded with the demo
# scenario, driven by chromium (tests/integration/ui_browser.sh screenshots).
screenshots: build
	@bash tests/integration/ui_browser.sh $(BIN) screenshots docs/img

test: deps test-release test-asan test-tsan fuzz-smoke
	@echo "make test: all suites passed"

test-release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@ctest --preset release

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ctest --preset asan

# ThreadSanitizer over the service tests and the multi-threaded scan test (the tsan test preset's
# filter); builds only those two test binaries.
test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)
	@ctest --preset tsan

# Every fuzz target (fuzz/*_fuzz.cc) for FUZZ_SECONDS over its seed corpus (fuzz/corpus/NAME) and
# a working corpus (build/fuzz/corpus-NAME). `fuzz-smoke` is the short run in `make test`;
# `make fuzz` the long one (default an hour per target; not in CI): FUZZ_SECONDS=600 make fuzz.
# A crash stops the loop and leaves its input as build/fuzz/crash-* (add it to fuzz/corpus/NAME).
# The smoke run uses a fixed libFuzzer seed (FUZZ_SEED) so a CI failure can be replayed; the long
# run a random one, to explore.
FUZZ_SEED ?= 1
define run_fuzzers
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@set -e; ls build/fuzz/*_fuzz >/dev/null; for f in build/fuzz/*_fuzz; do \
	  name=$$(basename $$f _fuzz); mkdir -p build/fuzz/corpus-$$name; \
	  echo "fuzz: $$name for $(1)s"; \
	  $$f -max_total_time=$(1) $(2) -print_final_stats=1 -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus-$$name fuzz/corpus/$$name 2>build/fuzz/$$name.log \
	    || { tail -50 build/fuzz/$$name.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units" build/fuzz/$$name.log || true; \
	done
endef

fuzz-smoke: deps
	$(call run_fuzzers,$(FUZZ_SECONDS),-seed=$(FUZZ_SEED))

FUZZ_LONG_SECONDS = $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),3600)
fuzz: deps
	$(call run_fuzzers,$(FUZZ_LONG_SECONDS))

# The standard scenario on the shared real-prompt corpora: simulate, scan, evaluate; writes the
# results table the README shows (docs/RESULTS.md).
STD_SEED ?= 1
CORPORA ?= $(SHARED)/data/corpora
eval: build
	@test -d $(CORPORA) || { echo "eval needs the shared corpora at $(CORPORA)"; exit 1; }
	@mkdir -p out/standard
	@$(BIN) simulate --scenario scenarios/standard.toml --out out/standard --seed $(STD_SEED) --corpora $(CORPORA)
	@$(BIN) scan out/standard/events.jsonl --accounts out/standard/accounts.jsonl --report out/standard/report.json --threads 2 -q
	@$(BIN) eval --report out/standard/report.json --labels out/standard/labels.json --events out/standard/events.jsonl \
	  --out out/standard/eval.json --markdown docs/RESULTS.md
	@echo "results: docs/RESULTS.md"

# The peer set (../shared/data/peer/glasswally): traffic from another project's generator, never
# used to fit or tune; writes docs/RESULTS-peer.md.
PEER ?= $(SHARED)/data/peer/glasswally
eval-peer: build
	@test -d $(PEER) || { echo "eval-peer needs the peer set at $(PEER)"; exit 1; }
	@mkdir -p out/peer
	@$(BIN) scan $(PEER)/events.jsonl --report out/peer/report.json --threads 2 -q
	@$(BIN) eval --report out/peer/report.json --labels $(PEER)/labels.json --events $(PEER)/events.jsonl \
	  --out out/peer/eval.json --markdown docs/RESULTS-peer.md
	@echo "results: docs/RESULTS-peer.md"

# The stress family (scenarios/stress.toml: a different randomised world per seed, hard negatives,
# attacks the standard scenario lacks) on the shared corpora: simulate, scan and evaluate each seed
# of STRESS_SEEDS, printing the table per seed; outputs in out/stress/SEED/. Reads, never writes,
# docs/RESULTS-stress.md (one section per seed); never the model.
STRESS_SEEDS ?= 1 2 3 4 5 6
eval-stress: build
	@test -d $(CORPORA) || { echo "eval-stress needs the shared corpora at $(CORPORA)"; exit 1; }
	@set -e; mkdir -p out; printf '# Stress family results (`make eval-stress`)\n\nThe shipped model was fitted on the standard scenario (seed 1001): these worlds are out of family.\n' > out/RESULTS-stress.md; \
	for s in $(STRESS_SEEDS); do \
	  d=out/stress/$$s; mkdir -p $$d; echo "== stress seed $$s"; \
	  $(BIN) simulate --scenario scenarios/stress.toml --out $$d --seed $$s --corpora $(CORPORA); \
	  $(BIN) scan $$d/events.jsonl --accounts $$d/accounts.jsonl --report $$d/report.json --threads 2 -q; \
	  $(BIN) eval --report $$d/report.json --labels $$d/labels.json --events $$d/events.jsonl \
	    --out $$d/eval.json --markdown $$d/eval.md; \
	  printf '\n## Seed %s\n\n' $$s >> out/RESULTS-stress.md; cat $$d/eval.md >> out/RESULTS-stress.md; \
	done; cp out/RESULTS-stress.md docs/RESULTS-stress.md; echo "results: docs/RESULTS-stress.md"

# Refit the shipped scoring model (models/default.toml) on the standard scenario with a training
# seed different from the evaluation seed; deterministic.
TRAIN_SEED ?= 1001
train: build
	@test -d $(CORPORA) || { echo "train needs the shared corpora at $(CORPORA)"; exit 1; }
	@mkdir -p out/train
	@$(BIN) simulate --scenario scenarios/standard.toml --out out/train --seed $(TRAIN_SEED) --corpora $(CORPORA)
	@$(BIN) train --events out/train/events.jsonl --accounts out/train/accounts.jsonl --labels out/train/labels.json \
	  --out models/default.toml --version-name "fit-standard-seed$(TRAIN_SEED)" --max-benign-fpr 0
	@cmake --build --preset release -j $(JOBS) >/dev/null

# Decision latency of `serve` under load from wrk on loopback (not part of make test).
# Throughput against the parse limit and DuckDB, memory per account, micro-benchmarks (issue 7;
# ~6 minutes plus building the bench preset, ~10 GB of scratch disk). Rewrites the tables in
# README.md and docs/BENCHMARKS.md.
bench: build
	@scripts/deps.sh --with-bench
	@bash bench/run.sh

bench-serve: build
	@scripts/deps.sh --with-bench
	@bash bench/serve_latency.sh $(BIN)

# Soak: `serve` for SOAK_SECONDS (default 600) at 10,000 decisions/s with event ingest and
# eviction on; a table of p50/p99 decision latency, errors and RSS per minute (bench/soak.sh).
# SOAK_SECONDS=60 make bench-soak for a short run.
bench-soak: build
	@bash bench/soak.sh $(BIN)

# Eviction: RSS of scan with and without --evict-idle on churning populations of 1x and 4x the
# accounts with the same active set (bench/evict_memory.sh); reports compared byte for byte.
bench-evict: build
	@bash bench/evict_memory.sh $(BIN)

# Tokenizer encoding throughput against js-tiktoken / @lenml/tokenizers on every corpus prompt
# (a Markdown table; docs/PROVE.md quotes it). Not part of make test.
bench-tokenize: build
	@node bench/tokenize_bench.mjs $(BIN)

# The C++ tokenizers id for id against the JS references on every prompt of the shared corpora
# (ctest's tokenize.reference checks every 10th; this is the full set, ~5 minutes).
tokenize-reference: build
	@test -d $(CORPORA) || { echo "tokenize-reference needs the shared corpora at $(CORPORA)"; exit 1; }
	@DG_SHARED_DIR=$(SHARED) node tests/tokenize/reference.mjs $(BIN) --every 1

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc')

tidy: build
	@clang-tidy -p build/release $$(git ls-files 'src/*.cc') --quiet

clean:
	rm -rf build out
