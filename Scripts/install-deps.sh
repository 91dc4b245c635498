#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Lathe builds against, only when a header (or mpirun) is missing.
# Idempotent: on a machine that has them, it prints nothing and changes nothing.
set -euo pipefail

missing=()
has_header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1; }
has_header cblas.h || missing+=(libopenblas-dev)
has_header zstd.h  || missing+=(libzstd-dev)
has_header snappy-c.h || missing+=(libsnappy-dev)
has_header zlib.h  || missing+=(zlib1g-dev)
# Open MPI: the headers (found through pkg-config ompi-c) and the launcher the multi-process tests run.
pkg-config --exists ompi-c 2>/dev/null || missing+=(libopenmpi-dev)
command -v mpirun >/dev/null 2>&1 || missing+=(openmpi-bin)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Lathe needs ${missing[*]} (OpenBLAS, zstd, snappy, zlib and Open MPI); install them with your package manager." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing ${missing[*]} with apt-get…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
