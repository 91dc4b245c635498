#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/Package.swift (one per reader of untrusted input) with AddressSanitizer
# (LeakSanitizer included; Fuzz/lsan.supp lists the measured leaks outside Lathe's code it ignores) and runs each
# for ${FUZZ_SECONDS:-60} seconds, seeded from the test fixtures and Fuzz/seeds.sh, with its dictionary
# Fuzz/dict/<target>.dict. Each run is bounded by -rss_limit_mb and -timeout,
# so unbounded allocation and super-linear time are findings, not waits.
# Corpora are kept between runs in .build-fuzz/corpus/<target> (git-ignored); findings (crash-, leak-, timeout-,
# oom-, slow-unit- files) go to .build-fuzz/findings/<target>/; one line per target is appended to
# ${FUZZ_SUMMARY:-.build-fuzz/summary.txt}: executions, coverage (cov:, ft: of libFuzzer's final line), findings.
# Exit status 1 when any target found something.
#
# Usage: Fuzz/run.sh [target...]            targets: see `all_targets` (default: all)
#        FUZZ_MODE=thread Fuzz/run.sh       ThreadSanitizer over the parallel cleaning and tokenizing paths,
#                                           fed with the jsonl and csv corpora (TSan and libFuzzer do not combine)
# Environment: FUZZ_SECONDS (60), FUZZ_RSS_MB (2048), FUZZ_TIMEOUT (seconds per input, 10), FUZZ_SUMMARY,
#              FUZZ_BUILD=0 (run the binaries already built), FUZZ_BUILD=only (build them, run nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-60}
rss_mb=${FUZZ_RSS_MB:-2048}
per_input=${FUZZ_TIMEOUT:-10}
out=$root/.build-fuzz
summary=${FUZZ_SUMMARY:-$out/summary.txt}
all_targets=(safetensors gguf json tokenizer-json gguf-tokenizer model-config chat-template recipe task-yaml task-data csv
             jsonl parquet peft-adapter checkpoint token-shard serve-request lineage)
build() {  # build PRODUCT SANITIZER...: one product of the fuzz package, with the given sanitizers
    local product=$1; shift
    local flags=()
    for s in "$@"; do flags+=(--sanitize="$s"); done
    # swiftc keeps only the last of several -sanitize= flags (SwiftPM passes one per --sanitize), which dropped the
    # fuzzer's coverage instrumentation whenever address came second; one combined flag, passed last, keeps both.
    flags+=(-Xswiftc "-sanitize=$(IFS=,; echo "$*")")
    local scratch=$out/spm
    [ "$1" = thread ] && scratch=$out/spm-thread
    # SwiftPM keeps the path dependency's (the main package's) file list from its last manifest load, so a source
    # file added since then was missing from the fuzz build ("cannot find WorkerPool"); touching both manifests makes
    # it reload them (seconds, not a rebuild).
    touch Package.swift Fuzz/Package.swift
    swift build --package-path Fuzz --scratch-path "$scratch" "${flags[@]}" --product "$product" \
        > "$out/build-$product.log" 2>&1 || { tail -40 "$out/build-$product.log" >&2; return 1; }
    echo "$scratch/debug/$product"
}
mkdir -p "$out"

if [ "${FUZZ_MODE:-}" = thread ]; then
    echo "== building ThreadCheck with ThreadSanitizer"
    binary=$(build ThreadCheck thread)
    for t in jsonl csv; do mkdir -p "$out/corpus/$t"; bash Fuzz/seeds.sh "$t" "$out/corpus/$t"; done
    rm -rf "$out/thread"
    echo "== ThreadCheck over $(ls "$out/corpus/jsonl" | wc -l) jsonl and $(ls "$out/corpus/csv" | wc -l) csv inputs"
    TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" "$binary" Tests/LatheTokenizersTests/Fixtures/tokenizers/bytelevel \
        "$out/thread" "$out/corpus/jsonl" "$out/corpus/csv"
    exit
fi

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
status=0
for target in "${targets[@]}"; do
    max_len=65536
    case $target in
        safetensors) product=FuzzSafetensors ;;
        gguf) product=FuzzGGUF ;;
        json) product=FuzzJSON ;;
        tokenizer-json) product=FuzzTokenizerJSON; max_len=262144 ;;
        gguf-tokenizer) product=FuzzGGUFTokenizer; max_len=131072 ;;
        chat-template) product=FuzzChatTemplate; max_len=16384 ;;
        recipe) product=FuzzRecipe; max_len=16384 ;;
        task-yaml) product=FuzzTaskYAML; max_len=16384 ;;
        task-data) product=FuzzTaskData ;;
        csv) product=FuzzCSV ;;
        jsonl) product=FuzzJSONL ;;
        parquet) product=FuzzParquet ;;
        model-config) product=FuzzModelConfig; max_len=131072 ;;
        peft-adapter) product=FuzzPEFTAdapter ;;
        checkpoint) product=FuzzCheckpoint ;;
        token-shard) product=FuzzTokenShard ;;
        serve-request) product=FuzzServeRequest; max_len=32768 ;;
        lineage) product=FuzzLineage ;;
        *) echo "unknown fuzz target '$target' (use: ${all_targets[*]})" >&2; exit 2 ;;
    esac
    if [ "${FUZZ_BUILD:-1}" = 0 ]; then
        binary=$out/spm/debug/$product
    else
        echo "== building $product"
        binary=$(build "$product" fuzzer address)
        [ "${FUZZ_BUILD:-1}" = only ] && continue
    fi
    corpus=$out/corpus/$target findings=$out/findings/$target log=$out/logs/$target.log
    mkdir -p "$corpus" "$findings" "$out/logs"
    bash Fuzz/seeds.sh "$target" "$corpus"
    before=$(ls "$findings" | wc -l)
    echo "== running $target for ${seconds}s (rss ${rss_mb} MB, ${per_input}s per input, inputs up to $max_len bytes)"
    # The scratch files a target writes live in its own TMPDIR, removed afterwards.
    scratch=$(mktemp -d)
    set +e
    # The CPU time the fuzzer got, beside its wall time: under `nice` on a busy machine the two differ.
    TIMEFORMAT='%U %S'
    cpu=$( { time { (cd "$findings" && TMPDIR=$scratch LSAN_OPTIONS="suppressions=$root/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" "$binary" -max_total_time="$seconds" -max_len="$max_len" \
        -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" -timeout="$per_input" -report_slow_units="$per_input" \
        -print_final_stats=1 -dict="$root/Fuzz/dict/$target.dict" -artifact_prefix="$findings/" "$corpus") \
        > "$log" 2>&1 ; } ; } 2>&1 )
    code=$?  # the fuzzer's: an assignment from $( ) has its command's status
    set -e
    rm -rf "$scratch"
    after=$(ls "$findings" | wc -l)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    found=$((after - before))
    cpu_seconds=$(echo "$cpu" | awk '{ printf "%d", $1 + $2 }')
    line="$(date -u +%FT%TZ) $target seconds=$seconds cpu_seconds=$cpu_seconds runs=${runs:-?} ${cov:-cov: ? ft: ?} peak_rss_mb=${peak:-?} exit=$code findings=$found"
    [ "$found" -gt 0 ] && line+=" ($(ls -t "$findings" | head -n "$found" | tr '\n' ' '))"
    echo "$line" | tee -a "$summary"
    if [ "$code" -ne 0 ] || [ "$found" -gt 0 ]; then
        status=1
        grep -m1 -A12 -E '^==[0-9]+==ERROR|Fatal error|SUMMARY|ERROR: libFuzzer' "$log" | head -20 >&2 || true
    fi
done
exit $status
