#!/usr/bin/env bash
# The quickstart behind `make demo`: runs Recipes/quickstart.yaml (clean → tokenize → train → evaluate → export)
# on SmolLM2-135M-Instruct and the fictional Harrowgate Instruments data, then shows the evidence.
# A second run finds every stage cached and finishes in seconds.
set -euo pipefail
lathe=${1:-.build/release/lathe}
run=Checkpoints/quickstart

"$lathe" run Recipes/quickstart.yaml

echo
echo "== Base model vs adapter on held-out questions (delta ± paired bootstrap standard error)"
cat "$(ls -td "$run"/stages/evaluate-*/ | head -n 1)comparison.md"
echo
echo "== What the run left in $run"
echo "  MODEL_CARD.md            data sources, cleaning decisions, training configuration, evaluation"
echo "  lineage.json             hashes of every input and output, chained; check with: $lathe verify $run"
export_dir=$(ls -td "$run"/stages/export-*/ | head -n 1)
echo "  ${export_dir}peft/        PEFT adapter (transformers, vLLM)"
echo "  ${export_dir}merged/      base + adapter as an HF safetensors directory, with tokenizer.json"
echo "  ${export_dir}merged.gguf  base + adapter as GGUF (llama.cpp, Ollama)"
echo "  ${export_dir}adapter.gguf the adapter alone for llama.cpp --lora"
echo "  $run/report.html  charts and tables of the run (Scripts/screenshot-report.sh renders it with headless Chromium)"
echo
echo "Try it:  $lathe generate --model ${export_dir}merged.gguf --chat --prompt \"What is the product code of the Brindle humidity logger?\""
