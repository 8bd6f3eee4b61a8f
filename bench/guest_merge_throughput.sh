#!/usr/bin/env bash
# Events per second one host vtrace merges from two guests that fire at the same time: both
# guests run /bin/probe_loop N (examples/guest/probe_loop.c) together while
#   vtrace -Z -q -n 'A:bench:::tick, B:bench:::tick { @[vmname] = count(); }'
# counts per VM (async mode: records merged by translated time).
#
#   bench/guest_merge_throughput.sh [N]     N firings per guest per run (default 20000000)
#
# Per run: the events the host counted, divided by the wall time from starting both workloads
# to the last count increase the host showed (polled every 100 ms); per guest, counted and lost
# (N - counted) and the drops vtrace reported. RUNS runs (default 3); medians.
# With WORK=0 (the default) each guest's process ring (8192 slots) fills between two runs of its
# agent, which shares the guest's vCPU with the loop: most firings drop, and the rate is what
# the agents forward, not what the host could merge. WORK=3000 with N=1000000 is about loss-free
# here (the guests then run ~10 us an iteration under TCG).
#
# Environment: RUNS, WORK, VMS (two guest names, default "gmaPID gmbPID"), and VTRACE,
# VTRACE_RUNTIME_DIR, VTRACE_CACHE_DIR, CPUS, MEM (bench/guest_lib.sh).
# Exit status: 0, 1 when a run fails, 2 on a usage error.
set -u -o pipefail

N=${1:-20000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
RUNS=${RUNS:-3}
WORK=${WORK:-0}
read -r A B <<<"${VMS:-gma$$ gmb$$}"
[ -n "${B:-}" ] || { echo "VMS needs two names" >&2; exit 2; }
# shellcheck source=bench/guest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"

echo "== booting $A and $B"
guest_image
vm_start "$A" "$B"
check_probe_loop "$A"
check_probe_loop "$B"

: >"$TMP/rows"
# vtrace reports the drops of its own run (what a guest's counters added since it attached).
drops_vm() { sed -n "s/^vtrace: $1: \\([0-9][0-9]*\\) drops.*/\\1/p" "$2" | awk '{ s += $1 } END { print s + 0 }'; }
per_vm() { awk -v v="$1" '$1 == v && NF == 2 { c = $2 } END { print c + 0 }' "$2"; }

echo "== $RUNS runs: probe_loop $N --work $WORK in both guests at once"
for run in $(seq "$RUNS"); do
  tracer_start "$TMP/t" -Z -q -n 'BEGIN { printf("ready\n"); }' \
    -n "$A:bench:::tick, $B:bench:::tick { @[vmname] = count(); seen++; }" \
    -n 'tick-100ms { printf("seen %d\n", seen); }'
  t0=$(now_ns)
  "$VTRACE" vm exec --timeout 600 "$A" -- /bin/probe_loop "$N" --work "$WORK" >"$TMP/a" 2>&1 &
  pa=$!
  "$VTRACE" vm exec --timeout 600 "$B" -- /bin/probe_loop "$N" --work "$WORK" >"$TMP/b" 2>&1 &
  pb=$!
  # Until both workloads ended and the count stood still for 1 s (or reached 2N); the end of
  # the tracing is when the count last grew.
  last=-1 same=0 t_last=$t0
  while :; do
    sleep 0.1
    cur=$(sed -n 's/^seen \([0-9]*\)$/\1/p' "$TMP/t" | tail -n 1)
    cur=${cur:-0}
    if [ "$cur" != "$last" ]; then
      same=0 last=$cur t_last=$(now_ns)
    else
      same=$((same + 1))
    fi
    kill -0 $pa 2>/dev/null || kill -0 $pb 2>/dev/null && continue
    [ "$cur" -ge $((2 * N)) ] || [ $same -ge 10 ] && break
  done
  wait $pa || { echo "FAIL: vm exec $A"; cat "$TMP/a"; exit 1; }
  wait $pb || { echo "FAIL: vm exec $B"; cat "$TMP/b"; exit 1; }
  tracer_stop
  grep -v '^seen ' "$TMP/t" >"$TMP/t2"
  ca=$(per_vm "$A" "$TMP/t2") cb=$(per_vm "$B" "$TMP/t2")
  da=$(drops_vm "$A" "$TMP/t2") db=$(drops_vm "$B" "$TMP/t2")
  secs=$(awk -v a="$t0" -v b="$t_last" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  rate=$(awk -v c=$((ca + cb)) -v s="$secs" 'BEGIN { printf "%.0f", c / s }')
  echo "$rate $secs $ca $cb $da $db $(ns_per_iter "$TMP/a") $(ns_per_iter "$TMP/b")" >>"$TMP/rows"
  printf '  run %d: %s events in %s s = %s events/s (%s: %s, %s: %s)\n' "$run" $((ca + cb)) "$secs" \
    "$rate" "$A" "$ca" "$B" "$cb"
  grep '^vtrace: ' "$TMP/t2" | grep -v ' drops ' | sed 's/^/  vtrace said: /'
done

col() { awk -v c="$1" '{ print $c }' "$TMP/rows" | median; }
echo
echo "== merged from two guests (N=$N each, WORK=$WORK; medians of $RUNS runs)"
printf '  events/s counted by the host: %.0f (wall time of the tracing %.2f s)\n' "$(col 1)" "$(col 2)"
printf '  %-8s %10s %10s %10s %14s\n' vm counted lost drops "guest ns/iter"
printf '  %-8s %10d %10d %10d %14.2f\n' "$A" "$(col 3)" $((N - $(col 3))) "$(col 5)" "$(col 7)"
printf '  %-8s %10d %10d %10d %14.2f\n' "$B" "$(col 4)" $((N - $(col 4))) "$(col 6)" "$(col 8)"
