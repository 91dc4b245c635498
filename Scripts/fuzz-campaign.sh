#!/usr/bin/env bash
# A fuzzing campaign: fuzz targets of Fuzz/run.sh sharing HOURS of fuzzing time equally (HOURS 16 over the 16
# targets is an hour each), keeping the corpora between runs (.build-fuzz/corpus, git-ignored) so each campaign
# continues the last. Every target is built first; then FUZZ_JOBS targets (default 1) run at a time, so the wall
# time is HOURS / FUZZ_JOBS. FUZZ_NICE=19 runs the fuzzers at the lowest priority, so the machine stays usable (each
# line then says how much CPU time its target actually got). Writes one line per target (wall and CPU seconds,
# executions, cov:/ft: coverage, peak RSS, findings) to .build-fuzz/campaign-<UTC time>.txt and prints it.
# Usage: [FUZZ_JOBS=2] [FUZZ_NICE=19] Scripts/fuzz-campaign.sh HOURS [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:?usage: Scripts/fuzz-campaign.sh HOURS [target...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(sed -n '/^all_targets=(/,/)/p' Fuzz/run.sh | tr -d '()' | sed 's/all_targets=//' | tr -s ' \n' ' '))
fi
jobs=${FUZZ_JOBS:-1}
seconds=$(awk -v h="$hours" -v n=${#targets[@]} 'BEGIN { s = int(h * 3600 / n); print (s < 10 ? 10 : s) }')
mkdir -p .build-fuzz
summary=$PWD/.build-fuzz/campaign-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "# fuzz campaign: $hours h over ${#targets[@]} targets, ${seconds}s each, $jobs at a time," \
    "nice ${FUZZ_NICE:-0}, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')" > "$summary"
FUZZ_BUILD=only bash Fuzz/run.sh "${targets[@]}"
status=0
printf '%s\n' "${targets[@]}" | FUZZ_SECONDS=$seconds FUZZ_SUMMARY=$summary FUZZ_BUILD=0 \
    xargs -P "$jobs" -I{} nice -n "${FUZZ_NICE:-0}" bash Fuzz/run.sh {} || status=1
echo "== summary ($summary)"
cat "$summary"
exit $status
