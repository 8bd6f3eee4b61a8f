#!/usr/bin/env bash
# The guest demo (run by setup.sh): boots two Linux guests, runs the example workload in both
# under one D script (per-VM syscall counts, a latency distribution across both VMs), runs the
# ordering check across the two guests in sync mode, then shuts the guests down.
#   examples/guest_demo.sh [path/to/vtrace]
set -u
VTRACE=${1:-./build/vtrace}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d)
started=0
cleanup() {
  if [ $started = 1 ]; then "$VTRACE" vm stop web1 >/dev/null 2>&1; "$VTRACE" vm stop db1 >/dev/null 2>&1; fi
  rm -rf "$OUT"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "booting two guests: web1 and db1 (QEMU; they share a mailbox for the ordering check)"
"$VTRACE" vm start web1 db1 --share demo || exit 1
started=1

say "one script, both guests: vtrace -Z -s examples/guest_demo.d (-Z: reqloop starts later)"
"$VTRACE" -Z -s "$HERE/guest_demo.d" >"$OUT/demo" 2>&1 &
tracer=$!
wait_for() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_for "$OUT/demo" "tracing web1" || { cat "$OUT/demo"; exit 1; }
"$VTRACE" vm exec web1 -- /bin/reqloop 300 >/dev/null &
web=$!
"$VTRACE" vm exec db1 -- /bin/reqloop 200 >/dev/null
wait $web
sleep 1
kill -INT $tracer
wait $tracer
cat "$OUT/demo"

say "the ordering check: web1 sends 1000 messages to db1 through shared memory (sync mode)"
"$VTRACE" -Z -x mode=sync -s "$HERE/guest_order.d" 1000 >"$OUT/order" 2>&1 &
tracer=$!
wait_for "$OUT/order" "waiting for" || { cat "$OUT/order"; exit 1; }
"$VTRACE" vm exec db1 -- /bin/order_recv 1000 >/dev/null &
"$VTRACE" vm exec web1 -- /bin/order_send 1000 >/dev/null
wait $tracer
status=$?
cat "$OUT/order"

say "stopping the guests"
"$VTRACE" vm stop web1 && "$VTRACE" vm stop db1
trap - EXIT
rm -rf "$OUT"
exit $status
