#!/usr/bin/env bash
# Side by side: the cost per event of the same unmodified USDT probe (sys/sdt.h) traced through a
# uprobe by bpftrace and by vtrace, with the same clause (@ = count()), in one run.
#
#   bench/usdt_uprobe_vs_bpftrace.sh [N]     N events per run (default 1000000)
#
# Builds bench/peer_workload.c with -DUSE_SDT (the probe myapp:tick in a loop of N), runs it
# untraced 5 times (median ns/iteration), then under bpftrace
# (usdt:BIN:myapp:tick { @ = count(); }) and under vtrace (-n 'myapp:::tick { @ = count(); }'
# -c BIN), median of $RUNS runs each; checks that each counted exactly N events (lost events are
# reported, and fail the check); prints each tracer's cost per event over the untraced run and
# the ratio. Needs root. Environment: VTRACE (default build/vtrace), RUNS (default 3).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000000}
RUNS=${RUNS:-3}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
VTRACE=${VTRACE:-$ROOT/build/vtrace}
[ -x "$VTRACE" ] || VTRACE=$(command -v vtrace || true)
if [ "$(id -u)" -ne 0 ]; then echo "SKIPPED: needs root (uprobes)"; exit 0; fi

TMP=$(mktemp -d /tmp/usdt_uprobe.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ns_per_iter() { sed -n 's/^peer_workload: [0-9]* iterations, \([0-9.]*\) ns\/iteration$/\1/p' "$1" | tail -n 1; }

echo "== building the workload with a sys/sdt.h probe (gcc -O2), N = $N"
gcc -O2 -DUSE_SDT -o "$TMP/sdt" "$ROOT/bench/peer_workload.c" 2>"$TMP/build.err" ||
  { echo "build failed (systemtap-sdt-dev?): $(head -n 1 "$TMP/build.err")"; exit 1; }

echo "== untraced (median of 5)"
for _ in 1 2 3 4 5; do "$TMP/sdt" "$N" >"$TMP/base.out" && ns_per_iter "$TMP/base.out"; done >"$TMP/base.ns"
BASE=$(median <"$TMP/base.ns") || { echo "the untraced run failed"; exit 1; }
printf '  %.2f ns/iteration\n' "$BASE"

# run_tracer NAME COUNT_EXTRACTOR COMMAND...: median traced ns/iteration into $NAME.ns
run_tracer() {
  local name=$1 extract=$2
  shift 2
  : >"$TMP/$name.ns"
  for _ in $(seq "$RUNS"); do
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    local rc=$? count ns
    count=$($extract "$TMP/$name.out")
    ns=$(ns_per_iter "$TMP/$name.out")
    if [ $rc -ne 0 ] || [ "$count" != "$N" ] || [ -z "$ns" ]; then
      echo "  $name: FAIL: exit status $rc, counted '$count' events, expected $N"
      sed 's/^/  | /' "$TMP/$name.out" "$TMP/$name.err" | head -n 20
      status=1
      : >"$TMP/$name.ns"
      return
    fi
    echo "$ns" >>"$TMP/$name.ns"
  done
}
bpf_count() { sed -n 's/^@: \([0-9]*\).*/\1/p' "$1" | tail -n 1; }
vt_count() { grep -vE '^peer_workload:' "$1" | awk 'NF == 1 && $1 ~ /^[0-9]+$/ { c = $1 } END { print c }'; }

over() { awk -v t="$1" -v b="$BASE" 'BEGIN { printf "%.1f", t - b }'; }
BPF_OVER="" VT_OVER=""
echo "== bpftrace: usdt:BIN:myapp:tick { @ = count(); } (median of $RUNS)"
if command -v bpftrace >/dev/null; then
  run_tracer bpf bpf_count bpftrace -e "usdt:$TMP/sdt:myapp:tick { @ = count(); }" -c "$TMP/sdt $N"
  if [ -s "$TMP/bpf.ns" ]; then
    BPF_OVER=$(over "$(median <"$TMP/bpf.ns")")
    echo "  counted $N of $N; $BPF_OVER ns/event"
  fi
else
  echo "  SKIPPED (bpftrace not installed)"
fi

echo "== vtrace: -n 'myapp:::tick { @ = count(); }' -c BIN (median of $RUNS)"
if [ -n "$VTRACE" ]; then
  run_tracer vt vt_count "$VTRACE" -q -n 'myapp:::tick { @ = count(); }' -c "$TMP/sdt $N"
  if [ -s "$TMP/vt.ns" ]; then
    VT_OVER=$(over "$(median <"$TMP/vt.ns")")
    echo "  counted $N of $N; $VT_OVER ns/event"
  fi
else
  echo "  SKIPPED (no vtrace binary: build it or set VTRACE)"
fi

echo "== summary (N = $N, untraced $BASE ns/iteration)"
printf '  bpftrace (uprobe + BPF):        %s ns/event\n' "${BPF_OVER:-n/a}"
printf '  vtrace (uprobe + BPF):          %s ns/event\n' "${VT_OVER:-n/a}"
if [ -n "$BPF_OVER" ] && [ -n "$VT_OVER" ]; then
  awk -v b="$BPF_OVER" -v v="$VT_OVER" 'BEGIN { printf "  ratio vtrace/bpftrace: %.2fx\n", v / b }'
fi
exit $status
