#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Lathe builds against, only when a header is missing.
# Idempotent: on a machine that has them, it prints nothing and changes nothing.
set -euo pipefail

missing=()
has_header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1; }
has_header cblas.h || missing+=(libopenblas-dev)
has_header zstd.h  || missing+=(libzstd-dev)
has_header snappy-c.h || missing+=(libsnappy-dev)
has_header zlib.h  || missing+=(zlib1g-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Lathe needs ${missing[*]} (OpenBLAS, zstd, snappy and zlib headers); install them with your package manager." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing ${missing[*]} with apt-get…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
