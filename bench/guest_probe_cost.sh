#!/usr/bin/env bash
# The cost of a vtrace probe in a guest (QEMU), async and sync, next to the same probe in a host
# process. /bin/probe_loop (examples/guest/probe_loop.c) fires bench:::tick N times with WORK
# rounds of arithmetic between firings and prints the ns/iteration of its loop alone.
#
#   bench/guest_probe_cost.sh [N]      N firings per async run (default 1000000)
#
# Host:  probe_loop untraced; under `vtrace -q -n 'bench:::tick { @ = count(); }' -c` (async)
#        and with -x mode=sync.
# Guest: `vtrace vm exec G -- /bin/probe_loop` untraced; then while a host vtrace traces G's
#        bench:::tick (started in the background, run once its BEGIN printed "ready", stopped
#        with SIGINT once its count stops growing), async and sync.
# Each mode runs RUNS times (default 3); the table holds medians (of each column separately).
# "overhead" is ns/iteration over the untraced run of the same place (host or guest: TCG makes
# every guest instruction slower, so the guest has its own baseline); "lost" is N - counted;
# "drops" is what vtrace reported. A firing that finds its ring full is dropped and counted, so
# an async overhead with many drops is mostly the cheap drop path: raise WORK to avoid them.
#
# Environment: RUNS, WORK (default 250: ~230 ns between firings on this host), N_SYNC (host
# sync firings, default N/10), N_GUEST_SYNC (guest sync firings, default 2000: a guest sync
# firing waits ~0.2 ms under TCG), VM (the guest's name, default gpcPID), and VTRACE,
# VTRACE_RUNTIME_DIR, VTRACE_CACHE_DIR, CPUS, MEM (bench/guest_lib.sh).
# Exit status: 0, 1 when a run fails, 2 on a usage error.
set -u -o pipefail

N=${1:-1000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
RUNS=${RUNS:-3}
WORK=${WORK:-250}
N_SYNC=${N_SYNC:-$((N / 10))}
N_GUEST_SYNC=${N_GUEST_SYNC:-2000}
VM=${VM:-gpc$$}
# shellcheck source=bench/guest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"
LOOP=$VTRACE_BIN_DIR/examples/guest/probe_loop
[ -x "$LOOP" ] || { echo "no $LOOP: build it (cmake --build $VTRACE_BIN_DIR)" >&2; exit 2; }

# One row per mode: "where mode n ns count drops" lines appended to $TMP/rows, medians taken.
: >"$TMP/rows"
row() { echo "$*" >>"$TMP/rows"; }
fail() {
  echo "FAIL: $1" >&2
  [ $# -gt 1 ] && sed 's/^/  | /' "$2" >&2
  exit 1
}

echo "== host: $LOOP, WORK=$WORK, $RUNS runs a mode"
for _ in $(seq "$RUNS"); do
  "$LOOP" "$N" --work "$WORK" >"$TMP/o" || fail "untraced host run" "$TMP/o"
  row host untraced "$N" "$(ns_per_iter "$TMP/o")" - -
  "$VTRACE" -q -n 'bench:::tick { @ = count(); }' -c "$LOOP $N --work $WORK" >"$TMP/o" 2>"$TMP/e" ||
    fail "vtrace (async) on the host" "$TMP/e"
  row host async "$N" "$(ns_per_iter "$TMP/o")" "$(lone_count "$TMP/o")" "$(drops_of "$TMP/e")"
  "$VTRACE" -q -x mode=sync -n 'bench:::tick { @ = count(); }' \
    -c "$LOOP $N_SYNC --work $WORK" >"$TMP/o" 2>"$TMP/e" || fail "vtrace (sync) on the host" "$TMP/e"
  row host sync "$N_SYNC" "$(ns_per_iter "$TMP/o")" "$(lone_count "$TMP/o")" "$(drops_of "$TMP/e")"
done

echo "== guest $VM: booting"
guest_image
vm_start "$VM"
check_probe_loop "$VM"

# A guest's count of drops outlives a tracing session (each session reports the VM's total so
# far), so each run's drops are its report minus the report before.
GUEST_DROPS=0
# guest_traced MODE N [vtrace options...]: one traced run in the guest; appends its row.
guest_traced() {
  local mode=$1 n=$2
  shift 2
  tracer_start "$TMP/t" -Z -q "$@" -n 'BEGIN { printf("ready\n"); }' \
    -n "$VM:bench:::tick { @ = count(); seen++; }" -n 'tick-100ms { printf("seen %d\n", seen); }'
  "$VTRACE" vm exec --timeout 600 "$VM" -- /bin/probe_loop "$n" --work "$WORK" >"$TMP/o" 2>&1 ||
    fail "vm exec $VM -- /bin/probe_loop ($mode)" "$TMP/o"
  # Wait until the host has seen every firing, or its count stood still for 1 s (drops).
  local last=-1 same=0 cur
  while [ $same -lt 10 ]; do
    sleep 0.1
    cur=$(sed -n 's/^seen \([0-9]*\)$/\1/p' "$TMP/t" | tail -n 1)
    [ "${cur:-0}" -ge "$n" ] && break
    if [ "${cur:-0}" = "$last" ]; then same=$((same + 1)); else same=0; fi
    last=${cur:-0}
  done
  tracer_stop
  grep -v '^seen ' "$TMP/t" >"$TMP/t2"
  local d
  d=$(drops_of "$TMP/t2")
  row guest "$mode" "$n" "$(ns_per_iter "$TMP/o")" "$(lone_count "$TMP/t2")" $((d - GUEST_DROPS))
  GUEST_DROPS=$d
  grep '^vtrace: ' "$TMP/t2" | grep -v 'drops in guest processes' | sed 's/^/  vtrace said: /'
}

echo "== guest $VM: $RUNS runs a mode"
for _ in $(seq "$RUNS"); do
  "$VTRACE" vm exec "$VM" -- /bin/probe_loop "$N" --work "$WORK" >"$TMP/o" 2>&1 ||
    fail "vm exec $VM -- /bin/probe_loop (untraced)" "$TMP/o"
  row guest untraced "$N" "$(ns_per_iter "$TMP/o")" - -
  guest_traced sync "$N_GUEST_SYNC" -x mode=sync
  guest_traced async "$N"
done
vm_stop "$VM"

# -- the table ------------------------------------------------------------------------------------
col() { awk -v w="$1" -v m="$2" -v c="$3" '$1 == w && $2 == m { print $c }' "$TMP/rows" | median; }
echo
echo "== probe cost (N=$N async, $N_SYNC host sync, $N_GUEST_SYNC guest sync; WORK=$WORK; medians of $RUNS)"
printf '%-6s %-9s %9s %12s %13s %9s %9s %9s\n' where mode N ns/iter overhead/iter counted lost drops
for w in host guest; do
  base=$(col "$w" untraced 4)
  for m in untraced async sync; do
    ns=$(col "$w" "$m" 4)
    n=$(col "$w" "$m" 3)
    if [ "$m" = untraced ]; then
      printf '%-6s %-9s %9d %12.2f %13s %9s %9s %9s\n' "$w" "$m" "$n" "$ns" - - - -
    else
      cnt=$(col "$w" "$m" 5)
      printf '%-6s %-9s %9d %12.2f %13.2f %9d %9d %9d\n' "$w" "$m" "$n" "$ns" \
        "$(awk -v a="$ns" -v b="$base" 'BEGIN { print a - b }')" "$cnt" $((n - cnt)) "$(col "$w" "$m" 6)"
      echo "$w $m $(awk -v a="$ns" -v b="$base" 'BEGIN { print a - b }')" >>"$TMP/over"
    fi
  done
done
over() { awk -v w="$1" -v m="$2" '$1 == w && $2 == m { print $3 }' "$TMP/over"; }
echo
awk -v g="$(col guest untraced 4)" -v h="$(col host untraced 4)" \
  'BEGIN { printf "untraced guest/host (TCG slowdown of the loop): %.2fx\n", g / h }'
for m in async sync; do
  awk -v m="$m" -v g="$(over guest "$m")" -v h="$(over host "$m")" 'BEGIN {
    if (h <= 0) printf "%s overhead guest/host: n/a (host overhead %.2f ns)\n", m, h
    else printf "%s overhead guest/host: %.1fx (%.0f ns vs %.0f ns a firing)\n", m, g / h, g, h }'
done
