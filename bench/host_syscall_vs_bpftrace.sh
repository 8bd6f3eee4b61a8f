#!/usr/bin/env bash
# Side by side: the cost per event of a host syscall tracepoint (getppid entry) traced by bpftrace
# (in-kernel BPF, `@ = count()`) and by vtrace, on the same workload: a program calling getppid()
# N times, timing its own loop. vtrace runs twice: the clause placed at the probe (translated to
# BPF, the count in a per-CPU map) and the same clause kept in vtrace (a global store forces it: every
# event gathered into the BPF ring and finished by the engine).
#
#   bench/host_syscall_vs_bpftrace.sh [N]      N calls per run (default 1000000)
#
# Runs the workload untraced, under bpftrace and under vtrace (median of $RUNS runs each, default
# 3), checks that each tracer counted exactly N, prints each one's overhead per event over the
# untraced run and their ratio. Needs root. Environment: VTRACE (default build/vtrace), RUNS,
# VTRACE_FLAGS (e.g. "-x bufsize=64m": vtrace's per-CPU ring must hold what arrives between two
# polls, or events are lost and the count is short).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000000}
RUNS=${RUNS:-3}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
VTRACE=${VTRACE:-$ROOT/build/vtrace}
[ -x "$VTRACE" ] || VTRACE=$(command -v vtrace || true)
VTRACE_FLAGS=${VTRACE_FLAGS:--x bufsize=64m}

TMP=$(mktemp -d /tmp/host_syscall_bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cat >"$TMP/w.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  fprintf(stderr, "workload: %ld calls, %.1f ns/call\n", n, ns / n);
  return 0;
}
EOF
gcc -O2 -o "$TMP/w" "$TMP/w.c" || { echo "build failed"; exit 1; }
per_call() { sed -n 's/^workload: [0-9]* calls, \([0-9.]*\) ns\/call$/\1/p' "$1" | tail -n 1; }
status=0

for i in $(seq 5); do "$TMP/w" "$N" 2>"$TMP/base.$i"; per_call "$TMP/base.$i"; done | median >"$TMP/base"
BASE=$(cat "$TMP/base")
echo "untraced:  $BASE ns/call"

BPF=""
if command -v bpftrace >/dev/null; then
  for i in $(seq "$RUNS"); do
    bpftrace -e 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @ = count(); }' \
      -c "$TMP/w $N" >"$TMP/bpf.out.$i" 2>"$TMP/bpf.err.$i"
    got=$(sed -n 's/^@: \([0-9]*\)$/\1/p' "$TMP/bpf.out.$i")
    [ "$got" = "$N" ] || { echo "bpftrace counted '$got', expected $N"; status=1; }
    per_call "$TMP/bpf.err.$i"
  done | median >"$TMP/bpf"
  BPF=$(cat "$TMP/bpf")
  echo "bpftrace:  $BPF ns/call"
else
  echo "bpftrace: SKIPPED (not installed)"
fi

VT=""
VT_GATHERED=""
run_vtrace() {  # $1: label, $2: the clause body
  for i in $(seq "$RUNS"); do
    # shellcheck disable=SC2086
    "$VTRACE" -q $VTRACE_FLAGS -n "syscall::getppid:entry /pid == \$target/ { $2 }" \
      -c "$TMP/w $N" >"$TMP/vt.out.$i" 2>"$TMP/vt.err.$i"
    got=$(tr -s ' \n' '\n\n' <"$TMP/vt.out.$i" | grep -E '^[0-9]+$' | tail -n 1)
    [ "$got" = "$N" ] || { echo "vtrace ($1) counted '$got', expected $N: $(grep -v workload "$TMP/vt.err.$i")" >&2; status=1; }
    per_call "$TMP/vt.err.$i"
  done | median
}
if [ -x "$VTRACE" ]; then
  VT=$(run_vtrace "at the probe" '@ = count();')
  echo "vtrace:    $VT ns/call (the clause at the probe)"
  VT_GATHERED=$(run_vtrace "gathered" '@ = count(); x = 1;')
  echo "vtrace:    $VT_GATHERED ns/call (the clause in vtrace, events gathered)"
else
  echo "vtrace: SKIPPED (no binary; set VTRACE)"
fi

if [ -n "$BPF" ] && [ -n "$VT" ]; then
  awk -v b="$BASE" -v p="$BPF" -v v="$VT" -v g="$VT_GATHERED" 'BEGIN {
    printf "overhead per event: bpftrace %.1f ns, vtrace at the probe %.1f ns (%.2fx), gathered %.1f ns (%.2fx)\n",
      p - b, v - b, (p - b > 0) ? (v - b) / (p - b) : 0, g - b, (p - b > 0) ? (g - b) / (p - b) : 0 }'
fi
exit $status
