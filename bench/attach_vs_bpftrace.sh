#!/usr/bin/env bash
# Side by side: how long vtrace and bpftrace take to start and stop a script on every syscall
# entry (attach, one event, detach), on this machine, in one run.
#
#   bench/attach_vs_bpftrace.sh
#
# Runs `syscall:::entry { @ = count(); }` until the first tick with each tracer ($RUNS times,
# default 3) and prints the median wall time of each and their ratio. Needs root. Environment:
# VTRACE (default build/vtrace), RUNS.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-3}
VTRACE=${VTRACE:-$ROOT/build/vtrace}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds() {  # runs "$@", prints its wall time in seconds
  local a b
  a=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  b=$(date +%s.%N)
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", b - a }'
}

VT=$(for i in $(seq "$RUNS"); do
  seconds "$VTRACE" -q -n 'syscall:::entry { @ = count(); } tick-100ms { exit(0); }'
done | median)
echo "vtrace:   $VT s (syscall:::entry, start to stop)"
BPF=""
if command -v bpftrace >/dev/null; then
  BPF=$(for i in $(seq "$RUNS"); do
    seconds bpftrace -e 'tracepoint:syscalls:sys_enter_* { @ = count(); } interval:ms:100 { exit(); }'
  done | median)
  echo "bpftrace: $BPF s (tracepoint:syscalls:sys_enter_*, start to stop)"
  awk -v v="$VT" -v b="$BPF" 'BEGIN { if (b > 0) printf "vtrace/bpftrace %.2fx\n", v / b }'
fi
