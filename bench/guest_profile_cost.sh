#!/usr/bin/env bash
# What sampling a guest costs its workload: /bin/probe_loop (examples/guest/probe_loop.c, its
# probes not enabled: a CPU-bound loop) in a guest, untraced and while a host vtrace samples
# that guest with web1:profile:::profile-HZ, stacks and all:
#   vtrace -n 'G:profile:::profile-HZ { @k[stack()] = count(); @u[ustack()] = count(); }'
# (the agent opens a CPU-clock perf event per vCPU with callchains; every sample is relayed to
# the host, and the frames are named by the agent when vtrace prints them).
#
#   bench/guest_profile_cost.sh [N]      N loop iterations a run (default 3000000)
#
# Each mode runs RUNS times (default 3); the table holds medians. "overhead" is the traced
# run's ns/iteration over the untraced one's; "samples/s" what the host counted a second of the
# traced loop's run.
# Environment: RUNS, HZ (default 997), WORK (default 250), VM (default gprPID), and VTRACE,
# VTRACE_RUNTIME_DIR, VTRACE_CACHE_DIR, CPUS, MEM (bench/guest_lib.sh).
# Exit status: 0, 1 when a run fails, 2 on a usage error.
set -u -o pipefail

N=${1:-3000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
RUNS=${RUNS:-3}
HZ=${HZ:-997}
WORK=${WORK:-250}
VM=${VM:-gpr$$}
# shellcheck source=bench/guest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"

fail() {
  echo "FAIL: $1" >&2
  [ $# -gt 1 ] && sed 's/^/  | /' "$2" >&2
  exit 1
}

echo "== guest $VM: booting"
guest_image
vm_start "$VM"
check_probe_loop "$VM"

: >"$TMP/rows"
for _ in $(seq "$RUNS"); do
  "$VTRACE" vm exec "$VM" -- /bin/probe_loop "$N" --work "$WORK" >"$TMP/o" 2>&1 ||
    fail "vm exec $VM -- /bin/probe_loop (untraced)" "$TMP/o"
  echo "untraced $(ns_per_iter "$TMP/o") -" >>"$TMP/rows"
  tracer_start "$TMP/t" -q -n 'BEGIN { printf("ready\n"); }' \
    -n "$VM:profile:::profile-$HZ /execname == \"probe_loop\"/ { @k[stack()] = count(); @u[ustack()] = count(); @n = count(); }" \
    -n 'END { printa("samples %@d\n", @n); }'
  "$VTRACE" vm exec "$VM" -- /bin/probe_loop "$N" --work "$WORK" >"$TMP/o" 2>&1 ||
    fail "vm exec $VM -- /bin/probe_loop (sampled)" "$TMP/o"
  tracer_stop
  ns=$(ns_per_iter "$TMP/o")
  samples=$(sed -n 's/^samples \([0-9]*\)$/\1/p' "$TMP/t")
  [ -n "$samples" ] || fail "no sample count" "$TMP/t"
  grep -q 'no symbols' "$TMP/t" && fail "frames not named" "$TMP/t"
  # Samples a second of the loop's own run (N iterations at ns each).
  echo "sampled $ns $(awk -v s="$samples" -v n="$N" -v ns="$ns" 'BEGIN { printf "%.0f", s / (n * ns / 1e9) }')" >>"$TMP/rows"
done
vm_stop "$VM"

col() { awk -v m="$1" -v c="$2" '$1 == m { print $c }' "$TMP/rows" | median; }
base=$(col untraced 2)
traced=$(col sampled 2)
echo
echo "== guest profile-$HZ with stacks (N=$N, WORK=$WORK; medians of $RUNS)"
printf '%-9s %12s %10s %10s\n' mode ns/iter overhead samples/s
printf '%-9s %12.2f %10s %10s\n' untraced "$base" - -
printf '%-9s %12.2f %9.1f%% %10d\n' sampled "$traced" \
  "$(awk -v a="$traced" -v b="$base" 'BEGIN { print (a - b) / b * 100 }')" "$(col sampled 3)"
