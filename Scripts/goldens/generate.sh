#!/usr/bin/env bash
# Regenerates every golden file with the reference stack (transformers, peft, tokenizers, gguf, lm-eval).
# PYTHON must point at a venv that has them: ../shared/tools/reference-venv.sh DIR, then PYTHON=DIR/bin/python.
# Outputs land in Tests/*/Fixtures/ and are committed; tests never run Python.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-python3}
if ! "$python" -c "import torch, transformers, gguf, safetensors, tokenizers" 2>/dev/null; then
  echo "error: $python lacks the reference stack; set PYTHON to a venv made by reference-venv.sh" >&2
  exit 1
fi
for script in Scripts/goldens/*.py; do
  case "$(basename "$script")" in common.py | architectures.py | gguf_convert.py) continue ;; esac  # libraries
  echo "== $script"
  "$python" "$script"
done
