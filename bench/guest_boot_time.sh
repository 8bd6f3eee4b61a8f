#!/usr/bin/env bash
# Guest boot time: the wall time of `vtrace vm start` (QEMU started, the guest booted to its
# agent) for one guest, and for two guests started by one command. Each is run RUNS times
# (default 3), stopping the guests in between; prints each time and the medians. The image is
# built (or found up to date) first, so its build is not timed.
#
#   bench/guest_boot_time.sh
#
# Environment: RUNS, VMS (two guest names, default "gbaPID gbbPID"), and VTRACE,
# VTRACE_RUNTIME_DIR, VTRACE_CACHE_DIR, CPUS, MEM (bench/guest_lib.sh).
# Exit status: 0, 1 when a start fails.
set -u -o pipefail

RUNS=${RUNS:-3}
read -r A B <<<"${VMS:-gba$$ gbb$$}"
[ -n "${B:-}" ] || { echo "VMS needs two names" >&2; exit 2; }
# shellcheck source=bench/guest_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest_lib.sh"

guest_image
# boot NAME...: BOOT_S = the seconds `vtrace vm start NAME...` took; then stops the guests.
# (Not in a subshell: the cleanup must know which guests run.)
boot() {
  local t0 t1
  t0=$(now_ns)
  vm_start "$@"
  t1=$(now_ns)
  vm_stop "$@"
  BOOT_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}

: >"$TMP/one"
: >"$TMP/two"
for run in $(seq "$RUNS"); do
  boot "$A"
  one=$BOOT_S
  boot "$A" "$B"
  two=$BOOT_S
  echo "$one" >>"$TMP/one"
  echo "$two" >>"$TMP/two"
  printf '  run %d: one guest %s s, two guests %s s\n' "$run" "$one" "$two"
done
echo "== vtrace vm start, median of $RUNS ($(sed -n 's/.*(pid [0-9]*, \(.*\), booted.*/\1/p' "$TMP/start.out" | head -n 1))"
printf '  one guest:  %.2f s\n' "$(median <"$TMP/one")"
printf '  two guests: %.2f s\n' "$(median <"$TMP/two")"
