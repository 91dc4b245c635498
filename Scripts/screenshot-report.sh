#!/usr/bin/env bash
# Renders a run's report.html with headless Chromium (Debian package `chromium`) into a PNG, to check that the
# self-contained page draws its charts and tables in a real browser.
# Usage: Scripts/screenshot-report.sh [RUN_DIR] [OUT.png]     (default: Checkpoints/quickstart, report.png beside it)
set -euo pipefail
run=${1:-Checkpoints/quickstart}
out=${2:-$run/report.png}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "error: no chromium on PATH; install it (Debian/Ubuntu: apt-get install chromium)" >&2
  exit 1
fi
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1700 \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$run/report.html")" 2>/dev/null
echo "wrote $out"
