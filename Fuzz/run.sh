#!/usr/bin/env bash
# Builds the libFuzzer harnesses for LatheFormats' parsers (safetensors, GGUF, and JSON — the one JSON reader, so the
# json target covers every untrusted JSON input; Fuzz/FuzzJSON.swift lists them) with AddressSanitizer and runs
# each for ${FUZZ_SECONDS:-60} seconds, seeded with the test fixtures. Crashing inputs are left in .build-fuzz/.
# Usage: Fuzz/run.sh [target...]     targets: safetensors gguf json (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=.build-fuzz
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors gguf json)
mkdir -p "$out"

for target in "${targets[@]}"; do
    case $target in
        safetensors) entry=Fuzz/FuzzSafetensors.swift; seeds=(Tests/LatheFormatsTests/Fixtures/safetensors/*.safetensors) ;;
        gguf) entry=Fuzz/FuzzGGUF.swift; seeds=(Tests/LatheFormatsTests/Fixtures/dequant/*.gguf) ;;
        json) entry=Fuzz/FuzzJSON.swift; seeds=() ;;
        *) echo "unknown fuzz target '$target' (use safetensors, gguf or json)" >&2; exit 2 ;;
    esac
    echo "== building fuzz-$target"
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name LatheFormatsFuzz \
        Sources/LatheFormats/*.swift "$entry" -o "$out/fuzz-$target"
    corpus="$out/corpus-$target"
    mkdir -p "$corpus"
    for seed in "${seeds[@]}"; do cp -n "$seed" "$corpus/" 2>/dev/null || true; done
    if [ "$target" = json ]; then
        printf '{"a": [1, 2.5e3, true, null, "x\\u00e9"], "b": {"c": {}}}' > "$corpus/seed.json"
        for seed in Tests/LatheTokenizersTests/Fixtures/tokenizers/*/*.json Tests/LatheModelsTests/Fixtures/*/*.json; do
            [ -f "$seed" ] && [ "$(stat -c %s "$seed")" -le 65536 ] && cp -n "$seed" "$corpus/$(echo "$seed" | tr / _)" 2>/dev/null || true
        done
    fi
    echo "== running fuzz-$target for ${seconds}s"
    (cd "$out" && "./fuzz-$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="crash-$target-" "corpus-$target")
done
