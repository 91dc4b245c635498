#!/usr/bin/env bash
# Seeds the corpus of one fuzz target: copies of the test fixtures of its format, and for the formats the
# fixtures lack (checkpoints, token shards, adapter pairs, chat inputs) small valid files built here from their
# specifications (LatheCheckpoints/FORMAT.md, Stages/TokenShard.swift, the harness's input layouts) with the
# zstd and sha256sum tools. Existing corpus files are kept. Usage: Fuzz/seeds.sh TARGET CORPUS_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1 corpus=$2
mkdir -p "$corpus"
fixtures=Tests
copy() { for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; done; true; }

le32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
le64() { le32 $(($1 & 0xFFFFFFFF)); le32 $(($1 >> 32)); }

# safetensors METADATA_JSON NAME:DxD... : an F32 safetensors image of zero tensors on stdout. METADATA_JSON may hold
# @SHA@, replaced by the SHA-256 of the data section (as checkpoints record it).
safetensors() {
    local metadata=$1; shift
    local header='{' offset=0
    for spec in "$@"; do
        local name=${spec%%:*} dims=${spec#*:} count=1
        for d in ${dims//x/ }; do count=$((count * d)); done
        header+="\"$name\":{\"dtype\":\"F32\",\"shape\":[${dims//x/,}],\"data_offsets\":[$offset,$((offset + count * 4))]},"
        offset=$((offset + count * 4))
    done
    local sha
    sha=$(head -c "$offset" /dev/zero | sha256sum | cut -d' ' -f1)
    header+="\"__metadata__\":${metadata//@SHA@/$sha}}"
    while [ $(( ${#header} % 8 )) -ne 0 ]; do header+=' '; done
    le64 ${#header}
    printf '%s' "$header"
    head -c "$offset" /dev/zero
}

# Findings committed as regression inputs seed their target too.
copy $fixtures/*/Fixtures/fuzz/"$target"/*

case $target in
    safetensors) copy $fixtures/LatheFormatsTests/Fixtures/safetensors/*.safetensors ;;
    gguf) copy $fixtures/LatheFormatsTests/Fixtures/dequant/*.gguf ;;
    json)
        copy $fixtures/LatheTokenizersTests/Fixtures/tokenizers/*/tokenizer_config.json \
             $fixtures/LatheModelsTests/Fixtures/peft-export/adapter/adapter_config.json
        printf '{"a": [1, 2.5e3, true, null, "x\\u00e9"], "b": {"c": {}}}' > "$corpus/seed-inline.json"
        for f in $fixtures/LatheTokenizersTests/Fixtures/tokenizers/*/*.json $fixtures/LatheModelsTests/Fixtures/*/*.json; do
            [ "$(stat -c %s "$f")" -le 65536 ] && copy "$f"
        done ;;
    tokenizer-json)
        # smollm2's 1.7 MB tokenizer.json is over the input size cap; the small ones cover the same components.
        for d in bytelevel bytelevel_gguf normalized sentencepiece sentencepiece_gguf split; do
            copy $fixtures/LatheTokenizersTests/Fixtures/tokenizers/$d/tokenizer.json
        done ;;
    gguf-tokenizer) copy $fixtures/LatheModelsTests/Fixtures/tiny-llama/tiny-llama-Q4_0.gguf ;;
    model-config)
        # First byte: odd for GGUF, even for config.json; then the file (the input cap is 128 KiB: the quantised
        # tiny models, and every architecture's config.json).
        for f in $fixtures/LatheModelsTests/Fixtures/*/*.gguf; do
            if [ "$(stat -c %s "$f")" -le 131071 ]; then { printf 'g'; cat "$f"; } > "$corpus/seed-$(basename "$f")"; fi
        done
        for f in $fixtures/LatheModelsTests/Fixtures/*/hf/config.json $fixtures/LatheModelsTests/Fixtures/*/config*.json; do
            if [ -f "$f" ]; then { printf 'j'; cat "$f"; } > "$corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; fi
        done ;;
    chat-template)
        # Layout: template NUL role NUL content …; templates as the tokenizer fixtures ship them.
        chatml='{% for message in messages %}{{ "<|im_start|>" + message["role"] + "\n" + message["content"] + "<|im_end|>\n" }}{% endfor %}{% if add_generation_prompt %}{{ "<|im_start|>assistant\n" }}{% endif %}'
        llama='{{ bos_token }}{% for m in messages %}{% if m.role == "system" %}{% set ns = namespace(s=m.content|trim) %}{% elif loop.index0 % 2 == 0 %}{{ "[INST] " + m.content + " [/INST]" }}{% else %}{% generation %}{{ m.content + eos_token }}{% endgeneration %}{% endif %}{% endfor %}'
        tools='{%- macro f(x, d) -%}{%- if d > 0 -%}{{ f(x ~ x, d - 1) }}{%- else -%}{{ x|length }}{%- endif -%}{%- endmacro -%}{%- if tools -%}{{ tools|tojson(indent=2) }}{%- endif -%}{{ f("a", 3) }}{%- for m in messages|selectattr("role", "equalto", "user") -%}{{ m.content|upper|replace("A", "b") }}{{ raise_exception("no") if m.content == "x" }}{%- endfor -%}'
        printf '%s\0system\0Be brief.\0user\0Hi\0assistant\0Hello.' "$chatml" > "$corpus/seed-chatml"
        printf '%s\0system\0S\0user\0Q\0assistant\0A\0user\0Q2' "$llama" > "$corpus/seed-llama"
        printf '%s\0user\0a\0user\0x' "$tools" > "$corpus/seed-tools" ;;
    recipe) copy Recipes/*.yaml ;;
    task-yaml) copy Recipes/evals/quickstart/*.yaml $fixtures/LatheEvaluationTests/Fixtures/tasks/*.yaml ;;
    task-data)
        # First byte: odd for CSV, even for JSONL; then the file (the input cap is 64 KiB: the first lines of big files).
        for f in Recipes/evals/quickstart/*.jsonl $fixtures/LatheEvaluationTests/Fixtures/tasks/*.jsonl; do
            if [ -f "$f" ]; then { printf 'j'; head -c 60000 "$f"; } > "$corpus/seed-$(basename "$f")"; fi
        done
        for f in $fixtures/LatheEvaluationTests/Fixtures/tasks/*.csv $fixtures/LatheDataTests/Fixtures/*.csv; do
            if [ -f "$f" ]; then { printf 'c'; head -c 60000 "$f"; } > "$corpus/seed-$(basename "$f")"; fi
        done ;;
    csv) copy $fixtures/LatheDataTests/Fixtures/*.csv ;;
    parquet) copy $fixtures/LatheDataTests/Fixtures/parquet/*.parquet ;;
    jsonl)
        copy Datasets/quickstart/*.jsonl Recipes/evals/quickstart/*.jsonl $fixtures/LatheEvaluationTests/Fixtures/tasks/*.jsonl
        for f in "$corpus"/seed-*.jsonl; do  # the input cap is 64 KiB: keep the first lines of big files
            [ "$(stat -c %s "$f")" -le 65536 ] || { head -c 60000 "$f" | head -n -1 > "$f.tmp"; mv "$f.tmp" "$f"; }
        done
        printf '%s\n' '{"prompt": "p", "completion": "c"}' '{"instruction": "i", "input": "", "output": "o"}' \
            '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}' \
            '' '{"text": "caf\u00e9", "meta": {"n": [1, 2]}}' > "$corpus/seed-formats.jsonl" ;;
    peft-adapter)
        # Layout: config length (u16 LE), adapter_config.json, adapter_model.safetensors; the harness's model is
        # 2 layers, width 16, 2 heads of 8, 1 key-value head.
        config='{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"], "bias": "none", "modules_to_save": null, "use_rslora": false}'
        tensors=()
        for l in 0 1; do
            p=base_model.model.model.layers.$l.self_attn
            tensors+=("$p.q_proj.lora_A.weight:2x16" "$p.q_proj.lora_B.weight:16x2" "$p.v_proj.lora_A.weight:2x16" "$p.v_proj.lora_B.weight:8x2")
        done
        { printf "$(printf '\\x%02x\\x%02x' $((${#config} & 255)) $((${#config} >> 8)))"; printf '%s' "$config"
          safetensors '{}' "${tensors[@]}"; } > "$corpus/seed-adapter" ;;
    checkpoint)
        safetensors '{"format_version": "1", "step": "1", "payload_sha256": "@SHA@", "scheduler_step": "1", "rng_counter": "0", "data_epoch": "0", "data_position": "1", "shuffle_seed": "7"}' \
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight:2x4" \
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight.exp_avg:2x4" > "$corpus/step.safetensors"
        zstd -q -f --check "$corpus/step.safetensors" -o "$corpus/seed-step-1.safetensors.zst"
        rm "$corpus/step.safetensors" ;;
    token-shard)
        { printf 'LTOK'; le32 1; le32 2; le32 3; le32 1; le32 2; le32 3; printf '\x00\x01\x01'; le32 0; } > "$corpus/shard"
        zstd -q -f --check "$corpus/shard" -o "$corpus/seed-train.tokens.zst"
        rm "$corpus/shard" ;;
    lineage)
        # The shape `lathe run` writes (Sources/LatheRecipes/LINEAGE.md): a header, two chained entries, the head.
        zeros=0000000000000000000000000000000000000000000000000000000000000000
        record() { printf '{"path": "%s", "sha256": "%s", "bytes": %s, "relative_to": "%s"}' "$1" "$zeros" "$2" "$3"; }
        printf '{"header": {"format_version": 2, "run": "quickstart", "recipe_file": "Recipes/quickstart.yaml",
  "run_directory": "Checkpoints/quickstart", "base_model": %s, "recipe_sha256": "%s", "recipe": "{\\"name\\":\\"quickstart\\"}",
  "seed": 7, "environment": {"code_version": {"commit": "0641be1", "dirty": false}, "swift_version": "6.2",
  "openblas_version": "OpenBLAS 0.3.21", "zstd_version": "1.5.4", "host": "h", "threads": 2, "blas_threads": 2,
  "ranks": 1, "hosts": ["h"]}},
 "entries": [{"index": 0, "stage": "clean", "key": "k0", "cached": false, "config": "{}", "inputs": [%s],
  "outputs": [%s], "counts": {"kept": 1}, "metrics": {}, "previous": "%s"},
  {"index": 1, "stage": "export", "key": "k1", "cached": true, "config": "{}", "inputs": [%s, %s], "outputs": [],
  "counts": {}, "metrics": {"eval_loss": 1.25}, "previous": "%s"}],
 "head": "%s"}' "$(record Checkpoints/base/model.gguf 16 project_root)" "$zeros" "$(record Datasets/quickstart/train.jsonl 40 project_root)" \
            "$(record stages/clean-k0 4096 run_directory)" "$zeros" "$(record stages/clean-k0 4096 run_directory)" \
            "$(record /models/shared.gguf 16 absolute)" "$zeros" "$zeros" > "$corpus/seed-lineage.json" ;;
    serve-request)
        # Layout: one endpoint byte (c completions, h chat, t tokenize, d detokenize), then the body. The bodies are
        # the serve tests' request literals (#"…"#), their interpolations \#(…) replaced by 7.
        perl -ne 'while (/(?:"\/(v1\/completions|v1\/chat\/completions|tokenize|detokenize)", (?:json: )?)?#"(.*?)"#/g) {
                      my ($path, $body) = ($1 // "", $2);
                      $body =~ s/\\#(\((?:[^()]++|(?1))*\))/7/g;
                      my $e = $path eq "tokenize" ? "t" : $path eq "detokenize" ? "d"
                            : ($path =~ /chat/ || $body =~ /"messages"/) ? "h" : "c";
                      print "$e$body\n" }' Tests/LatheServeTests/*.swift | sort -u | {
            i=0; while IFS= read -r line; do printf '%s' "$line" > "$corpus/seed-test-$i"; i=$((i + 1)); done; }
        printf 'd{"tokens": [1, 2, 3]}' > "$corpus/seed-detokenize"
        printf 't{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "a"}]}]}' > "$corpus/seed-tokenize-chat"
        printf 'h{"model": "a", "messages": [{"role": "user", "content": "hi", "name": "n"}], "stream": true, "n": 2, "stop": ["x"], "seed": 3, "top_p": 0.5, "max_completion_tokens": 4}' > "$corpus/seed-chat-adapter"
        printf 'c{"model": "base", "prompt": [[1, 2], [3]], "max_tokens": 0, "echo": true, "logprobs": 5, "ignore_eos": true}' > "$corpus/seed-token-lists" ;;
    *) echo "no seeds for '$target'" >&2; exit 2 ;;
esac
