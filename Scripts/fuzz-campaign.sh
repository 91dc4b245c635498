#!/usr/bin/env bash
# A fuzzing campaign: every fuzz target of Fuzz/run.sh in turn, sharing HOURS of total time equally, keeping the
# corpora between runs (.build-fuzz/corpus, git-ignored) so each campaign continues the last. Writes one line per
# target (executions, cov:/ft: coverage, peak RSS, findings) to .build-fuzz/campaign-<UTC time>.txt and prints it.
# Usage: Scripts/fuzz-campaign.sh HOURS [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:?usage: Scripts/fuzz-campaign.sh HOURS [target...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(sed -n '/^all_targets=(/,/)/p' Fuzz/run.sh | tr -d '()' | sed 's/all_targets=//' | tr -s ' \n' ' '))
fi
seconds=$(awk -v h="$hours" -v n=${#targets[@]} 'BEGIN { s = int(h * 3600 / n); print (s < 10 ? 10 : s) }')
mkdir -p .build-fuzz
summary=.build-fuzz/campaign-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "# fuzz campaign: $hours h over ${#targets[@]} targets, ${seconds}s each, $(git rev-parse --short HEAD 2>/dev/null || echo '?')" > "$summary"
status=0
for target in "${targets[@]}"; do
    FUZZ_SECONDS=$seconds FUZZ_SUMMARY=$summary bash Fuzz/run.sh "$target" || status=1
done
echo "== summary ($summary)"
cat "$summary"
exit $status
