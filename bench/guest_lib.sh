# shellcheck shell=bash
# Helpers shared by bench/guest_*.sh (sourced, not run): find vtrace, boot and stop the
# script's own guests, run a tracer in the background until its BEGIN output appears, and
# parse what vtrace and probe_loop print.
#
# Environment they honour: VTRACE (the vtrace binary; default build/vtrace, then vtrace on
# PATH), VTRACE_RUNTIME_DIR and VTRACE_CACHE_DIR (as vtrace does; the runtime dir defaults to
# a fresh one, so the script's VMs never mix with other VMs), CPUS and MEM (per guest, passed
# to `vtrace vm start` when set).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VTRACE=${VTRACE:-}
if [ -z "$VTRACE" ]; then
  if [ -x "$ROOT/build/vtrace" ]; then VTRACE=$ROOT/build/vtrace; else VTRACE=$(command -v vtrace || true); fi
fi
if [ -z "$VTRACE" ] || [ ! -x "$VTRACE" ]; then
  echo "no vtrace binary: build it, or set VTRACE=path" >&2
  exit 2
fi
VTRACE_BIN_DIR=$(cd "$(dirname "$VTRACE")" && pwd)

TMP=$(mktemp -d /tmp/vtrace-guest-bench.XXXXXX)
export VTRACE_RUNTIME_DIR=${VTRACE_RUNTIME_DIR:-$TMP/run}
mkdir -p "$VTRACE_RUNTIME_DIR"
GUEST_VMS=""     # the VMs this script started (stopped on exit)
TRACER_PID=""    # the background tracer, if one runs

guest_cleanup() {
  if [ -n "$TRACER_PID" ]; then kill -KILL "$TRACER_PID" 2>/dev/null; wait "$TRACER_PID" 2>/dev/null; fi
  # shellcheck disable=SC2086 # a list of names
  if [ -n "$GUEST_VMS" ]; then "$VTRACE" vm stop $GUEST_VMS >/dev/null 2>&1; fi
  rm -rf "$TMP"
}
trap guest_cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The ns/iteration probe_loop printed, from a file of output.
ns_per_iter() { sed -n 's/^probe_loop: [0-9]* iterations, \([0-9.]*\) ns\/iteration.*/\1/p' "$1" | tail -n 1; }

# A keyless count() as vtrace prints it at exit: a line holding only a number.
lone_count() { awk 'NF == 1 && $1 ~ /^[0-9]+$/ { c = $1 } END { print c + 0 }' "$1"; }

# The sum of every "N drops ..." vtrace reported on stderr (per target, per kind).
drops_of() { sed -n 's/^vtrace: .*: \([0-9][0-9]*\) drops.*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }

# Builds the guest image (cached by its inputs) so that boots are timed without it.
guest_image() {
  if ! "$VTRACE" image build >"$TMP/image.out" 2>&1; then
    echo "vtrace image build failed:" >&2
    sed 's/^/  | /' "$TMP/image.out" >&2
    exit 1
  fi
}

# check_probe_loop VM: the image holds /bin/probe_loop (one built before it existed does not).
check_probe_loop() {
  if ! "$VTRACE" vm exec "$1" -- /bin/probe_loop 1 >"$TMP/check.out" 2>&1; then
    echo "/bin/probe_loop does not run in guest $1: build it (cmake --build $VTRACE_BIN_DIR):" >&2
    sed 's/^/  | /' "$TMP/check.out" >&2
    exit 1
  fi
}

# vm_start NAME...: boots the guests together, recorded for the cleanup.
vm_start() {
  local extra=()
  [ -n "${CPUS:-}" ] && extra+=(--cpus "$CPUS")
  [ -n "${MEM:-}" ] && extra+=(--mem "$MEM")
  GUEST_VMS="$GUEST_VMS $*"
  if ! "$VTRACE" vm start "$@" "${extra[@]}" >"$TMP/start.out" 2>&1; then
    echo "vtrace vm start $* failed:" >&2
    sed 's/^/  | /' "$TMP/start.out" >&2
    exit 1
  fi
}

# vm_stop NAME...
vm_stop() {
  "$VTRACE" vm stop "$@" >/dev/null 2>&1
  local v keep=""
  for v in $GUEST_VMS; do case " $* " in *" $v "*) ;; *) keep="$keep $v" ;; esac; done
  GUEST_VMS=$keep
}

# tracer_start OUT ARGS...: runs `vtrace ARGS...` in the background (stdout and stderr to OUT)
# and waits until it printed "ready" (its BEGIN clause runs once every guest's probes are live).
# Tried 3 times: on a loaded 2-core host a guest's agent may miss the clock handshake.
tracer_start() {
  local out=$1 try _
  shift
  for try in 1 2 3; do
    "$VTRACE" "$@" >"$out" 2>&1 &
    TRACER_PID=$!
    for _ in $(seq 600); do
      grep -qs '^ready$' "$out" && return 0
      kill -0 "$TRACER_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$TRACER_PID" 2>/dev/null
    wait "$TRACER_PID" 2>/dev/null
    TRACER_PID=""
    grep -q 'answered no ping\|does not answer the clock handshake' "$out" || break
    echo "  (try $try: $(grep -m1 'ping\|handshake' "$out"); again)" >&2
  done
  echo "the tracer did not start: vtrace $*" >&2
  sed 's/^/  | /' "$out" >&2
  exit 1
}

# tracer_stop: SIGINT (vtrace then drains what the guests published and prints its
# aggregations); killed after 60 s.
tracer_stop() {
  kill -INT "$TRACER_PID" 2>/dev/null
  local _
  for _ in $(seq 1200); do
    kill -0 "$TRACER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$TRACER_PID" 2>/dev/null
  wait "$TRACER_PID" 2>/dev/null
  TRACER_PID=""
}
