#!/usr/bin/env bash
# Consumer throughput for host processes: `sample:::tick { @ = count(); }` on a program whose
# 1, 2 and 4 threads fire as fast as they can (tests/targets/instrumented_sample, delay 0).
# Prints, per thread count, the records vtrace consumed per second of the run and the drops it
# reported (a site faster than the consumer fills its ring: drops are counted, never silent).
#
#   bench/process_throughput.sh [N per thread]      (root not needed; build/ must be built)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VTRACE=${VTRACE:-$ROOT/build/vtrace}
BIN=${BIN:-$ROOT/build/tests/instrumented_sample}
N=${1:-500000}
[ -x "$VTRACE" ] && [ -x "$BIN" ] || { echo "build first: ninja -C build vtrace instrumented_sample" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '%-8s %14s %12s %14s\n' threads consumed drops "records/s"
for t in 1 2 4; do
  start=$(date +%s%N)
  "$VTRACE" -q -x bufsize=16m -n 'sample:::tick { @ = count(); }' -c "$BIN $N 0 $t" \
    >"$TMP/out" 2>"$TMP/err"
  end=$(date +%s%N)
  count=$(tr -d ' \n' <"$TMP/out")
  drops=$(sed -n 's/.* \([0-9]*\) drops.*/\1/p' "$TMP/err" | head -n 1)
  awk -v t="$t" -v c="${count:-0}" -v d="${drops:-0}" -v ns=$((end - start)) \
    'BEGIN { printf "%-8d %14d %12d %14.0f\n", t, c, d, c / (ns / 1e9) }'
done
