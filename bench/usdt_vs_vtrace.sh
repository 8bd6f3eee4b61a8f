#!/usr/bin/env bash
# Side by side: the cost per event of a USDT probe traced by bpftrace and of a vtrace probe traced
# by vtrace, with the same clause (@ = count()), on the same workload (bench/peer_workload.c).
#
#   bench/usdt_vs_vtrace.sh [N]        N events per run (default 1000000)
#
# Builds three variants of the workload with gcc -O2 (no probe, sys/sdt.h, vtrace/probe.h); runs
# the untraced one 5 times (median ns/iteration); runs the SDT one under bpftrace and the vtrace
# one under vtrace -c (median of $RUNS runs each, default 3), checks that each counted exactly N
# events, and prints each tracer's overhead per event over the untraced run and their ratio.
#
# Environment: VTRACE (the vtrace binary; default build/vtrace, then vtrace on PATH), RUNS,
# WORK (work rounds per iteration, default 250: about 235 ns between firings here). With
#   WORK=8 (a firing every ~8 ns) the site outruns any consumer that moves records out of the
#   process: vtrace then drops and reports them unless given huge rings (-x bufsize=512m),
#   whose first touch then dominates the cost. bpftrace counts in the kernel instead.
# VTRACE_FLAGS (extra vtrace options, split on spaces, e.g. "-x bufsize=64m").
# Exit status: 0 when every half that ran counted all events (a half that cannot run here prints
# "SKIPPED" and does not fail), 1 when a count is wrong or a build fails.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000000}
RUNS=${RUNS:-3}
WORK=${WORK:-250}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac

VTRACE=${VTRACE:-}
if [ -z "$VTRACE" ]; then
  if [ -x "$ROOT/build/vtrace" ]; then VTRACE=$ROOT/build/vtrace; else VTRACE=$(command -v vtrace || true); fi
fi

TMP=$(mktemp -d /tmp/usdt_vs_vtrace.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SRC=$ROOT/bench/peer_workload.c
status=0

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# the ns/iteration the workload printed, from a file of output
ns_per_iter() { sed -n 's/^peer_workload: [0-9]* iterations, \([0-9.]*\) ns\/iteration$/\1/p' "$1" | tail -n 1; }

echo "== building the workload three ways (gcc -O2), N = $N"
gcc -O2 -o "$TMP/plain" "$SRC" || { echo "build failed: plain"; exit 1; }
SDT_OK=1
if ! gcc -O2 -DUSE_SDT -o "$TMP/sdt" "$SRC" 2>"$TMP/sdt.err"; then
  SDT_OK=0
  echo "sys/sdt.h build failed (package systemtap-sdt-dev?): $(head -n 1 "$TMP/sdt.err")"
fi
gcc -O2 -DUSE_VTRACE -I"$ROOT/include" -o "$TMP/vtr" "$SRC" -lpthread || { echo "build failed: vtrace"; exit 1; }

echo "== untraced (median of 5)"
for _ in 1 2 3 4 5; do "$TMP/plain" "$N" "$WORK" >"$TMP/plain.out" && ns_per_iter "$TMP/plain.out"; done >"$TMP/plain.ns"
BASE=$(median <"$TMP/plain.ns") || { echo "the untraced run failed"; exit 1; }
# The instrumented binaries with no tracer: what a disabled probe costs.
for _ in 1 2 3 4 5; do "$TMP/vtr" "$N" "$WORK" >"$TMP/vtr0.out" && ns_per_iter "$TMP/vtr0.out"; done >"$TMP/vtr0.ns"
printf '  no probe:                 %8.2f ns/iteration\n' "$BASE"
printf '  vtrace probe, not traced: %8.2f ns/iteration\n' "$(median <"$TMP/vtr0.ns")"

# -- bpftrace ---------------------------------------------------------------------------------------
BPF_OVER=""
echo "== bpftrace: usdt:BIN:myapp:tick { @ = count(); } (median of $RUNS)"
if [ "$(id -u)" -ne 0 ]; then
  echo "bpftrace: SKIPPED (needs root)"
elif ! command -v bpftrace >/dev/null; then
  echo "bpftrace: SKIPPED (bpftrace not installed: apt-get install bpftrace)"
elif [ $SDT_OK -ne 1 ]; then
  echo "bpftrace: SKIPPED (no sys/sdt.h: apt-get install systemtap-sdt-dev)"
else
  : >"$TMP/bpf.ns"
  for _ in $(seq "$RUNS"); do
    bpftrace -e "usdt:$TMP/sdt:myapp:tick { @ = count(); }" -c "$TMP/sdt $N $WORK" >"$TMP/bpf.out" 2>"$TMP/bpf.err"
    count=$(sed -n 's/^@: \([0-9]*\).*/\1/p' "$TMP/bpf.out" | tail -n 1)
    ns=$(ns_per_iter "$TMP/bpf.out")
    if [ "$count" != "$N" ] || [ -z "$ns" ]; then
      echo "bpftrace: FAIL: counted '${count}' events, expected $N"
      sed 's/^/  | /' "$TMP/bpf.out" "$TMP/bpf.err" | head -n 20
      status=1
      break
    fi
    echo "$ns" >>"$TMP/bpf.ns"
  done
  if [ -s "$TMP/bpf.ns" ] && [ $status -eq 0 ]; then
    BPF=$(median <"$TMP/bpf.ns")
    BPF_OVER=$(awk -v t="$BPF" -v b="$BASE" 'BEGIN { printf "%.2f", t - b }')
    printf '  traced: %.2f ns/iteration, counted %s of %s events\n' "$BPF" "$N" "$N"
    printf '  bpftrace overhead per event: %s ns\n' "$BPF_OVER"
  fi
fi

# -- vtrace -----------------------------------------------------------------------------------------
VT_OVER=""
echo "== vtrace ${VTRACE_FLAGS:-}: myapp:::tick { @ = count(); } (median of $RUNS)"
if [ -z "$VTRACE" ] || [ ! -x "$VTRACE" ]; then
  echo "vtrace: SKIPPED (no vtrace binary: build it, or set VTRACE=path)"
else
  : >"$TMP/vt.ns"
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086 # VTRACE_FLAGS is a list of options
    "$VTRACE" -q ${VTRACE_FLAGS:-} -n 'myapp:::tick { @ = count(); }' -c "$TMP/vtr $N $WORK" >"$TMP/vt.out" 2>"$TMP/vt.err"
    rc=$?
    if [ $rc -ne 0 ] && grep -qiE 'does not match any probes|not yet available|not supported|unknown option' "$TMP/vt.err"; then
      echo "vtrace: SKIPPED (host side not available: $(head -n 1 "$TMP/vt.err"))"
      : >"$TMP/vt.ns"
      VTRACE=""
      break
    fi
    # vtrace prints a keyless aggregation as dtrace does: a line holding only the count.
    count=$(grep -vE '^peer_workload:' "$TMP/vt.out" | awk 'NF == 1 && $1 ~ /^[0-9]+$/ { c = $1 } END { print c }')
    ns=$(ns_per_iter "$TMP/vt.out")
    if [ $rc -ne 0 ] || [ "$count" != "$N" ] || [ -z "$ns" ]; then
      echo "vtrace: FAIL: exit status $rc, counted '${count}' events, expected $N"
      sed 's/^/  | /' "$TMP/vt.out" "$TMP/vt.err" | head -n 20
      status=1
      break
    fi
    echo "$ns" >>"$TMP/vt.ns"
  done
  if [ -s "$TMP/vt.ns" ] && [ $status -eq 0 ]; then
    VT=$(median <"$TMP/vt.ns")
    VT_OVER=$(awk -v t="$VT" -v b="$BASE" 'BEGIN { printf "%.2f", t - b }')
    printf '  traced: %.2f ns/iteration, counted %s of %s events\n' "$VT" "$N" "$N"
    printf '  vtrace overhead per event: %s ns\n' "$VT_OVER"
    if [ -s "$TMP/vt.err" ]; then sed 's/^/  vtrace stderr: /' "$TMP/vt.err" | head -n 5; fi
  fi
fi

# -- summary ----------------------------------------------------------------------------------------
echo "== summary (N = $N, untraced $BASE ns/iteration)"
per_event() { if [ -n "$1" ]; then echo "$1 ns/event"; else echo "n/a"; fi; }
printf '  bpftrace (USDT uprobe): %s\n' "$(per_event "$BPF_OVER")"
printf '  vtrace (async):         %s\n' "$(per_event "$VT_OVER")"
if [ -n "$BPF_OVER" ] && [ -n "$VT_OVER" ]; then
  awk -v b="$BPF_OVER" -v v="$VT_OVER" 'BEGIN {
    if (v <= 0) { printf "  ratio bpftrace/vtrace: vtrace overhead below measurement (%.2f ns)\n", v; exit }
    r = b / v
    printf "  ratio bpftrace/vtrace: %.1fx (goal: at least 20x) %s\n", r, (r >= 20 ? "OK" : "BELOW GOAL")
  }'
fi
exit $status
