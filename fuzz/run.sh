#!/bin/sh
# run.sh — one libFuzzer target for a while (mk/extra.mk: make fuzz, make fuzz-smoke).
#
#   fuzz/run.sh OUT TARGET SECONDS 'FLAGS' SEED_DIR...
#
# Runs OUT/fuzz_TARGET for SECONDS with OUT/corpus/TARGET as the corpus it writes (first
# directory) and the seed directories read-only; the whole output goes to OUT/logs/TARGET.log.
# Prints libFuzzer's last status line ("#N DONE cov: C ft: F corp: ... exec/s: E") and its final
# stats; on a finding (non-zero exit), the end of the log and the artifact, and fails.
set -u
out=$1 target=$2 seconds=$3 flags=$4
shift 4
mkdir -p "$out/corpus/$target" "$out/artifacts/$target" "$out/logs"
log=$out/logs/$target.log
echo "== fuzz_$target: $seconds s"
# shellcheck disable=SC2086  # flags are words
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$out/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/$target/" $flags "$out/corpus/$target" "$@" > "$log" 2>&1
rc=$?
# Plain mode: "#N<TAB>DONE cov: ..."; fork mode (-fork=1): "#N: cov: ... exec/s: ...".
grep -E '^#[0-9]+(:|[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED))' "$log" | tail -1
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | tr '\n' ' '
echo
if [ $rc -ne 0 ]; then
    tail -60 "$log"
    echo "fuzz_$target: FINDING (exit $rc); artifacts in $out/artifacts/$target/"
    exit 1
fi
